"""The ``inferwatch`` command: ``serve``, ``collector``, ``migrate``, ``evaluate``,
``thresholds``, ``report`` and ``demo``.

Every setting of ``CollectorSettings`` is a flag (``--otlp-http-port``), an environment
variable (``INFERWATCH_OTLP_HTTP_PORT``) and a key of the config file's ``collector:``
section; ``docs/configuration.md`` is the reference. A bad setting stops start-up with one
line naming it and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from .cli_evaluate import add_evaluate_arguments, add_thresholds_arguments, evaluate, suggest
from .cli_report import add_report_arguments, report
from .config import CollectorSettings, ConfigError, flag_name, load_settings
from .demo import add_demo_arguments, run_demo
from .monitoring_config import MonitoringConfig, load_monitoring_config
from .report.definitions import DefinitionError
from .store.errors import InvalidDsnError, StoreError
from .wal.errors import WalError

_HELP = {
    "dsn": "ClickHouse DSN: chdb:///path (embedded) or http(s)://user:pass@host:8123/db "
    "(default: embedded chDB under --data-dir)",
    "data_dir": "folder for the embedded store and the write-ahead log (default ./.inferwatch)",
    "host": "address the receivers listen on (default 127.0.0.1)",
    "otlp_grpc_port": "OTLP/gRPC port (default 4317; 0 picks a free one)",
    "otlp_http_port": "OTLP/HTTP port (default 4318; 0 picks a free one)",
    "http_port": "web dashboard port (default 8080; 0 picks a free one)",
    "dashboards_dir": "folder of extra report definitions (*.sql) beside the built-in ones",
    "max_body_bytes": "largest request accepted, after gzip inflation (default 20 MiB)",
    "retention_days": "days of data kept (TTL; default 30)",
    "batch_max_records": "requests per insert batch at most (default 1000)",
    "batch_max_bytes": "bytes per insert batch at most (default 32 MiB; bounds memory)",
    "batch_interval": "seconds a batch may wait to fill (default 0.2)",
    "queue_max_bytes": "write-ahead log bound; past it receivers answer 429/503 (default 1 GiB)",
    "wal_fsync": "fsync the write-ahead log before acknowledging (default true)",
    "decode_batch_spans": "who converts requests with batch spans, with the embedded chDB: "
    "auto (default: as true, or as spans for batch spans with per-prediction features), "
    "spans (chDB their spans, Python their predictions, at once), true (chDB both) "
    "or false (Python both)",
    "retry_initial": "first retry delay after a failed insert, seconds (default 0.5)",
    "retry_max": "longest retry delay, seconds (default 30)",
    "log_level": "DEBUG, INFO, WARNING or ERROR (default INFO)",
}


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: structured logs that log shippers read as they are."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inferwatch", description="Monitoring for machine-learning models."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, summary in (
        ("serve", "everything on one machine: receivers and writer on the embedded store"),
        ("collector", "the OTLP receivers and the writer alone (scale-out deployments)"),
        ("migrate", "apply the schema migrations and exit"),
    ):
        command = commands.add_parser(name, help=summary, description=summary)
        _add_setting_flags(command)
    for name, summary, add_arguments in (
        (
            "evaluate",
            "compute quality metrics per window, then the alert rules",
            add_evaluate_arguments,
        ),
        (
            "thresholds",
            "choose a rule's threshold from the metric's history",
            add_thresholds_arguments,
        ),
        ("report", "a static report of one model: HTML, Markdown, JSON, CSV", add_report_arguments),
    ):
        command = commands.add_parser(name, help=summary, description=summary)
        add_arguments(command)
        _add_setting_flags(command)
    demo = "a scikit-learn model sends drifting traffic and late labels to the running service"
    add_demo_arguments(commands.add_parser("demo", help=demo, description=demo))
    return parser


def _add_setting_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="YAML config file (settings under 'collector:')")
    for field in fields(CollectorSettings):
        parser.add_argument(
            flag_name(field.name), dest=field.name, default=None, help=_HELP.get(field.name)
        )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "demo":  # a client of the service: no settings, no store
        return run_demo(args)
    flags = {f.name: getattr(args, f.name) for f in fields(CollectorSettings)}
    try:
        settings = load_settings(flags, args.config)
    except ConfigError as exc:
        print(f"inferwatch: {exc}", file=sys.stderr)
        return 2
    _configure_logging(settings.log_level)
    try:
        monitoring = load_monitoring_config(args.config)  # checked whatever the command
    except ConfigError as exc:
        print(f"inferwatch: {exc}", file=sys.stderr)
        return 2
    try:
        if args.command == "migrate":
            return _migrate(settings)
        if args.command == "collector":
            return _serve(settings, None)
        if args.command == "evaluate":
            return evaluate(args, settings, monitoring)
        if args.command == "thresholds":
            return suggest(args, settings, monitoring)
        if args.command == "report":
            return report(args, settings, monitoring)
        return _serve(settings, monitoring)
    except DefinitionError as exc:  # a report definition (--dashboards-dir) that is wrong
        print(f"inferwatch: bad report definition: {exc}", file=sys.stderr)
        return 2
    except InvalidDsnError as exc:  # a bad setting, found when the store is opened
        print(f"inferwatch: --dsn: {exc}", file=sys.stderr)
        return 2
    except (StoreError, WalError, OSError) as exc:  # store unreachable, log locked, port taken
        print(f"inferwatch: cannot start: {exc}", file=sys.stderr)
        return 1


def _serve(settings: CollectorSettings, monitoring: MonitoringConfig | None) -> int:
    from .service import CollectorService

    return CollectorService(settings, monitoring=monitoring).run_until_signalled()


def _configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def _migrate(settings: CollectorSettings) -> int:
    from .store.client import open_client
    from .store.migrations import run_migrations

    client = open_client(settings.store_dsn)
    try:
        applied = run_migrations(client, ttl_days=settings.retention_days)
    finally:
        client.close()
    names = ", ".join(m.file_name for m in applied) or "none (already up to date)"
    print(f"migrations applied: {names}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
