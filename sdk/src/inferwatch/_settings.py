"""Recording settings: how the SDK records, as one frozen ``Settings``.

Each setting comes from a ``configure()`` argument, else its ``INFERWATCH_*`` environment
variable, else its default; a junk value raises ``ValueError`` naming the key::

    >>> load_settings({"INFERWATCH_THRESHOLD": "0.7"}).threshold
    0.7
    >>> load_settings({"INFERWATCH_THRESHOLD": "high"})
    Traceback (most recent call last):
    ...
    ValueError: INFERWATCH_THRESHOLD: expected a number between 0 and 1, got 'high'

The value checks here take ``(key, value)``, where the value is either an argument or the
raw text of a variable, and are shared with ``_export_settings``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .semconv import INSTRUMENTATION_NAME

_logger = logging.getLogger(INSTRUMENTATION_NAME)

INFERWATCH_DISABLED = "INFERWATCH_DISABLED"
"""``1``/``true``: record nothing, ``@monitor`` is a pass-through (``enabled=False``)."""
INFERWATCH_BATCHED = "INFERWATCH_BATCHED"
"""``1``/``true``: ``@monitor`` uses the hot-path buffer unless it says ``batched=False``."""
INFERWATCH_BATCH_INTERVAL = "INFERWATCH_BATCH_INTERVAL"
"""Seconds between exports of the hot-path buffer."""
INFERWATCH_BATCH_MAX_PREDICTIONS = "INFERWATCH_BATCH_MAX_PREDICTIONS"
"""The hot-path buffer exports early once it holds this many predictions."""
INFERWATCH_BUFFER_SIZE = "INFERWATCH_BUFFER_SIZE"
"""Bound of the hot-path buffer; beyond it the oldest entries are dropped (and counted)."""
INFERWATCH_THRESHOLD = "INFERWATCH_THRESHOLD"
"""Default decision threshold turning a binary probability into a label."""
INFERWATCH_FEATURE_SAMPLE_RATE = "INFERWATCH_FEATURE_SAMPLE_RATE"
"""Fraction (0 to 1) of calls whose features are captured, where capture is on."""
INFERWATCH_MAX_FEATURE_ATTRIBUTES = "INFERWATCH_MAX_FEATURE_ATTRIBUTES"
"""Most ``ml.feature.*`` attributes recorded on one span."""
INFERWATCH_MAX_ATTRIBUTE_LENGTH = "INFERWATCH_MAX_ATTRIBUTE_LENGTH"
"""Longest string recorded as a feature value; longer ones are cut."""


@dataclass(frozen=True)
class Settings:
    """How the SDK records; read on every decorated call through ``current_settings()``."""

    enabled: bool = True
    batched: bool = False
    batch_interval: float = 1.0
    batch_max_predictions: int = 1000
    buffer_size: int = 100_000
    threshold: float = 0.5
    feature_sample_rate: float = 1.0
    max_feature_attributes: int = 64
    max_attribute_length: int = 1024


# --- value checks -------------------------------------------------------------------------
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def check_flag(key: str, value: object) -> bool:
    """A bool argument, or ``1/true/yes/on`` / ``0/false/no/off`` text (any case)."""
    if isinstance(value, bool):
        return value
    word = value.strip().lower() if isinstance(value, str) else None
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise ValueError(f"{key}: expected true or false, got {value!r}")


def _as_float(value: object) -> float:
    """The number ``value`` holds, NaN if none (the range checks then reject it)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    try:
        return float(value) if isinstance(value, str) else math.nan
    except ValueError:
        return math.nan


def check_positive(key: str, value: object) -> float:
    """A finite number greater than 0."""
    number = _as_float(value)
    if not 0 < number < math.inf:
        raise ValueError(f"{key}: expected a number greater than 0, got {value!r}")
    return number


def check_fraction(key: str, value: object) -> float:
    """A number from 0 to 1."""
    number = _as_float(value)
    if not 0 <= number <= 1:
        raise ValueError(f"{key}: expected a number between 0 and 1, got {value!r}")
    return number


def check_at_least(minimum: int) -> Callable[[str, object], int]:
    """A check for whole numbers of at least ``minimum``."""

    def check(key: str, value: object) -> int:
        number = value
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            number = int(value)
        if isinstance(number, int) and not isinstance(number, bool) and number >= minimum:
            return number
        raise ValueError(f"{key}: expected a whole number of at least {minimum}, got {value!r}")

    return check


# --- resolution ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Option:
    variable: str
    check: Callable[[str, object], object]
    inverted: bool = False  # the variable says the opposite of the field (DISABLED)


_OPTIONS: dict[str, _Option] = {
    "enabled": _Option(INFERWATCH_DISABLED, check_flag, inverted=True),
    "batched": _Option(INFERWATCH_BATCHED, check_flag),
    "batch_interval": _Option(INFERWATCH_BATCH_INTERVAL, check_positive),
    "batch_max_predictions": _Option(INFERWATCH_BATCH_MAX_PREDICTIONS, check_at_least(1)),
    "buffer_size": _Option(INFERWATCH_BUFFER_SIZE, check_at_least(1)),
    "threshold": _Option(INFERWATCH_THRESHOLD, check_fraction),
    "feature_sample_rate": _Option(INFERWATCH_FEATURE_SAMPLE_RATE, check_fraction),
    "max_feature_attributes": _Option(INFERWATCH_MAX_FEATURE_ATTRIBUTES, check_at_least(0)),
    "max_attribute_length": _Option(INFERWATCH_MAX_ATTRIBUTE_LENGTH, check_at_least(1)),
}
SETTING_VARIABLES = {name: option.variable for name, option in _OPTIONS.items()}
"""The environment variable of each ``Settings`` field."""


def load_settings(
    environ: Mapping[str, str],
    arguments: Mapping[str, object] | None = None,
    strict: bool = True,
) -> Settings:
    """Settings from ``arguments`` (``configure()``'s), else ``environ``, else the defaults.

    With ``strict=False`` a junk value is logged and its default used instead of raising.
    """
    values: dict[str, Any] = {}
    for name, option in _OPTIONS.items():
        try:
            value = _option_value(name, option, environ, arguments or {})
        except ValueError as error:
            if strict:
                raise
            _logger.error("inferwatch: %s; using the default", error)
            continue
        if value is not None:
            values[name] = value
    return Settings(**values)


def _option_value(
    name: str, option: _Option, environ: Mapping[str, str], arguments: Mapping[str, object]
) -> object:
    if arguments.get(name) is not None:
        return option.check(name, arguments[name])
    raw = environ.get(option.variable, "").strip()
    if not raw:  # an empty variable counts as unset, as in the OpenTelemetry specification
        return None
    value = option.check(option.variable, raw)
    return not value if option.inverted else value
