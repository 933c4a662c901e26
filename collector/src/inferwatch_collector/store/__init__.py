"""ClickHouse storage: open the store a DSN names, migrate its schema, insert flushes.

>>> from inferwatch_collector.store import open_client, run_migrations, insert_tables
>>> client = open_client("chdb:///var/lib/inferwatch/store")
>>> run_migrations(client, ttl_days=30)
>>> insert_tables(client, tables, dedup_token="wal-000042-000051")

See docs/storage.md for the tables, their keys and codecs, retention and idempotency.
"""

from __future__ import annotations

from inferwatch_collector.store.client import default_dsn, open_client, redact_dsn
from inferwatch_collector.store.errors import (
    InvalidDsnError,
    MigrationChecksumError,
    MigrationError,
    StoreError,
    StoreUnavailableError,
)
from inferwatch_collector.store.migrations import Migration, load_migrations, run_migrations
from inferwatch_collector.store.retention import apply_retention
from inferwatch_collector.store.writer import insert_tables

__all__ = [
    "InvalidDsnError",
    "Migration",
    "MigrationChecksumError",
    "MigrationError",
    "StoreError",
    "StoreUnavailableError",
    "apply_retention",
    "default_dsn",
    "insert_tables",
    "load_migrations",
    "open_client",
    "redact_dsn",
    "run_migrations",
]
