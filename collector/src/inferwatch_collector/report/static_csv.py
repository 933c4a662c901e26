"""A static report as CSV: one row per metric per window (``EVALUATION_COLUMNS``)."""

from __future__ import annotations

import csv
import io

from inferwatch_collector.report.static_data import EVALUATION_COLUMNS, StaticReport


def render_csv(report: StaticReport) -> str:
    """A header line, then the metric rows; an empty cell for a missing value or interval."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EVALUATION_COLUMNS)
    for row in report.evaluations:
        writer.writerow(["" if row[c] is None else row[c] for c in EVALUATION_COLUMNS])
    return out.getvalue()
