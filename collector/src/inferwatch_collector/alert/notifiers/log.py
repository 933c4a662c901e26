"""The log notifier: one line per transition on the ``inferwatch.alerts`` logger.

>>> notifier = LogNotifier(LogConfig())
>>> notifier.send(notification)
# WARNING inferwatch.alerts: alert fraud-f1 firing (was pending): model=fraud version=3.1 ...
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from inferwatch_collector.alert.notifiers.notification import Notification
from inferwatch_collector.alert.states import AlertState, AlertTransition

logger = logging.getLogger("inferwatch.alerts")


@dataclass(frozen=True)
class LogConfig:
    name: str = "log"
    repeat_interval: timedelta | None = None


class LogNotifier:
    """Logs every transition: firing at WARNING, everything else at INFO."""

    def __init__(self, config: LogConfig) -> None:
        self.name = config.name
        self.repeat_interval = config.repeat_interval

    def wants(self, transition: AlertTransition) -> bool:
        return True

    def send(self, notification: Notification) -> None:
        t = notification.transition
        level = logging.WARNING if t.state is AlertState.FIRING else logging.INFO
        again = " (repeat)" if notification.kind == "repeat" else ""
        logger.log(
            level,
            "alert %s %s%s (was %s): model=%s version=%s segment=%s %s=%.6g threshold=%.6g: %s",
            t.series.rule, t.state.value, again, t.previous.value, t.series.model,
            t.series.version or "-", t.series.segment or "-", t.metric, t.value, t.threshold,
            t.annotation,
        )  # fmt: skip
