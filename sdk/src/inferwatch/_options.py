"""The options of one ``@monitor`` (or ``prediction()``), validated once at decoration time."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import semconv

IdFunction = Callable[..., Any]
SegmentsOption = Mapping[str, object] | Callable[..., Mapping[str, object]] | None
OutputFunction = Callable[[Any], Any]


@dataclass(frozen=True)
class MonitorOptions:
    """Everything ``monitor(...)`` was told. Immutable: one instance is shared by every call."""

    model: str
    version: str | None = None
    task: str | None = None
    classes: tuple[object, ...] | None = None
    threshold: float | None = None
    batch: bool | None = None
    id: IdFunction | None = None
    segments: SegmentsOption = None
    output: OutputFunction | None = None
    capture_features: bool | tuple[str, ...] = False
    feature_sample_rate: float | None = None
    redact: frozenset[str] = frozenset()
    batched: bool | None = None
    span_name: str = field(init=False)
    static_attributes: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        _validate(self)
        object.__setattr__(self, "span_name", semconv.PREDICTION_SPAN_PREFIX + self.model)
        attributes = {semconv.ML_MODEL_NAME: self.model}
        if self.version is not None:
            attributes[semconv.ML_MODEL_VERSION] = self.version
        if self.task is not None:
            attributes[semconv.ML_TASK] = self.task
        object.__setattr__(self, "static_attributes", attributes)

    @property
    def metric_attributes(self) -> dict[str, str]:
        """Attributes of this model's metric points (status is added per point)."""
        attributes = {semconv.METRIC_ATTR_MODEL: self.model}
        if self.version is not None:
            attributes[semconv.METRIC_ATTR_VERSION] = self.version
        return attributes


def build_options(
    model: str,
    *,
    version: str | None = None,
    task: str | None = None,
    classes: Sequence[object] | None = None,
    threshold: float | None = None,
    batch: bool | None = None,
    id: IdFunction | None = None,  # noqa: A002 - the public keyword is `id=`
    segments: SegmentsOption = None,
    output: OutputFunction | None = None,
    capture_features: bool | Sequence[str] = False,
    feature_sample_rate: float | None = None,
    redact: Sequence[str] = (),
    batched: bool | None = None,
) -> MonitorOptions:
    """Normalise the keywords of ``monitor`` into one immutable ``MonitorOptions``."""
    if not isinstance(capture_features, bool):
        capture_features = tuple(str(name) for name in capture_features)
    return MonitorOptions(
        model=model,
        version=None if version is None else str(version),
        task=task,
        classes=None if classes is None else tuple(classes),
        threshold=threshold,
        batch=batch,
        id=id,
        segments=segments,
        output=output,
        capture_features=capture_features,
        feature_sample_rate=feature_sample_rate,
        redact=frozenset(redact),
        batched=batched,
    )


def _validate(options: MonitorOptions) -> None:
    if not isinstance(options.model, str) or not options.model:
        raise ValueError(f"monitor: model must be a non-empty string, got {options.model!r}")
    if options.task is not None and options.task not in semconv.TASKS:
        raise ValueError(f"monitor: task must be one of {semconv.TASKS}, got {options.task!r}")
    if options.threshold is not None and not 0.0 <= options.threshold <= 1.0:
        raise ValueError(f"monitor: threshold must be within [0, 1], got {options.threshold!r}")
    rate = options.feature_sample_rate
    if rate is not None and (math.isnan(rate) or not 0.0 <= rate <= 1.0):
        raise ValueError(f"monitor: feature_sample_rate must be within [0, 1], got {rate!r}")
    for name in ("id", "output"):
        value = getattr(options, name)
        if value is not None and not callable(value):
            raise TypeError(f"monitor: {name}= must be callable, got {type(value).__name__}")
    segments = options.segments
    if segments is not None and not callable(segments) and not isinstance(segments, Mapping):
        raise TypeError(
            f"monitor: segments= must be a dict or a callable, got {type(segments).__name__}"
        )
