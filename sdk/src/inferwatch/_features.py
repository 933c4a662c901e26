"""Feature capture: a call's inputs as ``ml.feature.<name>`` attributes, bounded, redacted."""

from __future__ import annotations

import inspect
import random
from collections.abc import Callable, Mapping
from typing import Any

from . import semconv

_SCALARS = (bool, int, float, str)


def feature_source(fn: Callable[..., Any]) -> Callable[[tuple[Any, ...], dict[str, Any]], dict]:
    """Return a function mapping a call's ``(args, kwargs)`` to its named inputs.

    The first argument (after ``self``/``cls``) that is a mapping is taken as the feature dict;
    otherwise the call's arguments are bound to the parameter names.
    """
    signature = inspect.signature(fn)
    skip_first = next(iter(signature.parameters), "") in ("self", "cls")

    def named_inputs(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict:
        values = args[1:] if skip_first else args
        for value in (*values, *kwargs.values()):
            if isinstance(value, Mapping):
                return dict(value)
        try:
            bound = signature.bind_partial(*args, **kwargs).arguments
        except TypeError:
            return {}
        if skip_first:
            bound.pop(next(iter(signature.parameters)), None)
        return dict(bound)

    return named_inputs


def feature_attributes(
    inputs: Mapping[str, Any],
    *,
    names: tuple[str, ...] | None,
    redact: frozenset[str],
    max_attributes: int,
    max_length: int,
) -> dict[str, Any]:
    """Select, redact and bound features; values become OTel attribute values."""
    attributes: dict[str, Any] = {}
    for name, value in inputs.items():
        key = str(name)
        if key in redact or (names is not None and key not in names):
            continue
        if len(attributes) >= max_attributes:
            break
        attribute = _attribute_value(value, max_length)
        if attribute is not None:
            attributes[semconv.ML_FEATURE_PREFIX + key] = attribute
    return attributes


def sampled(rate: float) -> bool:
    """Whether this call's features are captured, at the given sample rate."""
    return rate >= 1.0 or random.random() < rate


def _attribute_value(value: Any, max_length: int) -> Any:
    if type(value).__module__ == "numpy":
        value = value.tolist() if hasattr(value, "tolist") else value
    if isinstance(value, _SCALARS):
        return value[:max_length] if isinstance(value, str) else value
    if isinstance(value, (list, tuple)) and value and len(value) <= max_length:
        if all(isinstance(item, (int, float)) and not isinstance(item, bool) for item in value):
            return [float(item) for item in value]
        if all(isinstance(item, str) for item in value):
            return [item[:max_length] for item in value]
    if value is None:
        return None
    return str(value)[:max_length]
