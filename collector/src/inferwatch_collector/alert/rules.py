"""Alert rules, and how one rule judges one series of evaluated windows.

A rule watches one metric of one model (optionally one version, one segment) at one window
size, and compares each window's value with a threshold:

>>> rule = Rule(name="fraud-f1", model="fraud", metric="f1", window="1h", op="<",
...             threshold=0.8, for_windows=3, min_samples=100)
>>> judgement = judge_series(rule, windows, threshold=0.8)   # windows: oldest first
>>> judgement.condition                                      # "ok", "pending", "firing", "no_data"
'pending'

The judgement looks at the newest window and counts how many windows back, without a gap,
breach the threshold: ``for_windows`` of them in a row make the rule fire. A window with too
little data (``min_samples``, ``min_label_coverage``, an undefined value) is "no data", never an
alert; as the newest window it makes the whole series "no data".
"""

from __future__ import annotations

import math
import operator
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from statistics import NormalDist
from typing import Literal, Protocol

Op = Literal["<", "<=", ">", ">="]
OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
Condition = Literal["ok", "pending", "firing", "no_data"]

DEFAULT_ANNOTATION = "{metric} of {model} is {value:.4g} ({op} {threshold:.4g}) in {window} window"
ANNOTATION_FIELDS = frozenset(
    "rule model version segment metric window window_start window_end value threshold op "
    "severity ci_low ci_high support label_coverage".split()
)
"""The names an annotation template may use, e.g. ``"F1 of {model} fell to {value:.3f}"``."""


class EvaluatedWindow(Protocol):
    """What a rule reads of one ``ml_evaluations`` row (``EvaluationRow`` has all of it)."""

    # Read-only properties, so that frozen dataclasses match.
    @property
    def model(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def segment(self) -> str: ...

    @property
    def window(self) -> str: ...

    @property
    def window_start(self) -> datetime: ...

    @property
    def window_end(self) -> datetime: ...

    @property
    def metric(self) -> str: ...

    @property
    def value(self) -> float: ...

    @property
    def support(self) -> int: ...

    @property
    def label_coverage(self) -> float: ...

    @property
    def ci_low(self) -> float | None: ...

    @property
    def ci_high(self) -> float | None: ...


@dataclass(frozen=True)
class AutoThreshold:
    """How ``threshold: auto`` derives a threshold from the metric's own history.

    ``method="sigma"``: mean − k·σ (for ``<``/``<=``) or mean + k·σ (for ``>``/``>=``) of the
    values of the ``reference`` period; ``method="quantile"``: their ``quantile`` (for ``<``)
    or ``1 − quantile`` (for ``>``). Fewer than ``min_windows`` windows of history: no data.
    """

    method: Literal["sigma", "quantile"] = "sigma"
    k: float = 3.0
    quantile: float = 0.01
    reference: str = "14d"
    min_windows: int = 24


@dataclass(frozen=True)
class Rule:
    """One alert rule of the ``rules:`` section (``for`` is ``for_windows`` here)."""

    name: str
    model: str
    metric: str
    window: str
    op: Op
    threshold: float | Literal["auto"]
    for_windows: int = 1
    version: str | None = None
    """``None``: every version, each its own series."""
    segment: str = ""
    """``""``: all traffic; ``"region=eu"``: one segment; ``"region=*"``: every value of a key."""
    min_samples: int = 0
    min_label_coverage: float = 0.0
    severity: str = "warning"
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    annotation: str = DEFAULT_ANNOTATION
    confidence: float | None = None
    """Fire only when the whole interval at this level lies beyond the threshold."""
    auto: AutoThreshold = field(default_factory=AutoThreshold)

    def selects(self, row: EvaluatedWindow) -> bool:
        """Whether ``row`` belongs to one of this rule's series."""
        if (row.model, row.metric, row.window) != (self.model, self.metric, self.window):
            return False
        if self.version is not None and row.version != self.version:
            return False
        if self.segment.endswith("=*"):
            return row.segment.startswith(self.segment[:-1])
        return row.segment == self.segment


@dataclass(frozen=True)
class Judgement:
    """A rule's verdict on one series after its newest window."""

    condition: Condition
    streak: int
    """Consecutive breaching windows ending at the newest one."""
    latest: EvaluatedWindow | None
    threshold: float | None


def judge_series(
    rule: Rule,
    windows: Sequence[EvaluatedWindow],
    threshold: float | None,
    *,
    stored_confidence: float = 0.95,
) -> Judgement:
    """Judge one series: ``windows`` hold the latest value per window, oldest first.

    Args:
        threshold: the number to compare with (``None``: an auto threshold without history).
        stored_confidence: the level of the rows' ``ci_low``/``ci_high``.
    """
    latest = windows[-1] if windows else None
    if latest is None or threshold is None or not has_data(rule, latest):
        return Judgement("no_data", 0, latest, threshold)
    streak = 0
    for index in range(len(windows) - 1, -1, -1):
        window = windows[index]
        if not has_data(rule, window) or not breaches(rule, window, threshold, stored_confidence):
            break
        streak += 1
        if streak >= rule.for_windows or index == 0:
            break
        if windows[index - 1].window_end != window.window_start:
            break  # a missing window breaks the run
    condition: Condition = "ok"
    if streak:
        condition = "firing" if streak >= rule.for_windows else "pending"
    return Judgement(condition, streak, latest, threshold)


def has_data(rule: Rule, window: EvaluatedWindow) -> bool:
    """Enough samples, enough labels and a defined value."""
    return (
        not math.isnan(window.value)
        and window.support >= rule.min_samples
        and window.label_coverage >= rule.min_label_coverage
    )


def breaches(
    rule: Rule, window: EvaluatedWindow, threshold: float, stored_confidence: float = 0.95
) -> bool:
    """Whether the window's value (or, with ``confidence``, its whole interval) is beyond."""
    compare = OPS[rule.op]
    if rule.confidence is None:
        return compare(window.value, threshold)
    low, high = interval_at(window, rule.confidence, stored_confidence)
    # "<": even the most optimistic end of the interval is under the threshold.
    edge = high if rule.op in ("<", "<=") else low
    return compare(edge, threshold)


def interval_at(
    window: EvaluatedWindow, confidence: float, stored_confidence: float
) -> tuple[float, float]:
    """The window's interval at ``confidence``, from the one stored at ``stored_confidence``.

    Equal levels: the stored interval as is. Different levels: each side's distance from the
    value is scaled by z(confidence) / z(stored) — exact for a normal interval, close for
    Wilson and bootstrap ones. A row without an interval counts as the point ``[value, value]``.
    """
    if window.ci_low is None or window.ci_high is None:
        return window.value, window.value
    if math.isclose(confidence, stored_confidence):
        return window.ci_low, window.ci_high
    scale = _z(confidence) / _z(stored_confidence)
    low = window.value - (window.value - window.ci_low) * scale
    high = window.value + (window.ci_high - window.value) * scale
    return low, high


def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def render_annotation(
    rule: Rule, window: EvaluatedWindow | None, threshold: float | None, series: Mapping[str, str]
) -> str:
    """The rule's annotation template filled in for one window (missing numbers are NaN)."""
    nan = math.nan
    values: dict[str, object] = {
        "rule": rule.name,
        "metric": rule.metric,
        "window": rule.window,
        "op": rule.op,
        "severity": rule.severity,
        "threshold": nan if threshold is None else threshold,
        **series,
        "value": window.value if window else nan,
        "ci_low": nan if window is None or window.ci_low is None else window.ci_low,
        "ci_high": nan if window is None or window.ci_high is None else window.ci_high,
        "support": window.support if window else 0,
        "label_coverage": window.label_coverage if window else nan,
        "window_start": window.window_start.isoformat() if window else "",
        "window_end": window.window_end.isoformat() if window else "",
    }
    return rule.annotation.format(**values)


def annotation_problem(template: str) -> str | None:
    """Why ``template`` cannot be rendered (an unknown field, bad syntax), or ``None``."""
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        return f"not a valid template: {exc}"
    for name in names:
        if name.split(".")[0].split("[")[0] not in ANNOTATION_FIELDS:
            known = ", ".join(sorted(ANNOTATION_FIELDS))
            return f"unknown field {{{name}}} (known: {known})"
    sample: dict[str, object] = {name: 0.5 for name in ANNOTATION_FIELDS}
    texts = "rule model version segment metric window op severity window_start window_end"
    sample.update({name: "x" for name in texts.split()})
    try:
        template.format(**sample)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        return f"cannot be rendered: {exc}"
    return None
