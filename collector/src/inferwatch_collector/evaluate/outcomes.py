"""Labelled outcomes, folded in incrementally: each pass joins only what arrived since the last.

``ml_outcomes`` holds one row per labelled prediction with its latest label. A pass folds in
the labels and predictions that arrived (``InsertedAt``) since the stored watermark — a new
label finds its prediction, a late prediction finds its earlier label — so the join a pass
pays is proportional to what arrived, not to the history. Labels whose ids are UUIDv7 name
the hour of their prediction, which narrows the search to those hours of ``ml_predictions``.

>>> arrivals = fold_arrivals(client, lo=horizon_start)   # doctest: +SKIP
>>> arrivals.since, arrivals.until                        # the arrival interval folded in
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from . import queries

WATERMARK = "outcomes"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
FAR_FUTURE = datetime(2200, 1, 1, tzinfo=timezone.utc)
OVERLAP = timedelta(seconds=5)
"""Arrivals this close before the watermark are folded again: an insert that started before
the previous pass read the clock may have become visible only after that pass had read."""


@dataclass(frozen=True)
class Arrivals:
    """The arrival interval ``(since, until]`` a pass folded into ``ml_outcomes``."""

    since: datetime
    until: datetime


def fold_arrivals(
    client: Any, *, lo: datetime, hi: datetime = FAR_FUTURE, backfill: bool = False
) -> Arrivals:
    """Fold predictions with ``lo <= Timestamp < hi`` whose outcome changed into ml_outcomes.

    Args:
        lo, hi: prediction times that matter (older windows are outside the label horizon).
        backfill: fold every arrival in the range, and leave the watermark alone.
    """
    until = _utc(client.query(queries.NOW).result_rows[0][0])
    since = EPOCH if backfill else read_watermark(client) - OVERLAP
    all_v7, hours = client.query(
        queries.ARRIVED_LABEL_HOURS, parameters={"since": since, "until": until}
    ).result_rows[0]
    parameters = {
        "since": since,
        "until": until,
        "lo": lo,
        "hi": hi,
        "any_hour": 0 if all_v7 else 1,
        "hours": [_utc(hour).replace(tzinfo=None) for hour in hours] or [EPOCH],
    }
    fold = queries.FOLD_OUTCOMES if all_v7 else queries.FOLD_OUTCOMES_ANY_ID
    client.command(fold, parameters=parameters)
    if not backfill:
        client.command(queries.WRITE_WATERMARK, parameters={"name": WATERMARK, "watermark": until})
    return Arrivals(since, until)


def read_watermark(client: Any) -> datetime:
    """Arrivals up to this time are in ``ml_outcomes`` (the epoch before the first pass)."""
    rows = client.query(queries.READ_WATERMARK, parameters={"name": WATERMARK}).result_rows
    return _utc(rows[0][0]) if rows else EPOCH + OVERLAP


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value
