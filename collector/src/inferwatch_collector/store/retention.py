"""Retention: the tables' TTL follows the ``ttl_days`` setting, also when it changes later.

Migrations create each table with ``TTL <time> + INTERVAL {ttl_days:UInt32} DAY``. When the
setting changes, :func:`apply_retention` reads each table's TTL from ``system.tables`` and
re-issues it with the new number of days (``ALTER TABLE … MODIFY TTL``); tables already at the
setting are left alone, so start-up does no work in the common case.

>>> apply_retention(client, "default", 7, ["ml_predictions", "ml_labels"])
['ml_predictions', 'ml_labels']
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from clickhouse_connect.driver import Client

MAX_TTL_DAYS = 10_000
"""About 27 years: the TTL adds days to a ``DateTime``, which ends in 2106; a longer
retention would wrap around and expire every row as it is written."""

SELECT_TABLE_ENGINES = """
SELECT name, engine_full
FROM system.tables
WHERE database = {database:String} AND name IN {tables:Array(String)}
"""

# The TTL as ClickHouse prints it back: `TTL toDateTime(Timestamp) + toIntervalDay(30)`, or
# `toIntervalDay(_CAST(30, 'UInt32'))` when the days were bound as a query parameter.
_DAY_TTL = re.compile(r"\bTTL (?P<time>.+?) \+ toIntervalDay\((?:_CAST\()?(?P<days>\d+)")

MODIFY_TTL = (
    "ALTER TABLE {{database:Identifier}}.{{table:Identifier}} "
    "MODIFY TTL {time} + INTERVAL {{ttl_days:UInt32}} DAY"
)
"""``{time}`` is the table's own TTL time expression, read back from ``system.tables``."""


def check_ttl_days(ttl_days: int) -> None:
    """Refuse a retention that is not a whole number of days in 1‥MAX_TTL_DAYS."""
    if isinstance(ttl_days, bool) or not isinstance(ttl_days, int):
        raise ValueError(f"retention ttl_days must be a whole number of days, not {ttl_days!r}")
    if not 1 <= ttl_days <= MAX_TTL_DAYS:
        raise ValueError(f"retention ttl_days must be between 1 and {MAX_TTL_DAYS}: {ttl_days}")


def apply_retention(
    client: Client, database: str, ttl_days: int, tables: Sequence[str]
) -> list[str]:
    """Set the TTL of ``tables`` to ``ttl_days``; return the tables that changed."""
    check_ttl_days(ttl_days)
    parameters = {"database": database, "tables": list(tables)}
    changed = []
    for table, engine in client.query(SELECT_TABLE_ENGINES, parameters=parameters).result_rows:
        ttl = _DAY_TTL.search(engine)
        if ttl and int(ttl["days"]) != ttl_days:
            alter = MODIFY_TTL.format(time=ttl["time"])
            bound = {"database": database, "table": table, "ttl_days": ttl_days}
            client.command(alter, parameters=bound)
            changed.append(table)
    return changed
