"""Durations as the config file writes them: ``30s``, ``5m``, ``1h``, ``7d``, ``1w``."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"\s*(\d+)\s*([smhdw])\s*")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """The ``timedelta`` of ``text``; ``ValueError`` naming the text if it is not one.

    >>> parse_duration("5m")
    datetime.timedelta(seconds=300)
    >>> parse_duration("1d") == timedelta(days=1)
    True
    """
    match = _DURATION.fullmatch(str(text))
    if match is None or int(match[1]) == 0:
        raise ValueError(
            f"{text!r} is not a duration: expected a positive whole number and a unit "
            "s, m, h, d or w (e.g. 5m, 1h, 7d)"
        )
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


def format_duration(duration: timedelta) -> str:
    """``duration`` as the config file writes it, in the largest whole unit.

    >>> format_duration(timedelta(days=1)), format_duration(timedelta(seconds=90))
    ('1d', '90s')
    """
    seconds = int(duration.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
