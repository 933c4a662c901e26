"""What every notifier receives and promises.

A notifier is told about one transition at a time (``kind="transition"``), and again about a
firing alert when its repeat interval has passed (``kind="repeat"``). ``send`` returns once
the receiver accepted the notification and raises ``NotifierError`` otherwise; the engine
records what was accepted, so a notification that failed is tried again on the next pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from inferwatch_collector.alert.states import AlertTransition

Kind = Literal["transition", "repeat"]


class NotifierError(Exception):
    """A receiver did not accept a notification (unreachable, timed out, refused)."""


@dataclass(frozen=True)
class Notification:
    transition: AlertTransition
    kind: Kind
    now: datetime
    """The time of the pass that sends it."""


class Notifier(Protocol):
    """A destination for alert notifications (log, webhook, Alertmanager)."""

    name: str
    """Unique among the configured notifiers: the key of its notification records."""
    repeat_interval: timedelta | None
    """How often a firing alert is sent again; ``None``: never, zero: on every pass."""

    def wants(self, transition: AlertTransition) -> bool:
        """Whether this notifier is told about ``transition`` at all."""
        ...

    def send(self, notification: Notification) -> None:
        """Deliver one notification; raise ``NotifierError`` if it was not accepted."""
        ...
