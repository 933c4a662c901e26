"""Alert transitions and notification records in ClickHouse (``ml_alerts``,
``ml_alert_notifications``, migrations 0012 and 0013).

>>> insert_transitions(client, transitions)           # after a pass computed them
>>> latest = latest_transitions(client, ["fraud-f1"])  # the current state of every series
>>> unsent = unsent_transitions(client, "ops-webhook", ["fraud-f1"], since=now - LOOKBACK)
>>> record_sent(client, "ops-webhook", [(unsent[0].id, "transition")], now)
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from clickhouse_connect.driver import Client

from inferwatch_collector.alert.states import AlertState, AlertTransition, SeriesKey

LOOKBACK = timedelta(days=7)
"""Transitions older than this that were never sent (an evaluator down for a week) are dropped."""

ALERT_COLUMNS = (
    "TransitionId TransitionAt RuleName ModelName ModelVersion Segment Metric Window "
    "PreviousState State FiringSince WindowStart WindowEnd Value Threshold CiLow CiHigh "
    "Support LabelCoverage Severity Labels Annotation GeneratorUrl"
).split()

SELECT_LATEST = f"""
SELECT {", ".join(ALERT_COLUMNS)}
FROM ml_alerts
WHERE RuleName IN {{rules:Array(String)}}
ORDER BY TransitionAt DESC
LIMIT 1 BY RuleName, ModelName, ModelVersion, Segment
"""

SELECT_UNSENT = f"""
SELECT {", ".join(ALERT_COLUMNS)}
FROM ml_alerts
WHERE RuleName IN {{rules:Array(String)}}
  AND TransitionAt >= {{since:DateTime64(3, 'UTC')}}
  AND TransitionId NOT IN (
      SELECT TransitionId FROM ml_alert_notifications
      WHERE Notifier = {{notifier:String}} AND Kind = 'transition')
ORDER BY TransitionAt, RuleName, ModelName, ModelVersion, Segment
"""

SELECT_HISTORY = f"""
SELECT {", ".join(ALERT_COLUMNS)}
FROM ml_alerts
WHERE RuleName IN {{rules:Array(String)}}
ORDER BY TransitionAt, RuleName, ModelName, ModelVersion, Segment
"""

SELECT_LAST_SENT = """
SELECT TransitionId, max(SentAt)
FROM ml_alert_notifications
WHERE Notifier = {notifier:String} AND TransitionId IN {ids:Array(String)}
GROUP BY TransitionId
"""

NOTIFICATION_COLUMNS = ("TransitionId", "Notifier", "Kind", "SentAt")


def insert_transitions(client: Client, transitions: Sequence[AlertTransition]) -> None:
    """Store transitions; a retried insert of the same ones is dropped (deduplication token)."""
    if not transitions:
        return
    token = hashlib.sha256("".join(t.id for t in transitions).encode()).hexdigest()
    client.insert(
        "ml_alerts",
        [_to_row(transition) for transition in transitions],
        column_names=ALERT_COLUMNS,
        settings={"insert_deduplicate": 1, "insert_deduplication_token": token},
    )


def latest_transitions(client: Client, rules: Sequence[str]) -> dict[SeriesKey, AlertTransition]:
    """The newest transition of every series of ``rules``: its current state."""
    rows = client.query(SELECT_LATEST, parameters={"rules": list(rules)}).result_rows
    latest = (_from_row(row) for row in rows)
    return {transition.series: transition for transition in latest}


def unsent_transitions(
    client: Client, notifier: str, rules: Sequence[str], *, since: datetime
) -> list[AlertTransition]:
    """Transitions since ``since`` that ``notifier`` has not accepted yet, oldest first."""
    parameters = {"rules": list(rules), "since": since, "notifier": notifier}
    return [
        _from_row(row) for row in client.query(SELECT_UNSENT, parameters=parameters).result_rows
    ]


def transition_history(client: Client, rules: Sequence[str]) -> list[AlertTransition]:
    """Every stored transition of ``rules``, oldest first."""
    rows = client.query(SELECT_HISTORY, parameters={"rules": list(rules)}).result_rows
    return [_from_row(row) for row in rows]


def last_sent(client: Client, notifier: str, ids: Sequence[str]) -> dict[str, datetime]:
    """When ``notifier`` last accepted a notification about each transition id."""
    if not ids:
        return {}
    parameters = {"notifier": notifier, "ids": list(ids)}
    rows = client.query(SELECT_LAST_SENT, parameters=parameters).result_rows
    return {transition_id: _utc(sent_at) for transition_id, sent_at in rows}


def record_sent(
    client: Client, notifier: str, sent: Sequence[tuple[str, str]], now: datetime
) -> None:
    """Record notifications ``notifier`` accepted: (transition id, ``transition``/``repeat``)."""
    if sent:
        rows = [[transition_id, notifier, kind, now] for transition_id, kind in sent]
        client.insert("ml_alert_notifications", rows, column_names=NOTIFICATION_COLUMNS)


def _to_row(t: AlertTransition) -> list[Any]:
    s = t.series
    return [
        t.id, t.at, s.rule, s.model, s.version, s.segment, t.metric, t.window,
        t.previous.value, t.state.value, t.firing_since, t.window_start, t.window_end,
        t.value, t.threshold, t.ci_low, t.ci_high, t.support, t.label_coverage, t.severity,
        dict(t.labels), t.annotation, t.generator_url,
    ]  # fmt: skip


def _from_row(row: Sequence[Any]) -> AlertTransition:
    (id_, at, rule, model, version, segment, metric, window, previous, state, firing_since,
     window_start, window_end, value, threshold, ci_low, ci_high, support, coverage, severity,
     labels, annotation, url) = row  # fmt: skip
    return AlertTransition(
        id=id_, series=SeriesKey(rule, model, version, segment), metric=metric, window=window,
        previous=AlertState(previous), state=AlertState(state), at=_utc(at),
        firing_since=_utc(firing_since), window_start=_utc(window_start),
        window_end=_utc(window_end), value=value, threshold=threshold, ci_low=ci_low,
        ci_high=ci_high, support=support, label_coverage=coverage, severity=severity,
        labels=dict(labels), annotation=annotation, generator_url=url,
    )  # fmt: skip


def _utc(value: Any) -> Any:
    """ClickHouse may hand back naive datetimes; every time here is UTC."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value
