"""Prometheus Alertmanager through its v2 API: ``POST <url>/api/v2/alerts``.

Alertmanager expects a firing alert to be sent again and again: each pass re-sends every
firing alert with ``endsAt`` = now + ``expire_after`` (so an alert whose evaluator died expires
by itself), and an alert that stopped firing is sent once with ``endsAt`` = the time it ended.
Alertmanager matches the two by their labels, which are therefore the same in both:

``alertname`` (the rule), the rule's ``labels``, and ``model``, ``version``, ``segment``,
``metric``, ``window``, ``severity`` (empty values left out, as Prometheus does). Annotations:
``summary`` (the rule's rendered annotation), ``value``, ``threshold``. ``generatorURL`` opens
the dashboard's report of the window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from inferwatch_collector.alert.notifiers.http_post import RetryPolicy, post_json
from inferwatch_collector.alert.notifiers.notification import Notification
from inferwatch_collector.alert.states import AlertState, AlertTransition

ALERTS_PATH = "/api/v2/alerts"


@dataclass(frozen=True)
class AlertmanagerConfig:
    url: str
    """Alertmanager's base URL, e.g. ``http://alertmanager:9093``."""
    name: str = "alertmanager"
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    expire_after: timedelta = timedelta(minutes=15)
    """A firing alert not re-sent within this time ends by itself (several passes)."""


class AlertmanagerNotifier:
    repeat_interval: timedelta | None = timedelta(0)  # Alertmanager wants every pass

    def __init__(self, config: AlertmanagerConfig) -> None:
        self.name = config.name
        self.config = config

    def wants(self, transition: AlertTransition) -> bool:
        return transition.state is AlertState.FIRING or transition.ends_firing

    def send(self, notification: Notification) -> None:
        url = self.config.url.rstrip("/") + ALERTS_PATH
        alert = alertmanager_alert(notification, self.config.expire_after)
        post_json(url, [alert], policy=self.config.policy)


def alertmanager_alert(notification: Notification, expire_after: timedelta) -> dict[str, Any]:
    """One element of the ``POST /api/v2/alerts`` body."""
    t = notification.transition
    firing = t.state is AlertState.FIRING
    ends_at = notification.now + expire_after if firing else t.at
    return {
        "labels": alert_labels(t),
        "annotations": {
            "summary": t.annotation,
            "value": _text(t.value),
            "threshold": _text(t.threshold),
        },
        "startsAt": _iso(t.firing_since or t.at),
        "endsAt": _iso(ends_at),
        "generatorURL": t.generator_url,
    }


def alert_labels(transition: AlertTransition) -> dict[str, str]:
    """The labels that identify the alert in Alertmanager (the same while firing and after)."""
    s = transition.series
    labels = {**transition.labels, "alertname": s.rule, "model": s.model, "version": s.version}
    labels.update(segment=s.segment, metric=transition.metric, window=transition.window)
    labels["severity"] = transition.severity
    return {name: value for name, value in labels.items() if value}


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _text(value: float) -> str:
    return "NaN" if math.isnan(value) else f"{value:.6g}"
