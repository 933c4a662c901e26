"""Gathering a static report's data: the model page, every window's metrics, the rules.

>>> request = ReportRequest(model="fraud", start=t1, end=t2, window="1h")
>>> report = gather_report(StoreSource(client, definitions, config), request)
>>> report.summary["predictions"], len(report.evaluations), len(report.anomalies)
(16800, 2352, 3)

The dashboard's ``model`` page gives the charts and the alerts (``model_alerts``);
``model_evaluations`` gives every window's metric rows in one query (the CSV table); the
summary and the anomalies are computed from those rows (``static_summary.py``,
``static_anomalies.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from inferwatch_collector.report.run import json_value
from inferwatch_collector.report.static_anomalies import find_anomalies, rule_thresholds
from inferwatch_collector.report.static_source import Json, ReportSource, SourceError
from inferwatch_collector.report.static_summary import summarize

ALERTS_REPORT = "model_alerts"
EVALUATIONS_REPORT = "model_evaluations"
EVALUATION_COLUMNS = (
    "model",
    "version",
    "segment",
    "window",
    "window_start",
    "metric",
    "value",
    "ci_low",
    "ci_high",
    "support",
)
"""One metric of one window: the CSV table's columns, in order."""


class NoDataError(LookupError):
    """The model has no evaluations in the range (unknown model, or nothing evaluated)."""


@dataclass(frozen=True)
class ReportRequest:
    """What ``inferwatch report`` was asked for. ``version``/``segment`` ``""``: all."""

    model: str
    start: datetime
    end: datetime
    window: str = "1h"
    version: str = ""
    segment: str = ""

    def values(self) -> dict[str, str]:
        """The page parameters, as text (the same for both sources)."""
        return {
            "model": self.model,
            "version": self.version,
            "segment": self.segment,
            "window": self.window,
            "from": iso(self.start),
            "to": iso(self.end),
        }


@dataclass(frozen=True)
class StaticReport:
    """Everything the renderers show; they never query anything themselves."""

    request: ReportRequest
    generated_at: datetime
    source: str
    reports: dict[str, Json]
    """The model page: ``{name: as_json()}``, in page order."""
    evaluations: list[dict[str, Any]]
    """Metric rows of every window (``EVALUATION_COLUMNS`` + ``label_coverage``), sorted."""
    rules: list[Json]
    """The rules that watch this model at this window size."""
    alerts: list[dict[str, Any]]
    """The model's alert transitions in the range, newest first (``model_alerts``)."""
    anomalies: list[dict[str, Any]]
    summary: dict[str, Any] = field(default_factory=dict)

    def thresholds(self) -> list[dict[str, Any]]:
        """Threshold lines for the charts: ``{value, label, metric}`` per rule."""
        return rule_thresholds(self.rules, self.alerts)


def iso(moment: datetime) -> str:
    """UTC ISO 8601 with milliseconds and ``Z``, as the reports write times."""
    text: str = json_value(moment.astimezone(timezone.utc))
    return text


def gather_report(
    source: ReportSource, request: ReportRequest, now: datetime | None = None
) -> StaticReport:
    """Read the model page and every evaluated window's metrics; ``NoDataError`` if none."""
    reports = source.page("model", request.values())
    for name, result in reports.items():
        if result.get("error"):  # the service keeps a failed report in the page; we stop
            raise SourceError(f"report {name!r} failed: {result['error']}")
    starts = window_starts(reports)
    if not starts:
        raise NoDataError(
            f"no evaluations of model {request.model!r} (window {request.window}"
            f"{_filters(request)}) between {iso(request.start)} and {iso(request.end)}"
        )
    evaluations = _evaluation_rows(source, request)
    evaluations.sort(key=lambda r: (r["window_start"], r["version"], r["metric"]))
    alerts = _records(reports[ALERTS_REPORT]) if ALERTS_REPORT in reports else []
    rules = [rule for rule in source.rules() if watches(rule, request)]
    anomalies = find_anomalies(evaluations, rules, alerts)
    return StaticReport(
        request=request,
        generated_at=now or datetime.now(timezone.utc),
        source=source.kind,
        reports=reports,
        evaluations=evaluations,
        rules=rules,
        alerts=alerts,
        anomalies=anomalies,
        summary=summarize(evaluations, alerts, anomalies),
    )


def window_starts(reports: dict[str, Json]) -> list[str]:
    """The windows evaluated in the range: every ``x`` time of the page's charts."""
    starts: set[str] = set()
    for report in reports.values():
        x = report["roles"].get("x")
        if report["visualization"] not in ("timeseries", "bar") or x not in report["columns"]:
            continue
        column = report["columns"].index(x)
        starts.update(row[column] for row in report["rows"] if row[column] is not None)
    return sorted(starts)


def watches(rule: Json, request: ReportRequest) -> bool:
    """Whether ``rule`` judges this model's series at the report's window size."""
    if rule["model"] != request.model or rule["window"] != request.window:
        return False
    if request.version and rule.get("version") not in (None, "", request.version):
        return False
    segment = str(rule.get("segment") or "")
    if segment.endswith("=*"):
        return request.segment.startswith(segment[:-1])
    return segment == request.segment


def _evaluation_rows(source: ReportSource, request: ReportRequest) -> list[dict[str, Any]]:
    """Every metric of every window in the range, in one query (``model_evaluations``)."""
    result = source.report(EVALUATIONS_REPORT, request.values())
    return [
        {
            "model": request.model,
            "version": record["version"],
            "segment": request.segment,
            "window": request.window,
            "window_start": record["window_start"],
            "metric": record["metric"],
            "value": record["value"],
            "ci_low": record["ci_low"],
            "ci_high": record["ci_high"],
            "support": record["support"],
            "label_coverage": record["label_coverage"],
        }
        for record in _records(result)
    ]


def _records(result: Json) -> list[dict[str, Any]]:
    return [dict(zip(result["columns"], row, strict=True)) for row in result["rows"]]


def _filters(request: ReportRequest) -> str:
    parts = [f"version {request.version}"] if request.version else []
    parts += [f"segment {request.segment}"] if request.segment else []
    return "".join(f", {part}" for part in parts)
