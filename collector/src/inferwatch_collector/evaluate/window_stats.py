"""The sufficient statistics of a pass's windows, read from ClickHouse in a fixed few queries.

Per window size, the prediction side — ``PREDICTION_STATS`` (volume, errors, exact latency
quantiles, score bins) and ``PREDICTION_LABELS`` (the predicted labels of unscored predictions,
their drift histogram) — and the outcome side, ``OUTCOME_STATS`` (confusion cells, regression
sums); for every model, version, segment and window at once, or only for the windows that
changed. A window whose predictions did not change keeps its prediction side, and one whose
outcomes did not change its outcome side: ``combine`` joins the two.

>>> every = stats_parameters(settings, span, top, changed=None)       # doctest: +SKIP
>>> predictions = read_prediction_stats(client, every)                # doctest: +SKIP
>>> stats = combine(predictions, read_outcome_stats(client, every))   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from . import queries
from .durations import parse_duration
from .settings import MonitoringSettings
from .window_metrics import SeriesKey, WindowStats, regression_stats
from .windows import EPOCH, WindowRange

HOUR = 3600
TopValues = list[tuple[str, str, str]]
"""(model, segment key, value) of the segment values that get their own series."""
Histograms = dict[tuple[str, str, str], dict[str, int]]
"""Drift histograms per (model, version, segment)."""


def stats_parameters(
    settings: MonitoringSettings,
    span: WindowRange,
    top: TopValues,
    changed: list[tuple[str, int]] | None,
) -> dict[str, Any]:
    """Query parameters for every window of ``span`` (``changed`` is None) or for the
    ``changed`` ones, given as (model, window start in Unix seconds).

    The changed windows' time range bounds the read. When they are every window of their
    models in that range (the common case: the newest windows, or the windows late labels
    reached), that is all the query needs; otherwise each row's window is tested as well.
    """
    parameters: dict[str, Any] = {
        "lo": span.start,
        "hi": span.end,
        "w": span.seconds,
        "bins": settings.evaluation.drift_bins,
        "top": top,
        "every": 1,
        "models": [],
        "exact": 0,
        "changed": [],
        "hours": [],
    }
    if changed is None:
        return parameters
    first, last = min(w for _, w in changed), max(w for _, w in changed)
    models = sorted({model for model, _ in changed})
    whole = len(set(changed)) == len(models) * ((last - first) // span.seconds + 1)
    return {
        **parameters,
        "lo": max(span.start, _utc(first)),
        "hi": min(span.end, _utc(last + span.seconds)),
        "every": 0,
        "models": models,
        "exact": 0 if whole else 1,
        "changed": [] if whole else changed,
        "hours": [] if whole else sorted(_hours(changed, span.seconds)),
    }


def _hours(changed: Iterable[tuple[str, int]], seconds: int) -> set[tuple[str, int]]:
    """(model, hour) of every hour a changed window overlaps: the primary key's prefix."""
    return {
        (model, hour)
        for model, start in changed
        for hour in range(start - start % HOUR, start + seconds, HOUR)
    }


def read_prediction_stats(client: Any, parameters: dict[str, Any]) -> dict[SeriesKey, WindowStats]:
    """The prediction side of every series' windows: volume, errors, latency, histogram."""
    stats: dict[SeriesKey, WindowStats] = {}
    window = _series_windows(stats)
    bins, unscored = parameters["bins"], 0
    for model, version, segment, start, task, n, errors, latency, score_bins in client.query(
        queries.PREDICTION_STATS, parameters=parameters
    ).result_rows:
        found = window(model, version, segment, start)
        found.task, found.predictions, found.errors = task, n, errors
        if latency:
            found.latency = (latency[0], latency[1], latency[2])
        found.histogram.update(_score_histogram(score_bins, bins))
        unscored += n - sum(score_bins)
    if unscored:  # the predicted labels of unscored predictions are their drift histogram
        for model, version, segment, start, label, n in client.query(
            queries.PREDICTION_LABELS, parameters=parameters
        ).result_rows:
            window(model, version, segment, start).histogram[f"label:{label}"] = n
    return stats


def read_outcome_stats(client: Any, parameters: dict[str, Any]) -> dict[SeriesKey, WindowStats]:
    """The outcome side of every series' windows: confusion cells, regression sums."""
    stats: dict[SeriesKey, WindowStats] = {}
    window = _series_windows(stats)
    for model, version, segment, start, actual, predicted, n, *sums in client.query(
        queries.OUTCOME_STATS, parameters=parameters
    ).result_rows:
        found = window(model, version, segment, start)
        found.cells[(actual, predicted)] = n
        if not (actual or predicted):
            found.regression = regression_stats(*sums)
    return stats


def combine(
    predictions: dict[SeriesKey, WindowStats], outcomes: dict[SeriesKey, WindowStats]
) -> dict[SeriesKey, WindowStats]:
    """Each series' window with its prediction side from ``predictions`` and its outcome side
    from ``outcomes`` (either may come from an earlier pass)."""
    combined = {}
    for key in predictions.keys() | outcomes.keys():
        found = replace(predictions[key]) if key in predictions else WindowStats()
        outcome = outcomes.get(key)
        found.cells = outcome.cells if outcome else {}
        found.regression = outcome.regression if outcome else None
        combined[key] = found
    return combined


def _series_windows(stats: dict[SeriesKey, WindowStats]) -> Callable[..., WindowStats]:
    """A lookup of ``stats`` by (model, version, segment, window start in Unix seconds) that
    adds a series' window when first seen (one datetime per window start)."""
    starts: dict[int, datetime] = {}

    def window(model: str, version: str, segment: str, start: int) -> WindowStats:
        moment = starts.get(start) or starts.setdefault(start, _utc(start))
        return stats.setdefault((model, version, segment, moment), WindowStats())

    return window


def read_reference(
    client: Any, settings: MonitoringSettings, span: WindowRange, top: TopValues
) -> Histograms:
    """Histograms of the drift reference: the period just before the pass's first window."""
    length = int(parse_duration(settings.evaluation.drift_reference).total_seconds())
    reference = WindowRange(span.size, length, span.start - timedelta(seconds=length), span.start)
    parameters = stats_parameters(settings, reference, top, None)
    found: Histograms = {}
    unscored = 0
    for model, version, segment, _, n, score_bins in client.query(
        queries.REFERENCE_BINS, parameters=parameters
    ).result_rows:
        found.setdefault((model, version, segment), {}).update(
            _score_histogram(score_bins, parameters["bins"])
        )
        unscored += n - sum(score_bins)
    if unscored:
        for model, version, segment, _, label, n in client.query(
            queries.REFERENCE_LABELS, parameters=parameters
        ).result_rows:
            found.setdefault((model, version, segment), {})[f"label:{label}"] = n
    return found


def _score_histogram(counts: list[int], bins: int) -> dict[str, int]:
    return {f"score:{b}": n for b, n in zip(range(bins), counts, strict=False) if n}


def _utc(seconds: int) -> datetime:
    return EPOCH + timedelta(seconds=seconds)
