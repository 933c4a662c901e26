"""The demo's traffic loop: predictions at a steady rate, late labels, a status line.

``DemoRun(options, model, traffic).run(stop)`` calls the instrumented model ``options.rate``
times a second through the phases of ``options`` (``demo_plan.py``), sends each label when
its time comes (``demo_labels.py``), prints what the service says every
``options.status_every`` seconds (``demo_service.py``), and returns once the cycles are done
and the last labels sent, or as soon as ``stop`` is set (Ctrl-C). It leaves flushing the
telemetry to its caller.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

import numpy as np

import inferwatch

from .demo_labels import LateLabels
from .demo_model import DRIFT_REGION, DRIFT_SCALE, REGIONS, DemoModel, Traffic
from .demo_plan import MODEL_NAME, MODEL_VERSION, DemoOptions, Phase
from .demo_service import ServiceStatus, read_status

Predict = Callable[[np.ndarray, str], float]
LONGEST_WAIT = 0.5
"""The loop wakes at least this often (seconds) to send due labels and notice Ctrl-C."""


def instrumented_predict(model: DemoModel) -> Predict:
    """The inference function of a service, instrumented the way a user would do it."""

    @inferwatch.monitor(
        model=MODEL_NAME,
        version=MODEL_VERSION,
        task="binary_classification",
        segments=lambda features, region: {"region": region},
    )
    def predict(features: np.ndarray, region: str) -> float:
        """One tumour's measurements in, the probability that it is malignant out."""
        return model.malignant_probability(features)

    return predict


class DemoRun:
    """One run of the demo; ``out`` receives the lines meant for the person watching."""

    def __init__(
        self, options: DemoOptions, model: DemoModel, traffic: Traffic, out: TextIO = sys.stdout
    ) -> None:
        self.options = options
        self.model = model
        self.traffic = traffic
        self.out = out
        self.predict = instrumented_predict(model)
        self.labels = LateLabels(options.label_delay, options.unlabelled_share, traffic.uniform)
        self.predictions = 0
        self.labels_sent = 0
        self._slots = 0  # prediction times passed (sent, or skipped after a stall)
        self._alerts: dict[str, str] | None = None

    def run(self, stop: threading.Event) -> None:
        """Send traffic until the cycles are over (then the last labels) or ``stop`` is set."""
        self._introduce()
        self._send_traffic(stop)
        if not stop.is_set():
            self._send_last_labels(stop)

    def _send_traffic(self, stop: threading.Event) -> None:
        options = self.options
        start = time.monotonic()
        current: tuple[int, Phase] | None = None
        next_status = start + options.status_every
        while not stop.is_set():
            now = time.monotonic()
            where = options.phase_at(now - start)
            if where is None:
                return
            if where != current:
                current = where
                self._announce(*where)
            self._predict_due(where[1], int((now - start) * options.rate))
            self._send_due_labels(now)
            if now >= next_status:
                next_status = now + options.status_every
                self._print_status(where[1].name)
            next_prediction = start + (self._slots + 1) / options.rate
            stop.wait(min(max(0.0, next_prediction - time.monotonic()), LONGEST_WAIT))

    def _predict_due(self, phase: Phase, slots: int) -> None:
        # After a stall (a suspended laptop), catch up by one second's worth at most.
        self._slots = max(self._slots, slots - max(1, int(self.options.rate)))
        while self._slots < slots:
            self._slots += 1
            case = self.traffic.next_case(drifting=phase.drifting)
            self.predict(case.features, case.region)
            prediction_id = inferwatch.last_prediction_id()
            self.predictions += 1
            if isinstance(prediction_id, str):
                self.labels.add(prediction_id, case.actual, time.monotonic())

    def _send_due_labels(self, now: float) -> None:
        due = self.labels.due(now)
        if due:
            ids, actuals = [pid for pid, _ in due], [actual for _, actual in due]
            inferwatch.record_label(ids, actuals, model=MODEL_NAME, version=MODEL_VERSION)
            self.labels_sent += len(due)

    def _send_last_labels(self, stop: threading.Event) -> None:
        last = self.labels.last_due_at()
        if last is not None:
            wait = max(0.0, last - time.monotonic())
            self._say(f"traffic done; the last labels are due within {wait:.0f} s")
        next_status = time.monotonic() + self.options.status_every
        while self.labels.pending and not stop.is_set():
            now = time.monotonic()
            self._send_due_labels(now)
            if now >= next_status:
                next_status = now + self.options.status_every
                self._print_status("labels")
            stop.wait(LONGEST_WAIT)
        self._send_due_labels(time.monotonic())

    # --- what the person watching reads -----------------------------------------------------

    def _introduce(self) -> None:
        options = self.options
        cycles = "once" if options.cycles == 1 else f"{options.cycles} times"
        repeat = "repeated until Ctrl-C" if options.cycles == 0 else cycles
        plan = " → ".join(f"{p.name} {p.seconds:g} s" for p in options.cycle)
        dashboard = f"{options.dashboard_url.rstrip('/')}/models/{MODEL_NAME}"
        self._say(
            f"model {MODEL_NAME!r}: scikit-learn LogisticRegression on the breast cancer data "
            f"set (positive class 1 = malignant), held-out F1 {self.model.test_f1:.2f}",
            f"  {options.rate:g} predictions/s from regions {', '.join(REGIONS)} "
            f"→ {options.endpoint}",
            f"  labels arrive about {options.label_delay:g} s late; "
            f"{options.unlabelled_share:.0%} are never labelled",
            f"  plan: {plan}, {repeat}",
            f"  watch: the dashboard   {dashboard}",
            "         the service's log (alert lines from the inferwatch.alerts logger)",
            "         a pass on demand  .venv/bin/inferwatch evaluate --once "
            "--config inferwatch.yaml",
        )

    def _announce(self, cycle: int, phase: Phase) -> None:
        region, lost = DRIFT_REGION, f"{1 - DRIFT_SCALE:.0%}"
        headline, detail = {
            "healthy": (
                "healthy traffic",
                "F1 stays near the held-out value; no alert",
            ),
            "drift": (
                f"the {region} scanner now reads every measurement {lost} small",
                f"malignant tumours look benign there: F1 falls to about 0.7 ({region}: about "
                "0.2); the F1 rule fires once a window of drifted traffic is complete",
            ),
            "recovered": (
                f"the {region} scanner is fixed",
                "F1 comes back; the alert resolves once a complete window is healthy again",
            ),
        }[phase.name]
        self._say(
            f"phase {phase.name} ({phase.seconds:g} s, cycle {cycle + 1}): {headline}",
            f"  {detail}",
        )

    def _print_status(self, phase: str) -> None:
        status = read_status(self.options.endpoint, MODEL_NAME)
        counts = (
            f"{phase:<9} sent {self.predictions} predictions, {self.labels_sent} labels "
            f"({self.labels.pending} waiting)"
        )
        self._say(f"{counts} · service: {_describe(status)}")
        if status is None:
            return
        if self._alerts is not None:  # the first reading is where the service stands already
            for rule, state in sorted(status.alerts.items()):
                before = self._alerts.get(rule, "inactive")
                if state != before:
                    self._say(f"  ALERT {rule}: {before} → {state.upper()}")
        self._alerts = dict(status.alerts)

    def _say(self, *lines: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        for line in lines:
            print(f"[{stamp}] {line}", file=self.out, flush=True)

    def summary(self) -> str:
        """One line: what was sent and what was not."""
        return (
            f"{self.predictions} predictions, {self.labels_sent} labels sent, "
            f"{self.labels.never_labelled} never labelled, "
            f"{self.labels.pending} labels not yet due when it stopped"
        )


def _describe(status: ServiceStatus | None) -> str:
    if status is None:
        return "not answering on /metrics"
    if status.f1 is None:
        f1 = "no complete window evaluated yet"
    else:
        end = time.strftime("%H:%M:%S", time.localtime(status.window_end or 0))
        f1 = f"F1 {status.f1:.3f} ({status.window} window ending {end})"
    alerts = ", ".join(f"{rule} {state}" for rule, state in sorted(status.alerts.items()))
    return f"{f1}; alerts: {alerts or 'none yet'}"
