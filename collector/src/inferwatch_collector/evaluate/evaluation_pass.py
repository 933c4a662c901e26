"""One evaluation pass: fold new arrivals into ml_outcomes, then evaluate the changed windows.

Per pass: one fold of what arrived since the previous pass (``outcomes.py``), then per window
size one query for the windows that changed and two for their statistics (predictions,
outcomes) — whatever the number of models, versions, segments and windows. The metrics are
computed from the returned counts (``window_metrics.py``) and written to ``ml_evaluations``.

Windows nothing arrived for keep their values: a process remembers the rows of its previous
pass (per client, settings and window size) and re-evaluates only the changed windows. The
first pass of a process, a backfill, and a pass more than ``FULL_PASS_EVERY`` after the last
full one evaluate every window (and refresh the top segment values and the drift reference).

>>> rows = run_pass(client, settings, now=datetime.now(timezone.utc))   # doctest: +SKIP
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from . import outcomes, queries
from .durations import parse_duration
from .outcomes import Arrivals, fold_arrivals
from .settings import MonitoringSettings
from .store import EvaluationRow, write_evaluations
from .window_metrics import (
    SeriesKey,
    WindowStats,
    evaluation_rows,
    regression_stats,
    window_metrics,
)
from .windows import WindowRange, pass_range

Progress = Callable[[int, int], None]
FULL_PASS_EVERY = timedelta(hours=1)


@dataclass
class _Memory:
    """What a process keeps of its last pass of one window size."""

    full_at: datetime
    until: datetime
    top: list[str]
    reference: dict[tuple[str, str, str], dict[str, int]]
    rows: dict[tuple[str, datetime], list[EvaluationRow]] = field(default_factory=dict)


_memories: weakref.WeakKeyDictionary[Any, dict[Any, _Memory]] = weakref.WeakKeyDictionary()


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
    """Evaluate every model's windows, write the new evaluations; return the windows' rows.

    Args:
        now: the pass's time (UTC); the windows inside ``evaluation.label_horizon`` before it
            (and the current, incomplete one) are evaluated, since labels keep arriving.
        windows: window sizes instead of ``evaluation.windows`` (e.g. ``["1h"]``).
        start, end: a backfill of ``[start, end)`` instead of the label horizon.
        progress: called with ``(window sizes done, window sizes)``.

    Returns:
        The latest evaluation of every window in range (re-evaluated or remembered).
    """
    backfill = start is not None and end is not None
    horizon = settings.evaluation.label_horizon
    spans = [
        pass_range(size, now=now, label_horizon=horizon, start=start, end=end)
        for size in (windows or settings.evaluation.windows)
    ]
    lo = min(span.start for span in spans)
    arrivals = fold_arrivals(client, lo=lo, **({"hi": end} if backfill else {}), backfill=backfill)
    rows: list[EvaluationRow] = []
    for done, span in enumerate(spans):
        rows += _evaluate_size(client, settings, span, arrivals, now, backfill)
        if progress is not None:
            progress(done + 1, len(spans))
    return rows


def _evaluate_size(
    client: Any,
    settings: MonitoringSettings,
    span: WindowRange,
    arrivals: Arrivals,
    now: datetime,
    backfill: bool,
) -> list[EvaluationRow]:
    memories = _memories.setdefault(client, {})
    memory = None if backfill else memories.get((settings, span.size))
    if memory is not None and now - memory.full_at > FULL_PASS_EVERY:
        memory = None
    changed = None if memory is None else _changed_windows(client, span, memory, arrivals)
    if memory is None:
        memory = _fresh_memory(client, settings, span, now, arrivals)
    fresh = _evaluate_windows(client, settings, span, memory, changed)
    write_evaluations(client, [row for found in fresh.values() for row in found])
    memory.until = arrivals.until
    if changed is not None:  # a partial pass: the windows it did not read keep their rows
        memory.rows = {k: v for k, v in memory.rows.items() if k[1] >= span.start}
    memory.rows.update(fresh)
    if not backfill:
        memories[(settings, span.size)] = memory
    return [row for found in memory.rows.values() for row in found]


def _fresh_memory(
    client: Any, settings: MonitoringSettings, span: WindowRange, now: datetime, arrivals: Arrivals
) -> _Memory:
    """Top segment values and the drift reference, looked up once per full pass."""
    evaluation = settings.evaluation
    top = client.query(
        queries.TOP_SEGMENT_VALUES,
        parameters={"lo": span.start, "hi": span.end, "k": evaluation.segment_top_k},
    ).result_rows
    top_values = [f"{model}|{key}={value}" for model, key, values in top for value in values]
    reference = _reference_histograms(client, settings, span, top_values)
    return _Memory(full_at=now, until=arrivals.until, top=top_values, reference=reference)


def _changed_windows(
    client: Any, span: WindowRange, memory: _Memory, arrivals: Arrivals
) -> list[tuple[str, int]]:
    """(model, window start in Unix seconds) of the windows with arrivals since the remembered
    pass."""
    parameters = {
        "lo": span.start,
        "hi": span.end,
        "w": span.seconds,
        "since": memory.until - outcomes.OVERLAP,
        "until": arrivals.until,
    }
    result = client.query(queries.CHANGED_WINDOWS, parameters=parameters).result_rows
    return sorted(result)


def _evaluate_windows(
    client: Any,
    settings: MonitoringSettings,
    span: WindowRange,
    memory: _Memory,
    changed: list[tuple[str, int]] | None,
) -> dict[tuple[str, datetime], list[EvaluationRow]]:
    """Evaluate the ``changed`` windows (all of them when ``None``): rows per window."""
    if changed == []:
        return {}
    parameters = _window_parameters(settings, span, memory.top, changed)
    stats = _read_stats(client, parameters)
    evaluated_at = datetime.now(timezone.utc)
    min_support = settings.evaluation.segment_min_support
    length = timedelta(seconds=span.seconds)
    found: dict[tuple[str, datetime], list[EvaluationRow]] = {}
    for key, window in sorted(stats.items()):
        found.setdefault((key[0], key[3]), [])
        if key[2] and window.predictions < min_support:
            continue  # a small segment says nothing reliable: it is left out
        metrics = window_metrics(settings, key, window, memory.reference.get(key[:3], {}))
        found[(key[0], key[3])] += evaluation_rows(
            key, span.size, length, window, metrics, evaluated_at
        )
    return found


def _window_parameters(
    settings: MonitoringSettings,
    span: WindowRange,
    top: list[str],
    changed: list[tuple[str, int]] | None,
) -> dict[str, Any]:
    lo, hi = span.start, span.end
    if changed:  # read only the time range the changed windows cover
        lo = max(lo, datetime.fromtimestamp(min(w for _, w in changed), timezone.utc))
        hi = min(
            hi, datetime.fromtimestamp(max(w for _, w in changed) + span.seconds, timezone.utc)
        )
    return {
        "lo": lo,
        "hi": hi,
        "w": span.seconds,
        "bins": settings.evaluation.drift_bins,
        "top": top,
        "every": 1 if changed is None else 0,
        "changed": [f"{model}|{window}" for model, window in changed or ()],
    }


def _read_stats(client: Any, parameters: dict[str, Any]) -> dict[SeriesKey, WindowStats]:
    """The statistics of every series' windows: two queries, predictions and outcomes."""
    stats: dict[SeriesKey, WindowStats] = {}
    for row in client.query(queries.PREDICTION_STATS, parameters=parameters).named_results():
        window = stats.setdefault(_key(row), WindowStats())
        window.task, window.predictions, window.errors = (
            row["task"],
            row["predictions"],
            row["errors"],
        )
        window.latency = tuple(row["latency"]) if row["latency"] else window.latency  # type: ignore[assignment]
        window.histogram = {str(b): int(n) for b, n in row["histogram"].items()}
    for row in client.query(queries.OUTCOME_STATS, parameters=parameters).named_results():
        window = stats.setdefault(_key(row), WindowStats())
        if row["actual"] or row["predicted"]:
            window.cells[(row["actual"], row["predicted"])] = int(row["n"])
        else:
            window.regression = regression_stats(row)
            window.cells[("", "")] = int(row["n"])
    return stats


def _reference_histograms(
    client: Any, settings: MonitoringSettings, span: WindowRange, top: list[str]
) -> dict[tuple[str, str, str], dict[str, int]]:
    """Histograms of the drift reference: the period just before the pass's first window."""
    length = int(parse_duration(settings.evaluation.drift_reference).total_seconds())
    reference = WindowRange(span.size, length, span.start - timedelta(seconds=length), span.start)
    parameters = _window_parameters(settings, reference, top, None)
    found: dict[tuple[str, str, str], dict[str, int]] = {}
    for row in client.query(queries.PREDICTION_STATS, parameters=parameters).named_results():
        histogram = found.setdefault(_key(row)[:3], {})  # type: ignore[arg-type]
        for bin_, n in row["histogram"].items():
            histogram[str(bin_)] = histogram.get(str(bin_), 0) + int(n)
    return found


def _key(row: dict[str, Any]) -> SeriesKey:
    start = row["window_start"]
    start = start.replace(tzinfo=timezone.utc) if start.tzinfo is None else start
    return (row["model"], row["version"], row["segment"], start)
