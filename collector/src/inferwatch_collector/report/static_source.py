"""Where a static report reads its data: the store itself, or the running service's API.

Both sources answer in the same shape — reports as ``ReportResult.as_json()`` dicts, rules as
the dicts of ``GET /api/v1/rules`` — so the rest of the static report never knows which one
it talks to:

>>> source = StoreSource(client, load_definitions(), config)        # the store is ours
>>> source = ServiceSource("http://127.0.0.1:8080")                 # serve holds it
>>> source.page("model", {"model": "fraud", "from": "2026-11-20T00:00:00Z"})["model_quality"]
{'report': 'model_quality', 'title': 'Quality', ..., 'rows': [...]}

One process at a time can open an embedded (chDB) store: while ``inferwatch serve`` holds it,
``inferwatch report`` reads through the service's dashboard API instead.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from inferwatch_collector.monitoring_config import MonitoringConfig
from inferwatch_collector.report.definitions import ReportDefinition
from inferwatch_collector.report.pages import run_page
from inferwatch_collector.report.run import run_report
from inferwatch_collector.web.rules import rules_json

Json = dict[str, Any]


class SourceError(RuntimeError):
    """The data could not be read (the service refused or could not be reached)."""


class ReportSource(Protocol):
    """What a static report reads. Values are text, as in a dashboard URL's query."""

    kind: str
    """``store`` or ``service``: shown in the report, nothing depends on it."""

    def page(self, page: str, values: Mapping[str, str]) -> dict[str, Json]:
        """Every report of a dashboard page: ``{name: as_json()}``."""
        ...

    def report(self, name: str, values: Mapping[str, str]) -> Json:
        """One report's ``as_json()``."""
        ...

    def rules(self) -> list[Json]:
        """The alert rules as ``web/rules.py`` writes them: name, model, version, segment,
        metric, window, op, threshold (a number or ``"auto"``), severity."""
        ...


class StoreSource:
    """Reports run on a storage client this process opened; rules from the config file."""

    kind = "store"

    def __init__(
        self,
        client: Any,
        definitions: Mapping[str, ReportDefinition],
        config: MonitoringConfig,
        now: datetime | None = None,
    ) -> None:
        self.client = client
        self.definitions = definitions
        self.config = config
        self.now = now

    def page(self, page: str, values: Mapping[str, str]) -> dict[str, Json]:
        results = run_page(self.client, self.definitions, page, values, now=self.now)
        return {name: result.as_json() for name, result in results.items()}

    def report(self, name: str, values: Mapping[str, str]) -> Json:
        definition = self.definitions.get(name)
        if definition is None:
            raise SourceError(f"no report definition named {name!r}")
        return run_report(self.client, definition, values, now=self.now).as_json()

    def rules(self) -> list[Json]:
        return rules_json(self.config.rules)


class ServiceSource:
    """The dashboard API of a running ``inferwatch serve`` (``/api/v1/...``)."""

    kind = "service"

    def __init__(self, dashboard_url: str, timeout: float = 120.0) -> None:
        self.base = dashboard_url.rstrip("/")
        self.timeout = timeout

    def page(self, page: str, values: Mapping[str, str]) -> dict[str, Json]:
        answer: dict[str, Json] = self._get(f"/api/v1/pages/{_quote(page)}", values)
        return answer

    def report(self, name: str, values: Mapping[str, str]) -> Json:
        answer: Json = self._get(f"/api/v1/reports/{_quote(name)}", values)
        return answer

    def rules(self) -> list[Json]:
        rules: list[Json] = self._get("/api/v1/rules", {})["rules"]
        return rules

    def _get(self, path: str, values: Mapping[str, str]) -> Any:
        query = urllib.parse.urlencode(values)
        url = f"{self.base}{path}{'?' + query if query else ''}"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise SourceError(f"the service answered {exc.code} to {path}: {_error(exc)}") from exc
        except OSError as exc:
            raise SourceError(f"cannot reach the service at {self.base}: {exc}") from exc
        except ValueError as exc:
            raise SourceError(f"the service's answer to {path} is not JSON: {exc}") from exc


def _quote(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")


def _error(exc: urllib.error.HTTPError) -> str:
    body = exc.read().decode(errors="replace")
    try:
        return str(json.loads(body)["error"])
    except (ValueError, KeyError, TypeError):
        return body.strip() or str(exc.reason)
