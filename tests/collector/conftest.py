"""Fixtures shared by the collector tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from clickhouse_connect.driver import Client
from hypothesis import settings

from inferwatch_collector.store.client import default_dsn, open_client
from inferwatch_collector.store.migrations import run_migrations


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Client]:
    """A migrated embedded store in a fresh folder (chDB: one folder per process at a time)."""
    client = open_client(default_dsn(tmp_path))
    run_migrations(client, ttl_days=30)
    yield client
    client.close()


@pytest.fixture
def store_dsn(tmp_path: Path) -> str:
    """The DSN of a migrated embedded store in a fresh folder, no client left open (for tests
    that open their own, as separate processes would)."""
    dsn = default_dsn(tmp_path)
    client = open_client(dsn)
    run_migrations(client, ttl_days=30)
    client.close()
    return dsn


# On CI, hypothesis draws the same examples on every run: a red CI then always means a real
# regression, never a rare example found by chance (those are for local runs to find).
if os.environ.get("CI"):
    settings.register_profile("ci", derandomize=True, deadline=None)
    settings.load_profile("ci")
