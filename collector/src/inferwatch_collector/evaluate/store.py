"""Rows of ``ml_evaluations``: what one pass writes (and deletes), and reading the latest back."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from clickhouse_connect.driver.exceptions import ClickHouseError

TABLE = "ml_evaluations"
COLUMNS = (
    "ModelName",
    "ModelVersion",
    "Segment",
    "Window",
    "WindowStart",
    "WindowEnd",
    "Metric",
    "Value",
    "Support",
    "LabelCoverage",
    "CiLow",
    "CiHigh",
    "EvaluatedAt",
)

SELECT_LATEST = f"""
SELECT {", ".join(COLUMNS)}
FROM {TABLE} FINAL
WHERE ({{model:String}} = '' OR ModelName = {{model:String}})
  AND WindowStart >= {{since:DateTime64(3, 'UTC')}}
ORDER BY ModelName, ModelVersion, Segment, Window, Metric, WindowStart
"""

# The rows of series a window no longer has (``forget_series``).
DELETE_SERIES = f"""
DELETE FROM {TABLE}
WHERE Window = {{window:String}}
  AND (ModelName, ModelVersion, Segment, toUnixTimestamp(WindowStart))
      IN {{series:Array(Tuple(String, String, String, UInt32))}}
"""

_logger = logging.getLogger("inferwatch.evaluator")


@dataclass(frozen=True)
class EvaluationRow:
    """One metric of one window of one series (model, version, segment, window size)."""

    model: str
    version: str
    segment: str
    """``""`` for all traffic; ``region=eu`` for one segment value; ``region=other``."""
    window: str
    window_start: datetime
    window_end: datetime
    metric: str
    value: float
    support: int
    label_coverage: float
    ci_low: float | None
    ci_high: float | None
    evaluated_at: datetime

    def as_tuple(self) -> tuple[Any, ...]:
        return (
            self.model,
            self.version,
            self.segment,
            self.window,
            self.window_start,
            self.window_end,
            self.metric,
            self.value,
            self.support,
            self.label_coverage,
            self.ci_low,
            self.ci_high,
            self.evaluated_at,
        )


def write_evaluations(client: Any, rows: Sequence[EvaluationRow]) -> None:
    """Insert a pass's rows (one insert); later evaluations of a window replace earlier ones.

    Column by column, the times as milliseconds since the epoch: a full pass writes some 30,000
    rows, and converting each time on its own was a third of the insert (``bench/evaluate.py``).
    """
    if not rows:
        return
    tuples = [row.as_tuple() for row in rows]
    columns: list[list[Any]] = [list(values) for values in zip(*tuples, strict=True)]
    for index in _TIME_COLUMNS:
        columns[index] = _milliseconds(columns[index])
    client.insert(TABLE, columns, column_names=COLUMNS, column_oriented=True)


def forget_series(
    client: Any, window: str, series: Iterable[tuple[str, str, str, datetime]]
) -> None:
    """Delete the rows of ``series`` (model, version, segment, window start) of ``window``.

    A window re-evaluated under new top segment values has other segment series (the values
    pooled as ``region=other`` get their own): the rows of the series it no longer has would
    otherwise stay beside the new ones. Rare (the top values changed), so a lightweight delete;
    a store that refuses it leaves them (and says so).
    """
    keys = sorted({(m, v, s, int(_utc(start).timestamp())) for m, v, s, start in series})
    if not keys:
        return
    try:
        client.command(DELETE_SERIES, parameters={"window": window, "series": keys})
    except ClickHouseError as exc:
        _logger.warning("rows of %d gone series left in %s: %s", len(keys), TABLE, exc)


_TIME_COLUMNS = tuple(COLUMNS.index(name) for name in ("WindowStart", "WindowEnd", "EvaluatedAt"))
_MILLISECOND = timedelta(milliseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _milliseconds(values: list[datetime]) -> list[int]:
    """DateTime64(3) ticks (a pass's rows share a few distinct times); naive times are UTC."""
    ticks: dict[datetime, int] = {}
    return [
        ticks.get(value) or ticks.setdefault(value, (_utc(value) - _EPOCH) // _MILLISECOND)
        for value in values
    ]


def latest_evaluations(
    client: Any, *, model: str | None = None, since: datetime | None = None
) -> list[EvaluationRow]:
    """The latest evaluation of every window since ``since`` (of ``model``, or all models)."""
    since = since or datetime(1970, 1, 1, tzinfo=timezone.utc)
    result = client.query(SELECT_LATEST, parameters={"model": model or "", "since": since})
    return [_row(values) for values in result.result_rows]


def _row(values: Sequence[Any]) -> EvaluationRow:
    start, end, evaluated = (_utc(values[i]) for i in (4, 5, 12))
    return EvaluationRow(
        values[0], values[1], values[2], values[3], start, end, values[6],
        float(values[7]), int(values[8]), float(values[9]), values[10], values[11], evaluated,
    )  # fmt: skip


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
