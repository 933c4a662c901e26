"""The latest evaluations and alert states as Prometheus gauges, read at scrape time.

``EvaluationsExport`` is a prometheus_client custom collector: registered on the service's
registry, every scrape of ``/metrics`` runs two small queries (``ml_evaluations`` and
``ml_alerts``) and yields

* ``inferwatch_model_metric{model,version,segment,metric,window}``: the value of the newest
  *complete* window (its end has passed) of each series, among the windows of the last
  ``lookback``; a series whose newest complete window has no value (NaN, e.g. precision with
  no positive prediction) has no sample rather than an older window's value;
* ``inferwatch_model_metric_window_end_seconds{…}``: when that window ended (Unix seconds),
  to see an evaluator that stopped;
* ``inferwatch_alert_state{rule,model,version,segment,severity,state}``: per alert series,
  1 for its current state and 0 for the others (``inactive``, ``pending``, ``firing``,
  ``resolved``, ``no_data``), so a state change never leaves two states at 1.

>>> registry = CollectorRegistry()
>>> registry.register(EvaluationsExport(client, rules=["fraud-f1-low"]))  # doctest: +SKIP
>>> generate_latest(registry)                                             # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from inferwatch_collector.alert.states import AlertState

_logger = logging.getLogger("inferwatch.report")

LOOKBACK = timedelta(days=7)
"""Windows that ended longer ago than this are not read: a series that stopped (a retired
model version) leaves ``/metrics`` a week after its last window."""

SERIES_LABELS = ["model", "version", "segment", "metric", "window"]
ALERT_LABELS = ["rule", "model", "version", "segment", "severity", "state"]

# FINAL: the latest evaluation of each window; argMax over WindowStart: the newest window.
# The table holds one row per metric per window, so a week of it is small and the query
# stays in milliseconds. NaN is dropped after choosing the newest window, not before.
SELECT_LATEST_METRICS = """
SELECT ModelName, ModelVersion, Segment, Metric, Window,
       argMax(Value, WindowStart) AS value,
       max(WindowEnd) AS window_end
FROM ml_evaluations FINAL
WHERE WindowEnd > {since:DateTime64(3, 'UTC')}
  AND WindowEnd <= {now:DateTime64(3, 'UTC')}
GROUP BY ModelName, ModelVersion, Segment, Metric, Window
HAVING NOT isNaN(value)
"""

# The newest transition of a series is its current state (alert/store.py).
SELECT_ALERT_STATES = """
SELECT RuleName, ModelName, ModelVersion, Segment,
       argMax(Severity, TransitionAt), argMax(State, TransitionAt)
FROM ml_alerts
WHERE {every_rule:Bool} OR RuleName IN {rules:Array(String)}
GROUP BY RuleName, ModelName, ModelVersion, Segment
"""

Clock = Callable[[], datetime]


class EvaluationsExport(Collector):
    """Gauges of the latest evaluations and alert states, queried on every scrape.

    Args:
        client: the store's clickhouse-connect client (shared: a chDB client serializes
            calls on its own lock).
        rules: the rules in force; ``None`` exports the states of every rule ever stored.
        lookback: how far back a series' newest complete window may lie.
        clock: the current time (UTC), for tests.
    """

    def __init__(
        self,
        client: Any,
        *,
        rules: Sequence[str] | None = None,
        lookback: timedelta = LOOKBACK,
        clock: Clock = lambda: datetime.now(timezone.utc),
    ) -> None:
        self._client = client
        self._rules = None if rules is None else list(rules)
        self._lookback = lookback
        self._clock = clock

    def describe(self) -> list[Any]:
        # Registering must not query the store: the families are only known at scrape time.
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._model_metrics()
        yield from self._alert_states()

    def _model_metrics(self) -> Iterator[GaugeMetricFamily]:
        now = self._clock()
        parameters = {"since": now - self._lookback, "now": now}
        rows = self._query(SELECT_LATEST_METRICS, parameters, "evaluations")
        values = GaugeMetricFamily(
            "inferwatch_model_metric",
            "Latest complete evaluated window of each model metric series",
            labels=SERIES_LABELS,
        )
        ends = GaugeMetricFamily(
            "inferwatch_model_metric_window_end_seconds",
            "End (Unix seconds) of the window inferwatch_model_metric shows",
            labels=SERIES_LABELS,
        )
        for model, version, segment, metric, window, value, window_end in rows:
            labels = [model, version, segment, metric, window]
            values.add_metric(labels, float(value))
            ends.add_metric(labels, _utc(window_end).timestamp())
        yield values
        yield ends

    def _alert_states(self) -> Iterator[GaugeMetricFamily]:
        parameters = {"every_rule": self._rules is None, "rules": self._rules or []}
        rows = self._query(SELECT_ALERT_STATES, parameters, "alert states")
        family = GaugeMetricFamily(
            "inferwatch_alert_state",
            "Current state of each alert series (1 for its state, 0 for the others)",
            labels=ALERT_LABELS,
        )
        for rule, model, version, segment, severity, current in rows:
            for state in AlertState:
                labels = [rule, model, version, segment, severity, state.value]
                family.add_metric(labels, 1.0 if state.value == current else 0.0)
        yield family

    def _query(self, sql: str, parameters: dict[str, Any], what: str) -> list[Any]:
        # A failing store must not take the collector's own metrics down with it: the
        # scrape answers without these samples (absent() shows the gap) and the log says why.
        try:
            return list(self._client.query(sql, parameters=parameters).result_rows)
        except Exception as exc:  # noqa: BLE001 - any store failure; chDB and HTTP differ
            _logger.warning("/metrics: cannot read the %s: %s", what, exc)
            return []


def _utc(value: datetime) -> datetime:
    """ClickHouse may hand back naive datetimes; every time here is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
