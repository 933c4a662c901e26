"""A static report as one self-contained HTML file: it opens offline, charts included.

Everything is inside the file: the CSS, the chart data (a JSON ``<script>`` block), and the
web dashboard's own chart code (``web/static/charts.js``, read from the installed package
when the report is written), which draws every chart as SVG when the file is opened. No
external URL, no ``src=``, no request of any kind; the tables (summary, anomalies, alerts,
metrics per window) are plain HTML and read without JavaScript too.
"""

from __future__ import annotations

import json
import re
from html import escape
from importlib import resources
from typing import Any

from inferwatch_collector.report.static_data import StaticReport
from inferwatch_collector.report.static_format import (
    NO_ALERTS,
    NO_ANOMALIES,
    Table,
    alert_table,
    anomaly_table,
    headline_table,
    scope,
    summary_lines,
    title,
    window_tables,
)

CHARTED = ("timeseries", "bar", "heatmap")
"""Visualizations drawn by ``charts.js``; tables are written as HTML, the stat tiles are the
summary."""
ASSETS = ("web", "static")


class MissingAssetError(RuntimeError):
    """The chart code is not in the installed package."""


def read_asset(name: str) -> str | None:
    """A file of the web dashboard's static assets (``None`` if the package has none)."""
    path = resources.files("inferwatch_collector").joinpath(*ASSETS, name)
    return path.read_text(encoding="utf-8") if path.is_file() else None


def render_html(report: StaticReport) -> str:
    charts_js = read_asset("charts.js")
    if charts_js is None:
        raise MissingAssetError(
            "cannot write an HTML report: inferwatch_collector/web/static/charts.js is "
            "missing from the installed package (use --format md, json or csv)"
        )
    css = (read_asset("dashboard.css") or "") + REPORT_CSS
    body = "\n".join(
        [_header(report), _summary(report), _anomalies(report), _charts(report),
         _alerts(report), _windows(report)]
    )  # fmt: skip
    return PAGE.format(
        title=escape(title(report)),
        css=css,
        body=body,
        data=script_json(chart_data(report)),
        charts_js=script_text(charts_js),
        boot_js=BOOT_JS,
    )


def chart_data(report: StaticReport) -> dict[str, Any]:
    """What the page's script draws, as the web dashboard draws it: each charted report; the
    rules' threshold lines on the reports whose header says ``threshold: rules`` (charts.js
    keeps those of the plotted metrics); the alert transitions of this window size and
    segment as markers on the time series, at the window that caused them."""
    lines = report.thresholds()
    request = report.request
    markers = [
        {
            "time": alert.get("window_start") or alert.get("time"),
            "state": alert.get("state"),
            "metric": alert.get("metric"),
            "label": f"{alert.get('rule')}{' v' + alert['version'] if alert.get('version') else ''}"
            f": {alert.get('previous_state')} → {alert.get('state')}",
        }
        for alert in report.alerts
        if alert.get("window") == request.window and alert.get("segment") == request.segment
    ]
    charts = {  # the reports without rows are named under the charts, not drawn
        name: {
            "report": result,
            "thresholds": lines if result.get("threshold") == "rules" else [],
            "markers": markers if result["visualization"] == "timeseries" else [],
        }
        for name, result in report.reports.items()
        if result["visualization"] in CHARTED and result["rows"]
    }
    return {"charts": charts}


def script_json(value: Any) -> str:
    """JSON that cannot end its ``<script>`` element early."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def script_text(code: str) -> str:
    """JavaScript safe inside ``<script>``: ``</script`` written as ``<\\/script``."""
    return re.sub(r"</(script)", r"<\\/\1", code, flags=re.IGNORECASE)


# --- HTML pieces -----------------------------------------------------------------------------


def _table(content: Table) -> str:
    header, rows, numeric = content
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(_cell(text, i in numeric) for i, text in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(text: str, numeric: bool) -> str:
    return f'<td class="num">{escape(text)}</td>' if numeric else f"<td>{escape(text)}</td>"


def _pairs(pairs: list[tuple[str, str]], css: str) -> str:
    items = "".join(f"<div><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>" for k, v in pairs)
    return f'<dl class="{css}">{items}</dl>'


def _section(name: str, heading: str, content: str) -> str:
    return f'<section id="{name}"><h2>{escape(heading)}</h2>{content}</section>'


def _header(report: StaticReport) -> str:
    return f"<header><h1>{escape(title(report))}</h1>{_pairs(scope(report), 'scope')}</header>"


def _summary(report: StaticReport) -> str:
    content = _pairs(summary_lines(report), "tiles")
    if report.summary["headline"]:
        content += f"<h3>Headline metrics</h3>{_table(headline_table(report))}"
    return _section("summary", "Summary", content)


def _anomalies(report: StaticReport) -> str:
    content = _table(anomaly_table(report)) if report.anomalies else f"<p>{NO_ANOMALIES}</p>"
    return _section("anomalies", "Anomalies", content)


def _alerts(report: StaticReport) -> str:
    content = _table(alert_table(report)) if report.alerts else f"<p>{NO_ALERTS}</p>"
    return _section("alerts", "Alerts", content)


def _charts(report: StaticReport) -> str:
    panels, empty = [], []
    for name, result in report.reports.items():
        if result["visualization"] not in CHARTED:
            continue
        if not result["rows"]:
            empty.append(result["title"])
            continue
        unit = f" ({escape(result['unit'])})" if result.get("unit") else ""
        panels.append(
            f'<figure class="panel"><h3>{escape(result["title"])}{unit}</h3>'
            f"<p>{escape(result.get('description') or '')}</p>"
            f'<div class="chart" data-report="{escape(name)}"></div></figure>'
        )
    note = f"<p>No data in the period: {escape(', '.join(empty))}.</p>" if empty else ""
    return _section("charts", "Charts", f'<div class="panels">{"".join(panels)}</div>{note}')


def _windows(report: StaticReport) -> str:
    parts = [
        f"<details><summary>Version {escape(version or '(none)')}: {len(content[1])} windows"
        f"</summary>{_table(content)}</details>"
        for version, content in window_tables(report).items()
    ]
    note = "<p>Per-class and confusion metrics are in the CSV and JSON formats.</p>"
    return _section("windows", "Metrics per window", "".join(parts) + note)


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
{css}
</style>
</head>
<body class="iw-static-report">
{body}
<script type="application/json" id="inferwatch-report-data">{data}</script>
<script>
{charts_js}
</script>
<script>
{boot_js}
</script>
</body>
</html>
"""

BOOT_JS = """(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("inferwatch-report-data").textContent);
  var nodes = document.querySelectorAll("[data-report]");
  for (var i = 0; i < nodes.length; i++) {
    var chart = data.charts[nodes[i].getAttribute("data-report")];
    try {
      window.InferwatchCharts.render(nodes[i], chart.report, {
        thresholds: chart.thresholds,
        markers: chart.markers,
        linkFor: function () { return null; }
      });
    } catch (error) {
      nodes[i].textContent = "This chart could not be drawn: " + error;
      console.error(error);
    }
  }
})();"""

REPORT_CSS = """
.iw-static-report { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
  color: #1d2433; background: #f6f7f9; margin: 0; padding: 24px 32px; }
.iw-static-report h1 { font-size: 22px; margin: 0 0 8px; }
.iw-static-report h2 { font-size: 17px; margin: 28px 0 10px; border-bottom: 1px solid #d8dce3;
  padding-bottom: 4px; }
.iw-static-report h3 { font-size: 14px; margin: 14px 0 6px; }
.iw-static-report dl { display: flex; flex-wrap: wrap; gap: 8px 24px; margin: 0; }
.iw-static-report dl div { min-width: 9em; }
.iw-static-report dt { font-size: 12px; color: #5b6475; }
.iw-static-report dd { margin: 0; font-weight: 600; }
.iw-static-report dl.tiles div { background: #fff; border: 1px solid #d8dce3;
  border-radius: 6px; padding: 8px 12px; }
.iw-static-report table { border-collapse: collapse; background: #fff; font-size: 13px;
  margin: 4px 0 12px; }
.iw-static-report th, .iw-static-report td { border: 1px solid #d8dce3; padding: 3px 8px;
  text-align: left; white-space: nowrap; }
.iw-static-report th { background: #eef0f4; }
.iw-static-report td.num { text-align: right; font-variant-numeric: tabular-nums; }
.iw-static-report .panels { display: grid; gap: 16px;
  grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); }
.iw-static-report figure.panel { margin: 0; background: #fff; border: 1px solid #d8dce3;
  border-radius: 6px; padding: 10px 14px; }
.iw-static-report figure.panel p { margin: 0 0 6px; color: #5b6475; font-size: 12px; }
.iw-static-report .chart { min-height: 220px; }
.iw-static-report details { margin: 6px 0; }
.iw-static-report summary { cursor: pointer; font-weight: 600; }
@media print { .iw-static-report details { display: block; } }
"""
