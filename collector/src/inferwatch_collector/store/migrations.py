"""Numbered schema migrations, recorded in the database table ``schema_migrations``.

A migration is a file ``schema/NNNN_name.sql`` shipped with the package. Its statements end
with ``;`` at the end of a line and name tables as ``{database:Identifier}.table``; the
retention is ``{ttl_days:UInt32}``. Both are bound server-side as query parameters, never
pasted into the text. ClickHouse DDL is not transactional, so statements are written to be
re-runnable (``IF NOT EXISTS``): a migration interrupted half-way is simply run again.

>>> applied = run_migrations(client, ttl_days=30)   # at start-up and by `inferwatch migrate`
>>> [m.file_name for m in applied]                    # [] on the second run
['0001_otel_traces.sql', ...]

A migration already applied whose file has changed stops start-up (``MigrationChecksumError``
naming the file): schema changes go into a new numbered file, never into an old one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files

from clickhouse_connect.driver import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from inferwatch_collector.store.client import ensure_database
from inferwatch_collector.store.errors import MigrationChecksumError, MigrationError
from inferwatch_collector.store.retention import apply_retention, check_ttl_days

SCHEMA_PACKAGE = "inferwatch_collector.schema"
DEFAULT_DATABASE = "default"
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_CREATED_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS \{database:Identifier\}\.(\w+)")

CREATE_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS {database:Identifier}.schema_migrations
(
    version UInt32,
    name String,
    checksum String,
    applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(applied_at)
ORDER BY version
"""
# ReplacingMergeTree: two collectors migrating at once record a version twice, harmlessly.

SELECT_APPLIED = """
SELECT version, name, checksum
FROM {database:Identifier}.schema_migrations FINAL
ORDER BY version
"""

RECORD_APPLIED = """
INSERT INTO {database:Identifier}.schema_migrations (version, name, checksum)
SELECT {version:UInt32}, {name:String}, {checksum:String}
"""


@dataclass(frozen=True)
class Migration:
    """One numbered migration: its version, name and SQL text (the template, unbound)."""

    version: int
    name: str
    sql: str

    @property
    def file_name(self) -> str:
        return f"{self.version:04d}_{self.name}.sql"

    @property
    def checksum(self) -> str:
        """SHA-256 of the template text: the retention setting does not change it."""
        return hashlib.sha256(self.sql.encode()).hexdigest()

    def created_tables(self) -> list[str]:
        """The tables this migration creates (their TTL follows the retention setting)."""
        return _CREATED_TABLE.findall(self.sql)

    def statements(self) -> list[str]:
        """The statements, comment lines removed (a statement ends with ``;`` at line end)."""
        statements, current = [], []
        for line in self.sql.splitlines():
            if not line.lstrip().startswith("--"):
                current.append(line)
            if line.rstrip().endswith(";"):
                statements.append("\n".join(current).strip().removesuffix(";"))
                current = []
        statements.append("\n".join(current).strip())
        return [statement for statement in statements if statement]


def load_migrations() -> list[Migration]:
    """The migrations shipped in the package, by version."""
    migrations = []
    for entry in files(SCHEMA_PACKAGE).iterdir():
        match = _FILE_NAME.match(entry.name)
        if match:
            migrations.append(Migration(int(match[1]), match[2], entry.read_text("utf-8")))
        elif entry.name.endswith(".sql"):
            raise MigrationError(f"migration file {entry.name} is not named NNNN_name.sql")
    return _in_order(migrations)


def run_migrations(
    client: Client,
    *,
    ttl_days: int,
    database: str | None = None,
    migrations: Sequence[Migration] | None = None,
) -> list[Migration]:
    """Apply the migrations not yet recorded, then the retention; return those applied now.

    Args:
        client: an open client (``open_client``).
        ttl_days: retention in days, ≥ 1; a change is applied to existing tables too.
        database: defaults to the client's database, else ``default``.
        migrations: defaults to the package's ``schema/*.sql``.
    """
    check_ttl_days(ttl_days)
    database = database or client.database or DEFAULT_DATABASE
    known = _in_order(load_migrations() if migrations is None else list(migrations))
    ensure_database(client, database)
    client.command(CREATE_MIGRATIONS_TABLE, parameters={"database": database})
    pending = _pending(known, _applied(client, database))
    for migration in pending:
        _apply(client, migration, {"database": database, "ttl_days": ttl_days})
    apply_retention(client, database, ttl_days, [t for m in known for t in m.created_tables()])
    return pending


def _in_order(migrations: list[Migration]) -> list[Migration]:
    migrations = sorted(migrations, key=lambda migration: migration.version)
    for before, after in zip(migrations, migrations[1:], strict=False):
        if before.version == after.version:
            raise MigrationError(
                f"migrations {before.file_name} and {after.file_name} share a version"
            )
    return migrations


def _applied(client: Client, database: str) -> dict[int, tuple[str, str]]:
    rows = client.query(SELECT_APPLIED, parameters={"database": database}).result_rows
    return {version: (name, checksum) for version, name, checksum in rows}


def _pending(known: list[Migration], applied: dict[int, tuple[str, str]]) -> list[Migration]:
    by_version = {migration.version: migration for migration in known}
    for version, (name, checksum) in applied.items():
        migration = by_version.get(version)
        if migration is None:
            raise MigrationError(
                f"the database has migration {version:04d}_{name}.sql, which this version of "
                "inferwatch does not know: upgrade inferwatch"
            )
        if migration.checksum != checksum:
            raise MigrationChecksumError(
                f"migration {migration.file_name} was changed after it was applied; "
                "put schema changes in a new numbered migration"
            )
    return [migration for migration in known if migration.version not in applied]


def _apply(client: Client, migration: Migration, parameters: dict[str, object]) -> None:
    try:
        for statement in migration.statements():
            client.command(statement, parameters=parameters)
    except ClickHouseError as exc:
        raise MigrationError(f"migration {migration.file_name} failed: {exc}") from exc
    record = {"version": migration.version, "name": migration.name, "checksum": migration.checksum}
    client.command(RECORD_APPLIED, parameters={"database": parameters["database"], **record})
