"""One evaluation pass: fold new arrivals into ml_outcomes, then evaluate the changed windows.

Per pass: one fold of what arrived since the previous pass (``outcomes.py``), then per window
size one query for the windows that changed and a few for their statistics (``window_stats.py``:
predictions, outcomes) — whatever the number of models, versions, segments and windows. The
metrics are computed from the returned counts (``window_metrics.py``) and written to
``ml_evaluations``.

Windows nothing arrived for keep their values: a process remembers the statistics and rows of
its previous pass (per client, settings and window size) and re-evaluates only the changed
windows. A window that got new predictions reads its prediction side again, one whose outcomes
changed (new or later labels) its outcome side; the other side comes from memory. The first
pass of a process, a backfill, and a pass more than ``FULL_PASS_EVERY`` after the last full
one evaluate every window (and look up the top segment values and the drift reference); they
start from the window statistics earlier passes stored (``window_cache.py``) and read again
only the windows something arrived for since.

A pass between full ones looks them up again when what it read shows them stale
(``_stale_lookups``, no query): a segment value pooled as ``other`` while its key has fewer
than ``segment_top_k`` top values, or a model version with no reference whose windows have
left the range (they are the reference now). It then reads again every window of the models
whose statistics depend on what changed (``Fingerprints``: top values, value bin edges),
evaluates every window against the new reference, and deletes the rows of the series a window
no longer has (``region=other`` split into its values).

>>> rows = run_pass(client, settings, now=datetime.now(timezone.utc))   # doctest: +SKIP
"""

from __future__ import annotations

import weakref
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from . import outcomes, queries
from .outcomes import Arrivals, fold_arrivals
from .settings import MonitoringSettings
from .store import EvaluationRow, forget_series, write_evaluations
from .window_cache import Fingerprints, load_window_stats, save_window_stats
from .window_changes import Changes, changed_windows, every_window, miscounted_windows
from .window_metrics import SeriesKey, WindowStats, evaluation_rows, window_metrics
from .window_stats import (
    Reference,
    TopValues,
    combine,
    read_outcome_stats,
    read_prediction_stats,
    read_reference,
    stats_parameters,
)
from .windows import EPOCH, WindowRange, pass_range

Progress = Callable[[int, int], None]
FULL_PASS_EVERY = timedelta(hours=1)


@dataclass
class _Memory:
    """What a process keeps of its last pass of one window size: the statistics and rows of
    every window in range."""

    full_at: datetime
    until: datetime
    top: TopValues
    reference: Reference
    fingerprints: Fingerprints
    rows: dict[tuple[str, datetime], list[EvaluationRow]] = field(default_factory=dict)
    stats: dict[SeriesKey, WindowStats] = field(default_factory=dict)
    folded: set[datetime] = field(default_factory=set)
    """Fold times whose outcomes ``stats`` hold (besides ``until``'s): from stored rows."""


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
    hi = end if backfill and end is not None else outcomes.FAR_FUTURE
    arrivals = fold_arrivals(client, lo=lo, hi=hi, backfill=backfill)
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
    previous_rows = memory.rows if memory is not None else {}
    if memory is not None and now - memory.full_at > FULL_PASS_EVERY:
        memory = None
    full = memory is None
    if memory is None:
        memory = _fresh_memory(client, settings, span, now, arrivals)
        changes = None if backfill else _stored_changes(client, span, memory, arrivals)
    else:
        changes = _changed_windows(client, span, memory, arrivals)
    stats = _window_stats(client, settings, span, memory, changes)
    refreshed = False
    if changes is not None and not full:
        changes, stats, refreshed = _refresh_if_stale(
            client, settings, span, memory, changes, stats
        )
    read = {(key[0], key[3]) for key in stats}
    if changes is not None:  # a window read again that has no rows left is gone
        read |= {_utc_window(w) for w in (*changes.predictions, *changes.outcomes)}
    kept = {
        k: v for k, v in memory.stats.items() if k[3] >= span.start and (k[0], k[3]) not in read
    }
    # A full pass evaluates every window, those it read and those stored, and so does a pass
    # that looked up a new reference; another pass only those it read: the others keep their
    # rows.
    evaluated = {**kept, **stats} if full or refreshed else stats
    fresh = _evaluate_windows(settings, span, memory, evaluated)
    write_evaluations(client, [row for found in fresh.values() for row in found])
    forget_series(client, span.size, _gone_series(previous_rows, fresh))
    save_window_stats(
        client, span, {**kept, **stats} if full else stats, arrivals.until, memory.fingerprints
    )
    memory.until, memory.folded = arrivals.until, set()
    memory.stats = {**kept, **stats}
    if not full:
        memory.rows = {k: v for k, v in memory.rows.items() if k[1] >= span.start}
    memory.rows.update(fresh)
    if not backfill:
        memories[(settings, span.size)] = memory
    return [row for found in memory.rows.values() for row in found]


def _refresh_if_stale(
    client: Any,
    settings: MonitoringSettings,
    span: WindowRange,
    memory: _Memory,
    changes: Changes,
    stats: dict[SeriesKey, WindowStats],
) -> tuple[Changes, dict[SeriesKey, WindowStats], bool]:
    """The windows to read and their statistics, after looking up the top values and the
    reference again if what the pass read shows them stale (then True)."""
    if not _stale_lookups(settings, span, memory, stats, changes):
        return changes, stats, False
    stale = _refresh_lookups(client, settings, span, memory, changes)
    if stale:  # their statistics change with the lookups: read every window again
        changes = changes.plus(every_window(span, stale))
        stats = _window_stats(client, settings, span, memory, changes)
    return changes, stats, True


def _stale_lookups(
    settings: MonitoringSettings,
    span: WindowRange,
    memory: _Memory,
    stats: dict[SeriesKey, WindowStats],
    changes: Changes,
) -> bool:
    """Whether the pass's own reads show the top segment values or the drift reference stale:
    a new prediction pooled as ``key=other`` while the key has fewer than ``segment_top_k``
    top values (so the value would be among them), or a model version without reference
    whose windows have left the range since the previous pass (they are its reference now)."""
    k = settings.evaluation.segment_top_k
    known = Counter((model, key) for model, key, _ in memory.top)
    new = {_utc_window(w) for w in changes.predictions}
    for model, _, segment, start in stats:
        key, _, value = segment.rpartition("=")
        if (
            value == "other"
            and (model, start) in new
            and known[(model, key)] < k
            and (model, key, "other") not in memory.top
        ):
            return True
    referenced = {(model, version) for model, version, _ in memory.reference.histograms}
    return any(
        start < span.start and not segment and (model, version) not in referenced
        for model, version, segment, start in memory.stats
    )


def _refresh_lookups(
    client: Any,
    settings: MonitoringSettings,
    span: WindowRange,
    memory: _Memory,
    changes: Changes,
) -> set[str]:
    """Look up the top values and the reference again; return the models whose statistics
    depend on what changed (their fingerprint did)."""
    before = memory.fingerprints
    memory.top, memory.reference, memory.fingerprints = _lookups(client, settings, span)
    models = {key[0] for key in memory.stats} | {
        model for model, _ in (*changes.predictions, *changes.outcomes)
    }
    return {model for model in models if memory.fingerprints[model] != before[model]}


def _gone_series(
    previous: dict[tuple[str, datetime], list[EvaluationRow]],
    fresh: dict[tuple[str, datetime], list[EvaluationRow]],
) -> set[tuple[str, str, str, datetime]]:
    """(model, version, segment, window start) of the series a re-evaluated window had in the
    previous pass and has no longer."""
    gone: set[tuple[str, str, str, datetime]] = set()
    for (model, start), rows in fresh.items():
        before = previous.get((model, start))
        if before:
            now = {(row.version, row.segment) for row in rows}
            gone |= {
                (model, row.version, row.segment, start)
                for row in before
                if (row.version, row.segment) not in now
            }
    return gone


def _stored_changes(
    client: Any, span: WindowRange, memory: _Memory, arrivals: Arrivals
) -> Changes | None:
    """Load the stored statistics of ``span`` into ``memory``; the windows to read again are
    those something arrived for since they were stored, every window of a model whose
    statistics were stored under other settings, and any window they do not count right.
    None: nothing stored, read every window."""
    stored = load_window_stats(client, span, memory.fingerprints)
    if stored is None or not stored.stats:
        return None
    memory.stats, memory.until, memory.folded = stored.stats, stored.until, stored.untils
    changes = _changed_windows(client, span, memory, arrivals)
    again = every_window(span, stored.stale_models) | miscounted_windows(client, span, stored.stats)
    return changes.plus(again)


def _fresh_memory(
    client: Any, settings: MonitoringSettings, span: WindowRange, now: datetime, arrivals: Arrivals
) -> _Memory:
    """A full pass's memory: the top segment values and the drift reference looked up."""
    top, reference, fingerprints = _lookups(client, settings, span)
    return _Memory(now, arrivals.until, top, reference, fingerprints)


def _lookups(
    client: Any, settings: MonitoringSettings, span: WindowRange
) -> tuple[TopValues, Reference, Fingerprints]:
    """The top segment values in ``span``, the drift reference before it, and the
    fingerprints of the statistics computed with them."""
    evaluation = settings.evaluation
    top = client.query(
        queries.TOP_SEGMENT_VALUES,
        parameters={"lo": span.start, "hi": span.end, "k": evaluation.segment_top_k},
    ).result_rows
    top_values = [(model, key, value) for model, key, values in top for value in values]
    reference = read_reference(client, settings, span, top_values)
    fingerprints = Fingerprints(evaluation.drift_bins, top_values, reference.edges)
    return top_values, reference, fingerprints


def _changed_windows(
    client: Any, span: WindowRange, memory: _Memory, arrivals: Arrivals
) -> Changes:
    return changed_windows(
        client,
        span,
        since=memory.until - outcomes.OVERLAP,
        until=arrivals.until,
        folded=memory.folded or {memory.until},
    )


def _window_stats(
    client: Any,
    settings: MonitoringSettings,
    span: WindowRange,
    memory: _Memory,
    changes: Changes | None,
) -> dict[SeriesKey, WindowStats]:
    """The statistics of every window (``changes`` is None) or of the changed ones: each side
    is read again only where it changed, the other side comes from memory."""
    if changes is None:
        every = stats_parameters(settings, span, memory.top, None, memory.reference.edges)
        return combine(read_prediction_stats(client, every), read_outcome_stats(client, every))
    predictions, outcomes = {}, {}
    if changes.predictions:
        parameters = stats_parameters(
            settings, span, memory.top, changes.predictions, memory.reference.edges
        )
        predictions = read_prediction_stats(client, parameters)
    if changes.outcomes:
        parameters = stats_parameters(
            settings, span, memory.top, changes.outcomes, memory.reference.edges
        )
        outcomes = read_outcome_stats(client, parameters)
    fresh_predictions = {_utc_window(w) for w in changes.predictions}
    fresh_outcomes = {_utc_window(w) for w in changes.outcomes}
    for key, stats in memory.stats.items():
        window = (key[0], key[3])
        if window in fresh_outcomes and window not in fresh_predictions:
            predictions.setdefault(key, stats)
        elif window in fresh_predictions and window not in fresh_outcomes:
            outcomes.setdefault(key, stats)
    return combine(predictions, outcomes)


def _utc_window(window: tuple[str, int]) -> tuple[str, datetime]:
    return window[0], EPOCH + timedelta(seconds=window[1])


def _evaluate_windows(
    settings: MonitoringSettings,
    span: WindowRange,
    memory: _Memory,
    stats: dict[SeriesKey, WindowStats],
) -> dict[tuple[str, datetime], list[EvaluationRow]]:
    """The rows of every window in ``stats``, per (model, window start)."""
    evaluated_at = datetime.now(timezone.utc)
    min_support = settings.evaluation.segment_min_support
    length = timedelta(seconds=span.seconds)
    found: dict[tuple[str, datetime], list[EvaluationRow]] = {}
    for key, window in sorted(stats.items()):
        found.setdefault((key[0], key[3]), [])
        if key[2] and window.predictions < min_support:
            continue  # a small segment says nothing reliable: it is left out
        metrics = window_metrics(
            settings, key, window, memory.reference.histograms.get(key[:3], {})
        )
        found[(key[0], key[3])] += evaluation_rows(
            key, span.size, length, window, metrics, evaluated_at
        )
    return found
