"""A store that fails on demand: fault injection around a real clickhouse-connect client.

An outage cannot be caused for real on an embedded chDB, so this wrapper stands in for it:
while ``failing`` is set, ``insert``, ``command``, ``query`` and ``raw_insert`` raise
``OperationalError`` (what clickhouse-connect raises for an unreachable server) and ``ping``
answers False; otherwise every call goes to the real client.

>>> store = FaultyClient(open_client(dsn))
>>> store.failing = True            # the store is down …
>>> store.insert("ml_labels", ...)  # raises OperationalError
>>> store.failing = False           # … and back
>>> store.refused                   # calls refused so far
1

``fail_inserts_into`` makes only the inserts into some tables fail (a flush that breaks half-way).
"""

from __future__ import annotations

import threading
from typing import Any

from clickhouse_connect.driver import Client
from clickhouse_connect.driver.exceptions import OperationalError


class FaultyClient:
    """A real client whose calls fail while ``failing`` is set (thread-safe flag)."""

    def __init__(self, client: Client, *, failing: bool = False) -> None:
        self.client = client
        self.fail_inserts_into: set[str] = set()
        self.refused = 0
        self._failing = threading.Event()
        self.failing = failing

    @property
    def failing(self) -> bool:
        return self._failing.is_set()

    @failing.setter
    def failing(self, value: bool) -> None:
        if value:
            self._failing.set()
        else:
            self._failing.clear()

    def insert(self, table: str | None = None, *args: Any, **kwargs: Any) -> Any:
        self._refuse_if_failing(table)
        return self.client.insert(table, *args, **kwargs)

    def raw_insert(self, table: str, *args: Any, **kwargs: Any) -> Any:
        self._refuse_if_failing(table)
        return self.client.raw_insert(table, *args, **kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Any:
        self._refuse_if_failing()
        return self.client.command(*args, **kwargs)

    def query(self, *args: Any, **kwargs: Any) -> Any:
        self._refuse_if_failing()
        return self.client.query(*args, **kwargs)

    def ping(self) -> bool:
        return not self.failing and self.client.ping()

    def __getattr__(self, name: str) -> Any:
        # Everything else (database, close, create_insert_context, …) is the real client's.
        return getattr(self.client, name)

    def _refuse_if_failing(self, table: str | None = None) -> None:
        if self.failing or (table is not None and table in self.fail_inserts_into):
            self.refused += 1
            what = f"insert into {table}" if table else "call"
            raise OperationalError(f"injected fault: the store is unavailable ({what})")
