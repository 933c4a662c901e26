"""Text shared by the human-readable renderers (Markdown, HTML): numbers, times, scope."""

from __future__ import annotations

from typing import Any

from inferwatch_collector.report.static_data import StaticReport, iso


def number(value: Any) -> str:
    """A value for people: 4 significant digits, whole numbers as they are, ``–`` for none."""
    if value is None:
        return "–"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4g}"


def percent(value: Any) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def when(text: Any) -> str:
    """An ISO time as ``2026-11-27 09:00Z`` (seconds only when there are some)."""
    if not text:
        return "–"
    day, _, clock = str(text).partition("T")
    clock = clock.rstrip("Z").split(".")[0]
    return f"{day} {clock[:5] if clock.endswith(':00') else clock}Z"


def title(report: StaticReport) -> str:
    return f"inferwatch report: {report.request.model}"


def scope(report: StaticReport) -> list[tuple[str, str]]:
    """What the report covers, as (label, value) lines."""
    request = report.request
    return [
        ("Model", request.model),
        ("Period", f"{when(iso(request.start))} to {when(iso(request.end))} (end excluded)"),
        ("Window", request.window),
        ("Version", request.version or "all"),
        ("Segment", request.segment or "all traffic"),
        ("Generated", f"{when(iso(report.generated_at))} from the {report.source}"),
    ]


def summary_lines(report: StaticReport) -> list[tuple[str, str]]:
    """The summary's figures, as (label, value) lines."""
    s = report.summary
    firing = ", ".join(s["firing_at_end"]) or "none"
    return [
        ("Windows evaluated", f"{s['windows']} ({when(s['first_window'])} to "
                              f"{when(s['last_window'])})"),
        ("Predictions", number(s["predictions"])),
        ("Labels", number(s["labels"])),
        ("Label coverage", percent(s["label_coverage"])),
        ("Alerts fired", f"{s['alerts_fired']} ({s['alert_transitions']} transitions)"),
        ("Firing at the end", firing),
        ("Anomalies", f"{s['anomalies']} ({s['breaches']} threshold breaches, "
                      f"{s['outliers']} outliers)"),
    ]  # fmt: skip


def pivot(report: StaticReport) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Per version: metric names and one row per window (``window_start`` first).

    Per-class and confusion metrics (``f1:cat``) stay in the CSV and JSON only.
    """
    tables: dict[str, dict[str, dict[str, Any]]] = {}
    for row in report.evaluations:
        if ":" not in row["metric"]:
            by_window = tables.setdefault(row["version"], {})
            by_window.setdefault(row["window_start"], {})[row["metric"]] = row["value"]
    out = {}
    for version, by_window in sorted(tables.items()):
        metrics = sorted({m for values in by_window.values() for m in values}, key=_metric_order)
        rows = [
            [start, *(values.get(m) for m in metrics)]
            for start, values in sorted(by_window.items())
        ]
        out[version] = (metrics, rows)
    return out


_FIRST = (
    "prediction_count", "label_count", "label_coverage", "accuracy", "precision", "recall",
    "f1", "f1_macro", "f1_micro", "f1_weighted", "precision_macro", "recall_macro",
    "r2", "mae", "rmse", "mape", "error_rate", "latency_p50_ms", "latency_p95_ms",
    "latency_p99_ms", "psi", "js_divergence",
)  # fmt: skip


def _metric_order(metric: str) -> tuple[int, str]:
    return (_FIRST.index(metric) if metric in _FIRST else len(_FIRST), metric)


# --- the tables both human formats show: (header, rows of text, numeric column indexes) ---

Table = tuple[list[str], list[list[str]], set[int]]
NO_ANOMALIES = "No anomalies: no window beyond a rule's threshold or outside its neighbours' range."
NO_ALERTS = "No alert changed state in the period."
ALERT_COLUMNS = (
    ("time", "time"),
    ("rule", "rule"),
    ("version", "version"),
    ("segment", "segment"),
    ("metric", "metric"),
    ("state", "state"),
    ("severity", "severity"),
    ("value", "value"),
    ("threshold", "threshold"),
    ("window_start", "window start"),
)


def headline_table(report: StaticReport) -> Table:
    header = ["metric", "version", "latest", "latest window", "worst", "worst window"]
    rows = [
        [h["metric"], h["version"], number(h["latest"]), when(h["latest_window"]),
         number(h["worst"]), when(h["worst_window"])]
        for h in report.summary["headline"]
    ]  # fmt: skip
    return header, rows, {2, 4}


def anomaly_table(report: StaticReport) -> Table:
    header = ["window start", "version", "metric", "value", "kind", "detail"]
    rows = [
        [when(a["window_start"]), a["version"], a["metric"], number(a["value"]), a["kind"],
         a["detail"]]
        for a in report.anomalies
    ]  # fmt: skip
    return header, rows, {3}


def alert_table(report: StaticReport) -> Table:
    header = [label for _, label in ALERT_COLUMNS]
    rows = [[_alert_cell(alert, key) for key, _ in ALERT_COLUMNS] for alert in report.alerts]
    return header, rows, {7, 8}


def window_tables(report: StaticReport) -> dict[str, Table]:
    """Per version, the metrics per window as text."""
    tables = {}
    for version, (metrics, rows) in pivot(report).items():
        cells = [[when(row[0]), *(number(v) for v in row[1:])] for row in rows]
        tables[version] = (["window start", *metrics], cells, set(range(1, len(metrics) + 1)))
    return tables


def _alert_cell(alert: dict[str, Any], key: str) -> str:
    value = alert.get(key)
    if key in ("time", "window_start"):
        return when(value)
    return number(value) if key in ("value", "threshold") else str(value or "")
