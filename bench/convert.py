"""Benchmark: OTLP trace requests → columns (``inferwatch_collector.convert``), in Python.

Two payloads of 1,000 predictions each, as the issue's speed section defines them:
(i) one batch span with 1,000-element arrays (as the SDK's hot-path buffer sends them),
(ii) 1,000 single-prediction spans with 10 attributes each.
Protobuf parsing, validation and conversion are timed apart; the bare walk over the parsed
spans and their attributes (reading every key and value, building nothing) is the baseline —
the ceiling of any Python conversion on this machine. Rates are the best of ``--repeats``
runs; the machine's other load moves them by tens of percent, compare rows of one run.

Run: ``.venv/bin/python bench/convert.py [--requests 20] [--repeats 5]``
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from inferwatch import semconv
from inferwatch_collector.convert import convert_traces
from inferwatch_collector.validate import validate_traces

PREDICTIONS = 1000
BASE_NS = 1_700_000_000_000_000_000


def _kv(key: str, value: object) -> KeyValue:
    if isinstance(value, list):
        items = [_any(item) for item in value]
        return KeyValue(key=key, value=AnyValue(array_value={"values": items}))
    return KeyValue(key=key, value=_any(value))


def _any(value: object) -> AnyValue:
    if isinstance(value, str):
        return AnyValue(string_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    return AnyValue(int_value=value)  # type: ignore[arg-type]


def _request(spans_attributes: list[list[KeyValue]], durations_ns: int) -> bytes:
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.append(_kv("service.name", "bench"))
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = semconv.INSTRUMENTATION_NAME
    for index, attributes in enumerate(spans_attributes):
        span = scope_spans.spans.add()
        span.trace_id = (index + 1).to_bytes(16, "big")
        span.span_id = (index + 1).to_bytes(8, "big")
        span.name = semconv.PREDICTION_SPAN_PREFIX + "fraud"
        span.kind = 1
        span.start_time_unix_nano = BASE_NS + index * 1000
        span.end_time_unix_nano = BASE_NS + index * 1000 + durations_ns
        span.attributes.extend(attributes)
    return request.SerializeToString()


def batch_request() -> bytes:
    """One span, 1,000 predictions as parallel arrays (with per-prediction time and ids)."""
    n = range(PREDICTIONS)
    attributes = [
        _kv(semconv.ML_MODEL_NAME, "fraud"),
        _kv(semconv.ML_MODEL_VERSION, "3.1"),
        _kv(semconv.ML_TASK, semconv.TASK_BINARY),
        _kv(semconv.ML_PREDICTION_COUNT, PREDICTIONS),
        _kv(semconv.ML_PREDICTION_ID, [f"{i:032x}" for i in n]),
        _kv(semconv.ML_PREDICTION_LABEL, [str(i % 2) for i in n]),
        _kv(semconv.ML_PREDICTION_SCORE, [i / PREDICTIONS for i in n]),
        _kv(semconv.ML_PREDICTION_TIMESTAMP, [BASE_NS + i * 1000 for i in n]),
        _kv(semconv.ML_PREDICTION_DURATION, [0.002 for _ in n]),
        _kv(semconv.ML_PREDICTION_STATUS, [semconv.STATUS_OK for _ in n]),
        _kv(semconv.ML_PREDICTION_TRACE_ID, [f"{i + 1:032x}" for i in n]),
        _kv(semconv.ML_PREDICTION_SPAN_ID, [f"{i + 1:016x}" for i in n]),
        _kv(semconv.ML_SEGMENT_PREFIX + "region", "eu"),
    ]
    return _request([attributes], 2_000_000)


def single_request() -> bytes:
    """1,000 spans of one prediction each, 10 attributes per span."""
    spans = [
        [
            _kv(semconv.ML_MODEL_NAME, "fraud"),
            _kv(semconv.ML_MODEL_VERSION, "3.1"),
            _kv(semconv.ML_TASK, semconv.TASK_BINARY),
            _kv(semconv.ML_PREDICTION_COUNT, 1),
            _kv(semconv.ML_PREDICTION_ID, f"{i:032x}"),
            _kv(semconv.ML_PREDICTION_LABEL, str(i % 2)),
            _kv(semconv.ML_PREDICTION_SCORE, i / PREDICTIONS),
            _kv(semconv.ML_SEGMENT_PREFIX + "region", "eu"),
            _kv(semconv.ML_FEATURE_PREFIX + "amount", 12.5),
            _kv("http.route", "/predict"),
        ]
        for i in range(PREDICTIONS)
    ]
    return _request(spans, 2_000_000)


def _best(run: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def _walk(requests: list[ExportTraceServiceRequest]) -> None:
    for request in requests:
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    for kv in span.attributes:
                        value = kv.value
                        if not value.string_value and value.HasField("array_value"):
                            [item.string_value for item in value.array_value.values]


def measure(label: str, payload: bytes, count: int, spans: int, repeats: int) -> None:
    """Print one table row per stage for ``count`` copies of ``payload``."""
    blobs = [payload] * count
    requests = [ExportTraceServiceRequest.FromString(blob) for blob in blobs]
    stages = {
        "parse (upb)": lambda: [ExportTraceServiceRequest.FromString(b) for b in blobs],
        "baseline: bare walk": lambda: _walk(requests),
        "validate": lambda: [validate_traces(request) for request in requests],
        "convert": lambda: convert_traces(requests),
    }
    for stage, run in stages.items():
        seconds = _best(run, repeats)
        print(
            f"{label:<26}{stage:<22}{spans * count / seconds:>14,.0f}"
            f"{PREDICTIONS * count / seconds:>16,.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20, help="requests per run")
    parser.add_argument("--repeats", type=int, default=5, help="best of this many runs")
    args = parser.parse_args()
    print(f"{'payload':<26}{'stage':<22}{'spans/s':>14}{'predictions/s':>16}")
    measure("(i) 1 batch span x 1000", batch_request(), args.requests, 1, args.repeats)
    measure("(ii) 1000 single spans", single_request(), args.requests, PREDICTIONS, args.repeats)


if __name__ == "__main__":
    main()
