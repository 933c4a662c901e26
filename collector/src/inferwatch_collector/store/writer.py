"""The insert side: one columnar insert per table per flush, idempotent on replay.

Each table's insert carries ``insert_deduplication_token = "<dedup_token>:<table>"``. ClickHouse
remembers the tokens of the last inserts (the tables' ``non_replicated_deduplication_window``,
or ``replicated_deduplication_window`` on a cluster) and drops a block whose token it has seen,
so replaying a flush after a crash — or after an insert into the next table failed — stores
each row once. The token must be a pure function of the flush's content, e.g. the write-ahead
log's first and last record numbers.

>>> counts = insert_tables(client, {"ml_labels": labels}, dedup_token="wal-000042-000051")
>>> counts
{'ml_labels': 3}
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from clickhouse_connect.datatypes.base import ClickHouseType
from clickhouse_connect.driver import Client

if TYPE_CHECKING:
    from inferwatch_collector.rows import TableColumns

_ColumnTypes = Sequence[ClickHouseType]

# Column types per client and (table, columns): without them clickhouse-connect describes the
# table before every insert, a round trip per table per flush (bench/store.py measures both).
_column_types: weakref.WeakKeyDictionary[Client, dict[tuple[str, tuple[str, ...]], _ColumnTypes]]
_column_types = weakref.WeakKeyDictionary()


def insert_tables(
    client: Client, tables: Mapping[str, TableColumns], dedup_token: str
) -> dict[str, int]:
    """Insert one flush, table by table; return the rows per table (0 for an empty table).

    Args:
        client: an open client (``open_client``); inserts go to its database.
        tables: table name → its columns for this flush.
        dedup_token: deterministic for the flush, so that a replay is recognised.

    Raises:
        clickhouse_connect.driver.exceptions.ClickHouseError: an insert failed; the tables
            before it are stored, and replaying the same flush with the same token is safe.
    """
    counts = {}
    for table, columns in tables.items():
        counts[table] = columns.row_count
        if columns.row_count:
            insert_table(client, table, columns, f"{dedup_token}:{table}")
    return counts


def insert_table(client: Client, table: str, columns: TableColumns, token: str) -> None:
    """One columnar insert of ``columns`` into ``table``, deduplicated by ``token``."""
    names = tuple(columns.columns)
    client.insert(
        table,
        data=list(columns.columns.values()),
        column_names=names,
        column_types=_types_of(client, table, names),
        column_oriented=True,
        settings={"insert_deduplicate": 1, "insert_deduplication_token": token},
    )


def _types_of(client: Client, table: str, names: tuple[str, ...]) -> _ColumnTypes:
    known = _column_types.setdefault(client, {})
    types = known.get((table, names))
    if types is None:
        types = client.create_insert_context(table, list(names)).column_types
        known[(table, names)] = types
    return types
