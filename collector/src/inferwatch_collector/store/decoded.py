"""Trace requests into the store by letting ClickHouse decode them (embedded chDB).

The serialized ``ExportTraceServiceRequest`` payloads of a flush go to a temporary file as one
length-delimited ``Protobuf`` stream, which chDB reads in-process; one ``INSERT … SELECT`` per
table decodes, flattens and stores them (``convert/clickhouse``), with the rows the Python
converter makes of the same requests. Each carries ``insert_deduplication_token =
"<dedup_token>:<table>"``, as ``insert_tables`` does, so a replay stores nothing twice. A
statement that stops on a value it leaves to Python stores nothing (:class:`LeftToPython`),
and the Python converter stores that table instead, under the same token.

>>> if decodes_in_clickhouse(client):
...     insert_decoded_traces(client, payloads, dedup_token="wal-000042-000051:decoded")

The two statements of a flush are independent (each reads the file; neither needs the other's
rows), so :class:`DecodedTraceInserter` runs them at once on two connections to the store.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial

import clickhouse_connect
from clickhouse_connect.driver import Client
from clickhouse_connect.driver.exceptions import DatabaseError

from ..convert.clickhouse import NEEDS_PYTHON, insert_predictions, insert_traces
from ..rows import ML_PREDICTIONS, OTEL_TRACES

Payload = bytes | memoryview
"""A serialized request, or a view of one (a log record's payload after its header)."""


class LeftToPython(Exception):  # noqa: N818 - names the outcome, not an error
    """A statement met a value it leaves to the Python converter, and stored nothing.

    ``stored`` names the tables whose statements did store their rows: the Python converter
    completes the flush with the other tables only (the two paths cut a flush into blocks
    differently, so a table must always be stored by the same one for its token to be
    recognised on a replay).
    """

    def __init__(self, message: str, stored: frozenset[str] = frozenset()) -> None:
        super().__init__(message)
        self.stored = stored


def decodes_in_clickhouse(client: Client) -> bool:
    """Whether ``client`` is an embedded chDB, which reads the flush's file itself."""
    return str(getattr(client, "uri", "")).startswith("chdb://")


def insert_decoded_traces(
    client: Client,
    payloads: Sequence[Payload],
    dedup_token: str,
    *,
    single: bool = True,
    batch: bool = False,
    run_beside: Callable[[Callable[[], None]], Future[None]] | None = None,
) -> None:
    """Store the spans and the predictions of ``payloads``.

    Args:
        client: an embedded chDB client (:func:`decodes_in_clickhouse`).
        payloads: serialized, validated requests without label spans (the receiver logs
            those for the Python converter).
        dedup_token: deterministic for the flush; each table's insert carries
            ``"<dedup_token>:<table>"``.
        single: False when no payload holds a single-prediction span.
        batch: True when a payload may hold a batch span (without it, one stops the
            ``ml_predictions`` statement); with neither, that statement is not run.
        run_beside: runs the ``ml_predictions`` statement at the same time as the
            ``otel_traces`` one, on a connection of its own (:class:`DecodedTraceInserter`).

    Raises:
        LeftToPython: a statement stopped on a value only the Python converter formats.
        clickhouse_connect.driver.exceptions.ClickHouseError: an insert failed; replaying
            the same payloads with the same token is safe.
    """
    path = write_stream(payloads)
    try:
        statements = {OTEL_TRACES: insert_traces(path, f"{dedup_token}:{OTEL_TRACES}")}
        if single or batch:
            token = f"{dedup_token}:{ML_PREDICTIONS}"
            statements[ML_PREDICTIONS] = insert_predictions(path, token, single=single, batch=batch)
        outcomes = _run_all(client, statements, run_beside)
    finally:
        os.unlink(path)
    left = [outcome for outcome in outcomes.values() if outcome is not None]
    if left:
        stored = frozenset(table for table, outcome in outcomes.items() if outcome is None)
        raise LeftToPython(str(left[0]), stored)


def _run_all(
    client: Client,
    statements: dict[str, str],
    run_beside: Callable[[Callable[[], None]], Future[None]] | None,
) -> dict[str, LeftToPython | None]:
    """Run the statements (the last one beside, when it can); what each left to Python.

    A store error raises, once every statement has finished.
    """
    outcomes: dict[str, LeftToPython | None] = {}
    tables = list(statements)
    beside = None
    if run_beside is not None and len(tables) > 1:
        last = tables.pop()
        beside = (last, run_beside(partial(_run, None, statements[last])))
    try:
        for table in tables:
            outcomes[table] = _outcome(partial(_run, client, statements[table]))
    finally:
        if beside is not None:
            outcomes[beside[0]] = _outcome(beside[1].result)
    return outcomes


def _outcome(run: Callable[[], object]) -> LeftToPython | None:
    try:
        run()
    except LeftToPython as left:
        return left
    return None


def _run(client: Client | None, sql: str) -> None:
    try:
        (client or _beside_client()).command(sql)
    except DatabaseError as exc:
        if NEEDS_PYTHON in str(exc):
            raise LeftToPython(str(exc).split("\n", 1)[0][:300]) from None
        raise


def length_delimited(payloads: Sequence[Payload]) -> list[Payload]:
    """The payloads as one stream, each behind its varint length (ClickHouse's ``Protobuf``).

    >>> b"".join(length_delimited([b"x" * 300, b""]))[:2], len(length_delimited([b"a"]))
    (b'\\xac\\x02', 2)
    """
    parts: list[Payload] = []
    for payload in payloads:
        size = len(payload)
        prefix = bytearray()
        while size > 0x7F:
            prefix.append(size & 0x7F | 0x80)
            size >>= 7
        prefix.append(size)
        parts += (bytes(prefix), payload)
    return parts


def write_stream(payloads: Sequence[Payload]) -> str:
    """A temporary file holding the length-delimited payloads; the caller deletes it."""
    with tempfile.NamedTemporaryFile(prefix="inferwatch-", suffix=".otlp", delete=False) as file:
        file.writelines(length_delimited(payloads))
    return file.name


class DecodedTraceInserter:
    """Runs :func:`insert_decoded_traces` with its two statements at once, when ``client`` is
    an embedded chDB client: the ``ml_predictions`` statement on a second connection to the
    same store, in a thread of its own (both started at the first insert).

    >>> inserter = DecodedTraceInserter(client)
    >>> inserter.insert(payloads, "wal-000042-000051:decoded", single=True, batch=False)
    >>> inserter.close()
    """

    def __init__(self, client: Client) -> None:
        self._client = client
        # clickhouse-connect's own client, not a wrapper (a fault injector, say) whose calls a
        # second connection would go around.
        self._beside = type(client).__module__.startswith("clickhouse_connect.")
        self._pool: ThreadPoolExecutor | None = None

    def insert(
        self, payloads: Sequence[Payload], dedup_token: str, *, single: bool, batch: bool
    ) -> None:
        """As :func:`insert_decoded_traces`."""
        insert_decoded_traces(
            self._client,
            payloads,
            dedup_token,
            single=single,
            batch=batch,
            run_beside=self._beside_pool().submit if self._beside else None,
        )

    def start_spans(
        self, payloads: Sequence[Payload], dedup_token: str
    ) -> Future[LeftToPython | None]:
        """Start storing only the spans (``otel_traces``) of ``payloads``, under
        ``"<dedup_token>:otel_traces"``, on the second connection; the future gives what the
        statement left to Python (None: stored), or raises a store error."""

        def run() -> LeftToPython | None:
            client = _beside_client() if self._beside else self._client
            spans = partial(insert_decoded_traces, client, payloads, dedup_token, single=False)
            return _outcome(spans)

        if not self._beside:  # a wrapper (fault injection): its calls stay on its thread
            done: Future[LeftToPython | None] = Future()
            try:
                done.set_result(run())
            except Exception as exc:  # noqa: BLE001 - handed to the caller through the future
                done.set_exception(exc)
            return done
        return self._beside_pool().submit(run)

    def _beside_pool(self) -> ThreadPoolExecutor:
        """The thread of the second connection (opened with it, at first use)."""
        if self._pool is None:
            uri = self._client.uri
            self._pool = ThreadPoolExecutor(
                1, "inferwatch-decode", initializer=_open_beside_client, initargs=(uri,)
            )
        return self._pool

    def close(self) -> None:
        """Close the second connection (after a statement under way)."""
        if self._pool is not None:
            self._pool.submit(_close_beside_client).result()
            self._pool.shutdown()
            self._pool = None


_beside = threading.local()


def _open_beside_client(uri: str) -> None:
    _beside.client = clickhouse_connect.get_client(dsn=uri)


def _beside_client() -> Client:
    client: Client = _beside.client
    return client


def _close_beside_client() -> None:
    _beside.client.close()
