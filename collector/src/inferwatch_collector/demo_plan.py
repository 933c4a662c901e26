"""The demo's settings and its timetable: healthy traffic, drift, recovery, in cycles.

>>> options = DemoOptions(healthy_seconds=60, drift_seconds=120, recovery_seconds=120, cycles=1)
>>> [(phase.name, phase.seconds) for phase in options.cycle]
[('healthy', 60), ('drift', 120), ('recovered', 120)]
>>> options.phase_at(100.0)
(0, Phase(name='drift', seconds=120, drifting=True))
>>> options.phase_at(300.0) is None    # one cycle, then the demo ends
True
"""

from __future__ import annotations

from dataclasses import dataclass

MODEL_NAME = "demo-classifier"
MODEL_VERSION = "1"
DEFAULT_ENDPOINT = "http://127.0.0.1:4318"
DEFAULT_DASHBOARD = "http://127.0.0.1:8080"


@dataclass(frozen=True)
class Phase:
    """A stretch of traffic: how long it lasts and whether the inputs drift."""

    name: str
    seconds: float
    drifting: bool


@dataclass(frozen=True)
class DemoOptions:
    """Everything ``inferwatch demo`` is told (one field per flag; see ``docs/demo.md``)."""

    endpoint: str = DEFAULT_ENDPOINT
    """Base URL of the service's OTLP/HTTP receiver."""
    rate: float = 20.0
    """Predictions per second."""
    healthy_seconds: float = 60.0
    drift_seconds: float = 120.0
    recovery_seconds: float = 120.0
    cycles: int = 0
    """Cycles of healthy → drift → recovered; 0: until Ctrl-C."""
    label_delay: float = 20.0
    """Mean seconds between a prediction and its label."""
    unlabelled_share: float = 0.1
    """Fraction of predictions never labelled."""
    status_every: float = 10.0
    """Seconds between status lines (the service's latest F1 and alert states)."""
    seed: int = 7
    dashboard_url: str = DEFAULT_DASHBOARD

    @property
    def cycle(self) -> tuple[Phase, ...]:
        return (
            Phase("healthy", self.healthy_seconds, drifting=False),
            Phase("drift", self.drift_seconds, drifting=True),
            Phase("recovered", self.recovery_seconds, drifting=False),
        )

    def phase_at(self, elapsed: float) -> tuple[int, Phase] | None:
        """``(cycle number from 0, phase)`` at ``elapsed`` seconds; ``None`` once it is over."""
        cycle = self.cycle
        length = sum(phase.seconds for phase in cycle)
        number = int(elapsed // length)
        if self.cycles and number >= self.cycles:
            return None
        into = elapsed - number * length
        for phase in cycle:
            if into < phase.seconds:
                return number, phase
            into -= phase.seconds
        return number, cycle[-1]  # rounding at the very end of a cycle
