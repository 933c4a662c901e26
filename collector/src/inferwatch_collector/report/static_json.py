"""A static report as JSON: the summary, the anomalies, the metric rows and every report."""

from __future__ import annotations

import json
from typing import Any

from inferwatch_collector.report.static_data import StaticReport, iso


def report_json(report: StaticReport) -> dict[str, Any]:
    """The whole report as one JSON-ready dict (``reports``: each ``as_json()``)."""
    request = report.request
    return {
        "model": request.model,
        "version": request.version,
        "segment": request.segment,
        "window": request.window,
        "from": iso(request.start),
        "to": iso(request.end),
        "generated_at": iso(report.generated_at),
        "source": report.source,
        "summary": report.summary,
        "anomalies": report.anomalies,
        "rules": report.rules,
        "evaluations": report.evaluations,
        "reports": report.reports,
    }


def render_json(report: StaticReport) -> str:
    return json.dumps(report_json(report), indent=2, ensure_ascii=False) + "\n"
