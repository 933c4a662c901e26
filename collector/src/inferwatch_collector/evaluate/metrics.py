"""Quality metrics from sufficient statistics: exact, equal to scikit-learn on the raw arrays.

ClickHouse returns, per window and series, the ``(actual, predicted) → count`` cells of the
confusion matrix (and a few sums for regression); every metric follows from those counts with
a few numpy operations on a k×k matrix. ``docs/metrics.md`` gives each definition and the
scikit-learn function it equals (``zero_division=0`` wherever a ratio is undefined).

>>> values = classification_metrics({("1", "1"): 3, ("0", "1"): 1},
...                                 task="binary_classification", positive_label="1")
>>> [(m.name, m.value) for m in values[:4]]
[('accuracy', 0.75), ('precision', 0.75), ('recall', 1.0), ('f1', 0.8571428571428571)]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .intervals import multinomial_resamples, percentile_bounds, wilson_bounds, z_value


@dataclass(frozen=True)
class MetricValue:
    """One metric of one window: value (NaN when undefined), support and interval."""

    name: str
    value: float
    support: int
    """The number of samples the value rests on (e.g. predicted positives for precision)."""
    ci_low: float | None = None
    ci_high: float | None = None


@dataclass(frozen=True)
class RegressionStats:
    """Sufficient statistics of a window's labelled regression predictions (one SQL pass).

    With e = y − ŷ over the window's n labelled rows.
    """

    n: int
    sum_abs_error: float
    """Σ |e|."""
    sum_squared_error: float
    """Σ e²."""
    total_sum_squares: float
    """Σ (y − ȳ)², from ClickHouse's numerically stable ``varPop(y) * n`` (not Σy² − (Σy)²/n,
    which cancels catastrophically)."""
    sum_abs_percentage_error: float
    """Σ |e| / max(|y|, ε), ε = float64 machine epsilon, as scikit-learn's MAPE."""


def confusion_matrix(
    counts: Mapping[tuple[str, str], int], classes: Sequence[str] | None
) -> tuple[list[str], np.ndarray]:
    """Labels (sorted union of seen and given classes) and the k×k count matrix.

    Row = actual, column = predicted, as ``sklearn.metrics.confusion_matrix``. A cell with
    count 0 is not a sighting: its labels join only if ``classes`` names them.
    """
    seen = [pair for pair, count in counts.items() if count]
    labels = sorted({a for a, _ in seen} | {p for _, p in seen} | set(classes or ()))
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for actual, predicted in seen:
        matrix[index[actual], index[predicted]] += counts[actual, predicted]
    return labels, matrix


def f1_statistics(matrices: np.ndarray) -> np.ndarray:
    """Per-class F1, then macro, micro and weighted F1, of one (k, k) or many (…, k, k) matrices.

    Vectorized so that the same code scores a window and all its bootstrap copies (einsum:
    sums over a tiny axis are several times faster than ``ndarray.sum`` there).
    """
    tp = np.einsum("...ii->...i", matrices)
    actual = np.einsum("...ij->...i", matrices)
    k = matrices.shape[-1]
    out = np.zeros((*matrices.shape[:-2], k + 3))
    f1 = out[..., :k]
    denominator = np.einsum("...ij->...j", matrices) + actual
    np.divide(2 * tp, denominator, out=f1, where=denominator > 0)
    n = np.einsum("...i->...", actual)
    out[..., k] = f1.sum(axis=-1) / k  # as np.mean, which scikit-learn's macro average calls
    out[..., k + 1] = np.einsum("...i->...", tp) / n
    out[..., k + 2] = (f1 * actual).sum(axis=-1) / n  # as np.average, to the last bit
    return out


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0 (scikit-learn's zero_division=0)."""
    out = np.zeros(np.shape(numerator), dtype=float)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


@dataclass(frozen=True)
class _Intervals:
    """Lower and upper bounds, one per statistic, or ``None`` when not computed."""

    low: list[float] | list[None]
    high: list[float] | list[None]


def _f1_intervals(matrix: np.ndarray, confidence: float, samples: int, seed: int) -> _Intervals:
    """Bootstrap intervals of ``f1_statistics``; (0, 1) for a class F1 that is undefined (0/0)."""
    width = len(matrix) + 3
    if samples <= 0:
        return _Intervals([None] * width, [None] * width)
    resampled = f1_statistics(multinomial_resamples(matrix, samples, seed))
    low, high = percentile_bounds(resampled, confidence)
    # Every copy of a class with no rows has no rows either: the data say nothing about it.
    undefined = np.zeros(width, dtype=bool)
    undefined[: len(matrix)] = (matrix.sum(axis=0) + matrix.sum(axis=1)) == 0
    return _Intervals(
        np.where(undefined, 0.0, low).tolist(), np.where(undefined, 1.0, high).tolist()
    )


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

    Args:
        counts: ``(actual, predicted) → count`` of the window's labelled predictions.
        task: ``binary_classification`` (adds ``precision``/``recall``/``f1`` of
            ``positive_label``) or ``multiclass_classification`` (adds macro/micro/weighted).
        classes: all class labels, if known; a class never seen counts with zeros.
        confidence, bootstrap_samples, seed: the intervals (Wilson for proportions, a
            bootstrap for F1 scores; ``bootstrap_samples=0`` leaves F1 without an interval).

    Returns:
        ``accuracy``, the task's aggregates, per-class ``precision:<c>``, ``recall:<c>``,
        ``f1:<c>``, ``support:<c>`` and the non-zero ``confusion:<actual>:<predicted>``
        cells; nothing for an empty window.
    """
    binary = task == "binary_classification"
    known = (*(classes or ()), positive_label) if binary else classes
    labels, matrix = confusion_matrix(counts, known)
    n = int(matrix.sum())
    if n == 0:
        return []
    table = _ClassTable.of(matrix, confidence)
    f1 = f1_statistics(matrix).tolist()
    f1_ci = _f1_intervals(matrix, confidence, bootstrap_samples, seed)
    out = [MetricValue("accuracy", table.correct / n, n, *table.accuracy_ci)]
    if binary:
        out += table.binary(labels.index(positive_label), f1, f1_ci)
    else:
        out += table.multiclass(f1, f1_ci)
    return out + table.per_class(labels, f1, f1_ci) + _confusion_cells(labels, matrix)


@dataclass(frozen=True)
class _ClassTable:
    """Per-class counts, precision and recall with Wilson intervals, as Python lists."""

    correct: int
    n: int
    tp: list[int]
    predicted: list[int]
    actual: list[int]
    precision: list[float]
    recall: list[float]
    precision_macro: float
    recall_macro: float
    accuracy_ci: tuple[float, float]
    precision_ci: tuple[list[float], list[float]]
    recall_ci: tuple[list[float], list[float]]

    @classmethod
    def of(cls, matrix: np.ndarray, confidence: float) -> _ClassTable:
        tp, predicted, actual = np.diagonal(matrix), matrix.sum(axis=0), matrix.sum(axis=1)
        k, correct, n = len(tp), int(tp.sum()), int(actual.sum())
        # One vectorized Wilson call for accuracy, every precision and every recall.
        low, high = wilson_bounds(
            np.concatenate([[correct], tp, tp]),
            np.concatenate([[n], predicted, actual]),
            confidence,
        )
        low, high = low.tolist(), high.tolist()
        precision, recall = _ratio(tp, predicted), _ratio(tp, actual)
        return cls(
            correct=correct,
            n=n,
            tp=tp.tolist(),
            predicted=predicted.tolist(),
            actual=actual.tolist(),
            precision=precision.tolist(),
            recall=recall.tolist(),
            precision_macro=float(precision.sum() / k),  # as np.mean, as scikit-learn
            recall_macro=float(recall.sum() / k),
            accuracy_ci=(low[0], high[0]),
            precision_ci=(low[1 : k + 1], high[1 : k + 1]),
            recall_ci=(low[k + 1 :], high[k + 1 :]),
        )

    def binary(self, i: int, f1: list[float], ci: _Intervals) -> list[MetricValue]:
        """``precision``, ``recall``, ``f1`` of class ``i`` (the positive label)."""
        return [
            MetricValue("precision", self.precision[i], self.predicted[i],
                        self.precision_ci[0][i], self.precision_ci[1][i]),
            MetricValue("recall", self.recall[i], self.actual[i],
                        self.recall_ci[0][i], self.recall_ci[1][i]),
            MetricValue("f1", f1[i], self.actual[i], ci.low[i], ci.high[i]),
        ]  # fmt: skip

    def multiclass(self, f1: list[float], ci: _Intervals) -> list[MetricValue]:
        """Macro precision and recall; macro, micro and weighted F1 (last three of ``f1``)."""
        k, n = len(self.tp), self.n
        return [
            MetricValue("precision_macro", self.precision_macro, n),
            MetricValue("recall_macro", self.recall_macro, n),
        ] + [
            MetricValue(name, f1[k + j], n, ci.low[k + j], ci.high[k + j])
            for j, name in enumerate(("f1_macro", "f1_micro", "f1_weighted"))
        ]

    def per_class(self, labels: list[str], f1: list[float], ci: _Intervals) -> list[MetricValue]:
        out = []
        for i, label in enumerate(labels):
            predicted, actual = self.predicted[i], self.actual[i]
            out += [
                MetricValue(f"precision:{label}", self.precision[i], predicted,
                            self.precision_ci[0][i], self.precision_ci[1][i]),
                MetricValue(f"recall:{label}", self.recall[i], actual,
                            self.recall_ci[0][i], self.recall_ci[1][i]),
                MetricValue(f"f1:{label}", f1[i], actual, ci.low[i], ci.high[i]),
                MetricValue(f"support:{label}", float(actual), actual),
            ]  # fmt: skip
        return out


def _confusion_cells(labels: list[str], matrix: np.ndarray) -> list[MetricValue]:
    n = int(matrix.sum())
    return [
        MetricValue(f"confusion:{actual}:{predicted}", float(count), n)
        for actual, row in zip(labels, matrix.tolist(), strict=True)
        for predicted, count in zip(labels, row, strict=True)
        if count
    ]


def regression_metrics(stats: RegressionStats, *, confidence: float = 0.95) -> list[MetricValue]:
    """``mae``, ``rmse``, ``r2`` and ``mape`` of one window, equal to scikit-learn's.

    ``mae`` carries a normal-approximation interval (the sums give the spread of |e|: Σe²);
    the others carry none, their sampling spread needs higher moments than these sums.

    >>> [m.value for m in regression_metrics(RegressionStats(2, 2.0, 2.0, 2.0, 1.0))]
    [1.0, 1.0, 0.0, 0.5]
    """
    n = stats.n
    if n == 0:
        return []
    sse, sst = stats.sum_squared_error, stats.total_sum_squares
    return [
        MetricValue("mae", stats.sum_abs_error / n, n, *_mae_interval(stats, confidence)),
        MetricValue("rmse", math.sqrt(sse / n), n),
        MetricValue("r2", _r2(n, sse, sst), n),
        MetricValue("mape", stats.sum_abs_percentage_error / n, n),
    ]


def _r2(n: int, sse: float, sst: float) -> float:
    if n < 2:  # scikit-learn: not well-defined with fewer than two samples
        return math.nan
    if sst == 0:  # scikit-learn's force_finite rule for a constant y_true
        return 1.0 if sse == 0 else 0.0
    return 1.0 - sse / sst


def _mae_interval(stats: RegressionStats, confidence: float) -> tuple[float | None, float | None]:
    """mae ± z·s/√n, s² the sample variance of |e| = (Σe² − n·mae²) / (n − 1)."""
    n = stats.n
    if n < 2:
        return None, None
    mae = stats.sum_abs_error / n
    variance = max(0.0, (stats.sum_squared_error - n * mae * mae) / (n - 1))
    half = z_value(confidence) * math.sqrt(variance / n)
    return max(0.0, mae - half), mae + half
