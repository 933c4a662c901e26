"""The data of one dashboard page: every report definition of the page, run with its values.

A page (``overview``, ``model``, ``alerts``, ``window``) shows the definitions whose header
says ``page: <name>``, in their ``order``; adding a report to a page is adding one file. The
web dashboard, the static report and ``bench/dashboard.py`` all read pages through here.

>>> data = run_page(client, definitions, "model", {"model": "fraud", "from": "now-7d"})
>>> data["model_quality"].rows[0]
['2026-11-27T09:00:00.000Z', 'f1', 0.91, 0.88, 0.94, 412]
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from inferwatch_collector.report.definitions import ReportDefinition
from inferwatch_collector.report.run import ReportResult, run_report


def page_definitions(
    definitions: Mapping[str, ReportDefinition], page: str
) -> list[ReportDefinition]:
    """The definitions shown on ``page``, in order."""
    return [d for d in definitions.values() if d.page == page]


def run_page(
    client: Any,
    definitions: Mapping[str, ReportDefinition],
    page: str,
    values: Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> dict[str, ReportResult]:
    """Run every report of ``page``; each takes the values it declares and ignores the rest.

    One ``now`` for all of them, so that relative times mean the same instant on the page.
    """
    now = now or datetime.now(timezone.utc)
    return {
        d.name: run_report(client, d, values, now=now, strict=False)
        for d in page_definitions(definitions, page)
    }
