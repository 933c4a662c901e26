"""The four metric instruments of inferwatch, created once from the global meter.

Created lazily through the OpenTelemetry API: before any MeterProvider is installed the API
hands out proxy instruments that start recording once one is, so decorating costs nothing
before ``configure()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opentelemetry import metrics

from . import semconv


@dataclass(frozen=True)
class Instruments:
    predictions: metrics.Counter
    duration: metrics.Histogram
    score: metrics.Histogram
    errors: metrics.Counter
    dropped: metrics.Counter


_instruments: Instruments | None = None


def instruments() -> Instruments:
    """Return the shared instruments, creating them on first use."""
    global _instruments
    if _instruments is None:
        meter = metrics.get_meter(semconv.INSTRUMENTATION_NAME)
        _instruments = Instruments(
            predictions=meter.create_counter(
                semconv.METRIC_PREDICTIONS, unit="{prediction}", description="Predictions made"
            ),
            duration=meter.create_histogram(
                semconv.METRIC_DURATION, unit="s", description="Duration of monitored calls"
            ),
            score=meter.create_histogram(
                semconv.METRIC_SCORE, unit="1", description="Prediction scores"
            ),
            errors=meter.create_counter(
                semconv.METRIC_ERRORS, unit="{error}", description="Monitored calls that raised"
            ),
            dropped=meter.create_counter(
                semconv.METRIC_BUFFER_DROPPED,
                unit="{call}",
                description="Calls dropped because the hot-path buffer was full",
            ),
        )
    return _instruments


SCORE_SAMPLE = 50
"""Most scores of one call (or one exported chunk) recorded into the score histogram."""


def record_finite_scores(histogram: Any, scores: list[float], attributes: dict[str, str]) -> None:
    """Record scores into the score histogram; NaN and infinities would poison its sum.

    A batch records an even sample of at most ``SCORE_SAMPLE`` of its scores: one
    histogram record costs the OpenTelemetry Python SDK about 10 µs here, more than the
    rest of a prediction's telemetry (bench/sdk_overhead.py). The shape of the distribution
    is kept; exact counts are in ``ml.predictions``, exact scores in the spans.
    """
    record = histogram.record
    if len(scores) > SCORE_SAMPLE:
        scores = scores[:: -(-len(scores) // SCORE_SAMPLE)]
    for score in scores:
        if score - score == 0.0:  # finite: NaN - NaN and inf - inf are NaN
            record(score, attributes)
