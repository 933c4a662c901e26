"""The sufficient statistics of a pass's windows, read from ClickHouse in a fixed few queries.

Per window size, the prediction side — ``PREDICTION_STATS`` (volume, errors, exact latency
quantiles, drift bins of scores and regression values) and ``PREDICTION_LABELS`` (the
predicted labels of the other predictions, their drift histogram) — and the outcome side,
``OUTCOME_STATS`` (confusion cells, regression sums); for every model, version, segment and
window at once, or only for the windows that changed. A window whose predictions did not
change keeps its prediction side, and one whose outcomes did not change its outcome side:
``combine`` joins the two.

>>> every = stats_parameters(settings, span, top, changed=None)       # doctest: +SKIP
>>> predictions = read_prediction_stats(client, every)                # doctest: +SKIP
>>> stats = combine(predictions, read_outcome_stats(client, every))   # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
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
Edges = dict[str, tuple[float, ...]]
"""Model → the edges of its regression value bins (``value_edges``)."""


@dataclass(frozen=True)
class Reference:
    """The drift reference: histograms per series, and the value bin edges of each regression
    model, chosen from its reference values (windows count their values into the same bins)."""

    histograms: Histograms = field(default_factory=dict)
    edges: Edges = field(default_factory=dict)


def stats_parameters(
    settings: MonitoringSettings,
    span: WindowRange,
    top: TopValues,
    changed: list[tuple[str, int]] | None,
    edges: Mapping[str, Sequence[float]] | None = None,
) -> dict[str, Any]:
    """Query parameters for every window of ``span`` (``changed`` is None) or for the
    ``changed`` ones, given as (model, window start in Unix seconds); ``edges``: the value
    bin edges of the regression models (``Reference.edges``).

    The changed windows' time range bounds the read. When they are every window of their
    models in that range (the common case: the newest windows, or the windows late labels
    reached), that is all the query needs; otherwise each row's window is tested as well.
    """
    parameters: dict[str, Any] = {
        "lo": span.start,
        "hi": span.end,
        "w": span.seconds,
        "bins": settings.evaluation.drift_bins,
        "slots": 2 * settings.evaluation.drift_bins,
        **_edge_parameters(edges or {}),
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


def _edge_parameters(edges: Mapping[str, Sequence[float]]) -> dict[str, Any]:
    models = sorted(edges)
    return {"edge_models": models, "edges": [list(edges[model]) for model in models]}


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
    for model, version, segment, start, task, n, errors, latency, drift_bins in client.query(
        queries.PREDICTION_STATS, parameters=parameters
    ).result_rows:
        found = window(model, version, segment, start)
        found.task, found.predictions, found.errors = task, n, errors
        if latency:
            found.latency = (latency[0], latency[1], latency[2])
        found.histogram.update(_drift_histogram(drift_bins, bins))
        unscored += n - sum(drift_bins)
    if unscored:  # the predicted labels of the other predictions are their drift histogram
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
) -> Reference:
    """The drift reference: the period just before the pass's first window.

    A store without regression predictions costs one query (two with unscored predictions);
    regression models add the query of their value quantiles and one of their bins.
    """
    length = int(parse_duration(settings.evaluation.drift_reference).total_seconds())
    reference = WindowRange(span.size, length, span.start - timedelta(seconds=length), span.start)
    parameters = stats_parameters(settings, reference, top, None)
    found, unscored = _reference_bins(client, parameters)
    edges: Edges = {}
    if unscored:  # regression models, if any, among the models with unscored predictions
        models = {"every": 0, "models": sorted(unscored)}
        for model, quantiles in client.query(
            queries.REFERENCE_VALUE_QUANTILES, parameters={**parameters, **models}
        ).result_rows:
            edges[model] = value_edges(quantiles)
    if edges:  # their histograms again, regression values in value bins
        binned = stats_parameters(settings, reference, top, None, edges)
        found = {k: v for k, v in found.items() if k[0] not in edges}
        again, unscored = _reference_bins(
            client, {**binned, "every": 0, "models": sorted(edges)}, unscored
        )
        found.update(again)
    if any(unscored.values()):
        for model, version, segment, _, label, n in client.query(
            queries.REFERENCE_LABELS, parameters={**parameters, **_edge_parameters(edges)}
        ).result_rows:
            found.setdefault((model, version, segment), {})[f"label:{label}"] = n
    return Reference(found, edges)


def _reference_bins(
    client: Any, parameters: dict[str, Any], unscored: dict[str, int] | None = None
) -> tuple[Histograms, dict[str, int]]:
    """The reference's bin histograms, and per model its predictions in no bin."""
    found: Histograms = {}
    unscored = dict(unscored or {})
    for model in parameters["models"]:
        unscored.pop(model, None)
    for model, version, segment, _, n, drift_bins in client.query(
        queries.REFERENCE_BINS, parameters=parameters
    ).result_rows:
        found.setdefault((model, version, segment), {}).update(
            _drift_histogram(drift_bins, parameters["bins"])
        )
        if not segment and n > sum(drift_bins):  # counted once, in the all-traffic series
            unscored[model] = unscored.get(model, 0) + n - sum(drift_bins)
    return found, unscored


def value_edges(quantiles: Sequence[float]) -> tuple[float, ...]:
    """The edges of a regression model's value bins, from its reference quantiles: bin 0 is
    below the first edge, bin i from edge i on, the last one open above.

    Each edge is rounded to a step of a fiftieth to a five-hundredth of the spread between
    the first and last quantile, then repeated edges are dropped: a reference that slides
    forward keeps its edges (the stored window statistics stay valid) unless the values
    really moved. A reference of one value c gets the edges c and the next float (below, at,
    above c) when there are bins for both.

    >>> value_edges([10.04, 20.0, 29.96])
    (10.0, 20.0, 30.0)
    >>> value_edges([5.0, 5.0])
    (5.0, 5.000000000000001)
    """
    if not quantiles:
        return ()
    low, high = min(quantiles), max(quantiles)
    if high <= low:
        return (low, math.nextafter(low, math.inf))[: len(quantiles)]
    spread = high - low
    if not math.isfinite(spread):  # beyond the float range: no step to round to
        return tuple(sorted(set(quantiles)))
    digits = -math.floor(math.log10(spread / 50))
    return tuple(sorted({round(q, digits) + 0.0 for q in quantiles}))


def _drift_histogram(counts: list[int], bins: int) -> dict[str, int]:
    """A row's drift bins: ``bins`` score bins, then ``bins`` regression value bins."""
    return {
        f"score:{b}" if b < bins else f"value:{b - bins}": n
        for b, n in enumerate(counts[: 2 * bins])
        if n
    }


def _utc(seconds: int) -> datetime:
    return EPOCH + timedelta(seconds=seconds)
