"""``inferwatch report``: a static report of one model over a period (HTML, Markdown, JSON, CSV).

It opens the store itself — or, when ``inferwatch serve`` holds the embedded store of the same
``--data-dir``, reads through that service's dashboard API (``report/static_source.py``).
``docs/reports.md`` ("Static reports") is the reference.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .config import CollectorSettings
from .evaluate.durations import parse_duration
from .monitoring_config import MonitoringConfig
from .report.static_data import NoDataError, ReportRequest, StaticReport, gather_report
from .report.static_source import ReportSource, ServiceSource, SourceError, StoreSource
from .service_api import running_service

FORMATS = ("html", "md", "json", "csv")
SUFFIXES = {".html": "html", ".htm": "html", ".md": "md", ".json": "json", ".csv": "csv"}
DEFAULT_PERIOD = timedelta(days=7)


class UsageError(ValueError):
    """A flag's value is wrong; the message names the flag (exit status 2)."""


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="the model's name")
    parser.add_argument(
        "--from", dest="start", metavar="T1",
        help="start of the period: ISO 8601 or now-<duration> (default: 7 days before --to)",
    )  # fmt: skip
    parser.add_argument(
        "--to", dest="end", metavar="T2", help="end of the period, excluded (default: now)"
    )
    parser.add_argument(
        "--window", metavar="SIZE",
        help="window size of the evaluations (default: the config's first evaluation window)",
    )  # fmt: skip
    parser.add_argument("--version", default="", help="one version of the model (default: all)")
    parser.add_argument(
        "--segment", default="", help="one segment, e.g. region=eu (default: all traffic)"
    )
    parser.add_argument(
        "--format", choices=FORMATS,
        help="html, md, json or csv (default: from the -o file's extension, else md)",
    )  # fmt: skip
    parser.add_argument(
        "-o", "--output", metavar="FILE", default="-", help="where to write it (default -: stdout)"
    )


def report(args: argparse.Namespace, settings: CollectorSettings, config: MonitoringConfig) -> int:
    """Write the report; exit 2 on a bad flag, 1 when there is nothing to report or no data."""
    try:
        request = report_request(args, config)
        kind = output_format(args.format, args.output)
    except UsageError as exc:
        print(f"inferwatch: {exc}", file=sys.stderr)
        return 2
    from .report.definitions import DefinitionError
    from .report.run import ParameterError
    from .report.static_html import MissingAssetError

    try:
        with _source(settings, config) as source:
            data = gather_report(source, request)
        text = render(kind, data)
    except (DefinitionError, ParameterError) as exc:
        print(f"inferwatch: {exc}", file=sys.stderr)
        return 2
    except (NoDataError, SourceError, MissingAssetError) as exc:
        print(f"inferwatch: {exc}", file=sys.stderr)
        return 1
    try:
        _write(text, args.output)
    except OSError as exc:
        print(f"inferwatch: -o: cannot write {args.output}: {exc}", file=sys.stderr)
        return 1
    if args.output != "-":
        windows = data.summary["windows"]
        print(f"inferwatch: wrote {args.output} ({kind}, {windows} windows)", file=sys.stderr)
    return 0


def report_request(args: argparse.Namespace, config: MonitoringConfig) -> ReportRequest:
    """The flags checked and resolved to absolute times (``UsageError`` naming the flag)."""
    from .report.run import parse_time_value

    now = datetime.now(timezone.utc)
    try:
        end = parse_time_value(args.end, now) if args.end else now
    except ValueError as exc:
        raise UsageError(f"--to: expected ISO 8601 or now-<duration>, got {args.end!r}") from exc
    try:
        start = parse_time_value(args.start, now) if args.start else end - DEFAULT_PERIOD
    except ValueError as exc:
        raise UsageError(
            f"--from: expected ISO 8601 or now-<duration>, got {args.start!r}"
        ) from exc
    if start >= end:
        raise UsageError(f"--from ({args.start}) must be before --to ({args.end or 'now'})")
    window = args.window or config.settings.evaluation.windows[0]
    try:
        parse_duration(window)
    except ValueError as exc:
        raise UsageError(
            f"--window: expected a duration such as 5m, 1h or 1d, got {window!r}"
        ) from exc
    if not args.model.strip():
        raise UsageError("--model: expected a model's name")
    if args.output != "-" and not Path(args.output).parent.is_dir():
        raise UsageError(f"-o: no folder {str(Path(args.output).parent)!r} to write into")
    return ReportRequest(args.model, start, end, window, args.version, args.segment)


def output_format(chosen: str | None, output: str) -> str:
    if chosen:
        return chosen
    return SUFFIXES.get(Path(output).suffix.lower(), "md") if output != "-" else "md"


def render(kind: str, data: StaticReport) -> str:
    """The report in one of ``FORMATS``."""
    from .report import static_csv, static_html, static_json, static_markdown

    renderers: dict[str, Callable[[StaticReport], str]] = {
        "html": static_html.render_html,
        "md": static_markdown.render_markdown,
        "json": static_json.render_json,
        "csv": static_csv.render_csv,
    }
    return renderers[kind](data)


@contextmanager
def _source(settings: CollectorSettings, config: MonitoringConfig) -> Iterator[ReportSource]:
    service = None if settings.dsn else running_service(settings.data_dir)
    if service is not None:  # serve holds the embedded store: read through its dashboard API
        url = service.dashboard_url
        if url is None:
            raise SourceError(
                f"inferwatch serve (pid {service.pid}) holds the store of {settings.data_dir} "
                "but announces no dashboard port; stop it, or run the report against a "
                "ClickHouse server with --dsn"
            )
        yield ServiceSource(url)
        return
    from clickhouse_connect.driver.exceptions import ClickHouseError

    from .report.definitions import load_definitions
    from .store.client import EMBEDDED_FOLDER, open_client

    if not settings.dsn and not (Path(settings.data_dir) / EMBEDDED_FOLDER).is_dir():
        raise SourceError(f"no store in --data-dir {settings.data_dir} (nothing to report)")
    definitions = load_definitions(settings.dashboards_dir or None)
    client = open_client(settings.store_dsn)
    try:
        yield StoreSource(client, definitions, config)
    except ClickHouseError as exc:
        raise SourceError(_store_problem(exc, settings)) from exc
    finally:
        client.close()


def _store_problem(exc: Exception, settings: CollectorSettings) -> str:
    text = str(exc).strip()
    if "UNKNOWN_TABLE" in text:
        where = "--dsn" if settings.dsn else f"--data-dir {settings.data_dir}"
        return f"no inferwatch tables in the store of {where} (wrong folder? not migrated?)"
    first = text.splitlines()[0] if text else type(exc).__name__
    return f"cannot read the store: {first[:300]}"


def _write(text: str, output: str) -> None:
    if output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    path = Path(output)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
