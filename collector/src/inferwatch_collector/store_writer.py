"""The writer: drains the write-ahead log into ClickHouse, batch by batch, exactly once.

Loop: wait for records (up to ``batch_interval`` to let a batch grow), read a batch, *claim*
it in the log, convert it to columns, insert one block per table with a deduplication token
derived from the batch's sequence numbers, then *complete* it. After a crash the claimed
batch is re-formed exactly and re-inserted with the same tokens, which ClickHouse
recognises, so a replay stores nothing twice. While the store fails, the writer retries with
exponential backoff and the log grows; receivers answer 429/503 once the log is full.

Trace requests logged for the ClickHouse decode (``record_kinds.DECODABLE``) are stored
apart, under the token ``"<batch token>:decoded"``: by chDB decoding them itself when the
batch holds enough of their rows to repay the statements' fixed cost
(``WriterSettings.decode_min_rows``), else, or when a statement leaves them to Python, by
the Python converter — the same rows under the same tokens either way (docs/storage.md).
A batch holding a kind-6 request (batch spans, ``decode_batch_spans: spans``, or ``auto`` with
per-prediction features) is split by table instead: chDB stores the spans of its decodable
requests while the Python converter stores their predictions, at the same time.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clickhouse_connect.driver import Client
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from . import record_kinds
from .convert import convert_logs, convert_metrics, convert_traces, merge_tables
from .rows import ML_PREDICTIONS, OTEL_TRACES, TableColumns
from .selfmetrics import SelfMetrics
from .store.decoded import DecodedTraceInserter, LeftToPython, decodes_in_clickhouse
from .store.writer import insert_tables
from .wal import WalRecord, WriteAheadLog

_logger = logging.getLogger("inferwatch.collector")

_KINDS: dict[int, tuple[Callable[[], Any], Callable[[list[Any]], dict[str, TableColumns]]]] = {
    record_kinds.TRACES: (ExportTraceServiceRequest, convert_traces),
    record_kinds.METRICS: (ExportMetricsServiceRequest, convert_metrics),
    record_kinds.LOGS: (ExportLogsServiceRequest, convert_logs),
}


@dataclass
class StoreHealth:
    """Whether the last flush into the store succeeded (read by ``/readyz`` and backpressure)."""

    ok: bool = True
    last_error: str = ""
    last_success: float = field(default_factory=time.time)


@dataclass(frozen=True)
class WriterSettings:
    batch_max_records: int = 1000
    batch_max_bytes: int = 32 * 1024 * 1024
    batch_interval: float = 0.2
    retry_initial: float = 0.5
    retry_max: float = 30.0
    decode_min_rows: int = 8192
    """Fewest rows (spans and predictions) of decodable requests in a batch for chDB to decode
    them itself: each statement costs ClickHouse tens of milliseconds to analyse whatever the
    rows, and below this many the Python converter is quicker (bench/ingest.py)."""


def records_to_tables(records: list[WalRecord]) -> dict[str, TableColumns]:
    """Parse the logged requests of a batch and convert them into one column set per table."""
    requests: dict[int, list[Any]] = {kind: [] for kind in _KINDS}
    for record in records:
        if record.kind in record_kinds.DECODABLE:
            message = ExportTraceServiceRequest.FromString(
                record_kinds.split_decodable(record.kind, record.payload).request
            )
            requests[record_kinds.TRACES].append(message)
            continue
        message_type, _ = _KINDS[record.kind]
        message = message_type()
        message.ParseFromString(record.payload)
        requests[record.kind].append(message)
    return merge_tables(
        *(_KINDS[kind][1](messages) for kind, messages in requests.items() if messages)
    )


@dataclass
class Flush:
    """A batch ready to store: the Python converter's tables, and the decodable requests.

    ``decodable`` are kind-4 and kind-5 requests (their bytes), stored under
    ``"<token>:decoded"``:
    by chDB decoding them while ``decoded_tables`` is None, else from those tables (the Python
    converter's rows of the same requests) but for the ``decoded_stored`` ones, which chDB
    stored before a statement left the rest to Python.
    """

    tables: dict[str, TableColumns]
    decodable: list[memoryview] = field(default_factory=list)
    spans: int = 0
    predictions: int = 0
    single: int = 0
    batch: bool = False
    spans_only: bool = False
    """chDB stores only the spans (``otel_traces``) of the decodable requests, and
    ``decoded_tables`` holds the Python converter's other tables of them (a kind-6 request
    among them)."""
    decoded_tables: dict[str, TableColumns] | None = None
    decoded_stored: frozenset[str] = frozenset()
    left_to_python: bool = False
    """A statement left the decodable requests to Python: from then on (retries included) the
    Python converter stores them, part by part (:func:`python_parts`)."""

    def not_stored(self, tables: dict[str, TableColumns]) -> dict[str, TableColumns]:
        """``tables`` but those chDB stored already (``decoded_stored``)."""
        return {t: c for t, c in tables.items() if t not in self.decoded_stored}


def convert_batch(records: list[WalRecord], *, decode_min_rows: int | None) -> Flush:
    """The Python converter's tables of a batch's records, its decodable requests apart.

    With ``decode_min_rows`` None (a store that does not decode), or fewer rows of decodable
    requests than that, those are converted in Python too (``Flush.decoded_tables``).
    """
    decodable = [r for r in records if r.kind in record_kinds.DECODABLE]
    others = [r for r in records if r.kind not in record_kinds.DECODABLE]
    flush = Flush(records_to_tables(others) if others else {})
    for record in decodable:
        counts = record_kinds.split_decodable(record.kind, record.payload)
        flush.decodable.append(counts.request)
        flush.spans += counts.spans
        flush.predictions += counts.predictions
        flush.single += counts.single
        flush.batch = flush.batch or counts.batch
        flush.spans_only = flush.spans_only or counts.spans_only
    rows = flush.spans + flush.predictions
    if decodable and (decode_min_rows is None or rows < decode_min_rows):
        flush.decoded_tables = records_to_tables(decodable)
        flush.spans_only = False
    elif flush.spans_only:
        # Parsed one at a time, each freed once converted (a parsed batch span holds about 3.5
        # times its bytes).
        requests = (ExportTraceServiceRequest.FromString(r) for r in flush.decodable)
        flush.decoded_tables = convert_traces(requests, spans=False)
    return flush


PYTHON_BYTES_WEIGHT = 4
"""A request the Python converter takes counts this many times its size against
``batch_max_bytes`` (the log's ``read_batch`` weights): parsed and converted, it holds about 20
times its size in memory, while the writer holds only the bytes of the requests chDB decodes
(bench/ingest.py, overload with batch spans: 16 MiB batches of them peaked the service at
1,056 MiB, 8 MiB ones at 879). Kind 6 too, whose predictions it converts: split batches of 16
MiB peaked at 1,016–1,323 MiB, of 8 MiB at 895–987 (at about 10 % of the rate). So with the
default 32 MiB they make 8 MiB batches, while requests chDB alone decodes make 32 MiB ones:
fewer statements to analyse and fewer parts to merge (single spans: 16 % less CPU per span
than in 16 MiB batches, overload peak 761–777 MiB)."""
BYTE_WEIGHTS = dict.fromkeys((*_KINDS, record_kinds.DECODABLE_BATCH_SPANS), PYTHON_BYTES_WEIGHT)
"""``read_batch`` weights: the kinds the Python converter parses."""


def python_parts(requests: list[memoryview], max_bytes: int) -> list[list[memoryview]]:
    """``requests`` cut in order into parts of at most ``max_bytes`` (a larger request makes a
    part alone): what the Python converter converts and inserts at a time when a
    statement leaves it a batch chDB was to decode. Such a batch may hold ``batch_max_bytes``
    of requests, four times what the Python converter is otherwise given at once
    (:data:`PYTHON_BYTES_WEIGHT`), and converted whole it would hold about 20 times that. The
    cut depends only on the requests, so a replay forms the same parts under the same tokens.

    >>> [len(part) for part in python_parts([memoryview(b"x" * 4)] * 5, 8)]
    [2, 2, 1]
    """
    parts: list[list[memoryview]] = []
    size = 0
    for request in requests:
        if not parts or size + len(request) > max_bytes:
            parts.append([])
            size = 0
        parts[-1].append(request)
        size += len(request)
    return parts


def log_identity(directory: Path) -> str:
    """A random id of this write-ahead log, created with it, so that tokens of a new log
    (sequence numbers start again at 1) never collide with those of an old one."""
    path = directory / "IDENTITY"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(uuid.uuid4().hex)
        tmp.replace(path)
    return path.read_text().strip()


class StoreWriter:
    """The background thread that moves batches from the log into the store."""

    def __init__(
        self,
        wal: WriteAheadLog,
        client: Client,
        settings: WriterSettings,
        metrics: SelfMetrics,
        health: StoreHealth,
        identity: str,
    ) -> None:
        self._wal = wal
        self._client = client
        self._settings = settings
        self._metrics = metrics
        self.health = health
        self._identity = identity
        self._stopping = threading.Event()
        self._drain_deadline = float("inf")
        # Two stages, so that converting batch n+1 overlaps inserting batch n (chDB releases
        # the GIL for part of an insert; bench/ingest.py): the converter reads and converts,
        # the inserter claims, inserts and completes, one converted batch between them.
        self._converted: queue.Queue[tuple[list[WalRecord], Flush | None]]
        self._converted = queue.Queue(maxsize=1)
        decodes = decodes_in_clickhouse(client)
        self._decode_min_rows = settings.decode_min_rows if decodes else None
        self._decoder = DecodedTraceInserter(client) if decodes else None
        self._claimed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="inferwatch-writer", daemon=True)
        self._converter = threading.Thread(
            target=self._convert_loop, name="inferwatch-converter", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, drain_timeout: float = 30.0) -> bool:
        """Stop after storing what is logged (within ``drain_timeout``); True if all stored."""
        self._drain_deadline = time.monotonic() + drain_timeout
        self._stopping.set()
        if self._thread.ident is not None:  # else never started: only its connections to close
            self._thread.join(drain_timeout + 5.0)
        if self._converter.is_alive():
            self._converter.join(5.0)
        if self._decoder is not None:
            self._decoder.close()
        return self._wal.pending_records == 0

    def _run(self) -> None:
        try:
            claim = self._wal.pending_claim()
            if claim is not None:
                _logger.info("replaying batch %d-%d left unfinished by a crash", *claim)
                batch = self._wal.read_range(*claim)
                if not self._store(batch, self._convert(batch)):
                    return
            self._converter.start()
            while not self._finished():
                self._update_gauges()
                self._insert_next()
        except Exception:  # pragma: no cover - a bug; keep it loud
            _logger.exception("the writer stopped on an unexpected error")

    def _finished(self) -> bool:
        if not self._stopping.is_set():
            return False
        return self._wal.pending_records == 0 or time.monotonic() > self._drain_deadline

    # --- stage 1: read and convert --------------------------------------------------------

    def _convert_loop(self) -> None:
        try:
            while not self._finished():
                batch = self._next_batch()
                if batch:
                    self._claimed.clear()
                    self._hand_over(batch, self._convert(batch))
                    self._await_claim()
        except Exception:  # pragma: no cover - a bug; keep it loud
            _logger.exception("the converter stopped on an unexpected error")

    def _await_claim(self) -> None:
        # Until the inserter claims the batch handed over, the log returns that batch again:
        # the converter read it (and checked its CRCs) over and over while the previous one
        # was inserted. Reading records was ~5 % of the service's busy samples (py-spy);
        # end to end the saving is within the noise (bench/ingest.py, A/B).
        while not self._finished() and not self._claimed.wait(0.5):
            continue

    def _next_batch(self) -> list[WalRecord]:
        wal = self._wal
        if not wal.wait_for_records(timeout=0.5):
            return []
        self._let_batch_grow()
        settings = self._settings
        return wal.read_batch(settings.batch_max_records, settings.batch_max_bytes, BYTE_WEIGHTS)

    def _let_batch_grow(self) -> None:
        # Batching decides insert speed: wait up to batch_interval for a fuller batch.
        deadline = time.monotonic() + self._settings.batch_interval
        while (
            self._wal.pending_records < self._settings.batch_max_records
            and time.monotonic() < deadline
            and not self._stopping.is_set()
        ):
            time.sleep(0.01)

    def _convert(self, batch: list[WalRecord]) -> Flush | None:
        try:
            return convert_batch(batch, decode_min_rows=self._decode_min_rows)
        except Exception:
            _logger.exception(
                "batch %d-%d cannot be converted; it is skipped", batch[0].seq, batch[-1].seq
            )
            return None

    def _hand_over(self, batch: list[WalRecord], flush: Flush | None) -> None:
        while not self._finished():
            try:
                self._converted.put((batch, flush), timeout=0.5)
                return
            except queue.Full:
                continue

    # --- stage 2: claim, insert, complete -------------------------------------------------

    def _insert_next(self) -> None:
        try:
            batch, flush = self._converted.get(timeout=0.5)
        except queue.Empty:
            return
        self._wal.claim(batch[0].seq, batch[-1].seq)
        self._claimed.set()
        self._store(batch, flush)

    def _store(self, batch: list[WalRecord], flush: Flush | None) -> bool:
        """Insert a claimed batch and complete it; False if stopped before it was stored."""
        first, last = batch[0].seq, batch[-1].seq
        if flush is None:
            self._metrics.dead_letters.inc(len(batch))
        elif not self._insert_with_retry(flush, f"{self._identity}-{first}-{last}"):
            return False
        self._wal.complete(last)
        return True

    def _insert_flush(self, flush: Flush, token: str) -> dict[str, int]:
        counts = insert_tables(self._client, flush.tables, token)
        if flush.decodable:
            for table, rows in self._insert_decodable(flush, f"{token}:decoded").items():
                counts[table] = counts.get(table, 0) + rows
        return counts

    def _insert_decodable(self, flush: Flush, token: str) -> dict[str, int]:
        if flush.spans_only:
            return self._insert_split(flush, token)
        decoded = {OTEL_TRACES: flush.spans, ML_PREDICTIONS: flush.predictions}
        if flush.decoded_tables is None and not flush.left_to_python:
            assert self._decoder is not None
            try:
                self._decoder.insert(
                    flush.decodable, token, single=flush.single > 0, batch=flush.batch
                )
                return decoded
            except LeftToPython as exc:
                _logger.debug("the Python converter takes this batch: %s", exc)
                flush.decoded_stored = exc.stored
                flush.left_to_python = True
        if flush.left_to_python:
            counts = self._insert_python_parts(flush, token)
        else:
            assert flush.decoded_tables is not None
            counts = insert_tables(self._client, flush.not_stored(flush.decoded_tables), token)
        return counts | {table: decoded[table] for table in flush.decoded_stored}

    def _insert_python_parts(self, flush: Flush, token: str) -> dict[str, int]:
        """The Python converter's rows of the decodable requests, part by part: the batch's
        token for a single part, ``"<token>:<part>"`` for each of several."""
        parts = python_parts(flush.decodable, self._settings.batch_max_bytes // PYTHON_BYTES_WEIGHT)
        counts: dict[str, int] = {}
        for index, part in enumerate(parts):
            tables = convert_traces([ExportTraceServiceRequest.FromString(r) for r in part])
            part_token = token if len(parts) == 1 else f"{token}:{index}"
            stored = insert_tables(self._client, flush.not_stored(tables), part_token)
            for table, rows in stored.items():
                counts[table] = counts.get(table, 0) + rows
        return counts

    def _insert_split(self, flush: Flush, token: str) -> dict[str, int]:
        """chDB stores the spans while the Python converter's tables are inserted."""
        assert self._decoder is not None and flush.decoded_tables is not None
        spans = self._decoder.start_spans(flush.decodable, token)
        try:
            counts = insert_tables(self._client, flush.decoded_tables, token)
        finally:
            left = spans.result()  # a store error raises here, once both are done
        if left is None:
            return counts | {OTEL_TRACES: flush.spans}
        _logger.debug("the Python converter takes these spans: %s", left)
        # From now on (retries included) the Python converter stores every table of these
        # requests; the tables it stored already are recognised by their tokens.
        requests = [ExportTraceServiceRequest.FromString(request) for request in flush.decodable]
        flush.decoded_tables = convert_traces(requests)
        flush.spans_only = False
        return insert_tables(self._client, flush.decoded_tables, token)

    def _insert_with_retry(self, flush: Flush, token: str) -> bool:
        delay = self._settings.retry_initial
        while True:
            started = time.perf_counter()
            try:
                counts = self._insert_flush(flush, token)
            except Exception as exc:  # noqa: BLE001 - any store failure is retried
                self._record_failure(exc)
                if self._stopping.is_set() and time.monotonic() > self._drain_deadline:
                    return False
                if self._stopping.is_set():
                    time.sleep(delay)
                else:
                    self._stopping.wait(delay)
                delay = min(delay * 2, self._settings.retry_max)
                continue
            self._record_success(counts, time.perf_counter() - started)
            return True

    def _record_failure(self, exc: Exception) -> None:
        if self.health.ok:
            _logger.warning("inserting into the store failed, retrying with backoff: %s", exc)
        self.health.ok = False
        self.health.last_error = str(exc)
        self._metrics.insert_errors.inc()

    def _record_success(self, counts: dict[str, int], seconds: float) -> None:
        if not self.health.ok:
            _logger.info("the store is reachable again")
        self.health.ok = True
        self.health.last_success = time.time()
        self._metrics.insert_seconds.observe(seconds)
        for table, rows in counts.items():
            self._metrics.insert_rows.labels(table=table).inc(rows)

    def _update_gauges(self) -> None:
        self._metrics.wal_bytes.set(self._wal.pending_bytes)
        self._metrics.wal_records.set(self._wal.pending_records)
