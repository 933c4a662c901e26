"""What the evaluator is told: windows, label horizon, models, segments (``evaluation:`` and
``models:`` sections of the YAML config file, loaded by ``monitoring_config.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ModelSettings:
    """Per-model evaluation settings (``models: {fraud: {task: ..., positive_label: ...}}``)."""

    name: str
    task: str | None = None
    """``binary_classification``, ``multiclass_classification`` or ``regression``; ``None``
    means: take the ``Task`` column the predictions carry."""
    positive_label: str = "1"
    """The positive class of binary precision/recall/F1."""
    classes: tuple[str, ...] | None = None
    """All class labels, when known (classes never seen in a window still count as empty)."""


@dataclass(frozen=True)
class EvaluationSettings:
    """The ``evaluation:`` section."""

    windows: tuple[str, ...] = ("1h",)
    """Tumbling window sizes by prediction time: ``5m``, ``1h``, ``1d`` …"""
    label_horizon: str = "7d"
    """Windows younger than this are re-evaluated on every pass (labels still arrive)."""
    schedule: str = "1m"
    """How often ``inferwatch serve`` runs a pass."""
    drift_reference: str = "7d"
    """Reference for drift (psi, js_divergence): the period of this length just before the
    first window evaluated, per model and version."""
    drift_bins: int = 10
    """Score bins over [0, 1]; a regression model's values get at most as many bins, their
    edges chosen from its reference (about its deciles, for 10)."""
    segment_top_k: int = 10
    """Per segment key, the k values with most predictions get their own metrics; the rest
    are pooled as ``other``."""
    segment_min_support: int = 30
    """A segment value (or ``other``) with fewer predictions in a window is not evaluated."""
    confidence: float = 0.95
    """Level of the confidence intervals stored with each metric."""
    bootstrap_samples: int = 200


@dataclass(frozen=True)
class MonitoringSettings:
    """Everything the evaluator and the alerting need, loaded once from the config file."""

    evaluation: EvaluationSettings = field(default_factory=EvaluationSettings)
    models: tuple[ModelSettings, ...] = ()

    def model(self, name: str) -> ModelSettings:
        """The settings of ``name``; defaults for a model the file does not list."""
        for model in self.models:
            if model.name == name:
                return model
        return ModelSettings(name=name)
