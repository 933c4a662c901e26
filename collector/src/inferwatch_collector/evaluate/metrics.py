"""Quality metrics from sufficient statistics: exact, equal to scikit-learn on the raw arrays.

ClickHouse returns, per window and series, the ``(actual, predicted) → count`` cells of the
confusion matrix (and sums for regression); every metric follows from those counts with a
few numpy operations on a k×k matrix. ``docs/metrics.md`` gives each definition and the
scikit-learn function it equals (``zero_division=0`` wherever a ratio is undefined).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .intervals import percentile_interval, wilson_interval


@dataclass(frozen=True)
class MetricValue:
    """One metric of one window: value (NaN when undefined), support and interval."""

    name: str
    value: float
    support: int
    ci_low: float | None = None
    ci_high: float | None = None


@dataclass(frozen=True)
class RegressionStats:
    """Sufficient statistics of a window's labelled regression predictions (one SQL pass)."""

    n: int
    sum_abs_error: float
    sum_squared_error: float
    total_sum_squares: float
    """Σ (y − ȳ)², from ClickHouse's numerically stable ``varPop(y) * n``."""
    sum_abs_percentage_error: float
    """Σ |y − ŷ| / max(|y|, ε), ε = float64 machine epsilon, as scikit-learn's MAPE."""


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    out = np.zeros_like(numerator, dtype=float)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def confusion_matrix(
    counts: Mapping[tuple[str, str], int], classes: Sequence[str] | None
) -> tuple[list[str], np.ndarray]:
    """Labels (sorted union of seen and configured classes) and the k×k count matrix."""
    labels = sorted({a for a, _ in counts} | {p for _, p in counts} | set(classes or ()))
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for (actual, predicted), count in counts.items():
        matrix[index[actual], index[predicted]] += count
    return labels, matrix


def _f1_scores(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class F1, actual counts and true positives of one or many (…, k, k) matrices."""
    tp = np.diagonal(matrix, axis1=-2, axis2=-1).astype(float)
    predicted = matrix.sum(axis=-2).astype(float)
    actual = matrix.sum(axis=-1).astype(float)
    return _ratio(2 * tp, predicted + actual), actual, tp


def classification_metrics(
    counts: Mapping[tuple[str, str], int],
    *,
    task: str,
    positive_label: str,
    classes: Sequence[str] | None = None,
    confidence: float = 0.95,
    bootstrap_samples: int = 200,
    seed: int = 0,
) -> list[MetricValue]:
    """Every classification metric of one window from its confusion counts.

    >>> [m.value for m in classification_metrics({("1", "1"): 3, ("0", "1"): 1},
    ...  task="binary_classification", positive_label="1")[:4]]
    [0.75, 0.75, 1.0, 0.8571428571428571]
    """
    labels, matrix = confusion_matrix(counts, classes)
    n = int(matrix.sum())
    if n == 0:
        return []
    tp = np.diagonal(matrix).astype(float)
    predicted = matrix.sum(axis=0)
    actual = matrix.sum(axis=1)
    precision, recall = _ratio(tp, predicted), _ratio(tp, actual)
    f1, _, _ = _f1_scores(matrix)
    correct = int(tp.sum())
    out = [MetricValue("accuracy", correct / n, n, *wilson_interval(correct, n, confidence))]
    boot = _Bootstrap(matrix, bootstrap_samples, seed, confidence)
    if task == "binary_classification":
        out += _binary(labels, matrix, positive_label, boot, confidence)
    else:
        out += _multiclass(precision, recall, f1, actual, correct, n, boot)
    for i, label in enumerate(labels):
        out += [
            MetricValue(f"precision:{label}", float(precision[i]), int(predicted[i]),
                        *wilson_interval(int(tp[i]), int(predicted[i]), confidence)),
            MetricValue(f"recall:{label}", float(recall[i]), int(actual[i]),
                        *wilson_interval(int(tp[i]), int(actual[i]), confidence)),
            MetricValue(f"f1:{label}", float(f1[i]), int(actual[i])),
            MetricValue(f"support:{label}", float(actual[i]), int(actual[i])),
        ]  # fmt: skip
    out += [
        MetricValue(f"confusion:{a}:{p}", float(matrix[i, j]), n)
        for i, a in enumerate(labels)
        for j, p in enumerate(labels)
        if matrix[i, j]
    ]
    return out


def _binary(
    labels: list[str], matrix: np.ndarray, positive: str, boot: _Bootstrap, confidence: float
) -> list[MetricValue]:
    if positive not in labels:  # nothing predicted or labelled positive: all three are 0
        n = int(matrix.sum())
        return [MetricValue(name, 0.0, 0) for name in ("precision", "recall")] + [
            MetricValue("f1", 0.0, n)
        ]
    i = labels.index(positive)
    tp, predicted, actual = int(matrix[i, i]), int(matrix[:, i].sum()), int(matrix[i].sum())
    f1 = 2 * tp / (predicted + actual) if predicted + actual else 0.0
    low, high = boot.interval(lambda m: _f1_scores(m)[0][..., i])
    return [
        MetricValue("precision", tp / predicted if predicted else 0.0, predicted,
                    *wilson_interval(tp, predicted, confidence)),
        MetricValue("recall", tp / actual if actual else 0.0, actual,
                    *wilson_interval(tp, actual, confidence)),
        MetricValue("f1", f1, actual, low, high),
    ]  # fmt: skip


def _multiclass(
    precision: np.ndarray,
    recall: np.ndarray,
    f1: np.ndarray,
    actual: np.ndarray,
    correct: int,
    n: int,
    boot: _Bootstrap,
) -> list[MetricValue]:
    weighted = float((f1 * actual).sum() / actual.sum()) if actual.sum() else 0.0
    return [
        MetricValue("precision_macro", float(precision.mean()), n),
        MetricValue("recall_macro", float(recall.mean()), n),
        MetricValue("f1_macro", float(f1.mean()), n, *boot.interval(_macro_f1)),
        MetricValue("f1_micro", correct / n, n, *boot.interval(_micro_f1)),
        MetricValue("f1_weighted", weighted, n, *boot.interval(_weighted_f1)),
    ]


def _macro_f1(matrices: np.ndarray) -> np.ndarray:
    return _f1_scores(matrices)[0].mean(axis=-1)


def _micro_f1(matrices: np.ndarray) -> np.ndarray:
    _, actual, tp = _f1_scores(matrices)
    return tp.sum(axis=-1) / actual.sum(axis=-1)


def _weighted_f1(matrices: np.ndarray) -> np.ndarray:
    f1, actual, _ = _f1_scores(matrices)
    return _ratio((f1 * actual).sum(axis=-1), actual.sum(axis=-1))


class _Bootstrap:
    """Resamples a window's confusion matrix (multinomial over its cells), deterministically."""

    def __init__(self, matrix: np.ndarray, samples: int, seed: int, confidence: float) -> None:
        self.matrix, self.samples, self.seed, self.confidence = matrix, samples, seed, confidence
        self._draws: np.ndarray | None = None

    def draws(self) -> np.ndarray:
        if self._draws is None:
            n = int(self.matrix.sum())
            cells = self.matrix.ravel() / n
            rng = np.random.default_rng(self.seed)
            flat = rng.multinomial(n, cells, size=self.samples)
            self._draws = flat.reshape(self.samples, *self.matrix.shape)
        return self._draws

    def interval(self, statistic: Any) -> tuple[float | None, float | None]:
        if self.samples <= 0:
            return None, None
        return percentile_interval(statistic(self.draws()), self.confidence)


def regression_metrics(stats: RegressionStats, *, confidence: float = 0.95) -> list[MetricValue]:
    """mae, rmse, r2 and mape of one window, equal to scikit-learn's on the raw arrays."""
    n = stats.n
    if n == 0:
        return []
    sse, sst = stats.sum_squared_error, stats.total_sum_squares
    if n < 2:  # scikit-learn: R² is not well-defined with fewer than two samples
        r2 = math.nan
    elif sst == 0:  # scikit-learn's force_finite rule for a constant y_true
        r2 = 1.0 if sse == 0 else 0.0
    else:
        r2 = 1.0 - sse / sst
    return [
        MetricValue("mae", stats.sum_abs_error / n, n),
        MetricValue("rmse", math.sqrt(sse / n), n),
        MetricValue("r2", r2, n),
        MetricValue("mape", stats.sum_abs_percentage_error / n, n),
    ]
