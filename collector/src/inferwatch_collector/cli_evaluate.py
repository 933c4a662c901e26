"""``inferwatch evaluate`` and ``inferwatch thresholds suggest``.

Both open the store themselves — or, when ``inferwatch serve`` holds the embedded store of
the same ``--data-dir``, ask that service to do the work (``service_api.py``).
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .config import CollectorSettings
from .evaluate.windows import backfill_chunks
from .monitoring_config import MonitoringConfig
from .service_api import RunningService, parse_time, running_service


def add_evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    when = parser.add_mutually_exclusive_group(required=True)
    when.add_argument("--once", action="store_true", help="one pass (for cron / CronJob)")
    when.add_argument("--from", dest="start", metavar="T1", help="backfill from (ISO 8601)")
    parser.add_argument("--to", dest="end", metavar="T2", help="backfill to (ISO 8601)")
    parser.add_argument(
        "--window", action="append", metavar="SIZE", help="window size, e.g. 1h (repeatable)"
    )


def add_thresholds_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["suggest"], help="suggest a threshold for a rule")
    parser.add_argument("--rule", required=True, help="the rule's name")
    parser.add_argument("--days", type=int, default=30, help="backtest period (default 30)")


def evaluate(
    args: argparse.Namespace, settings: CollectorSettings, config: MonitoringConfig
) -> int:
    """Run one pass or a backfill; print its report as JSON; non-zero exit on failure."""
    try:
        start = parse_time(args.start) if args.start else None
        end = parse_time(args.end) if args.end else None
    except ValueError as exc:
        print(f"inferwatch: --from/--to: {exc}", file=sys.stderr)
        return 2
    if (start is None) != (end is None) or (start and end and start >= end):
        print("inferwatch: --from and --to go together, with --from before --to", file=sys.stderr)
        return 2
    service = _service_holding(settings)
    if service is not None:
        body = {"from": args.start, "to": args.end, "windows": args.window}
        return _ask(service, "/api/v1/evaluate", body, lambda answer: json.dumps(answer))
    with _job(settings, config) as job:
        if start is None or end is None:
            print(json.dumps(job.run(windows=args.window).as_dict()))
            return 0
        sizes = list(args.window or config.settings.evaluation.windows)
        chunks = backfill_chunks(start, end, sizes)
        show = _progress_bar()
        totals: dict[str, float] = {}
        for done, (lo, hi) in enumerate(chunks, 1):
            report = job.run(windows=sizes, start=lo, end=hi)
            for key, value in report.as_dict().items():
                totals[key] = totals.get(key, 0) + value
            show(done, len(chunks))
    print(json.dumps(totals))
    return 0


def suggest(args: argparse.Namespace, settings: CollectorSettings, config: MonitoringConfig) -> int:
    """Print a threshold suggestion for ``--rule`` with its backtest."""
    try:
        rule = config.rule(args.rule)
    except KeyError as exc:
        print(f"inferwatch: --rule: {exc.args[0]}", file=sys.stderr)
        return 2
    service = _service_holding(settings)
    if service is not None:
        body = {"rule": args.rule, "days": args.days}
        return _ask(service, "/api/v1/thresholds/suggest", body, lambda answer: answer["text"])
    from .alert import suggest_threshold

    with _job(settings, config) as job:
        print(suggest_threshold(job.client, rule, args.days).describe())
    return 0


def _service_holding(settings: CollectorSettings) -> RunningService | None:
    if settings.dsn:  # a server: every process can open it
        return None
    return running_service(settings.data_dir)


def _ask(service: RunningService, path: str, body: dict[str, Any], show: Any) -> int:
    request = urllib.request.Request(
        service.url + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            print(show(json.loads(response.read())))
            return 0
    except urllib.error.HTTPError as exc:
        print(
            f"inferwatch: the service answered {exc.code}: {exc.read().decode()}", file=sys.stderr
        )
    except OSError as exc:
        print(f"inferwatch: cannot reach the service at {service.url}: {exc}", file=sys.stderr)
    return 1


@contextmanager
def _job(settings: CollectorSettings, config: MonitoringConfig) -> Iterator[Any]:
    from .evaluate.job import EvaluationJob
    from .store.client import open_client
    from .store.migrations import run_migrations

    client = open_client(settings.store_dsn)
    try:
        run_migrations(client, ttl_days=settings.retention_days)
        yield EvaluationJob(client, config)
    finally:
        client.close()


def _progress_bar() -> Callable[[int, int], None]:
    """A text progress bar on stderr, one step per backfill chunk."""

    def show(done: int, total: int) -> None:
        filled = 30 * done // max(total, 1)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} chunks")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show
