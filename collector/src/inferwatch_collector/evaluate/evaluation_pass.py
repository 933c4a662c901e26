"""One evaluation pass: a few SQL queries over all models, then the metrics from their counts.

Per window size the pass runs four queries (top segment values, per-series statistics,
confusion cells, score/label histograms) plus one for the drift reference, whatever the
number of models, versions, segments and windows; the metrics are computed from the returned
counts (``metrics.py``, ``drift.py``) and written to ``ml_evaluations``.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from . import queries
from .drift import drift_metrics
from .durations import parse_duration
from .metrics import MetricValue, RegressionStats, classification_metrics, regression_metrics
from .settings import MonitoringSettings
from .store import EvaluationRow, write_evaluations
from .windows import WindowRange, pass_range

SeriesKey = tuple[str, str, str, datetime]  # model, version, segment, window start
Progress = Callable[[int, int], None]


def run_pass(
    client: Any,
    settings: MonitoringSettings,
    *,
    now: datetime,
    windows: Sequence[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    progress: Progress | None = None,
) -> list[EvaluationRow]:
    """Evaluate every model's windows and write them to ``ml_evaluations``; return the rows.

    Args:
        now: the pass's time (UTC); windows inside ``evaluation.label_horizon`` before it are
            re-evaluated, since labels keep arriving.
        windows: window sizes instead of ``evaluation.windows`` (e.g. ``["1h"]``).
        start, end: a backfill of ``[start, end)`` instead of the label horizon.
        progress: called with ``(window sizes done, window sizes)``.
    """
    evaluation = settings.evaluation
    sizes = list(windows or evaluation.windows)
    rows: list[EvaluationRow] = []
    for done, size in enumerate(sizes):
        span = pass_range(
            size, now=now, label_horizon=evaluation.label_horizon, start=start, end=end
        )
        rows += _evaluate_size(client, settings, span, now)
        if progress is not None:
            progress(done + 1, len(sizes))
    write_evaluations(client, rows)
    return rows


def _evaluate_size(
    client: Any, settings: MonitoringSettings, span: WindowRange, now: datetime
) -> list[EvaluationRow]:
    evaluation = settings.evaluation
    parameters = {
        "lo": span.start,
        "hi": span.end,
        "w": span.seconds,
        "bins": evaluation.drift_bins,
    }
    top = _top_segment_values(client, span, evaluation.segment_top_k)
    parameters["top_keys"], parameters["top_values"] = list(top), list(top.values())
    stats = client.query(queries.SERIES_STATS, parameters=parameters).named_results()
    cells = _grouped(client.query(queries.CONFUSION_CELLS, parameters=parameters).result_rows)
    hists = _grouped(client.query(queries.HISTOGRAMS, parameters=parameters).result_rows)
    reference_length = int(parse_duration(evaluation.drift_reference).total_seconds())
    reference = _reference_histograms(client, span, parameters, reference_length)
    evaluated_at = datetime.now(timezone.utc)
    rows = []
    for series in stats:
        key = (series["model"], series["version"], series["segment"], _utc(series["window_start"]))
        if key[2] and series["predictions"] < evaluation.segment_min_support:
            continue  # a small segment says nothing reliable; it is left out
        metrics = _series_metrics(settings, series, cells.get(key, {}), key, span)
        metrics += drift_metrics(hists.get(key, {}), reference.get(key[:3], {}))
        rows += _rows(key, span, series, metrics, evaluated_at)
    return rows


def _top_segment_values(client: Any, span: WindowRange, k: int) -> dict[str, list[str]]:
    result = client.query(
        queries.TOP_SEGMENT_VALUES, parameters={"lo": span.start, "hi": span.end, "k": k}
    )
    return {f"{model}|{key}": list(top) for model, key, top in result.result_rows}


def _reference_histograms(
    client: Any, span: WindowRange, parameters: dict[str, Any], length: int
) -> dict[tuple[str, str, str], dict[str, int]]:
    """Histograms of the drift reference: the period just before the pass's first window."""
    reference = {
        **parameters,
        "lo": span.start - timedelta(seconds=length),
        "hi": span.start,
        "w": length,
    }
    found: dict[tuple[str, str, str], dict[str, int]] = defaultdict(dict)
    for model, version, segment, _, bin_, n in client.query(
        queries.HISTOGRAMS, parameters=reference
    ).result_rows:
        found[(model, version, segment)][bin_] = found[(model, version, segment)].get(bin_, 0) + n
    return found


def _grouped(rows: Sequence[Sequence[Any]]) -> dict[SeriesKey, dict[Any, int]]:
    """``(model, version, segment, window_start, *bucket, n)`` rows → {series: {bucket: n}}."""
    grouped: dict[SeriesKey, dict[Any, int]] = defaultdict(dict)
    for model, version, segment, window_start, *bucket, n in rows:
        bucket_key = tuple(bucket) if len(bucket) > 1 else bucket[0]
        grouped[(model, version, segment, _utc(window_start))][bucket_key] = int(n)
    return grouped


def _series_metrics(
    settings: MonitoringSettings,
    series: dict[str, Any],
    cells: dict[Any, int],
    key: SeriesKey,
    span: WindowRange,
) -> list[MetricValue]:
    model = settings.model(key[0])
    task = model.task or series["task"] or "binary_classification"
    predictions, labelled = int(series["predictions"]), int(series["labelled_count"])
    p50, p95, p99 = (series["latency"] + [float("nan")] * 3)[:3]
    out = [
        MetricValue("prediction_count", float(predictions), predictions),
        MetricValue("label_count", float(labelled), labelled),
        MetricValue("label_coverage", labelled / predictions, predictions),
        MetricValue("error_rate", series["errors"] / predictions, predictions),
        MetricValue("latency_p50_ms", float(p50), predictions),
        MetricValue("latency_p95_ms", float(p95), predictions),
        MetricValue("latency_p99_ms", float(p99), predictions),
    ]
    evaluation = settings.evaluation
    if task == "regression":
        n = int(series["reg_n"])
        stats = RegressionStats(
            n=n,
            sum_abs_error=float(series["sae"]),
            sum_squared_error=float(series["sse"]),
            total_sum_squares=float(series["var_y"]) * n if n else 0.0,
            sum_abs_percentage_error=float(series["sape"]),
        )
        return out + regression_metrics(stats, confidence=evaluation.confidence)
    return out + classification_metrics(
        cells,
        task=task,
        positive_label=model.positive_label,
        classes=model.classes,
        confidence=evaluation.confidence,
        bootstrap_samples=evaluation.bootstrap_samples,
        seed=zlib.crc32(repr(key).encode()),  # the same interval on every pass
    )


def _rows(
    key: SeriesKey,
    span: WindowRange,
    series: dict[str, Any],
    metrics: list[MetricValue],
    evaluated_at: datetime,
) -> list[EvaluationRow]:
    model, version, segment, window_start = key
    window_end = window_start + timedelta(seconds=span.seconds)
    coverage = int(series["labelled_count"]) / int(series["predictions"])
    return [
        EvaluationRow(
            model,
            version,
            segment,
            span.size,
            window_start,
            window_end,
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


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value
