"""Late ground truth for the demo: labels that become known some time after the prediction.

In production the truth about a prediction (was the tumour malignant? was the payment fraud?)
arrives minutes or weeks later, and some predictions are never labelled. ``LateLabels`` holds
each label until its time has come; the demo sends what is due with ``record_label``.

>>> labels = LateLabels(delay=20.0, unlabelled_share=0.1, draw=lambda: 0.5)
>>> labels.add("p-1", actual=1, now=100.0)
>>> labels.due(now=110.0), labels.due(now=120.0)
([], [('p-1', 1)])
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

JITTER = 0.5
"""Each delay is ``delay`` × a factor drawn in [1 − JITTER, 1 + JITTER]: labels do not all
arrive in step."""


class LateLabels:
    """Labels waiting for their time, in order of the time they become known.

    Args:
        delay: the mean wait, in seconds, between a prediction and its label.
        unlabelled_share: the fraction of predictions that never get a label.
        draw: a source of numbers in [0, 1) (the demo's seeded generator).
    """

    def __init__(self, delay: float, unlabelled_share: float, draw: Callable[[], float]) -> None:
        self.delay = delay
        self.unlabelled_share = unlabelled_share
        self._draw = draw
        self._waiting: list[tuple[float, int, str, int]] = []
        self._added = 0
        self.never_labelled = 0

    def add(self, prediction_id: str, actual: int, now: float) -> None:
        """Remember the truth of ``prediction_id``, or drop it (an unlabelled prediction)."""
        if self._draw() < self.unlabelled_share:
            self.never_labelled += 1
            return
        factor = 1.0 - JITTER + 2.0 * JITTER * self._draw()
        self._added += 1  # a tie-breaker: ids are never compared
        heapq.heappush(
            self._waiting, (now + self.delay * factor, self._added, prediction_id, actual)
        )

    def due(self, now: float) -> list[tuple[str, int]]:
        """The ``(prediction id, actual)`` pairs whose time has come, oldest first."""
        ready = []
        while self._waiting and self._waiting[0][0] <= now:
            _, _, prediction_id, actual = heapq.heappop(self._waiting)
            ready.append((prediction_id, actual))
        return ready

    @property
    def pending(self) -> int:
        """Labels not yet due."""
        return len(self._waiting)

    def last_due_at(self) -> float | None:
        """When the last waiting label becomes due (``None``: nothing waits)."""
        return max((entry[0] for entry in self._waiting), default=None)
