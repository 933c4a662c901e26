"""The service's small HTTP API for commands that need the store it holds.

One process at a time can open an embedded (chDB) store, so while ``inferwatch serve`` runs,
``inferwatch evaluate`` and ``inferwatch thresholds suggest`` reach the data through it: the
service writes ``<data-dir>/service.json`` (its pid, host and HTTP port) and answers
``POST /api/v1/evaluate`` and ``POST /api/v1/thresholds/suggest`` on its OTLP/HTTP port.
The same file gives the web dashboard's port (``dashboard_port``), whose JSON API
(``/api/v1/reports/<name>``, ``/api/v1/pages/<page>``) serves the reports.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .alert import suggest_threshold
from .evaluate.job import EvaluationJob
from .receive import HttpRequest

Answer = tuple[int, dict[str, str], bytes]
DISCOVERY_FILE = "service.json"


def parse_time(text: str) -> datetime:
    """An ISO 8601 time (``2026-11-27T09:00:00Z``); naive times are taken as UTC."""
    parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _json(status: int, body: dict[str, Any]) -> Answer:
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


def evaluate_route(job: EvaluationJob) -> Callable[[HttpRequest], Answer]:
    """``POST /api/v1/evaluate`` with ``{"from", "to", "windows"}`` (all optional)."""

    def handle(request: HttpRequest) -> Answer:
        try:
            body = json.loads(request.body or b"{}")
            start = parse_time(body["from"]) if body.get("from") else None
            end = parse_time(body["to"]) if body.get("to") else None
            windows = body.get("windows") or None
        except (ValueError, TypeError, KeyError) as exc:
            return _json(400, {"error": f"bad request: {exc}"})
        try:
            report = job.run(windows=windows, start=start, end=end)
        except Exception as exc:  # noqa: BLE001 - reported to the caller, who exits non-zero
            return _json(500, {"error": f"evaluation failed: {exc}"})
        return _json(200, report.as_dict())

    return handle


def suggest_route(job: EvaluationJob) -> Callable[[HttpRequest], Answer]:
    """``POST /api/v1/thresholds/suggest`` with ``{"rule": name, "days": n}``."""

    def handle(request: HttpRequest) -> Answer:
        try:
            body = json.loads(request.body or b"{}")
            rule = job.config.rule(str(body["rule"]))
            days = int(body.get("days", 30))
        except (ValueError, TypeError, KeyError) as exc:
            return _json(400, {"error": str(exc).strip('"')})
        suggestion = suggest_threshold(job.client, rule, days)
        return _json(200, {"text": suggestion.describe()})

    return handle


@dataclass(frozen=True)
class RunningService:
    pid: int
    host: str
    http_port: int
    dashboard_port: int | None = None
    """The web dashboard's port; ``None`` for a service that serves none."""

    @property
    def url(self) -> str:
        """The OTLP/HTTP port's base URL (``/api/v1/evaluate``)."""
        return f"http://{_url_host(self.host)}:{self.http_port}"

    @property
    def dashboard_url(self) -> str | None:
        """The web dashboard's base URL (its pages and ``/api/v1/reports``), if it has one."""
        if self.dashboard_port is None:
            return None
        return f"http://{_url_host(self.host)}:{self.dashboard_port}"


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def write_discovery(
    data_dir: str, host: str, http_port: int, dashboard_port: int | None = None
) -> Path:
    """Record where this service answers, for commands started beside it."""
    path = Path(data_dir) / DISCOVERY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    found = {"pid": os.getpid(), "host": host, "http_port": http_port}
    tmp.write_text(json.dumps({**found, "dashboard_port": dashboard_port}))
    tmp.replace(path)
    return path


def running_service(data_dir: str) -> RunningService | None:
    """The live ``inferwatch serve`` holding ``data_dir``, if there is one."""
    try:
        found = json.loads((Path(data_dir) / DISCOVERY_FILE).read_text())
        os.kill(int(found["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    host = "127.0.0.1" if found["host"] in ("0.0.0.0", "::", "") else found["host"]
    dashboard = found.get("dashboard_port")
    return RunningService(
        int(found["pid"]),
        host,
        int(found["http_port"]),
        None if dashboard is None else int(dashboard),
    )
