"""Prediction spans → ``ml_predictions`` rows: one row per prediction, batch arrays exploded.

A prediction span carries ``ml.model.name``. A single call has scalar ``ml.prediction.*``
attributes; a batch call (or a span gathered by the SDK's hot-path buffer) carries parallel
arrays, one item per prediction, and may carry each prediction's own timestamp, duration,
status and trace/span ids — otherwise every row takes the span's.

Rows go to a ``rows.TableRows`` in the order of ``rows.ML_PREDICTIONS_COLUMNS``: a single
call as one tuple, a batch span as whole columns. Conversion never raises on a well-formed
protobuf: values of the wrong type become ``None``/``""`` (validation is what rejects them,
before anything is acknowledged).
"""

from __future__ import annotations

from typing import Any

from inferwatch import semconv

from ..rows import TableRows
from .attributes import format_value

SpanFacts = tuple[str, int, int, str, str, bool]
"""What a row takes from its span when it has no value of its own:
``(service, start_ns, end_ns, trace_id, span_id, is_error)`` — a plain tuple, built per span."""
SplitAttributes = tuple[dict[str, str], dict[str, str], dict[str, str]]
"""``(segments, features, others)``: ``ml.segment.*``/``ml.feature.*`` without their prefix,
and the attributes outside ``ml.*``; all values as strings."""

_SEGMENT = semconv.ML_SEGMENT_PREFIX

_FEATURE = semconv.ML_FEATURE_PREFIX
_FEATURE_LEN = len(_FEATURE)
_PREFIX_LEN = len(_SEGMENT)
assert len(_FEATURE) == _PREFIX_LEN, "split_ml_attributes compares one prefix slice to both"
_ID = semconv.ML_PREDICTION_ID
_LABEL = semconv.ML_PREDICTION_LABEL
_SCORE = semconv.ML_PREDICTION_SCORE
_VALUE = semconv.ML_PREDICTION_VALUE
_TIMESTAMP = semconv.ML_PREDICTION_TIMESTAMP
_DURATION = semconv.ML_PREDICTION_DURATION
_STATUS = semconv.ML_PREDICTION_STATUS
_TRACE_ID = semconv.ML_PREDICTION_TRACE_ID
_SPAN_ID = semconv.ML_PREDICTION_SPAN_ID
_MODEL = semconv.ML_MODEL_NAME
_VERSION = semconv.ML_MODEL_VERSION
_TASK = semconv.ML_TASK
_OK = semconv.STATUS_OK
_ERROR = semconv.STATUS_ERROR
_NUMBERS = (float, int)
_PER_PREDICTION = frozenset(semconv.PER_PREDICTION_ARRAYS)
_STR_ONLY, _INT_ONLY, _FLOAT_ONLY = {str}, {int}, {float}


def prediction_rows(
    strings: dict[str, str], values: dict[str, Any], span: SpanFacts, rows: TableRows
) -> None:
    """Add the ``ml_predictions`` rows of one prediction span to ``rows``.

    Args:
        strings: every attribute as a string (the exporter's ``SpanAttributes``).
        values: the Python values of the attributes that are not strings.
        span: the span's own facts, for what the attributes do not say per prediction.
        rows: where the row tuples go.
    """
    split = split_ml_attributes(strings)
    if values and _is_batch(values):
        _batch_rows(strings, values, split, span, rows)
    else:
        _single_row(strings, values, split, span, rows)


def split_ml_attributes(strings: dict[str, str]) -> SplitAttributes:
    """Segments and features (prefix stripped) and the attributes outside ``ml.*``.

    >>> split_ml_attributes({"ml.segment.region": "eu", "ml.task": "regression", "a": "1"})
    ({'region': 'eu'}, {}, {'a': '1'})
    """
    segments: dict[str, str] = {}
    features: dict[str, str] = {}
    others: dict[str, str] = {}
    cut = _PREFIX_LEN
    for key, text in strings.items():
        prefix = key[:cut]
        if prefix == _SEGMENT:
            segments[key[cut:]] = text
        elif prefix == _FEATURE:
            features[key[cut:]] = text
        elif prefix[:3] != "ml.":
            others[key] = text
    return segments, features, others


def _is_batch(values: dict[str, Any]) -> bool:
    """A batch span carries its per-prediction attributes as arrays."""
    for key, value in values.items():
        if type(value) is list and key in _PER_PREDICTION:
            return True
    return False


def _number(value: Any) -> float | None:
    """A score or value: numbers pass, NaN (the SDK's "absent" in arrays) and others are None."""
    if type(value) in _NUMBERS and value == value:
        return value  # type: ignore[no-any-return]
    return None


def _single_row(
    strings: dict[str, str],
    values: dict[str, Any],
    split: SplitAttributes,
    span: SpanFacts,
    rows: TableRows,
) -> None:
    service, start, end, trace_id, span_id, error = span
    latency = (end - start) / 1e6
    if values:
        own_start = values.get(_TIMESTAMP)
        start = own_start if type(own_start) is int and own_start > 0 else start
        duration = _number(values.get(_DURATION))
        latency = latency if duration is None else duration * 1000.0
    status = strings.get(_STATUS)
    if status:
        error = status == _ERROR
    own_trace = strings.get(_TRACE_ID)
    if own_trace:
        trace_id, span_id = own_trace.lower(), strings.get(_SPAN_ID, "").lower()
    rows.append(
        (
            start,
            service,
            strings[_MODEL],
            strings.get(_VERSION, ""),
            strings.get(_TASK, ""),
            strings.get(_ID) or span[4],
            strings.get(_LABEL, ""),
            _number(values.get(_SCORE)) if values else None,
            _number(values.get(_VALUE)) if values else None,
            latency,
            _ERROR if error else _OK,
            trace_id,
            span_id,
            *split,
        )
    )


def _items(values: dict[str, Any], key: str, count: int) -> list[Any] | None:
    """The per-prediction array under ``key``, cut or padded to ``count`` (None if absent)."""
    items = values.get(key)
    if type(items) is not list:
        return None
    if len(items) != count:  # unvalidated input: be lenient, never fail the flush
        items = (items + [None] * count)[:count]
    return items


def _batch_rows(
    strings: dict[str, str],
    values: dict[str, Any],
    split: SplitAttributes,
    span: SpanFacts,
    rows: TableRows,
) -> None:
    service, start, end, trace_id, span_id, error = span
    ids = values.get(_ID)
    if type(ids) is not list:  # arrays without ids: count them, ids are made up below
        ids = [None] * next(
            len(v) for k, v in values.items() if type(v) is list and k in _PER_PREDICTION
        )
    count = len(ids)
    segments, features, others = split
    timestamps = _items(values, _TIMESTAMP, count)
    labels = _items(values, _LABEL, count)
    rows.add_columns(
        (
            [start] * count if timestamps is None else _timestamps(timestamps, start),
            [service] * count,
            [strings[_MODEL]] * count,
            [strings.get(_VERSION, "")] * count,
            [strings.get(_TASK, "")] * count,
            _ids(ids, span_id),
            [strings.get(_LABEL, "")] * count if labels is None else _strings(labels),
            _numbers(_items(values, _SCORE, count), count),
            _numbers(_items(values, _VALUE, count), count),
            _latencies(_items(values, _DURATION, count), (end - start) / 1e6, count),
            _statuses(_items(values, _STATUS, count), error, count),
            _hex_ids(_items(values, _TRACE_ID, count), trace_id, count),
            _hex_ids(_items(values, _SPAN_ID, count), span_id, count),
            [segments] * count,
            _feature_rows(features, values, count),
            [others] * count,
        )
    )


def _ids(ids: list[Any], span_id: str) -> list[str]:
    # A prediction without an id still needs a stable one (replays must not duplicate it).
    if set(map(type, ids)) == _STR_ONLY and "" not in ids:
        return ids
    return [
        item if type(item) is str and item else f"{span_id}-{index}"
        for index, item in enumerate(ids)
    ]


def _strings(items: list[Any]) -> list[str]:
    if set(map(type, items)) == _STR_ONLY:
        return items
    return ["" if item is None else format_value(item) for item in items]


def _numbers(items: list[Any] | None, count: int) -> list[Any]:
    if items is None:
        return [None] * count
    if set(map(type, items)) == _FLOAT_ONLY and _finite_sum(items):  # no NaN among them
        return items
    return [item if type(item) in _NUMBERS and item == item else None for item in items]


def _finite_sum(items: list[float]) -> bool:
    total = sum(items)
    return total == total  # NaN anywhere makes the sum NaN (as does inf - inf: slow path)


def _timestamps(items: list[Any], default: int) -> list[int]:
    if set(map(type, items)) == _INT_ONLY and min(items) > 0:
        return items
    return [item if type(item) is int and item > 0 else default for item in items]


def _latencies(durations: list[Any] | None, fallback: float, count: int) -> list[float]:
    if durations is None:
        return [fallback] * count
    return [
        item * 1000.0 if type(item) in _NUMBERS and item == item else fallback for item in durations
    ]


def _statuses(statuses: list[Any] | None, error: bool, count: int) -> list[str]:
    if statuses is None:
        return [_ERROR if error else _OK] * count
    if _ERROR not in statuses:
        return [_OK] * count
    return [_ERROR if item == _ERROR else _OK for item in statuses]


def _hex_ids(items: list[Any] | None, default: str, count: int) -> list[str]:
    if items is None:
        return [default] * count
    if set(map(type, items)) == _STR_ONLY and "" not in items:
        joined = " ".join(items)
        if joined == joined.lower():  # the SDK's ids are lowercase already
            return items
    return [item.lower() if type(item) is str and item else default for item in items]


def _feature_rows(features: dict[str, str], values: dict[str, Any], count: int) -> Any:
    """Features are per prediction when a batch span carries them as arrays of ``count``."""
    arrays = {
        key[_FEATURE_LEN:]: items
        for key, items in values.items()
        if key.startswith(_FEATURE) and type(items) is list and len(items) == count
    }
    if not arrays:
        return [features] * count
    per_row = [dict(features) for _ in range(count)]
    for name, items in arrays.items():
        for row, item in zip(per_row, items, strict=True):
            row[name] = item if type(item) is str else format_value(item)
    return per_row
