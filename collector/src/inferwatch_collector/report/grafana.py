"""Grafana dashboards generated from the report definitions: one dashboard per page.

    python -m inferwatch_collector.report.grafana [--out DIR] [--dashboards-dir DIR] [--check]

writes ``inferwatch-overview.json``, ``inferwatch-model.json``, ``inferwatch-alerts.json`` and
``inferwatch-window.json`` (default: the repository's ``dashboards/grafana/``) for Grafana's
ClickHouse data source plugin (``grafana-clickhouse-datasource``). Each page's definitions
become its panels, in their ``order``; their parameters become the dashboard's time range and
variables (``report/grafana_sql.py``). The output is stable — sorted keys, fixed uids, ids
and layout — so regenerating unchanged definitions gives the same bytes, and
``tests/collector/test_grafana_dashboards.py`` fails when the committed files are stale.

>>> dashboards = build_dashboards(load_definitions())
>>> sorted(dashboards)[0], dashboards["inferwatch-model.json"]["uid"]
('inferwatch-alerts.json', 'inferwatch-model')
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from inferwatch_collector.report.definitions import (
    DefinitionError,
    Parameter,
    ReportDefinition,
    builtin_folder,
    load_definitions,
)
from inferwatch_collector.report.grafana_panels import MIN_PLUGIN_VERSION, build_panel, panel_size
from inferwatch_collector.report.grafana_sql import GrafanaError, panel_sql
from inferwatch_collector.report.grafana_variables import (
    PLUGIN_ID,
    dashboard_variable,
    datasource_variable,
)
from inferwatch_collector.report.pages import page_definitions

SCHEMA_VERSION = 41
"""The dashboard schema of Grafana 12; Grafana 10 and 11 open it as it is."""
TAG = "inferwatch"
REGENERATE = "python -m inferwatch_collector.report.grafana"

PAGES = {
    "overview": ("Overview", "Every model and version: status, firing alerts, newest metrics."),
    "model": (
        "Model",
        "One model over time: quality, label coverage, volume, latency, errors, drift, alerts.",
    ),
    "alerts": ("Alerts", "How often each rule fired, and every change of alert state."),
    "window": (
        "Window",
        "One evaluation window of a model: every metric and the misclassified predictions.",
    ),
}
_VARIABLE_ORDER = ("model", "version", "segment", "window", "window_start")
_WINDOW_LINK_VARIABLES = ("model", "version", "segment", "window")


def dashboard_uid(page: str) -> str:
    return f"inferwatch-{page}"


def dashboard_file(page: str) -> str:
    return f"inferwatch-{page}.json"


def build_dashboards(definitions: Mapping[str, ReportDefinition]) -> dict[str, dict[str, Any]]:
    """Every page's dashboard that has at least one definition, by file name."""
    pages = [page for page in PAGES if page_definitions(definitions, page)]
    return {
        dashboard_file(page): build_dashboard(page_definitions(definitions, page), page, pages)
        for page in pages
    }


def build_dashboard(
    reports: Sequence[ReportDefinition], page: str, pages: Sequence[str]
) -> dict[str, Any]:
    """The dashboard of ``page`` showing ``reports`` (in order); ``pages``: those generated."""
    names = _variable_names(reports, page)
    links = _link_urls(names, pages)
    panels = []
    for panel_id, definition in enumerate(reports, start=1):
        panel, _ = build_panel(definition, page, panel_id, links)
        panels.append(panel)
    _lay_out(panels, reports)
    declared = _declared(reports)
    variables = [datasource_variable()]
    variables += [dashboard_variable(n, declared.get(n), set(names)) for n in names]
    title, description = PAGES[page]
    return {
        "__requires": _requires(panels),
        "annotations": {"list": [_builtin_annotations()]},
        "description": description,
        "editable": True,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "id": None,
        "links": [
            {
                "asDropdown": False,
                "icon": "external link",
                "includeVars": True,
                "keepTime": True,
                "tags": [TAG],
                "targetBlank": False,
                "title": "inferwatch",
                "type": "dashboards",
            }
        ],
        "panels": panels,
        "refresh": "1m",
        "schemaVersion": SCHEMA_VERSION,
        "tags": [TAG],
        "templating": {"list": variables},
        "time": _time_range(declared),
        "timepicker": {"hidden": page == "window"},
        "timezone": "utc",
        "title": f"inferwatch · {title}",
        "uid": dashboard_uid(page),
        "version": 1,
        "weekStart": "",
    }


def dashboard_json(dashboard: Mapping[str, Any]) -> str:
    """The file's text: sorted keys, two-space indent, a final newline."""
    return json.dumps(dashboard, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_dashboards(out: Path, definitions: Mapping[str, ReportDefinition]) -> list[Path]:
    """Write every dashboard into ``out`` (created if missing); the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, dashboard in build_dashboards(definitions).items():
        path = out / name
        path.write_text(dashboard_json(dashboard), encoding="utf-8", newline="\n")
        written.append(path)
    return written


def stale_dashboards(out: Path, definitions: Mapping[str, ReportDefinition]) -> list[str]:
    """The file names in ``out`` that differ from what the definitions generate (changed,
    missing, or an ``inferwatch-*.json`` no page generates any more)."""
    expected = {name: dashboard_json(d) for name, d in build_dashboards(definitions).items()}
    present = {p.name for p in out.glob("inferwatch-*.json")} if out.is_dir() else set()
    stale = sorted(present - set(expected))
    for name, text in sorted(expected.items()):
        path = out / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale


def default_output() -> Path:
    """The repository's ``dashboards/grafana/`` (through the package's ``dashboards`` link)."""
    return builtin_folder() / "grafana"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=REGENERATE,
        description="Generate the Grafana dashboards from the report definitions.",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder (default: dashboards/grafana/)"
    )
    parser.add_argument(
        "--dashboards-dir", default=None, help="a folder of extra report definitions (*.sql)"
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a file is out of date"
    )
    args = parser.parse_args(argv)
    out = args.out or default_output()
    try:
        definitions = load_definitions(args.dashboards_dir)
        if args.check:
            stale = stale_dashboards(out, definitions)
            for name in stale:
                print(f"{out / name}: out of date; run {REGENERATE}", file=sys.stderr)
            return 1 if stale else 0
        for path in write_dashboards(out, definitions):
            print(path)
    except (DefinitionError, GrafanaError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


# --- parts ----------------------------------------------------------------------------------


def _variable_names(reports: Sequence[ReportDefinition], page: str) -> list[str]:
    used: dict[str, None] = {}
    for definition in reports:
        used.update(dict.fromkeys(panel_sql(definition, page)[1]))
    known = [name for name in _VARIABLE_ORDER if name in used]
    return known + [name for name in used if name not in _VARIABLE_ORDER]


def _declared(reports: Sequence[ReportDefinition]) -> dict[str, Parameter]:
    """Each parameter as the page's first report (in order) declares it."""
    declared: dict[str, Parameter] = {}
    for definition in reports:
        for parameter in definition.parameters:
            declared.setdefault(parameter.name, parameter)
    return declared


def _link_urls(names: Sequence[str], pages: Sequence[str]) -> dict[str, str]:
    """Data link URLs by ``link`` kind. Values are percent-encoded into the URL."""
    links = {}
    if "model" in pages:
        links["model"] = (
            f"/d/{dashboard_uid('model')}?var-model=${{__value.raw:percentencode}}"
            "&${__url_time_range}"
        )
    if "window" in pages:
        carried = [f"var-{n}=${{{n}:percentencode}}" for n in _WINDOW_LINK_VARIABLES if n in names]
        query = "&".join([*carried, "var-window_start=${__value.time}"])
        links["time"] = f"/d/{dashboard_uid('window')}?{query}"
    return links


def _lay_out(panels: list[dict[str, Any]], reports: Sequence[ReportDefinition]) -> None:
    """Left to right in rows of 24 units, in the reports' order."""
    x = y = row_height = 0
    for panel, definition in zip(panels, reports, strict=True):
        width, height = panel_size(definition)
        if x + width > 24:
            x, y, row_height = 0, y + row_height, 0
        panel["gridPos"] = {"h": height, "w": width, "x": x, "y": y}
        x += width
        row_height = max(row_height, height)


def _time_range(declared: Mapping[str, Parameter]) -> dict[str, str]:
    start, end = declared.get("from"), declared.get("to")
    return {
        "from": str(start.default) if start is not None and start.default else "now-7d",
        "to": str(end.default) if end is not None and end.default else "now",
    }


def _requires(panels: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    kinds = sorted({str(panel["type"]) for panel in panels})
    return [
        {"id": "grafana", "name": "Grafana", "type": "grafana", "version": "10.0.0"},
        {
            "id": PLUGIN_ID,
            "name": "ClickHouse",
            "type": "datasource",
            "version": MIN_PLUGIN_VERSION,
        },
        *({"id": kind, "name": kind, "type": "panel", "version": ""} for kind in kinds),
    ]


def _builtin_annotations() -> dict[str, Any]:
    return {
        "builtIn": 1,
        "datasource": {"type": "grafana", "uid": "-- Grafana --"},
        "enable": True,
        "hide": True,
        "iconColor": "rgba(0, 211, 255, 1)",
        "name": "Annotations & Alerts",
        "type": "dashboard",
    }


if __name__ == "__main__":
    sys.exit(main())
