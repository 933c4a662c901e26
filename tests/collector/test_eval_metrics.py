"""The evaluator's metrics equal scikit-learn on the raw arrays (property tests)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon
from sklearn import metrics as skm

from inferwatch_collector.evaluate.drift import drift_metrics
from inferwatch_collector.evaluate.intervals import wilson_interval
from inferwatch_collector.evaluate.metrics import (
    RegressionStats,
    classification_metrics,
    regression_metrics,
)

LABELS = ["a", "b", "c", "d", "e"]

windows = st.dictionaries(
    st.tuples(st.sampled_from(LABELS), st.sampled_from(LABELS)),
    st.integers(min_value=1, max_value=40),
    min_size=1,
    max_size=12,
)


def expand(counts: dict[tuple[str, str], int]) -> tuple[list[str], list[str]]:
    y_true = [a for (a, _), n in counts.items() for _ in range(n)]
    y_pred = [p for (_, p), n in counts.items() for _ in range(n)]
    return y_true, y_pred


def values(metrics: list) -> dict[str, float]:
    return {m.name: m.value for m in metrics}


@pytest.mark.filterwarnings("ignore:A single label was found:UserWarning")
@settings(max_examples=150, deadline=None)
@given(windows, st.lists(st.sampled_from(LABELS), max_size=5, unique=True))
def test_multiclass_metrics_equal_scikit_learn(counts: dict, classes: list[str]) -> None:
    y_true, y_pred = expand(counts)
    got = values(
        classification_metrics(
            counts,
            task="multiclass_classification",
            positive_label="a",
            classes=classes,
            bootstrap_samples=0,
        )
    )
    labels = sorted(set(y_true) | set(y_pred) | set(classes))
    p, r, f, s = skm.precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y_true, y_pred), abs=1e-12)
    for average in ("macro", "micro", "weighted"):
        expected = skm.f1_score(y_true, y_pred, labels=labels, average=average, zero_division=0)
        assert got[f"f1_{average}"] == pytest.approx(expected, abs=1e-12)
    for name, sk in (("precision", skm.precision_score), ("recall", skm.recall_score)):
        expected = sk(y_true, y_pred, labels=labels, average="macro", zero_division=0)
        assert got[f"{name}_macro"] == pytest.approx(expected, abs=1e-12)
    for i, label in enumerate(labels):
        assert got[f"precision:{label}"] == pytest.approx(p[i], abs=1e-12)
        assert got[f"recall:{label}"] == pytest.approx(r[i], abs=1e-12)
        assert got[f"f1:{label}"] == pytest.approx(f[i], abs=1e-12)
        assert got[f"support:{label}"] == s[i]
    matrix = skm.confusion_matrix(y_true, y_pred, labels=labels)
    for i, a in enumerate(labels):
        for j, b in enumerate(labels):
            assert got.get(f"confusion:{a}:{b}", 0) == matrix[i, j]


@pytest.mark.filterwarnings("ignore:A single label was found:UserWarning")
@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.tuples(st.sampled_from(["0", "1"]), st.sampled_from(["0", "1"])),
        st.integers(min_value=1, max_value=50),
        min_size=1,
    )
)
def test_binary_metrics_equal_scikit_learn_including_zero_division(counts: dict) -> None:
    y_true, y_pred = expand(counts)
    got = values(classification_metrics(counts, task="binary_classification", positive_label="1"))
    for name, sk in (
        ("precision", skm.precision_score),
        ("recall", skm.recall_score),
        ("f1", skm.f1_score),
    ):
        expected = sk(y_true, y_pred, labels=["1"], average="macro", zero_division=0)
        assert got[name] == pytest.approx(expected, abs=1e-12), name


def test_intervals_are_honest_about_small_windows() -> None:
    small = classification_metrics(
        {("1", "1"): 3}, task="binary_classification", positive_label="1"
    )
    large = classification_metrics(
        {("1", "1"): 3000}, task="binary_classification", positive_label="1"
    )
    small_acc, large_acc = small[0], large[0]
    assert small_acc.value == large_acc.value == 1.0
    assert small_acc.ci_low < 0.5 < large_acc.ci_low
    f1 = {m.name: m for m in classification_metrics(
        {("1", "1"): 40, ("1", "0"): 10, ("0", "1"): 5, ("0", "0"): 45},
        task="binary_classification", positive_label="1", seed=7,
    )}["f1"]  # fmt: skip
    assert f1.ci_low < f1.value < f1.ci_high


def test_wilson_interval_matches_the_formula() -> None:
    low, high = wilson_interval(8, 10, 0.95)
    z = 1.959963984540054
    centre = (0.8 + z * z / 20) / (1 + z * z / 10)
    half = z * math.sqrt(0.8 * 0.2 / 10 + z * z / 400) / (1 + z * z / 10)
    assert (low, high) == pytest.approx((centre - half, centre + half), abs=1e-12)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-1e4, 1e4, allow_nan=False), st.floats(-1e4, 1e4, allow_nan=False)),
        min_size=1,
        max_size=60,
    )
)
def test_regression_metrics_equal_scikit_learn(pairs: list[tuple[float, float]]) -> None:
    y = np.array([a for a, _ in pairs])
    yhat = np.array([b for _, b in pairs])
    error = y - yhat
    eps = np.finfo(np.float64).eps
    stats = RegressionStats(
        n=len(y),
        sum_abs_error=float(np.abs(error).sum()),
        sum_squared_error=float((error**2).sum()),
        total_sum_squares=float(((y - y.mean()) ** 2).sum()),
        sum_abs_percentage_error=float((np.abs(error) / np.maximum(np.abs(y), eps)).sum()),
    )
    got = values(regression_metrics(stats))
    assert got["mae"] == pytest.approx(skm.mean_absolute_error(y, yhat), rel=1e-9, abs=1e-9)
    assert got["rmse"] == pytest.approx(
        math.sqrt(skm.mean_squared_error(y, yhat)), rel=1e-9, abs=1e-9
    )
    assert got["r2"] == pytest.approx(skm.r2_score(y, yhat), rel=1e-9, abs=1e-9, nan_ok=True)
    assert got["mape"] == pytest.approx(
        skm.mean_absolute_percentage_error(y, yhat), rel=1e-9, abs=1e-9
    )


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(st.sampled_from(LABELS), st.integers(1, 100), min_size=1),
    st.dictionaries(st.sampled_from(LABELS), st.integers(1, 100), min_size=1),
)
def test_js_divergence_equals_scipy(current: dict, reference: dict) -> None:
    bins = sorted(set(current) | set(reference))
    p = np.array([current.get(b, 0) for b in bins], dtype=float)
    q = np.array([reference.get(b, 0) for b in bins], dtype=float)
    got = values(drift_metrics(current, reference))
    assert got["js_divergence"] == pytest.approx(jensenshannon(p, q, base=2) ** 2, abs=1e-12)
    assert got["psi"] >= 0


def test_identical_distributions_do_not_drift() -> None:
    got = values(drift_metrics({"a": 10, "b": 30}, {"a": 100, "b": 300}))
    assert got == {"psi": pytest.approx(0.0), "js_divergence": pytest.approx(0.0, abs=1e-12)}
