"""Errors raised by the storage layer, each naming what was wrong.

Tree::

    StoreError
    ├── InvalidDsnError          a DSN that cannot name a store (also a ValueError)
    ├── StoreUnavailableError    the store named by a valid DSN cannot be opened
    └── MigrationError           the schema in the database cannot be brought up to date
        └── MigrationChecksumError   an applied migration's file has changed since

Errors of the ClickHouse client itself (``clickhouse_connect.driver.exceptions``) pass through
unchanged from inserts and queries: the writer retries on them.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base class of every storage error."""


class InvalidDsnError(StoreError, ValueError):
    """The DSN is malformed or uses an unsupported scheme."""


class StoreUnavailableError(StoreError):
    """The store could not be opened (folder in use, server unreachable, …)."""


class MigrationError(StoreError):
    """A migration could not be applied, or the database is ahead of this version."""


class MigrationChecksumError(MigrationError):
    """A migration already applied to the database no longer matches its file."""
