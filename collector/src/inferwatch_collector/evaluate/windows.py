"""Tumbling windows by prediction time: which ones a pass evaluates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from .durations import parse_duration

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class WindowRange:
    """Windows of one size covering ``[start, end)``; ``start`` is on a window boundary."""

    size: str
    seconds: int
    start: datetime
    end: datetime

    def count(self) -> int:
        return max(0, -(-int((self.end - self.start).total_seconds()) // self.seconds))


def floor_to_window(moment: datetime, seconds: int) -> datetime:
    """The start of the window of ``seconds`` holding ``moment`` (aligned to the Unix epoch)."""
    elapsed = int((moment - EPOCH).total_seconds())
    return EPOCH + timedelta(seconds=elapsed - elapsed % seconds)


def pass_range(
    size: str,
    *,
    now: datetime,
    label_horizon: str,
    start: datetime | None = None,
    end: datetime | None = None,
) -> WindowRange:
    """The windows of one pass: those still inside the label horizon (and the current one),
    or, for a backfill, those overlapping ``[start, end)``."""
    seconds = int(parse_duration(size).total_seconds())
    if start is None or end is None:
        start, end = now - parse_duration(label_horizon), now
    return WindowRange(size, seconds, floor_to_window(start, seconds), end)
