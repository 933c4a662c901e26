"""The evaluator's metrics equal scikit-learn on the raw y_true, y_pred arrays of a window.

Property tests: random windows of confusion counts, configured classes never seen, classes
only predicted or only labelled, absent positive labels and zero-division cases. The counts
are expanded back to raw arrays (``np.repeat``) and scikit-learn is called on those.
"""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from inferwatch_collector.evaluate.durations import parse_duration
from inferwatch_collector.evaluate.metrics import (
    MetricValue,
    RegressionStats,
    classification_metrics,
    regression_metrics,
)

LABELS = ["a", "b", "c", "d", "e"]
TOLERANCE = 1e-12

multiclass_windows = st.dictionaries(
    st.tuples(st.sampled_from(LABELS), st.sampled_from(LABELS)),
    st.integers(min_value=0, max_value=40),  # 0: a cell the query could return empty
    min_size=1,
    max_size=15,
).filter(lambda counts: sum(counts.values()) > 0)

binary_windows = st.dictionaries(
    st.tuples(st.sampled_from(["0", "1"]), st.sampled_from(["0", "1"])),
    st.integers(min_value=1, max_value=50),
    min_size=1,
)


def expand(counts: dict[tuple[str, str], int]) -> tuple[np.ndarray, np.ndarray]:
    """The raw arrays a window of counts stands for."""
    pairs = list(counts)
    repeats = [counts[pair] for pair in pairs]
    y_true = np.repeat([a for a, _ in pairs], repeats)
    y_pred = np.repeat([p for _, p in pairs], repeats)
    return y_true, y_pred


def by_name(metrics: list[MetricValue]) -> dict[str, MetricValue]:
    return {m.name: m for m in metrics}


def multiclass(counts: dict, classes: list[str] | None = None) -> dict[str, MetricValue]:
    return by_name(
        classification_metrics(
            counts,
            task="multiclass_classification",
            positive_label="1",
            classes=classes,
            bootstrap_samples=0,
        )
    )


def binary(counts: dict, positive: str = "1", classes: list[str] | None = None) -> dict:
    return by_name(
        classification_metrics(
            counts, task="binary_classification", positive_label=positive, classes=classes
        )
    )


@settings(max_examples=200, deadline=None)
@given(multiclass_windows, st.lists(st.sampled_from([*LABELS, "f"]), max_size=6, unique=True))
@example({("a", "a"): 1}, [])  # one sample
@example({("a", "b"): 3, ("b", "c"): 2, ("c", "a"): 4}, [])  # all wrong
@example({("a", "b"): 5}, ["a", "b", "f"])  # a class only labelled, one only predicted, one unseen
def test_multiclass_metrics_equal_scikit_learn(counts: dict, classes: list[str]) -> None:
    y_true, y_pred = expand(counts)
    got = multiclass(counts, classes)
    labels = sorted(set(y_true) | set(y_pred) | set(classes))
    assert got["accuracy"].value == skm.accuracy_score(y_true, y_pred)
    for average in ("macro", "micro", "weighted"):
        expected = skm.f1_score(y_true, y_pred, labels=labels, average=average, zero_division=0)
        assert got[f"f1_{average}"].value == pytest.approx(expected, abs=TOLERANCE), average
    for name, score in (("precision", skm.precision_score), ("recall", skm.recall_score)):
        expected = score(y_true, y_pred, labels=labels, average="macro", zero_division=0)
        assert got[f"{name}_macro"].value == pytest.approx(expected, abs=TOLERANCE), name
    p, r, f, s = skm.precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    for i, label in enumerate(labels):
        assert got[f"precision:{label}"].value == pytest.approx(p[i], abs=TOLERANCE)
        assert got[f"recall:{label}"].value == pytest.approx(r[i], abs=TOLERANCE)
        assert got[f"f1:{label}"].value == pytest.approx(f[i], abs=TOLERANCE)
        assert got[f"support:{label}"].value == s[i] == got[f"support:{label}"].support


@settings(max_examples=100, deadline=None)
@given(multiclass_windows, st.lists(st.sampled_from(LABELS), max_size=5, unique=True))
def test_confusion_cells_equal_scikit_learn(counts: dict, classes: list[str]) -> None:
    y_true, y_pred = expand(counts)
    labels = sorted(set(y_true) | set(y_pred) | set(classes))
    got = multiclass(counts, classes)
    # A 1×1 matrix makes scikit-learn warn (warnings are errors here); it is just [[n]].
    expected = (
        skm.confusion_matrix(y_true, y_pred, labels=labels)
        if len(labels) > 1
        else np.array([[len(y_true)]])
    )
    cells = {name: m.value for name, m in got.items() if name.startswith("confusion:")}
    assert cells == {
        f"confusion:{a}:{b}": expected[i, j]
        for i, a in enumerate(labels)
        for j, b in enumerate(labels)
        if expected[i, j]
    }


@settings(max_examples=200, deadline=None)
@given(binary_windows, st.sampled_from(["1", "0"]))
@example({("0", "0"): 5}, "1")  # positive class absent from the window
@example({("1", "0"): 5}, "1")  # nothing predicted positive: precision is 0/0
@example({("0", "1"): 5}, "1")  # nothing labelled positive: recall is 0/0
@example({("1", "0"): 2, ("0", "1"): 3}, "1")  # all wrong
def test_binary_metrics_equal_scikit_learn_including_zero_division(
    counts: dict, positive: str
) -> None:
    y_true, y_pred = expand(counts)
    got = binary(counts, positive)
    for name, score in (
        ("precision", skm.precision_score),
        ("recall", skm.recall_score),
        ("f1", skm.f1_score),
    ):
        expected = score(y_true, y_pred, pos_label=positive, zero_division=0)
        assert got[name].value == pytest.approx(expected, abs=TOLERANCE), name
    assert got["accuracy"].value == skm.accuracy_score(y_true, y_pred)


@settings(max_examples=100, deadline=None)
@given(multiclass_windows, st.sampled_from(LABELS))
def test_binary_metrics_of_a_positive_class_among_many_are_one_vs_rest(
    counts: dict, positive: str
) -> None:
    y_true, y_pred = expand(counts)
    got = binary(counts, positive)
    p, r, f, _ = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=[positive], zero_division=0
    )
    assert (got["precision"].value, got["recall"].value, got["f1"].value) == pytest.approx(
        (p[0], r[0], f[0]), abs=TOLERANCE
    )


def test_binary_window_without_the_positive_class_still_names_it() -> None:
    got = binary({("0", "0"): 4}, positive="1")
    assert got["precision"] == MetricValue("precision", 0.0, 0, 0.0, 1.0)
    assert got["recall"] == MetricValue("recall", 0.0, 0, 0.0, 1.0)
    assert (got["f1"].value, got["f1"].ci_low, got["f1"].ci_high) == (0.0, 0.0, 1.0)
    assert got["support:1"].value == 0.0


def test_supports_say_what_each_value_rests_on() -> None:
    got = binary({("1", "1"): 6, ("0", "1"): 2, ("1", "0"): 3, ("0", "0"): 9})
    assert got["accuracy"].support == 20
    assert got["precision"].support == 8  # predicted positive
    assert got["recall"].support == 9  # labelled positive
    assert got["f1"].support == 9
    assert got["confusion:0:1"] == MetricValue("confusion:0:1", 2.0, 20)


def test_names_of_a_multiclass_window() -> None:
    got = multiclass({("a", "b"): 2, ("b", "b"): 1}, classes=["c"])
    per_class = {f"{kind}:{c}" for kind in ("precision", "recall", "f1", "support") for c in "abc"}
    aggregates = {"precision_macro", "recall_macro", "f1_macro", "f1_micro", "f1_weighted"}
    assert set(got) == {"accuracy"} | aggregates | per_class | {
        "confusion:a:b",
        "confusion:b:b",
    }


def test_an_empty_window_has_no_metrics() -> None:
    assert multiclass({("a", "a"): 0}) == {}
    assert regression_metrics(RegressionStats(0, 0.0, 0.0, 0.0, 0.0)) == []


def regression_stats(y: np.ndarray, y_hat: np.ndarray) -> RegressionStats:
    """What the SQL sums: Σ|e|, Σe², varPop(y)·n, Σ|e|/max(|y|, ε)."""
    error = y - y_hat
    eps = np.finfo(np.float64).eps
    return RegressionStats(
        n=len(y),
        sum_abs_error=float(np.abs(error).sum()),
        sum_squared_error=float((error**2).sum()),
        total_sum_squares=float(np.var(y) * len(y)),
        sum_abs_percentage_error=float((np.abs(error) / np.maximum(np.abs(y), eps)).sum()),
    )


# Rounded to 6 decimals: values like 1e-160 make Σ(y − ȳ)² underflow towards 0 and
# scikit-learn's own division overflow (a warning, an error here) — not what is under test.
moderate = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False).map(lambda x: round(x, 6))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(moderate, moderate), min_size=2, max_size=60))
@example([(3.0, 3.0), (3.0, 3.0)])  # constant y_true, perfect: scikit-learn says 1
@example([(3.0, 2.0), (3.0, 4.0)])  # constant y_true, imperfect: scikit-learn says 0
@example([(0.0, 1.0), (2.0, 2.0)])  # y = 0: MAPE divides by ε
def test_regression_metrics_equal_scikit_learn(pairs: list[tuple[float, float]]) -> None:
    y, y_hat = np.array(pairs).T
    got = by_name(regression_metrics(regression_stats(y, y_hat)))
    close = {"rel": 1e-9, "abs": 1e-9}
    assert got["mae"].value == pytest.approx(skm.mean_absolute_error(y, y_hat), **close)
    assert got["rmse"].value == pytest.approx(skm.root_mean_squared_error(y, y_hat), **close)
    assert got["r2"].value == pytest.approx(skm.r2_score(y, y_hat), **close)
    mape = skm.mean_absolute_percentage_error(y, y_hat)
    assert got["mape"].value == pytest.approx(mape, **close)
    assert {m.support for m in got.values()} == {len(y)}


def test_r2_of_a_single_sample_is_undefined() -> None:
    # scikit-learn returns NaN (with a warning) for fewer than two samples.
    got = by_name(regression_metrics(regression_stats(np.array([2.0]), np.array([1.0]))))
    assert math.isnan(got["r2"].value)
    assert (got["mae"].value, got["rmse"].value, got["mape"].value) == (1.0, 1.0, 0.5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30s", timedelta(seconds=30)), ("5m", timedelta(minutes=5)), ("1h", timedelta(hours=1))]
    + [("7d", timedelta(days=7)), ("2w", timedelta(weeks=2))],
)
def test_durations_of_the_config_file(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "5", "h", "0m", "1.5h", "-1h", "1y", "1 hour"])
def test_a_wrong_duration_is_an_error_naming_it(text: str) -> None:
    with pytest.raises(ValueError, match=f"'{text}' is not a duration"):
        parse_duration(text)
