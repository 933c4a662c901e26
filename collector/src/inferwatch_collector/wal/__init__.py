"""The collector's durable queue: a write-ahead log on disk.

Receivers ``append`` each accepted request and acknowledge once it returns; the ClickHouse
writer drains batches with ``read_batch`` / ``claim`` / ``complete``. Guarantees, bounds and
the disk layout are described in docs/durability.md.

    log.py           WriteAheadLog, the public face
    frame.py         the on-disk record format
    segment.py       segment files and reading them by offset
    recovery.py      checking segments on open: torn tails, damage
    reading.py       reading records across segments
    group_commit.py  one fsync per group of appenders
    state.py         the done-seq and claim, replaced atomically
    disk.py          the system calls that make things durable
"""

from __future__ import annotations

from inferwatch_collector.wal.errors import WalClosed, WalCorrupt, WalError, WalFull, WalLocked
from inferwatch_collector.wal.frame import WalRecord
from inferwatch_collector.wal.log import WriteAheadLog

__all__ = [
    "WalClosed",
    "WalCorrupt",
    "WalError",
    "WalFull",
    "WalLocked",
    "WalRecord",
    "WriteAheadLog",
]
