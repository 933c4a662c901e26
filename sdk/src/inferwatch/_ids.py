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
import threading
import time

_COUNTER_BITS = 42
_COUNTER_MASK = (1 << _COUNTER_BITS) - 1
_COUNTER_START_BITS = _COUNTER_BITS - 1  # a fresh counter leaves half its range to count up
_UUID7 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", re.I)

_LOW30 = (1 << 30) - 1
_VARIANT = 0b10 << 62

_lock = threading.Lock()
# A private generator: an application calling random.seed() must not make two worker
# processes produce the same ids.
_random = random.Random(os.urandom(32))
_last_key = 0
_prefix = (-1, "")  # (ms, formatted "tttttttt-tttt-7") of the last id


def new_prediction_id() -> str:
    """Return a new UUIDv7 string, greater than every id this process made before.

    >>> len(new_prediction_id())
    36
    """
    return _format(_reserve(1), _random.getrandbits(32))


def new_prediction_ids(n: int) -> list[str]:
    """Return ``n`` new UUIDv7 strings in strictly increasing order (one per prediction).

    >>> ids = new_prediction_ids(3)
    >>> ids == sorted(ids) and len(set(ids)) == 3
    True
    """
    if n <= 0:
        return []
    first = _reserve(n)
    bits = _random.getrandbits
    return [_format(key, bits(32)) for key in range(first, first + n)]


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


def _reserve(n: int) -> int:
    """Reserve ``n`` consecutive keys and return the first one."""
    global _last_key
    now_key = (time.time_ns() // 1_000_000) << _COUNTER_BITS
    with _lock:
        if now_key > _last_key:
            first = now_key | _random.getrandbits(_COUNTER_START_BITS)
        else:  # same millisecond, or the clock stepped back: keep counting
            first = _last_key + 1
        _last_key = first + n - 1
    return first


def _format(key: int, tail: int) -> str:
    """Lay out ``key`` (ms and counter) and 32 random bits as a canonical UUIDv7 string."""
    global _prefix
    ms = key >> _COUNTER_BITS
    prefix = _prefix  # one read: another thread may replace it meanwhile
    if prefix[0] != ms:  # "tttttttt-tttt-7" changes once a millisecond: format it once
        prefix = _prefix = (ms, f"{ms >> 16:08x}-{ms & 0xFFFF:04x}-7")
    # counter top 12 bits | variant 0b10 | counter low 30 bits | tail: 19 hex digits
    low = (key >> 30 & 0xFFF) << 64 | _VARIANT | (key & _LOW30) << 32 | tail
    digits = f"{low:019x}"
    return f"{prefix[1]}{digits[:3]}-{digits[3:7]}-{digits[7:]}"


def _restart_after_fork() -> None:
    """In a forked child: a fresh lock (the parent's may be held) and fresh randomness."""
    global _lock, _last_key
    _lock = threading.Lock()
    _random.seed(os.urandom(32))
    _last_key = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_restart_after_fork)
