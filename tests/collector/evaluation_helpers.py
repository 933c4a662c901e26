"""Helpers of the evaluator's tests: which statements a pass runs, its rows made comparable."""

from __future__ import annotations

import math
from typing import Any


class Statements:
    """Records the name (in ``evaluate/queries.py``) of every query run on ``client``; a
    query that is not one of them is recorded as its SQL."""

    def __init__(self, client: Any) -> None:
        from inferwatch_collector.evaluate import queries

        names = {v: k for k, v in vars(queries).items() if k.isupper() and isinstance(v, str)}
        self.run: list[str] = []
        query = client.query

        def named_query(sql: str, *args: Any, **kwargs: Any) -> Any:
            self.run.append(names.get(sql, sql))
            return query(sql, *args, **kwargs)

        client.query = named_query


def comparable(rows: list[Any]) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """Everything of a pass's rows but the evaluation time (NaN made comparable)."""

    def same(value: Any) -> Any:
        return "nan" if isinstance(value, float) and math.isnan(value) else value

    return {
        (r.model, r.version, r.segment, r.window, r.window_start, r.metric): tuple(
            same(v) for v in (r.value, r.support, r.label_coverage, r.ci_low, r.ci_high)
        )
        for r in rows
    }
