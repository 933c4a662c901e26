"""Anomalies of a static report: windows worth a look, found two simple ways.

- ``breach``: the window's value is beyond the threshold of a rule watching that metric
  (compared with the rule's ``op``), whether or not the rule fired — firing needs ``for``
  windows in a row and enough samples, a breach is one window. A ``threshold: auto`` rule
  uses the threshold its latest alert transition in the range recorded (none: not checked).
- ``outlier``: the window's value lies outside the range of its neighbours — the up to
  ``NEIGHBOURS`` evaluated windows on each side, at least ``MIN_NEIGHBOURS`` of them — widened
  on each side by that range's own width (and by at least ``MIN_MARGIN`` of the neighbours'
  median, so that flat series do not flag rounding noise). Per-class and confusion metrics
  (names with ``:``) are left out.

>>> find_anomalies(evaluations, rules, alerts)[0]
{'kind': 'breach', 'window_start': '2026-11-27T09:00:00.000Z', 'version': '3.1',
 'metric': 'f1', 'value': 0.71, 'rule': 'fraud-f1-low', 'op': '<', 'threshold': 0.8,
 'detail': 'f1 0.71 < 0.8 (rule fraud-f1-low)'}
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Callable, Sequence
from statistics import median
from typing import Any

NEIGHBOURS = 5
MIN_NEIGHBOURS = 6
MIN_MARGIN = 0.05
OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

Row = dict[str, Any]


def find_anomalies(
    evaluations: Sequence[Row], rules: Sequence[Row], alerts: Sequence[Row]
) -> list[Row]:
    """Breaches and outliers, ordered by window, version, metric."""
    found = breaches(evaluations, rules, alerts) + outliers(evaluations)
    return sorted(found, key=lambda a: (a["window_start"], a["version"], a["metric"], a["kind"]))


def breaches(evaluations: Sequence[Row], rules: Sequence[Row], alerts: Sequence[Row]) -> list[Row]:
    """Windows whose value is beyond a rule's threshold."""
    found = []
    for rule in rules:
        threshold = rule_threshold(rule, alerts)
        if threshold is None:
            continue
        compare = OPS[rule["op"]]
        for row in evaluations:
            if _selected(rule, row) and row["value"] is not None:
                if compare(row["value"], threshold):
                    detail = f"{row['metric']} {row['value']:.4g} {rule['op']} {threshold:.4g}"
                    found.append(
                        _anomaly("breach", row, f"{detail} (rule {rule['name']})")
                        | {"rule": rule["name"], "op": rule["op"], "threshold": threshold}
                    )
    return found


def outliers(evaluations: Sequence[Row]) -> list[Row]:
    """Windows whose value lies well outside its neighbours' range."""
    series: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in evaluations:
        if ":" not in row["metric"] and row["value"] is not None:
            series[(row["version"], row["metric"])].append(row)
    found = []
    for rows in series.values():
        rows.sort(key=lambda r: r["window_start"])
        for index, row in enumerate(rows):
            around = (
                rows[max(0, index - NEIGHBOURS) : index] + rows[index + 1 : index + 1 + NEIGHBOURS]
            )
            bounds = neighbour_bounds([r["value"] for r in around])
            if bounds is not None and not bounds[0] <= row["value"] <= bounds[1]:
                low, high = bounds
                detail = f"{row['metric']} {row['value']:.4g} outside [{low:.4g}, {high:.4g}]"
                found.append(_anomaly("outlier", row, detail) | {"low": low, "high": high})
    return found


def neighbour_bounds(values: Sequence[float]) -> tuple[float, float] | None:
    """The neighbours' range widened by its width (at least ``MIN_MARGIN`` × |median|)."""
    if len(values) < MIN_NEIGHBOURS:
        return None
    low, high = min(values), max(values)
    margin = max(high - low, MIN_MARGIN * abs(median(values)), 1e-12)
    return low - margin, high + margin


def rule_threshold(rule: Row, alerts: Sequence[Row]) -> float | None:
    """The rule's number; for ``auto``, the threshold its newest alert transition recorded."""
    if rule["threshold"] != "auto":
        return float(rule["threshold"])
    for alert in alerts:  # newest first
        if alert.get("rule") == rule["name"] and alert.get("threshold") is not None:
            return float(alert["threshold"])
    return None


def rule_thresholds(rules: Sequence[Row], alerts: Sequence[Row]) -> list[Row]:
    """Threshold lines for the charts, one per rule with a known threshold."""
    lines = []
    for rule in rules:
        value = rule_threshold(rule, alerts)
        if value is not None:
            label = f"{rule['name']} ({rule['op']} {value:g})"
            lines.append({"value": value, "label": label, "metric": rule["metric"]})
    return lines


def _selected(rule: Row, row: Row) -> bool:
    version = rule.get("version")
    return row["metric"] == rule["metric"] and version in (None, "", row["version"])


def _anomaly(kind: str, row: Row, detail: str) -> Row:
    return {
        "kind": kind,
        "window_start": row["window_start"],
        "version": row["version"],
        "metric": row["metric"],
        "value": row["value"],
        "detail": detail,
    }
