"""The generic webhook: one JSON POST per notification, with a timeout and retries.

The body (``webhook_body``) is one flat object; ``id`` is the transition's id, the same in a
repeat and in a re-send after a crash, so a receiver can drop duplicates::

    {"id": "9f2c…", "kind": "transition", "rule": "fraud-f1", "state": "firing",
     "previous_state": "pending", "model": "fraud", "version": "3.1", "segment": "",
     "metric": "f1", "window": "1h", "window_start": "2026-11-27T09:00:00+00:00",
     "window_end": "…", "value": 0.71, "threshold": 0.8, "ci_low": 0.66, "ci_high": 0.76,
     "support": 812, "label_coverage": 0.93, "severity": "critical", "labels": {"team": "risk"},
     "annotation": "F1 of fraud fell to 0.710 (threshold 0.8)", "at": "…", "firing_since": "…",
     "generator_url": "http://dashboard/models/fraud?window_start=…&window=1h"}

Numbers that are undefined (NaN) are sent as ``null``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from inferwatch_collector.alert.notifiers.http_post import RetryPolicy, post_json
from inferwatch_collector.alert.notifiers.notification import Notification
from inferwatch_collector.alert.states import AlertTransition

DEFAULT_STATES = ("firing", "resolved")


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    name: str = "webhook"
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    states: tuple[str, ...] = DEFAULT_STATES
    """Transitions into these states are sent (``pending``, ``inactive``, ``no_data`` too)."""
    repeat_interval: timedelta | None = timedelta(hours=4)


class WebhookNotifier:
    def __init__(self, config: WebhookConfig) -> None:
        self.name = config.name
        self.repeat_interval = config.repeat_interval
        self.config = config

    def wants(self, transition: AlertTransition) -> bool:
        return transition.state.value in self.config.states

    def send(self, notification: Notification) -> None:
        post_json(self.config.url, webhook_body(notification), policy=self.config.policy)


def webhook_body(notification: Notification) -> dict[str, Any]:
    """The JSON object posted for one notification."""
    t = notification.transition
    return {
        "id": t.id, "kind": notification.kind, "rule": t.series.rule, "state": t.state.value,
        "previous_state": t.previous.value, "model": t.series.model,
        "version": t.series.version, "segment": t.series.segment, "metric": t.metric,
        "window": t.window, "window_start": _iso(t.window_start),
        "window_end": _iso(t.window_end), "value": _number(t.value),
        "threshold": _number(t.threshold), "ci_low": _number(t.ci_low),
        "ci_high": _number(t.ci_high), "support": t.support,
        "label_coverage": _number(t.label_coverage), "severity": t.severity,
        "labels": dict(t.labels), "annotation": t.annotation, "at": _iso(t.at),
        "firing_since": _iso(t.firing_since), "generator_url": t.generator_url,
    }  # fmt: skip


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _number(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value
