"""The dashboard's JSON API: the report definitions, one report, one page, the alert rules.

::

    GET /api/v1/reports                          {"reports": [{name, title, page, parameters…}]}
    GET /api/v1/reports/model_quality?model=fraud&from=now-1d   one report's rows (as_json)
    GET /api/v1/pages/model?model=fraud&window=1h               {name: as_json, …} of the page
    GET /api/v1/rules                            {"rules": [{name, model, metric, op, …}]}

A bad parameter is ``400 {"error": …}`` naming it; an unknown report or page is ``404``. In a
page, a report whose query fails in the store carries ``"error"`` (and no rows) so that the
others still show.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from clickhouse_connect.driver.exceptions import ClickHouseError

from inferwatch_collector.alert.rules import Rule
from inferwatch_collector.evaluate.durations import format_duration
from inferwatch_collector.receive.http_server import HttpRequest
from inferwatch_collector.report.definitions import PAGES, ReportDefinition
from inferwatch_collector.report.pages import page_definitions
from inferwatch_collector.report.run import ParameterError, bind, json_value, run_report
from inferwatch_collector.web.answers import Answer, json_answer
from inferwatch_collector.web.params import page_values, query_values
from inferwatch_collector.web.rules import rules_json

_logger = logging.getLogger("inferwatch.dashboard")

REPORTS_PREFIX = "/api/v1/reports/"
PAGES_PREFIX = "/api/v1/pages/"
DASHBOARD_PAGES = tuple(page for page in PAGES if page != "none")


class DashboardApi:
    """Answers the API routes from the store ``client`` (shared with the service: a chDB
    client serializes its calls itself, a server client holds no session)."""

    def __init__(
        self,
        client: Any,
        definitions: Mapping[str, ReportDefinition],
        rules: Sequence[Rule] = (),
    ) -> None:
        self.client = client
        self.definitions = definitions
        self.rules = tuple(rules)

    def reports(self, request: HttpRequest) -> Answer:
        """``GET /api/v1/reports``: every definition and its parameters."""
        return json_answer(
            200, {"reports": [definition_json(d) for d in self.definitions.values()]}
        )

    def report(self, request: HttpRequest) -> Answer:
        """``GET /api/v1/reports/<name>?<param>=<value>…``: one report's rows."""
        name = request.path[len(REPORTS_PREFIX) :]
        definition = self.definitions.get(name)
        if definition is None:
            return json_answer(404, {"error": f"no report {name!r}"})
        try:
            result = run_report(self.client, definition, query_values(request.query))
        except ParameterError as exc:
            return json_answer(400, {"error": str(exc)})
        except ClickHouseError as exc:
            _logger.warning("report %s failed: %s", name, _first_line(exc))
            return json_answer(500, {"error": f"report {name!r} failed: {_first_line(exc)}"})
        return json_answer(200, result.as_json())

    def page(self, request: HttpRequest) -> Answer:
        """``GET /api/v1/pages/<page>?<param>=<value>…``: every report of the page, one ``now``."""
        page = request.path[len(PAGES_PREFIX) :]
        if page not in DASHBOARD_PAGES:
            known = ", ".join(DASHBOARD_PAGES)
            return json_answer(404, {"error": f"no page {page!r} (the pages: {known})"})
        try:
            return json_answer(200, self.page_data(page, query_values(request.query)))
        except ParameterError as exc:
            return json_answer(400, {"error": str(exc)})

    def page_data(
        self, page: str, raw: Mapping[str, str], now: datetime | None = None
    ) -> dict[str, dict[str, Any]]:
        """``{name: as_json()}`` of the reports of ``page``.

        Every report's parameters are checked before any query runs, so a bad value is one
        ``ParameterError`` and no work.
        """
        now = now or datetime.now(timezone.utc)
        definitions = page_definitions(self.definitions, page)
        values = page_values(definitions, page, raw, now)
        for definition in definitions:
            bind(definition, values, now=now, strict=False)
        data = {}
        for definition in definitions:
            try:
                result = run_report(self.client, definition, values, now=now, strict=False)
                data[definition.name] = result.as_json()
            except ClickHouseError as exc:
                _logger.warning("report %s failed: %s", definition.name, _first_line(exc))
                data[definition.name] = failed_json(definition, _first_line(exc))
        return data

    def rules_answer(self, request: HttpRequest) -> Answer:
        """``GET /api/v1/rules``: the alert rules in force."""
        return json_answer(200, {"rules": rules_json(self.rules)})


def definition_json(definition: ReportDefinition) -> dict[str, Any]:
    """What a client needs to call a report and show it."""
    return {
        "name": definition.name,
        "title": definition.title,
        "description": definition.description,
        "page": definition.page,
        "order": definition.order,
        "visualization": definition.visualization,
        "roles": dict(definition.columns),
        "threshold": definition.threshold,
        "unit": definition.unit,
        "link": definition.link,
        "max_range": None
        if definition.max_range is None
        else format_duration(definition.max_range),
        "reads_raw_rows": definition.reads_raw_rows,
        "parameters": [
            {
                "name": p.name,
                "type": p.type,
                "default": json_value(p.default),
                "description": p.description,
                "required": p.default is None,
            }
            for p in definition.parameters
        ],
    }


def failed_json(definition: ReportDefinition, message: str) -> dict[str, Any]:
    """A report of a page whose query failed: its header, no rows, and the error."""
    return {
        "report": definition.name,
        "title": definition.title,
        "description": definition.description,
        "visualization": definition.visualization,
        "roles": dict(definition.columns),
        "threshold": definition.threshold,
        "unit": definition.unit,
        "link": definition.link,
        "parameters": {},
        "columns": [],
        "types": [],
        "rows": [],
        "error": message,
    }


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
