"""Window statistics kept in ClickHouse (``ml_window_stats``) for a process starting afresh.

A running evaluator remembers its windows' statistics and reads again only the windows
something arrived for. A process that starts afresh — ``inferwatch evaluate --once`` on a
schedule, or the hourly full pass of ``inferwatch serve`` — loads them from here instead: each
row holds one window's statistics, exact as of the arrivals folded when they were computed
(``Until``). The pass then reads again only the windows something arrived for since then, and
stores every window it evaluated with its own ``Until``.

Statistics depend on the drift bins, on the top segment values (a series is
``region=eu`` or ``region=other``) and on a regression model's value bin edges: a row is only
used under the settings it was computed for (``Fingerprint``, per model); a model whose rows
do not match is read again whole.

>>> fingerprints = Fingerprints(10, top_segment_values, reference.edges)  # doctest: +SKIP
>>> stored = load_window_stats(client, span, fingerprints)                # doctest: +SKIP
>>> save_window_stats(client, span, stats, until, fingerprints)           # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from .metrics import RegressionStats
from .window_metrics import SeriesKey, WindowStats
from .windows import EPOCH, WindowRange

FORMAT = 1
"""Version of the stored JSON; a change makes every stored row a mismatch."""

TABLE = "ml_window_stats"
COLUMNS = ("WindowSeconds", "ModelName", "WindowStart", "Fingerprint", "Until", "Stats")

SELECT_STORED = """
SELECT ModelName, toUnixTimestamp(WindowStart), Fingerprint, Until, Stats
FROM ml_window_stats FINAL
WHERE WindowSeconds = {w:UInt32}
  AND WindowStart >= {lo:DateTime('UTC')} AND WindowStart < {hi:DateTime('UTC')}
"""


@dataclass(frozen=True)
class StoredWindows:
    """What ``ml_window_stats`` holds for a window size's range, under the current settings."""

    stats: dict[SeriesKey, WindowStats]
    until: datetime
    """The earliest ``Until`` of the rows used: every change after it is looked up."""
    untils: set[datetime]
    """Every ``Until`` of the rows used. A pass stores the windows its fold changed with its
    own ``Until``, so outcomes folded at one of these times are in the stored statistics."""
    stale_models: set[str]
    """Models with rows computed under other settings: their windows are read again whole."""


class Fingerprints:
    """Model → what its statistics depend on beyond the data (the drift bins, its top segment
    values, its regression value bin edges, the format), as a 64-bit number; computed on first
    lookup. A model without value bin edges has the fingerprint it had before they existed."""

    def __init__(
        self,
        bins: int,
        top: list[tuple[str, str, str]],
        edges: Mapping[str, Sequence[float]] | None = None,
    ) -> None:
        self._bins, self._top, self._known = bins, top, dict[str, int]()
        self._edges = edges or {}

    def __getitem__(self, model: str) -> int:
        if model not in self._known:
            values = sorted(f"{key}={value}" for owner, key, value in self._top if owner == model)
            parts: list[Any] = [FORMAT, self._bins, values]
            if model in self._edges:
                parts.append(list(self._edges[model]))
            text = json.dumps(parts).encode()
            digest = hashlib.blake2b(text, digest_size=8).digest()
            self._known[model] = int.from_bytes(digest, "big")
        return self._known[model]


def load_window_stats(
    client: Any, span: WindowRange, fingerprints: Fingerprints
) -> StoredWindows | None:
    """The stored statistics of ``span``'s windows; None when nothing is stored."""
    parameters = {"w": span.seconds, "lo": span.start, "hi": span.end}
    rows = client.query(SELECT_STORED, parameters=parameters).result_rows
    if not rows:
        return None
    stats: dict[SeriesKey, WindowStats] = {}
    stale: set[str] = set()
    untils = []
    for model, start, stored_fingerprint, until, encoded in rows:
        if stored_fingerprint != fingerprints[model]:
            stale.add(model)
            continue
        untils.append(until)
        moment = EPOCH + timedelta(seconds=start)
        for version, segment, window in _decode(encoded):
            stats[(model, version, segment, moment)] = window
    if not untils:
        return StoredWindows({}, EPOCH, set(), stale)
    utc = {until.replace(tzinfo=until.tzinfo or timezone.utc) for until in untils}
    return StoredWindows(stats, min(utc), utc, stale)


def save_window_stats(
    client: Any,
    span: WindowRange,
    stats: Mapping[SeriesKey, WindowStats],
    until: datetime,
    fingerprints: Fingerprints,
) -> None:
    """Store the statistics of every window in ``stats`` (all its series), exact as of
    ``until``; one insert."""
    windows: dict[tuple[str, datetime], list[list[Any]]] = {}
    for (model, version, segment, start), window in stats.items():
        windows.setdefault((model, start), []).append([version, segment, *_encode(window)])
    if not windows:
        return
    rows = [
        [span.seconds, model, start, fingerprints[model], until, json.dumps(series)]
        for (model, start), series in windows.items()
    ]
    client.insert(TABLE, rows, column_names=COLUMNS)


def _encode(window: WindowStats) -> list[Any]:
    regression = window.regression
    return [
        window.task,
        window.predictions,
        window.errors,
        list(window.latency),
        window.histogram,
        [[actual, predicted, n] for (actual, predicted), n in window.cells.items()],
        None
        if regression is None
        else [
            regression.n,
            regression.sum_abs_error,
            regression.sum_squared_error,
            regression.total_sum_squares,
            regression.sum_abs_percentage_error,
        ],
    ]


def _decode(encoded: str) -> list[tuple[str, str, WindowStats]]:
    """(version, segment, statistics) of each series of a stored window (JSON keeps floats
    exact: ``repr`` round-trips, and NaN is written as ``NaN``)."""
    found = []
    for version, segment, task, n, errors, latency, histogram, cells, regression in json.loads(
        encoded
    ):
        window = WindowStats(
            task=task,
            predictions=n,
            errors=errors,
            latency=(latency[0], latency[1], latency[2]),
            histogram=histogram,
            cells={(actual, predicted): count for actual, predicted, count in cells},
            regression=None if regression is None else RegressionStats(*regression),
        )
        found.append((version, segment, window))
    return found
