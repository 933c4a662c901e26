"""Report parameters from a URL's query string, checked against what a page's reports take.

``/api/v1/pages/window`` also derives the range of a window's drill-down: ``from`` and ``to``
default to the window's own bounds, ``window_start`` and ``window_start + window``, so that
the reports on raw rows (misclassified predictions) read that one window.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from urllib.parse import parse_qsl

from inferwatch_collector.evaluate.durations import parse_duration
from inferwatch_collector.report.definitions import ReportDefinition
from inferwatch_collector.report.run import ParameterError, parse_time_value

WINDOW_PAGE = "window"


def query_values(query: str) -> dict[str, str]:
    """The query's ``name=value`` pairs (the last one wins; blank values kept)."""
    try:
        return dict(parse_qsl(query, keep_blank_values=True, strict_parsing=False))
    except ValueError as exc:
        raise ParameterError(f"the query string is not valid: {exc}") from exc


def page_values(
    definitions: Iterable[ReportDefinition],
    page: str,
    values: Mapping[str, str],
    now: datetime | None = None,
) -> dict[str, str]:
    """``values`` for the reports of ``page``; a name none of them takes is a ``ParameterError``.

    On the ``window`` page, ``from`` and ``to`` default to the window's bounds.
    """
    known = sorted({name for d in definitions for name in d.parameter_names})
    for name in values:
        if name not in known:
            raise ParameterError(
                f"page {page!r} has no parameter {name!r} (it has: {', '.join(known) or 'none'})"
            )
    if page != WINDOW_PAGE:
        return dict(values)
    return {**window_bounds(values, now), **values}


def window_bounds(values: Mapping[str, str], now: datetime | None = None) -> dict[str, str]:
    """``from`` and ``to`` of the window that ``window_start`` and ``window`` name (ISO text)."""
    raw_start, raw_window = values.get("window_start"), values.get("window") or "1h"
    if not raw_start:
        raise ParameterError(
            "page 'window': parameter 'window_start' (the window's start) is required"
        )
    try:
        start = parse_time_value(raw_start, now or datetime.now(timezone.utc))
    except ValueError as exc:
        raise ParameterError(
            f"page 'window': parameter 'window_start' expects a time, got {raw_start!r}"
        ) from exc
    try:
        size = parse_duration(raw_window)
    except ValueError as exc:
        raise ParameterError(f"page 'window': parameter 'window': {exc}") from exc
    return {"from": _iso(start), "to": _iso(start + size)}


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
