"""What @monitor costs per call, against a bare OpenTelemetry span (the baseline), in one run.

Every scenario exports for real: the OTLP/HTTP exporters send to a sink server in another
process, and each timing includes ``force_flush`` so that the export work is counted too.
Prints the median per-call (and per-prediction) cost over several rounds and the ratios the
SDK issue sets as targets.

    .venv/bin/python bench/sdk_overhead.py [--calls 20000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

SINK = """
import http.server, sys
class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *args): pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def start_sink() -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen([sys.executable, "-c", SINK], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, int(process.stdout.readline())


def features() -> dict[str, float]:
    return {f"f{i}": float(i) for i in range(10)}


WEIGHTS = [0.01 * i for i in range(10)]


def model(features: dict[str, float]) -> float:
    """A tiny model: a logistic score over ten features (about a microsecond)."""
    total = sum(w * x for w, x in zip(WEIGHTS, features.values(), strict=True))
    return 1.0 / (1.0 + 2.718281828 ** (-total))


def per_call(fn: Callable[[], object], calls: int, flush: Callable[[], object]) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    flush()
    return (time.perf_counter() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sink, port = start_sink()
    try:
        run(args.calls, args.rounds, port)
    finally:
        sink.terminate()


def run(calls: int, rounds: int, port: int) -> None:
    import inferwatch
    from inferwatch import monitor
    from inferwatch._config import configure

    export = {
        "service_name": "bench",
        "endpoint": f"http://127.0.0.1:{port}",
        "protocol": "http/protobuf",
        "export_interval": 3600.0,
    }
    configure(**export)
    scenarios = build_scenarios(monitor)
    flush = inferwatch.force_flush
    results: dict[str, list[float]] = {name: [] for name in scenarios}
    for _ in range(rounds):
        for name, (fn, n_calls, per, *enabled) in scenarios.items():
            # the same export settings again: only the kill switch changes
            configure(**export, enabled=enabled[0] if enabled else True)
            results[name].append(per_call(fn, n_calls(calls), flush) / per)
        configure(**export, enabled=True)
    inferwatch.shutdown()
    report({name: statistics.median(values) for name, values in results.items()})


def build_scenarios(monitor):  # type: ignore[no-untyped-def]
    from opentelemetry import metrics, trace

    tracer = trace.get_tracer("bench")
    meter = metrics.get_meter("bench")
    counter = meter.create_counter("ml.predictions")
    duration = meter.create_histogram("ml.prediction.duration")
    score_histogram = meter.create_histogram("ml.prediction.score")
    point_attributes = {"ml.model.name": "bench", "ml.model.version": "1", "ml.status": "ok"}
    x = features()

    def baseline() -> float:
        start = time.perf_counter()
        with tracer.start_as_current_span("predict bench") as span:
            score = model(x)
            span.set_attributes(
                {
                    "ml.model.name": "bench",
                    "ml.model.version": "1",
                    "ml.task": "binary_classification",
                    "ml.prediction.id": "019ace00-0000-7000-8000-000000000001",
                    "ml.prediction.label": "1" if score >= 0.5 else "0",
                    "ml.prediction.score": score,
                    "ml.prediction.count": 1,
                }
            )
        counter.add(1, point_attributes)
        duration.record(time.perf_counter() - start, point_attributes)
        score_histogram.record(score, point_attributes)
        return score

    common = {"model": "bench", "version": "1", "task": "binary_classification"}
    single = monitor(**common)(model)
    batched = monitor(**common, batched=True)(model)
    rows = [x] * 1000
    batch = monitor(**common)(lambda rows: [model(r) for r in rows])
    undecorated_batch = lambda: [model(r) for r in rows]  # noqa: E731

    def batches(calls: int) -> int:
        return max(calls // 1000, 5)

    return {
        "undecorated": (lambda: model(x), lambda n: n, 1),
        "baseline: bare OTel span + metrics": (baseline, lambda n: n, 1),
        "@monitor single": (lambda: single(x), lambda n: n, 1),
        "@monitor(batched=True) single": (lambda: batched(x), lambda n: n, 1),
        "undecorated batch of 1,000 (per prediction)": (undecorated_batch, batches, 1000),
        "@monitor batch of 1,000 (per prediction)": (lambda: batch(rows), batches, 1000),
        "kill switch": (lambda: single(x), lambda n: n, 1, False),
    }


def report(medians: dict[str, float]) -> None:
    width = max(len(name) for name in medians)
    print(f"{'scenario':<{width}}  {'µs per call':>12}")
    for name, seconds in medians.items():
        print(f"{name:<{width}}  {seconds * 1e6:>12.2f}")
    base = medians["baseline: bare OTel span + metrics"]
    plain = medians["undecorated"]
    single = medians["@monitor single"]
    batch_cost = (
        medians["@monitor batch of 1,000 (per prediction)"]
        - medians["undecorated batch of 1,000 (per prediction)"]
    )
    print()
    print(f"@monitor single / baseline            {single / base:6.2f}×  (target ≤ 1.30)")
    batched = medians["@monitor(batched=True) single"]
    print(f"batched=True µs per call              {batched * 1e6:6.2f}   (target ≤ 10)")
    print(f"baseline / batched=True               {base / batched:6.1f}×  (target ≥ 10)")
    print(
        f"batch overhead per prediction / single overhead "
        f"{batch_cost / (single - plain):6.3f}  (target ≤ 0.05)"
    )
    kill = medians["kill switch"] / plain
    print(f"kill switch / undecorated             {kill:6.2f}×  (target ≤ 2)")


if __name__ == "__main__":
    main()
