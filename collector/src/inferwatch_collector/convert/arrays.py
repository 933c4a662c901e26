"""The items of a long OTLP ``ArrayValue`` read all at once, when their encoding allows it.

A batch span carries its predictions as arrays of a thousand ``AnyValue`` items, and reading
them one by one through protobuf's Python API costs 0.13–0.24 µs per item (a wrapper object
each): about 1.5 ms for a batch span's nine arrays, most of the Python converter's time on
batch spans (bench/ingest.py, py-spy). The arrays SDKs send are regular, though: every item
has the same kind and, for doubles, bools, timestamps and ids, the same encoded size, so the
array serializes to ``count`` records of one fixed size. Such an array is read with numpy in
one pass: every record's leading bytes must be exactly those of the kind's field, which leaves
a single reading of the bytes; anything else (mixed kinds, strings of different lengths or
beyond 125 bytes, non-ASCII text, another encoder's layout) returns None and is read item by
item as before. ``tests/collector/test_convert_arrays.py`` holds both readings equal. This
is the reading side of what the SDK's ``_otlp_encoding`` writes.

>>> from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue
>>> def array(**kind):
...     return ArrayValue(values=[AnyValue(**{k: v}) for k, vs in kind.items() for v in vs])
>>> read_fixed(array(double_value=[0.5, -2.0] * 20))[:2]
[0.5, -2.0]
>>> read_fixed(array(int_value=[-1, -2] * 20))[:2]
[-1, -2]
>>> read_fixed(array(string_value=["ab", "cd"] * 20))[:2]
['ab', 'cd']
>>> read_fixed(array(string_value=["ab", "c"] * 20)) is None  # lengths differ
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

MIN_ITEMS = 32
"""Shorter arrays are read item by item: below this, numpy's fixed cost is the larger."""

_ITEM = 0x0A  # ArrayValue.values (field 1, length-delimited): one per item
_STRING, _BOOL, _INT, _DOUBLE = 0x0A, 0x10, 0x18, 0x21  # AnyValue's fields and wire types
_LOW_BITS = np.uint64(0x7F)


def read_fixed(array_value: Any) -> list[Any] | None:
    """The Python values of an ``ArrayValue``'s items, or None if they are not all of one
    kind and one encoded size (or fewer than ``MIN_ITEMS``)."""
    count = len(array_value.values)
    if count < MIN_ITEMS:
        return None
    raw = array_value.SerializeToString()
    size, rest = divmod(len(raw), count)
    if rest or not 4 <= size <= 129:  # one-byte lengths: items of at most 127 bytes
        return None
    records = np.frombuffer(raw, np.uint8).reshape(count, size)
    if not (records[:, 0] == _ITEM).all() or not (records[:, 1] == size - 2).all():
        return None
    field = int(records[0, 2])
    if not (records[:, 2] == field).all():
        return None
    if field == _DOUBLE and size == 11:
        return records[:, 3:].copy().view("<f8").ravel().tolist()
    if field == _STRING and (records[:, 3] == size - 4).all():
        return _ascii_strings(raw, count)
    if field == _INT:
        return _varints(records[:, 3:])
    if field == _BOOL and size == 4 and (records[:, 3] <= 1).all():
        return records[:, 3].astype(bool).tolist()  # type: ignore[no-any-return]
    return None


def _ascii_strings(raw: bytes, count: int) -> list[str] | None:
    """Strings of equal length, if the array is ASCII: its text cut at each record's header,
    which every record starts with (so ``count`` cuts mean it appears nowhere else)."""
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return None
    parts = text.split(text[:4])
    return parts[1:] if len(parts) == count + 1 else None


def _varints(data: np.ndarray) -> list[int] | None:
    """Varints of equal length (int64: negative ones take ten bytes), read column by column."""
    width = data.shape[1]
    if width > 10 or not (data[:, -1] < 0x80).all() or not (data[:, :-1] >= 0x80).all():
        return None
    value = np.zeros(data.shape[0], np.uint64)
    for index in range(width):
        value |= (data[:, index].astype(np.uint64) & _LOW_BITS) << np.uint64(7 * index)
    return value.view(np.int64).tolist()
