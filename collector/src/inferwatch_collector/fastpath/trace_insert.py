"""Insert OTLP trace requests by letting ClickHouse decode them (the fast path).

The serialized ``ExportTraceServiceRequest`` payloads of a flush (as the write-ahead log holds
them: validated, see ``validate.py``) go to ClickHouse as one length-delimited ``Protobuf``
stream. A first cheap pass (``queries.survey``) counts the rows and checks that every value is
one the fast path decodes exactly; then one ``INSERT … SELECT`` per table decodes, flattens and
stores. A flush holding a value the fast path leaves undecoded (a map, an array inside an array)
is converted in Python instead (``convert_traces``) — same rows, same deduplication tokens.

chDB reads the stream from a temporary file (``file()``); a server would take it as the body
of each statement (``input()``, see docs/storage.md).

>>> counts = insert_trace_requests(client, payloads, dedup_token="wal-000042-000051")
>>> counts
{'otel_traces': 2000, 'ml_predictions': 2000, 'ml_labels': 0}
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence

from clickhouse_connect.driver import Client
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from ..convert import convert_traces
from ..rows import ML_LABELS, ML_PREDICTIONS, OTEL_TRACES
from ..store.writer import insert_tables
from . import queries

Statement = Callable[[str], str]


def insert_trace_requests(
    client: Client, payloads: Sequence[bytes], dedup_token: str
) -> dict[str, int]:
    """Insert the spans, predictions and labels of serialized trace requests.

    Args:
        client: an open chDB client (``open_client("chdb:///…")``).
        payloads: serialized, validated ``ExportTraceServiceRequest`` messages.
        dedup_token: deterministic for the flush; each table's insert carries
            ``"<dedup_token>:<table>"``, as ``store.writer.insert_tables`` does.

    Returns:
        The rows per table: ``otel_traces``, ``ml_predictions``, ``ml_labels``.
    """
    path = _write_stream(payloads)
    try:
        return _insert_file(client, payloads, path, dedup_token)
    finally:
        os.unlink(path)


def _insert_file(
    client: Client, payloads: Sequence[bytes], path: str, dedup_token: str
) -> dict[str, int]:
    source = queries.file_source(path)
    spans, unsupported, predictions, labels = client.query(queries.survey(source)).result_rows[0]
    if unsupported:
        return _insert_in_python(client, payloads, dedup_token)
    counts = {OTEL_TRACES: spans, ML_PREDICTIONS: predictions, ML_LABELS: labels}
    statements: dict[str, Statement] = {
        OTEL_TRACES: queries.insert_traces,
        ML_PREDICTIONS: queries.insert_predictions,
        ML_LABELS: queries.insert_labels,
    }
    for table, statement in statements.items():
        if counts[table]:
            settings = {
                "insert_deduplicate": 1,
                "insert_deduplication_token": f"{dedup_token}:{table}",
            }
            client.command(statement(source), settings=settings)
    return counts


def _insert_in_python(
    client: Client, payloads: Sequence[bytes], dedup_token: str
) -> dict[str, int]:
    requests = [ExportTraceServiceRequest.FromString(payload) for payload in payloads]
    return insert_tables(client, convert_traces(requests), dedup_token)


def length_delimited(payloads: Sequence[bytes]) -> bytes:
    """The payloads as one stream, each behind its varint length (ClickHouse's ``Protobuf``).

    >>> length_delimited([b"ab", b""])
    b'\\x02ab\\x00'
    """
    parts = []
    for payload in payloads:
        size = len(payload)
        prefix = bytearray()
        while size > 0x7F:
            prefix.append(size & 0x7F | 0x80)
            size >>= 7
        prefix.append(size)
        parts += (bytes(prefix), payload)
    return b"".join(parts)


def _write_stream(payloads: Sequence[bytes]) -> str:
    with tempfile.NamedTemporaryFile(suffix=".otlp", delete=False) as file:
        file.write(length_delimited(payloads))
    return file.name
