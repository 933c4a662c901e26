"""Which windows a pass reads again: those something arrived for since their statistics were
computed, on each side (predictions, outcomes).

>>> changes = changed_windows(client, span, since=t0, until=t1, folded=[t0])  # doctest: +SKIP
>>> changes.predictions, changes.outcomes  # (model, window start in Unix seconds) # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import queries
from .window_metrics import SeriesKey, WindowStats
from .windows import WindowRange

HOUR = 3600
Window = tuple[str, int]
"""(model, window start in Unix seconds)."""


@dataclass(frozen=True)
class Changes:
    """The windows whose prediction side, and those whose outcome side, changed."""

    predictions: list[Window]
    outcomes: list[Window]

    def plus(self, windows: Iterable[Window]) -> Changes:
        """These changes, and ``windows`` changed on both sides."""
        again = set(windows)
        return Changes(sorted({*self.predictions, *again}), sorted({*self.outcomes, *again}))


def changed_windows(
    client: Any, span: WindowRange, *, since: datetime, until: datetime, folded: Iterable[datetime]
) -> Changes:
    """The windows of ``span`` with predictions that arrived, or outcomes folded, in
    ``(since, until]`` — outcomes folded at one of the times ``folded`` excepted: the pass that
    folded them read their windows after its fold."""
    parameters = {
        "lo": span.start,
        "hi": span.end,
        "w": span.seconds,
        "since": since,
        "until": until,
        "folded": sorted(folded),
    }
    result = client.query(queries.CHANGED_WINDOWS, parameters=parameters).result_rows
    return Changes(
        predictions=sorted((model, window) for model, window, kind in result if kind == 1),
        outcomes=sorted((model, window) for model, window, kind in result if kind == 2),
    )


def every_window(span: WindowRange, models: Iterable[str]) -> set[Window]:
    """Every window of ``span`` for each of ``models``."""
    starts = range(int(span.start.timestamp()), int(span.end.timestamp()), span.seconds)
    return {(model, start) for model in models for start in starts}


def miscounted_windows(
    client: Any, span: WindowRange, stats: dict[SeriesKey, WindowStats]
) -> set[Window]:
    """Windows whose predictions ``stats`` do not count right (none stored, or rows removed
    since): a safety net that costs one light scan. When windows and hours nest, both sides
    are compared by the coarser of the two, counted by the hour, which the primary key gives
    cheaply."""
    w = span.seconds
    by_hour = w % HOUR == 0 or HOUR % w == 0
    coarse = max(w, HOUR) if by_hour else w
    stored: dict[Window, int] = {}
    for (model, _, segment, start), window in stats.items():
        if not segment:
            key = (model, _floor(int(start.timestamp()), coarse))
            stored[key] = stored.get(key, 0) + window.predictions
    query = queries.HOUR_COUNTS if by_hour else queries.WINDOW_COUNTS
    parameters = {"lo": span.start, "hi": span.end, "w": w}
    counts: dict[Window, int] = {}
    for model, start, n in client.query(query, parameters=parameters).result_rows:
        key = (model, _floor(start, coarse))
        counts[key] = counts.get(key, 0) + n
    differ = {key for key in counts.keys() | stored.keys() if counts.get(key) != stored.get(key)}
    return {(model, start) for model, first in differ for start in range(first, first + coarse, w)}


def _floor(seconds: int, size: int) -> int:
    return seconds - seconds % size
