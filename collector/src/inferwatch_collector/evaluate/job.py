"""One evaluation job — a pass over the windows, then the alert rules — and its schedule.

``inferwatch evaluate --once`` runs one job; ``inferwatch serve`` runs one every
``evaluation.schedule``; ``inferwatch evaluate --from T1 --to T2`` backfills a range.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ..alert import build_notifiers, dashboard_link, process_evaluations
from ..monitoring_config import MonitoringConfig
from .durations import parse_duration
from .evaluation_pass import run_pass

_logger = logging.getLogger("inferwatch.evaluator")

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class JobReport:
    """What one job did, for the CLI and the logs."""

    rows: int
    series: int
    transitions: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "evaluations": self.rows,
            "series": self.series,
            "alert_transitions": self.transitions,
            "seconds": round(self.seconds, 3),
        }


class EvaluationJob:
    """Runs passes and the alert engine against one store.

    >>> job = EvaluationJob(client, load_monitoring_config("inferwatch.yaml"))  # doctest: +SKIP
    >>> job.run().as_dict()                                                      # doctest: +SKIP
    {'evaluations': 1520, 'series': 38, 'alert_transitions': 1, 'seconds': 0.41}
    """

    def __init__(self, client: Any, config: MonitoringConfig) -> None:
        self.client = client
        self.config = config
        self._notifiers = build_notifiers(config.notifiers)
        self._link = dashboard_link(config.alerting.dashboard_url)
        self._lock = threading.Lock()  # a scheduled pass and an API request never overlap

    def run(
        self,
        *,
        now: datetime | None = None,
        windows: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        progress: Progress | None = None,
    ) -> JobReport:
        """One pass (or a backfill of ``[start, end)``), then the alert rules on its rows."""
        now = now or datetime.now(timezone.utc)
        started = time.perf_counter()
        with self._lock:
            rows = run_pass(
                self.client,
                self.config.settings,
                now=now,
                windows=windows,
                start=start,
                end=end,
                progress=progress,
            )
            transitions = process_evaluations(
                self.client,
                self.config.rules,
                self._notifiers,
                rows,
                now=now,
                generator_url=self._link,
                stored_confidence=self.config.settings.evaluation.confidence,
            )
        series = {(r.model, r.version, r.segment, r.window, r.window_start) for r in rows}
        return JobReport(len(rows), len(series), len(transitions), time.perf_counter() - started)


class EvaluationSchedule:
    """Runs ``job`` every ``evaluation.schedule`` in a background thread (``inferwatch serve``).

    A failing pass is logged and the next one runs on time: evaluation never stops the service.
    """

    def __init__(self, job: EvaluationJob) -> None:
        self.job = job
        self.interval = parse_duration(job.config.settings.evaluation.schedule).total_seconds()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="inferwatch-evaluator", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                report = self.job.run()
                _logger.info("evaluation pass: %s", report.as_dict())
            except Exception:
                _logger.exception("evaluation pass failed; the next one runs on schedule")
