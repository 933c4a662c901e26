"""``ml.label`` events → ``ml_labels`` rows, from log records and from spans alike.

A label names its model (``ml.model.name``), the prediction (``ml.prediction.id``) and the
truth: ``ml.label`` (a class, string) or ``ml.label.value`` (a number). The same attributes as
arrays carry several labels at once, one per item; a scalar beside arrays applies to every
item. Rows are tuples in the order of ``rows.ML_LABELS_COLUMNS``.
"""

from __future__ import annotations

from typing import Any

from inferwatch import semconv

from .attributes import format_value

_ID = semconv.ML_PREDICTION_ID
_LABEL = semconv.ML_LABEL
_VALUE = semconv.ML_LABEL_VALUE
_EVENT_NAME_ATTRIBUTE = "event.name"
"""The older convention: the event name as an attribute rather than ``LogRecord.event_name``."""


def label_attributes(strings: dict[str, str]) -> dict[str, str]:
    """The attributes a label row keeps: everything but ``ml.*`` and ``event.name``."""
    return {
        key: text
        for key, text in strings.items()
        if key[:3] != "ml." and key != _EVENT_NAME_ATTRIBUTE
    }


def _label_text(item: Any) -> str:
    return "" if item is None else format_value(item)


def _label_value(item: Any) -> float | None:
    if type(item) in (float, int) and item == item:
        return float(item)
    return None


def label_rows(
    strings: dict[str, str],
    values: dict[str, Any],
    timestamp: int,
    service: str,
    rows: list[tuple[Any, ...]],
) -> None:
    """Append the ``ml_labels`` rows of one label event (record or span) to ``rows``.

    ``strings``/``values`` are its attributes as :func:`split_attributes` returns them.
    """
    model = strings.get(semconv.ML_MODEL_NAME, "")
    ids = values.get(_ID, strings.get(_ID))
    labels = values.get(_LABEL, strings.get(_LABEL))
    actuals = values.get(_VALUE)
    kept = label_attributes(strings)
    found = (ids, labels, actuals)
    count = next((len(column) for column in found if type(column) is list), 1)
    columns = [c if type(c) is list else [c] * count for c in found]
    for prediction_id, label, actual in zip(*columns, strict=False):
        rows.append(
            (
                timestamp,
                service,
                model,
                _label_text(prediction_id),
                _label_text(label),
                _label_value(actual),
                kept,
            )
        )


def is_label_event(event_name: str, strings: dict[str, str]) -> bool:
    """Whether a log record is an ``ml.label`` event (by event name, or the older attribute)."""
    return (
        event_name == semconv.LABEL_EVENT_NAME
        or strings.get(_EVENT_NAME_ATTRIBUTE) == semconv.LABEL_EVENT_NAME
    )
