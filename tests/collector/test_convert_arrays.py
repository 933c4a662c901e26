"""Long OTLP arrays read at once (``convert/arrays.py``) equal protobuf's item-by-item reading.

Differential: every array is read both ways; the fast reading must give the same values, of
the same types, or decline (None) — never a different value.
"""

from __future__ import annotations

import math
import struct
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue

from inferwatch_collector.convert.arrays import MIN_ITEMS, read_fixed
from inferwatch_collector.convert.attributes import any_value, array_values

FIELDS = {str: "string_value", bool: "bool_value", int: "int_value", float: "double_value"}


def _array(items: list[Any]) -> ArrayValue:
    return ArrayValue(values=[AnyValue(**{FIELDS[type(item)]: item}) for item in items])


def _same(fast: list[Any], slow: list[Any]) -> bool:
    """Equal values of equal types; doubles compared bit for bit (NaN, -0.0)."""
    if len(fast) != len(slow):
        return False
    for a, b in zip(fast, slow, strict=True):
        if type(a) is not type(b):
            return False
        if type(a) is float and struct.pack("<d", a) != struct.pack("<d", b):
            return False
        if type(a) is not float and a != b:
            return False
    return True


def _check(items: list[Any]) -> list[Any] | None:
    array = _array(items)
    fast = read_fixed(ArrayValue.FromString(array.SerializeToString()))
    slow = array_values(array.values)
    if fast is not None:
        assert _same(fast, slow), (items[:3], fast[:3], slow[:3])
    return fast


LENGTHS = st.integers(MIN_ITEMS, 80)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 130), st.text(min_size=1, max_size=4), LENGTHS, st.randoms())
def test_strings_of_one_length_are_read_alike(
    width: int, alphabet: str, count: int, rng: Any
) -> None:
    items = ["".join(rng.choice(alphabet) for _ in range(width)) for _ in range(count)]
    fast = _check(items)
    if all(0x20 <= ord(c) < 0x7F for c in alphabet) and width <= 125:
        assert fast is not None  # printable ASCII, as SDKs' ids, labels and statuses are


def test_a_header_inside_the_text_declines_rather_than_cuts_wrongly() -> None:
    header = "\n\x06\n\x04"  # the record header of a 4-character string
    items = ["ab" + header[:2], header] * (MIN_ITEMS // 2)
    assert _check(items) is None
    assert _check(["\0\0ab", "ab\0\0"] * MIN_ITEMS) is not None  # NULs kept, at either end


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=4), LENGTHS, st.randoms())
def test_integers_are_read_alike(pool: list[int], count: int, rng: Any) -> None:
    fast = _check([rng.choice(pool) for _ in range(count)])
    if len({_varint_size(n) for n in pool}) == 1:
        assert fast is not None


def _varint_size(number: int) -> int:
    return len(AnyValue(int_value=number).SerializeToString()) - 1


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=6), LENGTHS)
def test_doubles_are_read_alike_bit_for_bit(pool: list[float], count: int) -> None:
    assert _check([pool[i % len(pool)] for i in range(count)]) is not None


def test_special_doubles_and_bools() -> None:
    doubles = [math.nan, -0.0, math.inf, -math.inf, 5e-324, 0.0] * MIN_ITEMS
    assert _check(doubles) is not None
    assert _check([True, False, False] * MIN_ITEMS) == [True, False, False] * MIN_ITEMS


def test_what_is_not_regular_is_declined() -> None:
    assert _check(["a"] * (MIN_ITEMS - 1)) is None  # short: item by item is quicker
    assert _check(["a", 1] * MIN_ITEMS) is None  # mixed kinds
    assert _check(["ab", "c"] * MIN_ITEMS) is None  # lengths differ
    assert _check([1, 300] * MIN_ITEMS) is None  # varint sizes differ
    assert _check(["x" * 126] * MIN_ITEMS) is None  # two-byte lengths
    blobs = ArrayValue(values=[AnyValue(bytes_value=b"ab")] * MIN_ITEMS)
    assert read_fixed(blobs) is None
    empty = ArrayValue(values=[AnyValue()] * MIN_ITEMS)
    assert read_fixed(empty) is None


def test_any_value_reads_long_arrays_through_the_fast_reading() -> None:
    value = AnyValue(array_value=_array([f"{n:04d}" for n in range(100)]))
    assert any_value(value) == [f"{n:04d}" for n in range(100)]
    mixed = AnyValue(array_value=_array(["a", 1.5] * 50))
    assert any_value(mixed) == ["a", 1.5] * 50
