"""Alert states and transitions: inactive → pending → firing → resolved, and "no data".

Each (rule, model, version, segment) series is in one state. After every evaluation pass the
rule's judgement of the series (see ``rules.judge_series``) moves it:

============  =========  =========  =========  =========
state \\ seen  ok         pending    firing     no_data
============  =========  =========  =========  =========
inactive      inactive   pending    firing     no_data
pending       inactive   pending    firing     no_data
firing        resolved   firing     firing     no_data
resolved      resolved   pending    firing     no_data
no_data       inactive   pending    firing     no_data
============  =========  =========  =========  =========

A firing alert stays firing while its newest window breaches, even if an earlier window of the
run recovered (no flapping). "No data" ends a firing alert: the rule can no longer say that it
holds, and Alertmanager is told the alert ended. Every change of state is one
``AlertTransition``, stored in ``ml_alerts`` and notified once.

>>> next_state(AlertState.FIRING, "ok")
<AlertState.RESOLVED: 'resolved'>
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from inferwatch_collector.alert.rules import Condition


class AlertState(str, Enum):
    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"
    NO_DATA = "no_data"


_ON_OK = {
    AlertState.INACTIVE: AlertState.INACTIVE,
    AlertState.PENDING: AlertState.INACTIVE,
    AlertState.FIRING: AlertState.RESOLVED,
    AlertState.RESOLVED: AlertState.RESOLVED,
    AlertState.NO_DATA: AlertState.INACTIVE,
}


def next_state(current: AlertState, condition: Condition) -> AlertState:
    """The state after a judgement (the table in this module's docstring)."""
    if condition == "ok":
        return _ON_OK[current]
    if condition == "pending" and current is not AlertState.FIRING:
        return AlertState.PENDING
    if condition == "no_data":
        return AlertState.NO_DATA
    return AlertState.FIRING


@dataclass(frozen=True)
class SeriesKey:
    """One series of one rule."""

    rule: str
    model: str
    version: str
    segment: str


@dataclass(frozen=True)
class AlertTransition:
    """One change of state of one series: a row of ``ml_alerts``.

    ``firing_since`` is when the series started firing: set on the transition into firing and
    carried by the transition out of it (Alertmanager's ``startsAt``). The window fields
    describe the newest window judged (``None`` when the series had no window at all).
    """

    id: str
    series: SeriesKey
    metric: str
    window: str
    previous: AlertState
    state: AlertState
    at: datetime
    firing_since: datetime | None
    window_start: datetime | None
    window_end: datetime | None
    value: float
    threshold: float
    ci_low: float | None
    ci_high: float | None
    support: int
    label_coverage: float
    severity: str
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    annotation: str = ""
    generator_url: str = ""

    @property
    def ends_firing(self) -> bool:
        return self.previous is AlertState.FIRING and self.state is not AlertState.FIRING


def transition_id(series: SeriesKey, previous: AlertState, state: AlertState, at: datetime) -> str:
    """Deterministic: the same transition computed twice (a retried pass) has the same id."""
    parts = (*vars(series).values(), previous.value, state.value, at.isoformat())
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
