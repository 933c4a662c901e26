"""Benchmark: trace requests into chDB, Python conversion vs ClickHouse decoding OTLP itself.

The payloads of ``bench/convert.py`` (requests of 1,000 predictions, as one batch span and as
1,000 single-prediction spans with 10 attributes each). Per run, ``--requests`` requests go
into a fresh set of tables: (a) the Python path — parse (upb), ``convert_traces``,
``insert_tables`` — and (b) the fast path, ``fastpath.insert_trace_requests``. Rates are the
median of ``--repeats`` runs; the machine's other load moves them, compare rows of one run.

Run: ``.venv/bin/python bench/fastpath.py [--requests 20] [--repeats 5]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from itertools import count

from clickhouse_connect.driver import Client
from convert import PREDICTIONS, batch_request, single_request
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from inferwatch_collector.convert import convert_traces
from inferwatch_collector.fastpath import insert_trace_requests
from inferwatch_collector.store import open_client, run_migrations
from inferwatch_collector.store.writer import insert_tables

_TOKENS = count()


def python_path(client: Client, payloads: list[bytes]) -> None:
    """Today's writer: parse, convert in Python, columnar inserts."""
    requests = [ExportTraceServiceRequest.FromString(payload) for payload in payloads]
    insert_tables(client, convert_traces(requests), f"bench-{next(_TOKENS)}")


def fast_path(client: Client, payloads: list[bytes]) -> None:
    """ClickHouse decodes the requests and fills the tables."""
    insert_trace_requests(client, payloads, f"bench-{next(_TOKENS)}")


def _median_seconds(run: Callable[[], object], repeats: int) -> float:
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def measure(client: Client, label: str, payload: bytes, args: argparse.Namespace) -> None:
    """Print one row per path and the ratio for ``args.requests`` copies of ``payload``."""
    payloads = [payload] * args.requests
    spans = len(
        ExportTraceServiceRequest.FromString(payload).resource_spans[0].scope_spans[0].spans
    )
    rates = {}
    for name, path in (("python: parse+convert+insert", python_path), ("fast path", fast_path)):
        seconds = _median_seconds(lambda path=path: path(client, payloads), args.repeats)
        rates[name] = spans * args.requests / seconds
        print(
            f"{label:<26}{name:<30}{rates[name]:>12,.0f}"
            f"{PREDICTIONS * args.requests / seconds:>16,.0f}"
        )
    fast, slow = rates["fast path"], rates["python: parse+convert+insert"]
    print(f"{label:<26}{'ratio fast/python':<30}{fast / slow:>12.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20, help="requests per run")
    parser.add_argument("--repeats", type=int, default=5, help="median of this many runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        client = open_client(f"chdb://{folder}/store")
        run_migrations(client, ttl_days=10000)  # the payloads are dated 2023
        print(f"{'payload':<26}{'path':<30}{'spans/s':>12}{'predictions/s':>16}")
        measure(client, "(i) 1 batch span x 1000", batch_request(), args)
        measure(client, "(ii) 1000 single spans", single_request(), args)
        client.close()


if __name__ == "__main__":
    main()
