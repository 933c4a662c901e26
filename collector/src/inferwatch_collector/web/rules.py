"""The alert rules in force, as the dashboard's JSON shows them (threshold lines on charts)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from inferwatch_collector.alert.rules import Rule


def rules_json(rules: Iterable[Rule]) -> list[dict[str, Any]]:
    """One object per rule: ``version`` is ``None`` for every version, ``segment`` ``""`` for
    all traffic (``region=*``: each value of the key), ``threshold`` a number or ``"auto"``.

    >>> rules_json([Rule("fraud-f1", "fraud", "f1", "1h", "<", 0.8)])[0]["threshold"]
    0.8
    """
    return [
        {
            "name": rule.name,
            "model": rule.model,
            "version": rule.version,
            "segment": rule.segment,
            "metric": rule.metric,
            "window": rule.window,
            "op": rule.op,
            "threshold": rule.threshold,
            "severity": rule.severity,
        }
        for rule in rules
    ]
