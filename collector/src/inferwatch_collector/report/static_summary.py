"""The summary at the top of a static report, computed from its metric rows.

>>> summarize(evaluations, alerts, anomalies)
{'windows': 168, 'first_window': '2026-11-20T00:00:00.000Z', 'last_window': '...',
 'predictions': 16800, 'labels': 12000, 'label_coverage': 0.714...,
 'alerts_fired': 2, 'alert_transitions': 4, 'firing_at_end': ['fraud-f1-low'],
 'anomalies': 3, 'breaches': 2, 'outliers': 1,
 'headline': [{'metric': 'f1', 'version': '3.1', 'latest': 0.83, 'latest_window': '...',
               'worst': 0.71, 'worst_window': '...'}, ...]}

"Worst" is the lowest value of a metric where higher is better (accuracy, F1, R², label
coverage …) and the highest where lower is better (errors, latency, error rate, drift).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

HEADLINE = (
    "accuracy",
    "precision",
    "recall",
    "f1",
    "f1_macro",
    "r2",
    "mae",
    "rmse",
    "mape",
    "label_coverage",
    "error_rate",
    "latency_p95_ms",
    "psi",
)
"""The metrics the summary gives the latest and worst value of, in this order."""
HIGHER_IS_BETTER = frozenset(
    {"accuracy", "precision", "recall", "f1", "f1_macro", "r2", "label_coverage"}
)

Row = dict[str, Any]


def summarize(evaluations: Sequence[Row], alerts: Sequence[Row], anomalies: Sequence[Row]) -> Row:
    """Volume, labels, alerts and anomalies of the range, and the headline metrics."""
    starts = sorted({row["window_start"] for row in evaluations})
    predictions = _total(evaluations, "prediction_count")
    labels = _total(evaluations, "label_count")
    return {
        "windows": len(starts),
        "first_window": starts[0] if starts else None,
        "last_window": starts[-1] if starts else None,
        "predictions": predictions,
        "labels": labels,
        "label_coverage": labels / predictions if predictions else None,
        "alerts_fired": sum(1 for alert in alerts if alert.get("state") == "firing"),
        "alert_transitions": len(alerts),
        "firing_at_end": firing_at_end(alerts),
        "anomalies": len(anomalies),
        "breaches": sum(1 for a in anomalies if a["kind"] == "breach"),
        "outliers": sum(1 for a in anomalies if a["kind"] == "outlier"),
        "headline": headline(evaluations),
    }


def headline(evaluations: Sequence[Row]) -> list[Row]:
    """Latest and worst value of each headline metric, per version."""
    series: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in evaluations:
        if row["metric"] in HEADLINE and row["value"] is not None:
            series[(row["metric"], row["version"])].append(row)
    lines = []
    for (metric, version), rows in sorted(
        series.items(), key=lambda item: (HEADLINE.index(item[0][0]), item[0][1])
    ):
        latest = max(rows, key=lambda r: r["window_start"])
        pick = min if metric in HIGHER_IS_BETTER else max
        worst = pick(rows, key=lambda r: r["value"])
        lines.append(
            {
                "metric": metric,
                "version": version,
                "latest": latest["value"],
                "latest_window": latest["window_start"],
                "worst": worst["value"],
                "worst_window": worst["window_start"],
            }
        )
    return lines


def firing_at_end(alerts: Sequence[Row]) -> list[str]:
    """The rules whose newest transition in the range (per series) is ``firing``."""
    newest: dict[tuple[Any, ...], Row] = {}
    for alert in alerts:  # newest first: keep the first seen per series
        key = (alert.get("rule"), alert.get("version"), alert.get("segment"))
        newest.setdefault(key, alert)
    return sorted({str(a["rule"]) for a in newest.values() if a.get("state") == "firing"})


def _total(evaluations: Sequence[Row], metric: str) -> int:
    return int(sum(row["value"] or 0 for row in evaluations if row["metric"] == metric))
