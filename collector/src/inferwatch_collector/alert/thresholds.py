"""Thresholds from the metric's own history: ``threshold: auto`` and ``thresholds suggest``.

``threshold: auto`` (settings in the rule's ``auto:`` mapping, see ``rules.AutoThreshold``):
for each series, the windows of the ``reference`` period (default 14d) that end before the
``for`` windows being judged — so a fresh breach does not pull its own threshold along — and
that have data (``min_samples``, ``min_label_coverage``), give

* ``method: sigma``: mean − k·σ for ``<``/``<=`` and mean + k·σ for ``>``/``>=`` (σ the sample
  standard deviation, k default 3);
* ``method: quantile``: the ``quantile`` (default 0.01) of the values for ``<``/``<=``, the
  ``1 − quantile`` for ``>``/``>=`` (linear interpolation, as numpy's default).

Fewer than ``min_windows`` such windows: no threshold, the series is in "no data".

>>> suggestion = suggest_threshold(client, rule, days=30)
>>> print(suggestion.describe())
rule fraud-f1: f1 < 0.7412 (sigma, k=3, from 336 windows of 14d) would have fired 2 times ...
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from clickhouse_connect.driver import Client

from inferwatch_collector.alert.rules import EvaluatedWindow, Rule, has_data, judge_series
from inferwatch_collector.alert.states import AlertState, next_state
from inferwatch_collector.evaluate.durations import parse_duration

SELECT_METRIC_HISTORY = """
SELECT ModelVersion, Segment, WindowStart, max(WindowEnd),
       argMax(Value, EvaluatedAt), argMax(Support, EvaluatedAt),
       argMax(LabelCoverage, EvaluatedAt), argMax(CiLow, EvaluatedAt), argMax(CiHigh, EvaluatedAt)
FROM ml_evaluations
WHERE ModelName = {model:String} AND Metric = {metric:String} AND Window = {window:String}
  AND WindowStart >= {since:DateTime64(3, 'UTC')} AND WindowEnd <= {until:DateTime64(3, 'UTC')}
GROUP BY ModelVersion, Segment, WindowStart
ORDER BY ModelVersion, Segment, WindowStart
"""
# argMax(…, EvaluatedAt): the latest evaluation of a window, without waiting for merges.


@dataclass(frozen=True)
class HistoryWindow:
    """One evaluated window read back from ``ml_evaluations`` (an ``EvaluatedWindow``)."""

    model: str
    version: str
    segment: str
    window: str
    metric: str
    window_start: datetime
    window_end: datetime
    value: float
    support: int
    label_coverage: float
    ci_low: float | None
    ci_high: float | None


def metric_history(
    client: Client, rule: Rule, since: datetime, until: datetime
) -> dict[tuple[str, str], list[HistoryWindow]]:
    """The rule's windows in ``[since, until]`` per (version, segment) series, oldest first."""
    parameters: dict[str, object] = {"model": rule.model, "metric": rule.metric}
    parameters.update(window=rule.window, since=since, until=until)
    series: dict[tuple[str, str], list[HistoryWindow]] = {}
    for row in client.query(SELECT_METRIC_HISTORY, parameters=parameters).result_rows:
        window = _history_window(rule, row)
        if rule.selects(window):
            series.setdefault((window.version, window.segment), []).append(window)
    return series


def _history_window(rule: Rule, row: Sequence[Any]) -> HistoryWindow:
    version, segment, start, end, value, support, coverage, ci_low, ci_high = row
    return HistoryWindow(
        rule.model, version, segment, rule.window, rule.metric, _utc(start), _utc(end),
        float(value), int(support), float(coverage), ci_low, ci_high,
    )  # fmt: skip


def derive_threshold(rule: Rule, windows: Sequence[EvaluatedWindow]) -> float | None:
    """The automatic threshold from ``windows`` (the reference period), or ``None``."""
    values = [window.value for window in windows if has_data(rule, window)]
    if len(values) < max(rule.auto.min_windows, 2):
        return None
    below = rule.op in ("<", "<=")
    if rule.auto.method == "quantile":
        return quantile(values, rule.auto.quantile if below else 1 - rule.auto.quantile)
    spread = rule.auto.k * statistics.stdev(values)
    mean = statistics.fmean(values)
    return mean - spread if below else mean + spread


def quantile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile with linear interpolation (numpy's default method)."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def reference_period(rule: Rule, now: datetime) -> tuple[datetime, datetime]:
    """``[since, until]``: ``reference`` long, ending before the ``for`` windows judged now."""
    until = now - parse_duration(rule.window) * rule.for_windows
    return until - parse_duration(rule.auto.reference), until


def threshold_lookup(
    client: Client, rule: Rule, now: datetime
) -> Callable[[str, str], float | None]:
    """``(version, segment) -> threshold`` for one pass (one query for an auto rule)."""
    if rule.threshold != "auto":
        fixed = float(rule.threshold)
        return lambda version, segment: fixed
    history = metric_history(client, rule, *reference_period(rule, now))
    thresholds = {key: derive_threshold(rule, windows) for key, windows in history.items()}
    return lambda version, segment: thresholds.get((version, segment))


@dataclass(frozen=True)
class Suggestion:
    """A threshold for a rule from its history, with what it would have done."""

    rule: str
    threshold: float | None
    """``None``: not enough history (fewer than ``auto.min_windows`` windows with data)."""
    reference_windows: int
    backtest_days: int
    windows_judged: int
    alerts: int
    """Times the series would have started firing over the backtest days."""
    current_threshold: float | None
    current_alerts: int | None
    """The same count for the rule's present numeric threshold (``None`` for ``auto``)."""
    description: str

    def describe(self) -> str:
        return self.description


def suggest_threshold(
    client: Client, rule: Rule, days: int, *, now: datetime | None = None
) -> Suggestion:
    """Suggest a fixed threshold for ``rule`` and backtest it over the last ``days`` days.

    The threshold is what ``threshold: auto`` would use now, pooled over all the rule's
    series; the backtest replays every series' windows of the last ``days`` days through the
    rule (``for``, ``min_samples``, …) and counts the times it would have started firing.
    """
    now = now or datetime.now(timezone.utc)
    since, until = reference_period(rule, now)
    reference = metric_history(client, rule, since, until)
    threshold = derive_threshold(rule, [w for windows in reference.values() for w in windows])
    recent = metric_history(client, rule, now - timedelta(days=days), now)
    judged = sum(len(windows) for windows in recent.values())
    alerts = backtest(rule, recent.values(), threshold)
    current = None if rule.threshold == "auto" else float(rule.threshold)
    current_alerts = None if current is None else backtest(rule, recent.values(), current)
    reference_count = sum(len(windows) for windows in reference.values())
    text = _describe(rule, threshold, reference_count, days, judged, alerts, current_alerts)
    return Suggestion(
        rule.name, threshold, reference_count, days, judged, alerts, current, current_alerts, text
    )


def backtest(rule: Rule, series: Any, threshold: float | None) -> int:
    """How many times the series (each a list of windows, oldest first) would have fired."""
    if threshold is None:
        return 0
    fired = 0
    for windows in series:
        state = AlertState.INACTIVE
        for end in range(1, len(windows) + 1):
            judgement = judge_series(rule, windows[:end], threshold)
            new_state = next_state(state, judgement.condition)
            if new_state is AlertState.FIRING and state is not AlertState.FIRING:
                fired += 1
            state = new_state
    return fired


def _describe(
    rule: Rule,
    threshold: float | None,
    reference: int,
    days: int,
    judged: int,
    alerts: int,
    current_alerts: int | None,
) -> str:
    auto = rule.auto
    how = f"k={auto.k:g}" if auto.method == "sigma" else f"q={auto.quantile:g}"
    if threshold is None:
        return (
            f"rule {rule.name}: not enough history ({reference} windows of {auto.reference} "
            f"with data, {auto.min_windows} needed)"
        )
    lines = [
        f"rule {rule.name}: suggested threshold {rule.metric} {rule.op} {threshold:.6g} "
        f"({auto.method}, {how}, from {reference} windows over {auto.reference})",
        f"backtest over the last {days} days ({judged} windows): would have fired {alerts} times",
    ]
    if current_alerts is not None:
        lines.append(
            f"the present threshold {rule.threshold} would have fired {current_alerts} times"
        )
    return "\n".join(lines)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value
