"""Alerting: rules judge evaluated windows, series move through states, notifiers are told.

>>> from inferwatch_collector.alert import build_notifiers, dashboard_link, process_evaluations
>>> transitions = process_evaluations(client, config.rules, build_notifiers(config.notifiers),
...                                   rows, now=now, generator_url=dashboard_link(base_url))
"""

from __future__ import annotations

from inferwatch_collector.alert.engine import dashboard_link, process_evaluations
from inferwatch_collector.alert.notifiers import NotifierConfig, build_notifiers
from inferwatch_collector.alert.rules import AutoThreshold, Rule
from inferwatch_collector.alert.states import AlertState, AlertTransition, SeriesKey
from inferwatch_collector.alert.store import transition_history
from inferwatch_collector.alert.thresholds import Suggestion, suggest_threshold

__all__ = [
    "AlertState",
    "AlertTransition",
    "AutoThreshold",
    "NotifierConfig",
    "Rule",
    "SeriesKey",
    "Suggestion",
    "build_notifiers",
    "dashboard_link",
    "process_evaluations",
    "suggest_threshold",
    "transition_history",
]
