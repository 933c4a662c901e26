"""Benchmark: collector ingest, in process and end to end, with the issue's targets.

    .venv/bin/python bench/ingest.py [--requests 200] [--end-to-end-requests 1000]
                                     [--rounds 3] [--clients 4] [--quick]

Payloads (generated with opentelemetry-proto, fresh UUID ids in every request), each request
carrying 1,000 predictions:

- ``batch``:  one span with 1,000-element per-prediction arrays (the SDK's hot-path buffer);
- ``single``: 1,000 single-prediction spans with 10 attributes each.

Rows of the table, per payload:

- (a)  decode + conversion to rows by the Python converter: ``ParseFromString``,
  ``validate_traces``, ``convert_traces`` (in batches the writer would form) — how the
  collector converts small flushes, label spans, and batch spans under
  ``--decode-batch-spans false``;
- (a') the same plus ``insert_tables`` into a fresh embedded chDB (no network);
- (a-ch) chDB decoding the protobuf itself, converting and inserting (no network;
  ``store.decoded.DecodedTraceInserter`` on the writer's batches) — how the collector
  converts requests of single-prediction spans, and those with batch spans by default
  (``auto``: these carry no per-prediction features) or under
  ``--serve-args "--decode-batch-spans true"``;
- (a-sp) batch spans split as the writer does under ``--decode-batch-spans spans`` (and by
  default for batch spans with per-prediction features): chDB decodes and inserts the spans
  while the Python converter parses the requests, converts their predictions and inserts
  those (no network); (b) is compared with the collector's path;
- (b)  end to end: ``inferwatch serve`` as a subprocess, client processes POSTing the
  serialized requests (keep-alive, ``application/x-protobuf``) until all are acknowledged,
  timed from the first send until ``/metrics`` shows every prediction row committed
  (polled less often as the end nears: each scrape queries the store). A round sends
  ``--end-to-end-requests`` requests, the rounds' payloads in turn (a request may come twice):
  long enough that the rate is the sustained one, not the latency of the last flush (a round
  of 200 batch requests lasts under 2 s, a third of it the last batch's wait, conversion and
  insert);
- (c)  overload, for each payload: many clients without pacing against a service with a small
  ``--queue-max-bytes``; answers counted by status, the service's peak RSS reported (the
  target is judged on the larger of the two).

After the table, each decoding statement's time on a flush of no request: what ClickHouse
spends analysing and planning it, paid once per flush whatever its size.

Figures are medians of ``--rounds``. The machine has 2 cores shared with other work: client
and service CPU seconds are printed beside (b), and the load average at start and end. Beside
(b) too, the service's CPU per prediction over all rounds by thread: chDB's query threads,
the Python threads (receivers, validation, write-ahead log, the Python converter) and chDB's
merges (``ThreadCpu``).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue

from inferwatch import semconv

PREDICTIONS = 1000
TARGET_SINGLE_SPANS = 100_000
TARGET_BATCH_PREDICTIONS = 300_000
TARGET_RATIO = 0.5
TARGET_RSS = 1024**3
COMMIT_TIMEOUT = 600.0
"""Seconds (b) waits for the rows of a round to be stored before it calls the run failed."""
INSERTED_ML_ROWS = re.compile(
    rb'^inferwatch_insert_rows_total\{table="ml_predictions"\} (\S+)$', re.M
)
SERVE = [str(Path(sys.executable).with_name("inferwatch")), "serve"]

# --- payloads -------------------------------------------------------------------------------

MODELS = ("fraud", "churn", "credit-risk")
REGIONS = ("eu-west", "us-east", "ap-south", "sa-east")
ROUTES = ("/v1/predict", "/v1/score", "/batch/predict")


@dataclass(frozen=True)
class Payload:
    """Serialized requests of one shape, and what each one carries."""

    name: str
    blobs: list[bytes]
    spans_per_request: int

    @property
    def predictions(self) -> int:
        return PREDICTIONS * len(self.blobs)

    @property
    def spans(self) -> int:
        return self.spans_per_request * len(self.blobs)


def _value(value: object) -> AnyValue:
    if isinstance(value, str):
        return AnyValue(string_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, list):
        return AnyValue(array_value=ArrayValue(values=[_value(item) for item in value]))
    return AnyValue(int_value=value)  # type: ignore[arg-type]


def _attributes(pairs: dict[str, object]) -> list[KeyValue]:
    return [KeyValue(key=key, value=_value(value)) for key, value in pairs.items()]


def _request(rng: random.Random, spans: list[dict[str, object]], start_ns: int) -> bytes:
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.extend(
        _attributes({"service.name": "checkout", "host.name": f"pod-{rng.randrange(64)}"})
    )
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = semconv.INSTRUMENTATION_NAME
    for index, attributes in enumerate(spans):
        span = scope_spans.spans.add()
        span.trace_id = rng.randbytes(16)
        span.span_id = rng.randbytes(8)
        span.name = semconv.PREDICTION_SPAN_PREFIX + str(attributes[semconv.ML_MODEL_NAME])
        span.kind = 1
        span.start_time_unix_nano = start_ns + index * 1_000_000
        span.end_time_unix_nano = span.start_time_unix_nano + rng.randrange(500_000, 5_000_000)
        span.attributes.extend(_attributes(attributes))
    return request.SerializeToString()


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def batch_request(rng: random.Random) -> bytes:
    """One span carrying 1,000 predictions as parallel arrays, as the SDK's buffer sends them."""
    start = time.time_ns() - 60_000_000_000
    n = range(PREDICTIONS)
    scores = [rng.random() for _ in n]
    attributes: dict[str, object] = {
        semconv.ML_MODEL_NAME: rng.choice(MODELS),
        semconv.ML_MODEL_VERSION: "3.1",
        semconv.ML_TASK: semconv.TASK_BINARY,
        semconv.ML_PREDICTION_COUNT: PREDICTIONS,
        semconv.ML_PREDICTION_ID: [_uuid(rng) for _ in n],
        semconv.ML_PREDICTION_LABEL: ["1" if score > 0.5 else "0" for score in scores],
        semconv.ML_PREDICTION_SCORE: scores,
        semconv.ML_PREDICTION_TIMESTAMP: [start + i * 1_000_000 for i in n],
        semconv.ML_PREDICTION_DURATION: [rng.uniform(0.0005, 0.005) for _ in n],
        semconv.ML_PREDICTION_STATUS: [semconv.STATUS_OK] * PREDICTIONS,
        semconv.ML_PREDICTION_TRACE_ID: [rng.randbytes(16).hex() for _ in n],
        semconv.ML_PREDICTION_SPAN_ID: [rng.randbytes(8).hex() for _ in n],
        semconv.ML_SEGMENT_PREFIX + "region": rng.choice(REGIONS),
    }
    return _request(rng, [attributes], start)


def _single_attributes(rng: random.Random) -> dict[str, object]:
    score = rng.random()
    return {
        semconv.ML_MODEL_NAME: rng.choice(MODELS),
        semconv.ML_MODEL_VERSION: "3.1",
        semconv.ML_TASK: semconv.TASK_BINARY,
        semconv.ML_PREDICTION_COUNT: 1,
        semconv.ML_PREDICTION_ID: _uuid(rng),
        semconv.ML_PREDICTION_LABEL: "1" if score > 0.5 else "0",
        semconv.ML_PREDICTION_SCORE: score,
        semconv.ML_SEGMENT_PREFIX + "region": rng.choice(REGIONS),
        semconv.ML_FEATURE_PREFIX + "amount": round(rng.lognormvariate(3, 1), 2),
        "http.route": rng.choice(ROUTES),
    }


def single_request(rng: random.Random) -> bytes:
    """1,000 spans of one prediction each, 10 attributes per span."""
    spans = [_single_attributes(rng) for _ in range(PREDICTIONS)]
    return _request(rng, spans, time.time_ns() - 60_000_000_000)


SHAPES: dict[str, tuple[Callable[[random.Random], bytes], int]] = {
    "batch": (batch_request, 1),
    "single": (single_request, PREDICTIONS),
}


def make_payload(name: str, count: int, seed: int) -> Payload:
    """``count`` requests of shape ``name`` (``batch`` or ``single``), all ids fresh."""
    build, spans = SHAPES[name]
    rng = random.Random(seed)
    return Payload(name, [build(rng) for _ in range(count)], spans)


# --- (a), (a'), (a-ch), (a-sp): in this process ---------------------------------------------


def writer_batches(blobs: list[bytes], python: bool) -> list[list[bytes]]:
    """Group requests as the writer's defaults would: ``batch_max_records`` per flush, and
    ``batch_max_bytes`` with the weight of requests the Python converter parses if ``python``
    (``store_writer.BYTE_WEIGHTS``)."""
    from inferwatch_collector.config import CollectorSettings
    from inferwatch_collector.store_writer import PYTHON_BYTES_WEIGHT

    defaults = CollectorSettings()
    max_bytes = defaults.batch_max_bytes // (PYTHON_BYTES_WEIGHT if python else 1)
    batches: list[list[bytes]] = [[]]
    size = 0
    for blob in blobs:
        full = len(batches[-1]) >= defaults.batch_max_records
        if batches[-1] and (full or size + len(blob) > max_bytes):
            batches.append([])
            size = 0
        batches[-1].append(blob)
        size += len(blob)
    return batches


def decode_convert(batch: list[bytes]) -> dict[str, object]:
    """(a): what the Python converter does between the request bytes and the columns."""
    from inferwatch_collector.convert import convert_traces
    from inferwatch_collector.validate import validate_traces

    requests = []
    for blob in batch:
        request = ExportTraceServiceRequest()
        request.ParseFromString(blob)
        requests.append(validate_traces(request)[0])
    return convert_traces(requests)  # type: ignore[return-value]


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


@contextmanager
def fresh_store() -> Iterator[object]:
    """An embedded chDB with the schema applied, in a temporary folder."""
    from inferwatch_collector.store import default_dsn, open_client, run_migrations

    with tempfile.TemporaryDirectory(prefix="iw-bench-store-") as folder:
        client = open_client(default_dsn(folder))
        run_migrations(client, ttl_days=30)
        try:
            yield client
        finally:
            client.close()


def measure_in_process(payload: Payload, rounds: int, client: object) -> dict[str, float]:
    """Median seconds of (a) and (a') over ``rounds``, on the writer's batches of ``payload``."""
    batches = writer_batches(payload.blobs, python=True)
    # Warm imports, caches and the insert's column types outside the timing.
    convert_insert(client, batches[0][:1], f"bench-{payload.name}-warm")
    seconds: dict[str, list[float]] = {"a": [], "a'": []}
    for round_number in range(rounds):
        seconds["a"].append(sum(timed(lambda b=b: decode_convert(b)) for b in batches))
        tokens = [f"bench-{payload.name}-{round_number}-{i}" for i in range(len(batches))]
        seconds["a'"].append(
            sum(
                timed(lambda b=b, t=t: convert_insert(client, b, t))
                for b, t in zip(batches, tokens, strict=True)
            )
        )
    return {key: statistics.median(values) for key, values in seconds.items()}


def convert_insert(client: object, batch: list[bytes], token: str) -> None:
    """(a'): (a), then the writer's insert of every table's columns."""
    from inferwatch_collector.store import insert_tables

    insert_tables(client, decode_convert(batch), token)  # type: ignore[arg-type]


def measure_split(payload: Payload, rounds: int, client: object) -> float:
    """Median seconds of (a-sp): the writer's split of batches holding batch spans — chDB
    stores the spans while the Python converter's predictions are inserted."""
    from inferwatch_collector.convert import convert_traces
    from inferwatch_collector.store import insert_tables
    from inferwatch_collector.store.decoded import DecodedTraceInserter

    inserter = DecodedTraceInserter(client)  # type: ignore[arg-type]

    def split(batch: list[bytes], token: str) -> None:
        spans = inserter.start_spans(batch, token)
        requests = [ExportTraceServiceRequest.FromString(blob) for blob in batch]
        insert_tables(client, convert_traces(requests, spans=False), token)  # type: ignore[arg-type]
        if spans.result() is not None:
            raise RuntimeError("chDB left these spans to Python")

    batches = writer_batches(payload.blobs, python=True)
    try:
        split(batches[0][:1], f"bench-split-{payload.name}-warm")
        return statistics.median(
            sum(
                timed(lambda b=b, t=f"bench-split-{payload.name}-{r}-{i}": split(b, t))
                for i, b in enumerate(batches)
            )
            for r in range(rounds)
        )
    finally:
        inserter.close()


def decodable(blobs: list[bytes]) -> list[bytes]:
    """The requests the receiver logs for the ClickHouse decode (no label span)."""
    from inferwatch_collector.validate import check_traces

    return [
        blob
        for blob in blobs
        if not check_traces(ExportTraceServiceRequest.FromString(blob)).labels
    ]


def measure_decoded(payload: Payload, rounds: int, client: object) -> float | None:
    """Median seconds of (a-ch): chDB decoding the writer's batches itself (decode, convert,
    insert, no network), as the writer does for them; None when the receiver would not log
    these requests for it (label spans)."""
    from inferwatch_collector.store.decoded import DecodedTraceInserter

    if len(decodable(payload.blobs)) < len(payload.blobs):
        return None
    batches = writer_batches(payload.blobs, python=False)
    inserter = DecodedTraceInserter(client)  # type: ignore[arg-type]
    shape = {"single": payload.name == "single", "batch": payload.name == "batch"}
    try:
        inserter.insert(batches[0][:1], f"bench-decoded-{payload.name}-warm", **shape)
        return statistics.median(
            sum(
                timed(lambda b=b, t=t: inserter.insert(b, t, **shape))
                for b, t in zip(batches, tokens, strict=True)
            )
            for tokens in (
                [f"bench-decoded-{payload.name}-{r}-{i}" for i in range(len(batches))]
                for r in range(rounds)
            )
        )
    finally:
        inserter.close()


def measure_analysis(client: object, rounds: int = 5) -> dict[str, float]:
    """Median milliseconds of each decoding statement on a flush of no request: what
    ClickHouse spends analysing and planning it, paid once per flush whatever its size."""
    from inferwatch_collector.convert.clickhouse import insert_predictions, insert_traces
    from inferwatch_collector.store.decoded import write_stream

    path = write_stream([])
    statements: dict[str, Callable[[str], str]] = {
        "otel_traces": lambda token: insert_traces(path, token),
        "ml_predictions (single spans)": lambda token: insert_predictions(path, token),
        "ml_predictions (batch spans)": lambda token: insert_predictions(
            path, token, single=False, batch=True
        ),
    }
    medians = {}
    try:
        for name, statement in statements.items():
            seconds = []
            for r in range(rounds):
                sql = statement(f"bench-analysis-{name}-{r}")
                seconds.append(timed(lambda sql=sql: client.command(sql)))  # type: ignore[attr-defined]
            medians[name] = 1000 * statistics.median(seconds)
    finally:
        os.unlink(path)
    return medians


# --- the service under test -------------------------------------------------------------------


def cpu_ticks(stat: str) -> tuple[str, int]:
    """The name and the CPU clock ticks (user + system) in a ``/proc/…/stat`` text."""
    fields = stat[stat.rindex(")") + 2 :].split()
    return stat[stat.index("(") + 1 : stat.rindex(")")], int(fields[11]) + int(fields[12])


class Service:
    """``inferwatch serve`` in a subprocess with a temporary data directory and free ports."""

    def __init__(self, data_dir: str, *flags: str) -> None:
        self.process = subprocess.Popen(
            [
                *SERVE,
                "--data-dir",
                data_dir,
                "--otlp-http-port",
                "0",
                "--otlp-grpc-port",
                "0",
                "--http-port",
                "0",
                "--log-level",
                "WARNING",
                *flags,
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        ready = json.loads(self.process.stdout.readline())  # type: ignore[union-attr]
        assert ready["event"] == "ready", ready
        self.port: int = ready["otlp_http_port"]
        self._metrics = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def inserted_predictions(self) -> int:
        self._metrics.request("GET", "/metrics")
        match = INSERTED_ML_ROWS.search(self._metrics.getresponse().read())
        return int(float(match.group(1))) if match else 0

    def cpu_seconds(self) -> float:
        _, ticks = cpu_ticks(Path(f"/proc/{self.process.pid}/stat").read_text())
        return ticks / os.sysconf("SC_CLK_TCK")

    def status_kib(self, key: str) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        raise KeyError(key)

    def stop(self) -> None:
        self._metrics.close()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextmanager
def running_service(*flags: str) -> Iterator[Service]:
    with tempfile.TemporaryDirectory(prefix="iw-bench-serve-") as data_dir:
        service = Service(data_dir, *flags)
        try:
            yield service
        finally:
            service.stop()


# --- clients (separate processes: the service's GIL is not shared with them) -----------------


@dataclass
class ClientReport:
    statuses: Counter[int] = field(default_factory=Counter)
    with_retry_after: int = 0
    cpu_seconds: float = 0.0
    first_send: float = float("inf")
    last_answer: float = 0.0


def post_until(port: int, blobs: list[bytes], deadline: float | None) -> ClientReport:
    """POST ``blobs`` over one keep-alive connection: each once until acknowledged, or (with a
    ``deadline``) round and round without pacing, counting every answer."""
    report = ClientReport()
    cpu_started = time.process_time()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    report.first_send = time.time()
    index = 0
    while index < len(blobs) if deadline is None else time.time() < deadline:
        status, retry_after = _post(connection, blobs[index % len(blobs)])
        report.statuses[status] += 1
        report.with_retry_after += retry_after is not None
        if deadline is None and status != 200:
            time.sleep(float(retry_after or 0.1))  # acknowledged-or-retry, as an exporter does
            continue
        index += 1
    report.last_answer = time.time()
    connection.close()
    report.cpu_seconds = time.process_time() - cpu_started
    return report


def _post(connection: http.client.HTTPConnection, blob: bytes) -> tuple[int, str | None]:
    try:
        connection.request(
            "POST", "/v1/traces", body=blob, headers={"Content-Type": "application/x-protobuf"}
        )
        response = connection.getresponse()
        response.read()
        if response.will_close:
            connection.close()
        return response.status, response.getheader("Retry-After")
    except (OSError, http.client.HTTPException):
        connection.close()  # reset or refused: the next request reconnects
        return 0, None


def client_process(
    port: int, blobs: list[bytes], deadline: float | None, threads: int
) -> ClientReport:
    """One client process with ``threads`` connections, each sending its share of ``blobs``."""
    reports: list[ClientReport] = []
    shares = [blobs[i::threads] for i in range(threads)]
    workers = [
        threading.Thread(target=lambda s=s: reports.append(post_until(port, s, deadline)))
        for s in shares
        if s
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return merge_reports(reports)


def merge_reports(reports: list[ClientReport]) -> ClientReport:
    merged = ClientReport()
    for report in reports:
        merged.statuses.update(report.statuses)
        merged.with_retry_after += report.with_retry_after
        merged.cpu_seconds += report.cpu_seconds
        merged.first_send = min(merged.first_send, report.first_send)
        merged.last_answer = max(merged.last_answer, report.last_answer)
    return merged


def run_clients(
    port: int, blobs: list[bytes], processes: int, threads: int, deadline: float | None
) -> ClientReport:
    """Spawned (not forked: this process holds chDB threads) client processes; merged report."""
    context = multiprocessing.get_context("spawn")
    shares = [blobs[i::processes] for i in range(processes)]
    with context.Pool(processes) as pool:
        results = pool.starmap(client_process, [(port, s, deadline, threads) for s in shares if s])
    return merge_reports(results)


# --- (b) end to end ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EndToEnd:
    seconds: float
    acknowledged_after: float
    client_cpu: float
    service_cpu: float


def end_to_end_round(service: Service, payload: Payload, clients: int) -> EndToEnd:
    """Send every request of ``payload`` until acknowledged; time until all rows are stored."""
    expected = service.inserted_predictions() + payload.predictions
    cpu_before = service.cpu_seconds()
    report = run_clients(service.port, payload.blobs, clients, 1, None)
    give_up = time.monotonic() + COMMIT_TIMEOUT
    first = expected - payload.predictions
    while (stored := service.inserted_predictions()) < expected:
        if time.monotonic() > give_up:
            raise RuntimeError(f"{stored} of {expected} prediction rows stored after the timeout")
        time.sleep(
            _poll_interval(stored - first, expected - stored, time.time() - report.first_send)
        )
    committed = time.time()
    return EndToEnd(
        committed - report.first_send,
        report.last_answer - report.first_send,
        report.cpu_seconds,
        service.cpu_seconds() - cpu_before,
    )


def _poll_interval(done: int, left: int, elapsed: float) -> float:
    """How long to wait before reading /metrics again: each scrape queries the store (the
    evaluation gauges) on the writer's client, so polling every 20 ms slowed the writer it
    measures. Wait about half the expected remaining time, between 20 and 250 ms."""
    if done <= 0:
        return 0.1
    remaining = left * elapsed / done
    return min(0.25, max(0.02, remaining / 2))


THREAD_GROUPS = {
    **dict.fromkeys(
        ("ThreadPool", "QueryCompPipe", "QueryPipeline", "QueryPullPipe", "QueryPushPipe"),
        "chDB queries",
    ),
    "inferwatch": "Python",
    "MergeMutate": "merges",
}
"""The service's threads by name (the kernel's ``comm``): chDB names its own, and renames a
pool thread while it runs a query's pipeline; Python's threads keep the process's name."""


class ThreadCpu:
    """CPU seconds of a process's threads by name, read from ``/proc/<pid>/task`` every 0.1 s
    while in use, so that threads which end in between (HTTP handlers, chDB's pool) count too:
    reading only before and after a round missed a third of the service's CPU with single
    spans."""

    def __init__(self, pid: int) -> None:
        self._pid = pid
        self._ticks: dict[str, tuple[str, int]] = {}
        self._start: dict[str, int] = {}
        self._stop = threading.Event()
        self._reader = threading.Thread(target=self._read_until_stopped, daemon=True)

    def __enter__(self) -> ThreadCpu:
        self._read()
        self._start = {tid: ticks for tid, (_, ticks) in self._ticks.items()}
        self._reader.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._reader.join()
        self._read()

    def _read_until_stopped(self) -> None:
        while not self._stop.wait(0.1):
            self._read()

    def _read(self) -> None:
        for tid in os.listdir(f"/proc/{self._pid}/task"):
            try:
                stat = Path(f"/proc/{self._pid}/task/{tid}/stat").read_text()
            except OSError:  # the thread ended: its last reading stands
                continue
            self._ticks[tid] = cpu_ticks(stat)

    def seconds(self) -> Counter[str]:
        """CPU seconds per group of :data:`THREAD_GROUPS` (``other`` for the rest)."""
        spent: Counter[str] = Counter()
        for tid, (name, ticks) in self._ticks.items():
            spent[THREAD_GROUPS.get(name, "other")] += ticks - self._start.get(tid, 0)
        hz = os.sysconf("SC_CLK_TCK")
        return Counter({group: ticks / hz for group, ticks in spent.items()})


def measure_end_to_end(
    payloads: list[Payload], clients: int, serve_args: list[str]
) -> dict[str, float]:
    """Median (b) over the rounds (one payload per round) against one service, and the
    service's CPU per prediction over all rounds by thread group (``cpu:<group>``, µs)."""
    with running_service(*serve_args) as service:
        end_to_end_round(service, Payload("warm-up", payloads[0].blobs[:2], 1), 1)
        with ThreadCpu(service.process.pid) as threads:
            results = [end_to_end_round(service, payload, clients) for payload in payloads]
        peak_rss = service.status_kib("VmHWM") * 1024
    predictions = sum(payload.predictions for payload in payloads)
    per_group = {
        f"cpu:{group}": seconds / predictions * 1e6 for group, seconds in threads.seconds().items()
    }
    median = statistics.median(r.seconds for r in results)
    return {
        "seconds": median,
        "acknowledged_after": statistics.median(r.acknowledged_after for r in results),
        "client_cpu": statistics.median(r.client_cpu / r.seconds for r in results),
        "service_cpu": statistics.median(r.service_cpu / r.seconds for r in results),
        "peak_rss": peak_rss,
        **per_group,
    }


# --- (c) overload -----------------------------------------------------------------------------


def measure_overload(payload: Payload, args: argparse.Namespace) -> dict[str, float]:
    """Unpaced clients for ``--overload-seconds``; answers by status, peak RSS of the service."""
    flags = ["--queue-max-bytes", str(args.queue_max_bytes), *args.serve_args]
    processes, threads = args.overload_processes, args.overload_threads
    with running_service(*flags) as service:
        peak = [0]
        sampling = threading.Event()
        sampler = threading.Thread(target=_sample_rss, args=(service, peak, sampling), daemon=True)
        sampler.start()
        started = time.time()
        deadline = started + args.overload_seconds
        report = run_clients(service.port, payload.blobs, processes, threads, deadline)
        elapsed = time.time() - started
        sampling.set()
        sampler.join()
        hwm = service.status_kib("VmHWM") * 1024
    statuses = report.statuses
    return {
        "elapsed": elapsed,
        "ok": statuses[200],
        "throttled": statuses[429] + statuses[503],
        "with_retry_after": report.with_retry_after,
        "other": sum(statuses.values()) - statuses[200] - statuses[429] - statuses[503],
        "statuses": dict(statuses),  # type: ignore[dict-item]
        "peak_rss": max(hwm, peak[0]),
    }


def _sample_rss(service: Service, peak: list[int], stop: threading.Event) -> None:
    while not stop.wait(0.1):
        peak[0] = max(peak[0], service.status_kib("VmRSS") * 1024)


# --- report -----------------------------------------------------------------------------------


def rate_row(label: str, payload: Payload, seconds: float, extra: str = "") -> str:
    return (
        f"| {payload.name:<6} | {label:<36} | {payload.spans / seconds:>12,.0f} "
        f"| {payload.predictions / seconds:>14,.0f} | {extra} |"
    )


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def load_note() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def collector_routing(shape: str, serve_args: list[str]) -> str:
    """How the service under test converts requests of ``shape``: ``chdb`` (single spans; batch
    spans by default — ``auto``, and these carry no per-prediction features — or with
    ``--decode-batch-spans true``), ``split`` (batch spans with ``--decode-batch-spans spans``)
    or ``python`` (batch spans with ``--decode-batch-spans false``)."""
    if shape == "single":
        return "chdb"
    flags = " ".join(serve_args)
    for value, routing in (("true", "chdb"), ("false", "python"), ("spans", "split")):
        if f"--decode-batch-spans {value}" in flags:
            return routing
    return "chdb"


def end_to_end_payloads(rounds: list[Payload], size: int) -> list[Payload]:
    """One payload of ``size`` requests per round, taking the rounds' requests in turn."""
    blobs = [blob for payload in rounds for blob in payload.blobs]
    first = rounds[0]
    return [
        Payload(first.name, [blobs[(r * size + i) % len(blobs)] for i in range(size)],
                first.spans_per_request)
        for r in range(len(rounds))
    ]  # fmt: skip


def run_payload(name: str, args: argparse.Namespace, client: object) -> dict[str, float]:
    """All rows of one payload shape; returns the rates the targets are judged on."""
    rounds = [
        make_payload(name, args.requests, seed=1000 * i + len(name)) for i in range(args.rounds)
    ]
    first = rounds[0]
    a = measure_in_process(first, args.rounds, client)
    print(rate_row("(a) Python: decode+convert", first, a["a"]))
    print(rate_row("(a') Python: decode+convert+insert", first, a["a'"]))
    stages = {"python": ("(a)", a["a"])}
    decoded = measure_decoded(first, args.rounds, client)
    if decoded is not None:
        print(rate_row("(a-ch) chDB: decode+convert+insert", first, decoded))
        stages["chdb"] = ("(a-ch)", decoded)
    if name == "batch":
        split = measure_split(first, args.rounds, client)
        print(rate_row("(a-sp) chDB spans + Python preds", first, split))
        stages["split"] = ("(a-sp)", split)
    which, collectors = stages[collector_routing(name, args.serve_args)]
    sent = end_to_end_payloads(rounds, args.end_to_end_requests)
    b = measure_end_to_end(sent, args.clients, args.serve_args)
    cpu = (
        f"{args.end_to_end_requests} requests per round; "
        f"all acknowledged after {b['acknowledged_after'] / b['seconds']:.0%} of the time; "
        f"client CPU {b['client_cpu']:.2f}, service CPU {b['service_cpu']:.2f} cores; "
        f"service peak RSS {b['peak_rss'] / 2**20:,.0f} MiB; service CPU per prediction: "
        + ", ".join(
            f"{group} {b[f'cpu:{group}']:.1f}"
            for group in [*dict.fromkeys(THREAD_GROUPS.values()), "other"]
            if f"cpu:{group}" in b
        )
        + " µs"
    )
    print(rate_row("(b) end to end over HTTP", sent[0], b["seconds"], cpu))
    rate = sent[0].predictions / b["seconds"]
    ratio = rate / (first.predictions / collectors)
    print(f"| {name:<6} | {'(b)/' + which:<36} | {ratio:>12.2f} | {'':>14} | |")
    return {
        "spans_per_s": sent[0].spans / b["seconds"],
        "predictions_per_s": rate,
        "ratio": ratio,
    }


def print_overload(args: argparse.Namespace, shape: str, sustained: float) -> int:
    """(c) for one payload shape; ``sustained``: its predictions/s end to end in (b)."""
    payload = make_payload(shape, max(4, args.requests // 4), seed=7)
    result = measure_overload(payload, args)
    elapsed = result["elapsed"]
    offered = (result["ok"] + result["throttled"] + result["other"]) * PREDICTIONS / elapsed
    print(
        f"\n(c) overload, {shape} spans, {args.overload_processes}x{args.overload_threads} "
        f"unpaced connections for {elapsed:.1f} s, --queue-max-bytes {args.queue_max_bytes}:"
    )
    accepted = result["ok"] * PREDICTIONS / elapsed
    print(
        f"    offered {offered:,.0f} predictions/s = {offered / sustained:.1f}x the end-to-end "
        f"rate of (b); answered 200 for {accepted:,.0f} predictions/s"
    )
    print(
        f"    answers: 200 x{result['ok']}, 429/503 x{result['throttled']} "
        f"({result['with_retry_after']} with Retry-After), other x{result['other']}; "
        f"by status {result['statuses']} (0 = connection reset)"
    )
    print(f"    service peak RSS {result['peak_rss'] / 2**20:,.0f} MiB")
    return int(result["peak_rss"])


def print_targets(single: dict[str, float], batch: dict[str, float], peak_rss: int | None) -> None:
    print("\ntargets (issue 3, this machine):")
    rows = [
        (
            "end to end single spans/s >= 100,000",
            single["spans_per_s"],
            single["spans_per_s"] >= TARGET_SINGLE_SPANS,
        ),
        (
            "end to end batch predictions/s >= 300,000",
            batch["predictions_per_s"],
            batch["predictions_per_s"] >= TARGET_BATCH_PREDICTIONS,
        ),
        ("(b)/(a) >= 0.5, single", single["ratio"], single["ratio"] >= TARGET_RATIO),
        ("(b)/(a) >= 0.5, batch", batch["ratio"], batch["ratio"] >= TARGET_RATIO),
    ]
    if peak_rss is not None:
        rows.append(
            ("peak RSS under overload < 1 GiB (MiB)", peak_rss / 2**20, peak_rss < TARGET_RSS)
        )
    for label, value, ok in rows:
        print(f"  {verdict(ok)}  {label:<44} measured {value:,.2f}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests", type=int, default=200, help="requests (of 1,000 predictions) per round"
    )
    parser.add_argument(
        "--end-to-end-requests",
        type=int,
        default=1000,
        help="requests sent per round of (b), the rounds' payloads in turn",
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds; medians are printed")
    parser.add_argument("--clients", type=int, default=4, help="client processes for (b)")
    parser.add_argument("--overload-seconds", type=float, default=20.0)
    parser.add_argument("--overload-processes", type=int, default=4)
    parser.add_argument("--overload-threads", type=int, default=8)
    parser.add_argument("--queue-max-bytes", type=int, default=64 * 2**20)
    parser.add_argument("--no-overload", action="store_true", help="skip (c)")
    parser.add_argument(
        "--serve-args",
        type=shlex.split,
        default=[],
        help='extra flags for every "inferwatch serve", e.g. "--batch-max-bytes 16777216"',
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes: checks the program works"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.end_to_end_requests, args.rounds, args.clients = 6, 12, 1, 2
        args.overload_seconds, args.overload_processes, args.overload_threads = 3.0, 2, 4
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    print(
        f"bench/ingest.py: {args.requests} requests x 1,000 predictions per round, "
        f"{args.rounds} rounds; {load_note()}"
    )
    print(f"extra serve flags: {' '.join(args.serve_args) or 'none (defaults)'}")
    print(f"| {'shape':<6} | {'stage':<36} | {'spans/s':>12} | {'predictions/s':>14} | notes |")
    print(f"|{'-' * 8}|{'-' * 38}|{'-' * 14}|{'-' * 16}|-------|")
    with fresh_store() as client:
        batch = run_payload("batch", args, client)
        single = run_payload("single", args, client)
        analysis = measure_analysis(client)
    print(
        "\nstatement analysis (chDB, a flush of no request, paid once per flush): "
        + ", ".join(f"{name} {ms:.0f} ms" for name, ms in analysis.items())
    )
    peak_rss = None
    if not args.no_overload:
        peak_rss = max(
            print_overload(args, "single", single["predictions_per_s"]),
            print_overload(args, "batch", batch["predictions_per_s"]),
        )
    print_targets(single, batch, peak_rss)
    print(f"\nat the end: {load_note()}")


if __name__ == "__main__":
    main()
