"""Labelled outcomes, folded in incrementally: each pass joins only what arrived since the last.

``ml_outcomes`` holds one row per labelled prediction with its latest label. A pass looks at
what arrived (``InsertedAt``) since the stored watermark (``ARRIVALS``) and folds it in — a new
label finds its prediction, a late prediction finds its earlier label — so the join a pass
pays is proportional to what arrived, not to the history; a pass nothing arrived for writes
nothing. Labels whose ids are UUIDv7 name the hour of their prediction, which narrows the
search to those hours of ``ml_predictions``.

>>> arrivals = fold_arrivals(client, lo=horizon_start)   # doctest: +SKIP
>>> arrivals.since, arrivals.until                        # the arrival interval folded in
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from clickhouse_connect.driver.exceptions import ClickHouseError

from . import queries

_logger = logging.getLogger("inferwatch.evaluator")

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
    window = {"since": since, "until": until, "lo": lo, "hi": hi}
    labels, labels_v7, hours, predictions, first_id, last_id = client.query(
        queries.ARRIVALS, parameters=window
    ).result_rows[0]
    if labels or predictions:  # an idle pass writes nothing
        fold = (
            queries.FOLD_NEW_BOTH
            if labels and predictions
            else queries.FOLD_NEW_LABELS
            if labels
            else queries.FOLD_NEW_PREDICTIONS
        )
        parameters = {
            **window,
            "any_hour": 0 if labels_v7 else 1,
            "hours": hours,
            "any_id": 0 if _is_uuid7(first_id) and _is_uuid7(last_id) else 1,
            "first_id": first_id,
            "last_id": last_id,
        }
        client.command(fold, parameters=parameters)
        if since <= EPOCH:
            compact_outcomes(client)
    if not backfill:
        client.command(queries.WRITE_WATERMARK, parameters={"name": WATERMARK, "watermark": until})
    return Arrivals(since, until)


def compact_outcomes(client: Any) -> None:
    """Merge each day of ``ml_outcomes`` into one part, after a fold of the whole history.

    Such a fold (the first pass, a backfill) writes each day in several parts that ClickHouse
    leaves unmerged, and every FINAL read would merge them again: compacting them once costs
    less than the next two full passes save (``bench/evaluate.py``). Only an optimization: a
    store that refuses it (a user without the OPTIMIZE privilege) is left as it is.
    """
    try:
        client.command(queries.COMPACT_OUTCOMES)
    except ClickHouseError as exc:
        _logger.warning("ml_outcomes left uncompacted: %s", exc)


def read_watermark(client: Any) -> datetime:
    """Arrivals up to this time are in ``ml_outcomes`` (the epoch before the first pass)."""
    rows = client.query(queries.READ_WATERMARK, parameters={"name": WATERMARK}).result_rows
    return _utc(rows[0][0]) if rows else EPOCH + OVERLAP


def _is_uuid7(text: str) -> bool:
    """Whether ``text`` is a UUID of version 7 (the SDK's time-ordered prediction ids)."""
    try:
        return uuid.UUID(text).version == 7
    except ValueError:
        return False


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value
