"""Prediction ids: UUIDv7 (RFC 9562), time-ordered, unique per prediction.

    >>> from inferwatch._ids import new_prediction_id, prediction_id_time_ns
    >>> first, second = new_prediction_id(), new_prediction_id()
    >>> first < second  # ids sort by creation, as strings too
    True
    >>> prediction_id_time_ns(first) is not None
    True

Layout of the 128 bits (RFC 9562 section 5.7), most significant first::

    unix_ts_ms (48) | ver = 7 (4) | rand_a (12) | var = 0b10 (2) | rand_b (62)

``rand_a`` and the top 30 bits of ``rand_b`` hold a 42-bit counter (RFC 9562 section 6.2,
method 1): at each new millisecond it starts at a random value below 2**41, within one
millisecond it counts up by one, and when it overflows it carries into the timestamp. The
low 32 bits of ``rand_b`` are fresh random bits per id, so ids stay hard to guess. The
millisecond and counter are kept as one integer ``key = ms << 42 | counter``: ids are
strictly increasing in ``key``, in one process, across threads, and even if the clock steps
back.
"""

from __future__ import annotations

import os
import random
import re
import struct
import threading
import time

_COUNTER_BITS = 42
_COUNTER_MASK = (1 << _COUNTER_BITS) - 1
_COUNTER_START_BITS = _COUNTER_BITS - 1  # a fresh counter leaves half its range to count up
_UUID7 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", re.I)

_VARIANT = 0b10 << 14  # the two variant bits at the top of the fourth group

_lock = threading.Lock()
# A private generator: an application calling random.seed() must not make two worker
# processes produce the same ids.
_random = random.Random(os.urandom(32))
_last_key = 0
# The first 24 characters, "tttttttt-tttt-7ccc-vccc-", change only when the millisecond
# or the counter's bits above its low 16 do: formatted once for many ids.
_prefix = (-1, "")  # (key >> 16, its text)


def new_prediction_id(now_ns: int | None = None) -> str:
    """Return a new UUIDv7 string, greater than every id this process made before.

    ``now_ns`` is the Unix time in nanoseconds to put in the id (a monitored call passes
    its start time, already read); the clock is read when it is left out.

    >>> len(new_prediction_id())
    36
    """
    # Inlines _reserve: it runs on every buffered call (bench/sdk_overhead.py), where
    # to_bytes().hex() also beats formatting with a width ("012x") by half.
    global _last_key, _prefix
    if now_ns is None:
        now_ns = time.time_ns()
    now_key = now_ns // 1_000_000 << _COUNTER_BITS
    _lock.acquire()
    try:
        if now_key > _last_key:
            key = now_key | _random.getrandbits(_COUNTER_START_BITS)
        else:  # same millisecond, or the clock stepped back: keep counting
            key = _last_key + 1
        _last_key = key
    finally:
        _lock.release()
    prefix = _prefix  # one read: another thread may replace it meanwhile
    if prefix[0] != key >> 16:
        prefix = _prefix = (key >> 16, _prefix_text(key))
    return prefix[1] + ((key & 0xFFFF) << 32 | _random.getrandbits(32)).to_bytes(6, "big").hex()


def new_prediction_ids(n: int, now_ns: int | None = None) -> list[str]:
    """Return ``n`` new UUIDv7 strings in strictly increasing order (one per prediction).

    >>> ids = new_prediction_ids(3)
    >>> ids == sorted(ids) and len(set(ids)) == 3
    True
    """
    if n <= 0:
        return []
    first = _reserve(n, now_ns)
    ids = []
    high, prefix = -1, ""
    for key, tail in zip(range(first, first + n), _tails(n), strict=True):
        if key >> 16 != high:
            high, prefix = key >> 16, _prefix_text(key)
        ids.append(prefix + ((key & 0xFFFF) << 32 | tail).to_bytes(6, "big").hex())
    return ids


def prediction_id_time_ns(prediction_id: str) -> int | None:
    """Return the Unix time in nanoseconds (millisecond precision) inside a UUIDv7.

    Returns None for anything that is not a UUIDv7 string (other UUID versions, business
    keys, non-strings), so callers can fall back to another time.

    >>> prediction_id_time_ns("01890a5d-ac96-774b-bcce-b302099a8057")
    1688096058518000000
    >>> prediction_id_time_ns("order-42") is None
    True
    """
    if type(prediction_id) is not str or not _UUID7.fullmatch(prediction_id):
        return None
    return int(prediction_id[:8] + prediction_id[9:13], 16) * 1_000_000


def _reserve(n: int, now_ns: int | None = None) -> int:
    """Reserve ``n`` consecutive keys and return the first one."""
    global _last_key
    now_key = ((time.time_ns() if now_ns is None else now_ns) // 1_000_000) << _COUNTER_BITS
    with _lock:
        if now_key > _last_key:
            first = now_key | _random.getrandbits(_COUNTER_START_BITS)
        else:  # same millisecond, or the clock stepped back: keep counting
            first = _last_key + 1
        _last_key = first + n - 1
    return first


def _tails(n: int) -> tuple[int, ...]:
    """``n`` fresh 32-bit random numbers, drawn at once."""
    return struct.unpack(f"<{n}I", _random.randbytes(4 * n))


def _prefix_text(key: int) -> str:
    """``tttttttt-tttt-7ccc-vccc-``: ms, version, counter bits 41..30, variant, bits 29..16."""
    ms = key >> _COUNTER_BITS
    rand_a = key >> 30 & 0xFFF
    variant_and_counter = _VARIANT | key >> 16 & 0x3FFF
    return f"{ms >> 16:08x}-{ms & 0xFFFF:04x}-7{rand_a:03x}-{variant_and_counter:04x}-"


def _restart_after_fork() -> None:
    """In a forked child: a fresh lock (the parent's may be held) and fresh randomness."""
    global _lock, _last_key
    _lock = threading.Lock()
    _random.seed(os.urandom(32))
    _last_key = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_restart_after_fork)
