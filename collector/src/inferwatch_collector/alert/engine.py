"""The alert engine: after each evaluation pass, move every rule's series to its new state,
store the transitions, and notify each one exactly once.

>>> transitions = process_evaluations(
...     client, config.rules, build_notifiers(config.notifiers), rows,
...     now=now, generator_url=dashboard_link("http://127.0.0.1:8080"))

How "exactly once" holds, also across restarts:

1. The current state of every series is the newest row of ``ml_alerts``; a pass computes
   transitions from it, so a restarted evaluator (or a retried pass) does not repeat one.
2. Transitions are stored before anything is sent (a retried insert is deduplicated).
3. For each notifier, the transitions of the last ``LOOKBACK`` without a record in
   ``ml_alert_notifications`` for that notifier are sent, oldest first, and recorded once the
   receiver accepted them. A notifier that fails keeps the rest for the next pass.

A crash in the moment between a receiver accepting a notification and its record being stored
sends it once more on the next pass: webhook bodies carry the transition ``id`` for receivers
that must drop such duplicates, and Alertmanager merges repeats by their labels anyway.

While a series fires, each notifier is sent a ``repeat`` every ``repeat_interval`` (recorded
too, so restarts keep the rhythm); Alertmanager's interval is zero: every pass.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta, timezone
from urllib.parse import quote, urlencode

from clickhouse_connect.driver import Client

from inferwatch_collector.alert.notifiers import Notification, Notifier, NotifierError
from inferwatch_collector.alert.rules import (
    EvaluatedWindow,
    Judgement,
    Rule,
    judge_series,
    render_annotation,
)
from inferwatch_collector.alert.states import (
    AlertState,
    AlertTransition,
    SeriesKey,
    next_state,
    transition_id,
)
from inferwatch_collector.alert.store import (
    LOOKBACK,
    insert_transitions,
    last_sent,
    latest_transitions,
    record_sent,
    unsent_transitions,
)
from inferwatch_collector.alert.thresholds import threshold_lookup

logger = logging.getLogger("inferwatch.alerts")

GeneratorUrl = Callable[..., str]
"""Called as ``generator_url(model=..., window_start=..., window=...)``."""


def process_evaluations(
    client: Client,
    rules: Sequence[Rule],
    notifiers: Sequence[Notifier],
    rows: Sequence[EvaluatedWindow],
    *,
    now: datetime,
    generator_url: GeneratorUrl,
    stored_confidence: float = 0.95,
) -> list[AlertTransition]:
    """Judge ``rows`` (what a pass just produced), store and notify the transitions.

    Only complete windows (``window_end <= now``) are judged. A rule whose window size the
    pass did not evaluate at all (e.g. ``evaluate --window 5m``) is left as it is.

    Args:
        stored_confidence: the level of the rows' intervals (``evaluation.confidence``).

    Returns:
        The transitions of this pass (also stored in ``ml_alerts``).
    """
    now = now.astimezone(timezone.utc).replace(microsecond=now.microsecond // 1000 * 1000)
    latest = latest_transitions(client, [rule.name for rule in rules])
    transitions: list[AlertTransition] = []
    for rule in rules:
        if any(row.window == rule.window for row in rows):
            judged = judge_rule(client, rule, rows, latest, now, stored_confidence)
            moved = (step(rule, *item, now, generator_url) for item in judged)
            transitions += [transition for transition in moved if transition is not None]
    insert_transitions(client, transitions)
    deliver(client, notifiers, [rule.name for rule in rules], now)
    return transitions


def judge_rule(
    client: Client,
    rule: Rule,
    rows: Sequence[EvaluatedWindow],
    latest: dict[SeriesKey, AlertTransition],
    now: datetime,
    stored_confidence: float,
) -> list[tuple[SeriesKey, AlertTransition | None, Judgement]]:
    """The judgement of every series of ``rule``: those in ``rows`` and those with a state."""
    threshold_of = threshold_lookup(client, rule, now)
    series = series_windows(rule, rows, now)
    known = {(key.version, key.segment) for key in latest if key.rule == rule.name}
    judged = []
    for version, segment in sorted(set(series) | known):
        key = SeriesKey(rule.name, rule.model, version, segment)
        windows = series.get((version, segment), [])
        threshold = threshold_of(version, segment)
        judgement = judge_series(rule, windows, threshold, stored_confidence=stored_confidence)
        judged.append((key, latest.get(key), judgement))
    return judged


def series_windows(
    rule: Rule, rows: Iterable[EvaluatedWindow], now: datetime
) -> dict[tuple[str, str], list[EvaluatedWindow]]:
    """The complete windows of each (version, segment) series of ``rule``, oldest first."""
    by_window: dict[tuple[str, str, datetime], EvaluatedWindow] = {}
    for row in rows:
        if rule.selects(row) and row.window_end <= now:
            key = (row.version, row.segment, row.window_start)
            if key not in by_window or _evaluated_at(row) >= _evaluated_at(by_window[key]):
                by_window[key] = row  # the latest evaluation of a window wins
    series: dict[tuple[str, str], list[EvaluatedWindow]] = {}
    for (version, segment, _), row in sorted(by_window.items(), key=lambda item: item[0]):
        series.setdefault((version, segment), []).append(row)
    return series


def _evaluated_at(row: EvaluatedWindow) -> datetime:
    evaluated_at: datetime = getattr(row, "evaluated_at", datetime.min.replace(tzinfo=timezone.utc))
    return evaluated_at


def step(
    rule: Rule,
    key: SeriesKey,
    previous: AlertTransition | None,
    judgement: Judgement,
    now: datetime,
    generator_url: GeneratorUrl,
) -> AlertTransition | None:
    """The transition of one series after ``judgement``, or ``None`` if it stays put."""
    current = previous.state if previous else AlertState.INACTIVE
    state = next_state(current, judgement.condition)
    if state is current:
        return None
    firing_since = None
    if state is AlertState.FIRING:
        firing_since = now
    elif current is AlertState.FIRING and previous is not None:
        firing_since = previous.firing_since
    return _transition(rule, key, current, state, now, firing_since, judgement, generator_url)


def _transition(
    rule: Rule,
    key: SeriesKey,
    previous: AlertState,
    state: AlertState,
    now: datetime,
    firing_since: datetime | None,
    judgement: Judgement,
    generator_url: GeneratorUrl,
) -> AlertTransition:
    window, threshold = judgement.latest, judgement.threshold
    series = {"model": key.model, "version": key.version, "segment": key.segment}
    link_start = window.window_start if window else now
    return AlertTransition(
        id=transition_id(key, previous, state, now), series=key, metric=rule.metric,
        window=rule.window, previous=previous, state=state, at=now, firing_since=firing_since,
        window_start=window.window_start if window else None,
        window_end=window.window_end if window else None,
        value=window.value if window else float("nan"),
        threshold=float("nan") if threshold is None else threshold,
        ci_low=window.ci_low if window else None, ci_high=window.ci_high if window else None,
        support=window.support if window else 0,
        label_coverage=window.label_coverage if window else float("nan"),
        severity=rule.severity, labels=dict(rule.labels),
        annotation=render_annotation(rule, window, threshold, series),
        generator_url=generator_url(model=key.model, window_start=link_start, window=rule.window),
    )  # fmt: skip


def deliver(
    client: Client, notifiers: Sequence[Notifier], rules: Sequence[str], now: datetime
) -> None:
    """Send what each notifier has not accepted yet, and the repeats that are due."""
    if not notifiers:
        return
    latest = latest_transitions(client, rules).values()
    firing = [transition for transition in latest if transition.state is AlertState.FIRING]
    for notifier in notifiers:
        try:
            _deliver_to(client, notifier, rules, firing, now)
        except Exception:  # a failing notifier never stops evaluation
            logger.exception("notifier %s failed; its notifications wait for the next pass",
                             notifier.name)  # fmt: skip


def _deliver_to(
    client: Client,
    notifier: Notifier,
    rules: Sequence[str],
    firing: list[AlertTransition],
    now: datetime,
) -> None:
    unsent = unsent_transitions(client, notifier.name, rules, since=now - LOOKBACK)
    due = [Notification(t, "transition", now) for t in unsent if notifier.wants(t)]
    due += repeats_due(client, notifier, firing, {t.id for t in unsent}, now)
    sent: list[tuple[str, str]] = []
    try:
        for notification in due:
            notifier.send(notification)
            sent.append((notification.transition.id, notification.kind))
    except NotifierError as exc:
        left = len(due) - len(sent)
        logger.warning("notifier %s: %s (%d left for the next pass)", notifier.name, exc, left)
    finally:
        # Repeats on every pass need no record: nothing is counted from them.
        if notifier.repeat_interval == timedelta(0):
            sent = [(transition_id, kind) for transition_id, kind in sent if kind != "repeat"]
        record_sent(client, notifier.name, sent, now)


def repeats_due(
    client: Client,
    notifier: Notifier,
    firing: list[AlertTransition],
    skip: set[str],
    now: datetime,
) -> list[Notification]:
    """Firing alerts whose last notification to ``notifier`` is ``repeat_interval`` old."""
    interval = notifier.repeat_interval
    candidates = [t for t in firing if t.id not in skip and notifier.wants(t)]
    if interval is None or not candidates:
        return []
    sent_at = {} if not interval else last_sent(client, notifier.name, [t.id for t in candidates])
    return [
        Notification(t, "repeat", now)
        for t in candidates
        if t.id not in sent_at or now - sent_at[t.id] >= interval
    ]


def dashboard_link(base_url: str) -> GeneratorUrl:
    """The ``generator_url`` for a dashboard at ``base_url``: the report of one window.

    >>> dashboard_link("http://127.0.0.1:8080")(model="fraud", window="1h",
    ...     window_start=datetime(2026, 11, 27, 9, tzinfo=timezone.utc))
    'http://127.0.0.1:8080/models/fraud?window_start=2026-11-27T09%3A00%3A00Z&window=1h'
    """
    base = base_url.rstrip("/")

    def link(*, model: str, window_start: datetime, window: str) -> str:
        start = window_start.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        query = urlencode({"window_start": start, "window": window})
        return f"{base}/models/{quote(model, safe='')}?{query}"

    return link
