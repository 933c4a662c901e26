"""Errors raised by the write-ahead log.

WalError                 any failure of the log
 ├── WalFull             appending would exceed the byte bound (answer 429/503, retry later)
 ├── WalClosed           the log was closed
 ├── WalCorrupt          a record read back does not match its checksum
 └── WalLocked           another process has the directory open
"""

from __future__ import annotations


class WalError(Exception):
    """Base class of every write-ahead log error."""


class WalFull(WalError):
    """Appending would push the pending (not yet done) bytes past ``max_bytes``."""


class WalClosed(WalError):
    """The log was closed; nothing more can be appended or read."""


class WalCorrupt(WalError):
    """Bytes on disk changed after the log was opened (a restart skips them, loudly)."""


class WalLocked(WalError):
    """Another process holds the directory; two writers would corrupt each other's segments."""
