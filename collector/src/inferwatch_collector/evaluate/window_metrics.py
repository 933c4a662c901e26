"""One window of one series: its statistics from the pass's queries, and its metric rows."""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .drift import drift_metrics
from .intervals import wilson_interval
from .metrics import MetricValue, RegressionStats, classification_metrics, regression_metrics
from .settings import MonitoringSettings
from .store import EvaluationRow

SeriesKey = tuple[str, str, str, datetime]
"""(model, version, segment, window start)."""


@dataclass
class WindowStats:
    """What the SQL returned for one window of one series."""

    task: str = ""
    predictions: int = 0
    errors: int = 0
    latency: tuple[float, float, float] = (math.nan, math.nan, math.nan)
    histogram: dict[str, int] = field(default_factory=dict)
    cells: dict[tuple[str, str], int] = field(default_factory=dict)
    regression: RegressionStats | None = None

    @property
    def labelled(self) -> int:
        return sum(self.cells.values())


def window_metrics(
    settings: MonitoringSettings, key: SeriesKey, stats: WindowStats, reference: dict[str, int]
) -> list[MetricValue]:
    """Every metric of the window: volume, coverage, errors, latency, quality and drift."""
    n, labelled = stats.predictions, stats.labelled
    confidence = settings.evaluation.confidence
    p50, p95, p99 = stats.latency
    out = [
        MetricValue("prediction_count", float(n), n),
        MetricValue("label_count", float(labelled), labelled),
        MetricValue(
            "label_coverage",
            labelled / n if n else math.nan,
            n,
            *wilson_interval(labelled, n, confidence),
        ),
        MetricValue(
            "error_rate",
            stats.errors / n if n else math.nan,
            n,
            *wilson_interval(stats.errors, n, confidence),
        ),
        MetricValue("latency_p50_ms", float(p50), n),
        MetricValue("latency_p95_ms", float(p95), n),
        MetricValue("latency_p99_ms", float(p99), n),
    ]
    return out + _quality(settings, key, stats) + drift_metrics(stats.histogram, reference)


def _quality(settings: MonitoringSettings, key: SeriesKey, stats: WindowStats) -> list[MetricValue]:
    model = settings.model(key[0])
    evaluation = settings.evaluation
    task = model.task or stats.task or "binary_classification"
    if task == "regression":
        if stats.regression is None:
            return []
        return regression_metrics(stats.regression, confidence=evaluation.confidence)
    return classification_metrics(
        stats.cells,
        task=task,
        positive_label=model.positive_label,
        classes=model.classes,
        confidence=evaluation.confidence,
        bootstrap_samples=evaluation.bootstrap_samples,
        seed=zlib.crc32(repr(key).encode()),  # the same interval on every pass
    )


def evaluation_rows(
    key: SeriesKey,
    window: str,
    length: timedelta,
    stats: WindowStats,
    metrics: list[MetricValue],
    evaluated_at: datetime,
) -> list[EvaluationRow]:
    """The ``ml_evaluations`` rows of one window's metrics."""
    model, version, segment, start = key
    coverage = stats.labelled / stats.predictions if stats.predictions else 0.0
    return [
        EvaluationRow(
            model,
            version,
            segment,
            window,
            start,
            start + length,
            m.name,
            m.value,
            m.support,
            coverage,
            m.ci_low,
            m.ci_high,
            evaluated_at,
        )  # fmt: skip
        for m in metrics
    ]


def regression_stats(
    n: int, sae: float, sse: float, var_y: float, sape: float
) -> RegressionStats | None:
    """The regression sums of an outcome cell (``OUTCOME_STATS``), if it holds regression rows:
    count, Σ|e|, Σe², varPop(y) and Σ|e|/max(|y|, ε)."""
    if n == 0:
        return None
    return RegressionStats(
        n=n,
        sum_abs_error=float(sae),
        sum_squared_error=float(sse),
        total_sum_squares=float(var_y) * n,
        sum_abs_percentage_error=float(sape),
    )
