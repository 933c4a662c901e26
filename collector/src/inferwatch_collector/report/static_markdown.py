"""A static report as Markdown: the summary, anomalies, alerts and metrics per window."""

from __future__ import annotations

from collections.abc import Sequence
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


def render_markdown(report: StaticReport) -> str:
    parts = [f"# {title(report)}", _lines(scope(report))]
    parts += ["## Summary", _lines(summary_lines(report))]
    if report.summary["headline"]:
        parts += ["### Headline metrics", table(headline_table(report))]
    parts += ["## Anomalies", table(anomaly_table(report)) if report.anomalies else NO_ANOMALIES]
    parts += ["## Alerts", table(alert_table(report)) if report.alerts else NO_ALERTS]
    parts.append("## Metrics per window")
    for version, rows in window_tables(report).items():
        parts += [f"### Version {version or '(none)'}", table(rows)]
    parts.append("Per-class and confusion metrics are in the CSV and JSON formats.")
    return "\n\n".join(parts) + "\n"


def table(content: Table) -> str:
    """A Markdown table; numeric columns aligned right, ``|`` in cells escaped."""
    header, rows, numeric = content
    rule = "|" + "".join("---:|" if i in numeric else "---|" for i in range(len(header)))
    return "\n".join([_row(header), rule, *(_row(row) for row in rows)])


def _row(cells: Sequence[Any]) -> str:
    return "| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |"


def _lines(pairs: Sequence[tuple[str, str]]) -> str:
    return "\n".join(f"- **{label}:** {value}" for label, value in pairs)
