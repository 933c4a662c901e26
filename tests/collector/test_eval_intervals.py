"""Confidence intervals: Wilson for proportions, bootstrap for F1, normal for MAE.

Small windows are honest: their intervals are wide, and they narrow as the window grows.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from inferwatch_collector.evaluate.intervals import (
    multinomial_resamples,
    percentile_bounds,
    wilson_bounds,
    wilson_interval,
    z_value,
)
from inferwatch_collector.evaluate.metrics import (
    MetricValue,
    RegressionStats,
    classification_metrics,
    f1_statistics,
    regression_metrics,
)


def by_name(metrics: list[MetricValue]) -> dict[str, MetricValue]:
    return {m.name: m for m in metrics}


def binary(counts: dict, *, seed: int = 0, samples: int = 200) -> dict[str, MetricValue]:
    return by_name(
        classification_metrics(
            counts,
            task="binary_classification",
            positive_label="1",
            bootstrap_samples=samples,
            seed=seed,
        )
    )


# Newcombe (1998), "Two-sided confidence intervals for the single proportion", Statistics in
# Medicine 17:857–872, Table I, method 3 (score interval without continuity correction).
@pytest.mark.parametrize(
    ("successes", "total", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611)]
    + [(1, 29, 0.0061, 0.1718), (29, 29, 0.8830, 1.0)],
)
def test_wilson_interval_matches_published_values(
    successes: int, total: int, low: float, high: float
) -> None:
    assert wilson_interval(successes, total, 0.95) == pytest.approx((low, high), abs=5e-5)


def test_wilson_interval_matches_the_formula() -> None:
    low, high = wilson_interval(8, 10, 0.95)
    z = 1.959963984540054
    centre = (0.8 + z * z / 20) / (1 + z * z / 10)
    half = z * math.sqrt(0.8 * 0.2 / 10 + z * z / 400) / (1 + z * z / 10)
    assert (low, high) == pytest.approx((centre - half, centre + half), abs=1e-12)
    assert z_value(0.95) == pytest.approx(z, abs=1e-12)


def wilson_coverage(total: int, p: float) -> float:
    """Exact probability that the interval of a Binomial(total, p) count contains p."""
    return sum(
        math.comb(total, k) * p**k * (1 - p) ** (total - k)
        for k in range(total + 1)
        if wilson_interval(k, total, 0.95)[0] <= p <= wilson_interval(k, total, 0.95)[1]
    )


@pytest.mark.parametrize("total", [20, 50, 200])
def test_wilson_interval_covers_the_truth_about_as_often_as_it_claims(total: int) -> None:
    coverages = [wilson_coverage(total, p) for p in np.linspace(0.1, 0.9, 17)]
    assert min(coverages) >= 0.92
    assert max(coverages) <= 0.98
    assert np.mean(coverages) == pytest.approx(0.95, abs=0.015)


@given(
    st.lists(st.tuples(st.integers(0, 500), st.integers(0, 500)), min_size=1, max_size=20),
    st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_vectorized_wilson_equals_the_scalar_one(pairs: list, confidence: float) -> None:
    successes = np.array([min(s, t) for s, t in pairs])
    totals = np.array([t for _, t in pairs])
    low, high = wilson_bounds(successes, totals, confidence)
    for i in range(len(pairs)):
        expected = wilson_interval(int(successes[i]), int(totals[i]), confidence)
        assert (low[i], high[i]) == pytest.approx(expected, abs=1e-12)


def test_empty_proportions_say_nothing() -> None:
    assert wilson_interval(0, 0, 0.95) == (0.0, 1.0)
    low, high = wilson_bounds(np.array([0]), np.array([0]), 0.95)
    assert (low.tolist(), high.tolist()) == ([0.0], [1.0])


@pytest.mark.parametrize("confidence", [0.0, 1.0, 95.0, -0.5])
def test_a_confidence_outside_0_1_is_an_error(confidence: float) -> None:
    with pytest.raises(ValueError, match="confidence"):
        wilson_interval(1, 2, confidence)


def test_accuracy_of_three_samples_is_honest_about_being_small() -> None:
    small = binary({("1", "1"): 3})["accuracy"]
    large = binary({("1", "1"): 3000})["accuracy"]
    assert small.value == large.value == 1.0
    assert small.ci_high == large.ci_high == 1.0
    assert small.ci_low == pytest.approx(0.4385, abs=1e-4)
    assert large.ci_low > 0.998


def test_f1_interval_of_three_samples_is_wide_and_narrows_with_more() -> None:
    small = binary({("1", "1"): 1, ("1", "0"): 1, ("0", "0"): 1}, seed=1)["f1"]
    larger = binary({("1", "1"): 1000, ("1", "0"): 1000, ("0", "0"): 1000}, seed=1)["f1"]
    assert small.value == pytest.approx(larger.value) == pytest.approx(2 / 3)
    assert small.ci_high - small.ci_low > 0.5
    assert larger.ci_high - larger.ci_low < 0.06
    assert larger.ci_low < larger.value < larger.ci_high


def test_bootstrap_interval_is_the_same_for_the_same_seed() -> None:
    counts = {("1", "1"): 40, ("1", "0"): 10, ("0", "1"): 5, ("0", "0"): 45}
    first, again, other = binary(counts, seed=7), binary(counts, seed=7), binary(counts, seed=8)
    assert first["f1"] == again["f1"]
    assert (first["f1"].ci_low, first["f1"].ci_high) != (other["f1"].ci_low, other["f1"].ci_high)


def test_every_f1_carries_a_bootstrap_interval_and_proportions_a_wilson_one() -> None:
    counts = {("a", "a"): 30, ("a", "b"): 5, ("b", "b"): 20, ("c", "a"): 4, ("c", "c"): 9}
    got = by_name(
        classification_metrics(counts, task="multiclass_classification", positive_label="a")
    )
    for name in ("f1_macro", "f1_micro", "f1_weighted", "f1:a", "f1:b", "f1:c"):
        assert got[name].ci_low <= got[name].value <= got[name].ci_high, name
    assert (got["accuracy"].ci_low, got["accuracy"].ci_high) == pytest.approx(
        wilson_interval(59, 68, 0.95), abs=1e-12
    )
    assert (got["precision:a"].ci_low, got["precision:a"].ci_high) == pytest.approx(
        wilson_interval(30, 34, 0.95), abs=1e-12
    )
    assert (got["recall:c"].ci_low, got["recall:c"].ci_high) == pytest.approx(
        wilson_interval(9, 13, 0.95), abs=1e-12
    )
    assert got["precision_macro"].ci_low is None and got["support:a"].ci_low is None


def test_no_bootstrap_samples_means_no_f1_interval() -> None:
    got = binary({("1", "1"): 5, ("0", "1"): 2}, samples=0)
    assert (got["f1"].ci_low, got["f1"].ci_high) == (None, None)
    assert got["precision"].ci_low is not None


def test_resamples_keep_the_total_and_never_invent_cells() -> None:
    counts = np.array([[40, 0], [5, 45]])
    resamples = multinomial_resamples(counts, samples=300, seed=3)
    assert resamples.shape == (300, 2, 2)
    assert set(resamples.sum(axis=(1, 2)).tolist()) == {90}
    assert not resamples[:, 0, 1].any()
    assert resamples.mean(axis=0) == pytest.approx(counts, abs=1.5)


@given(
    st.lists(
        st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=3, max_size=3),
        min_size=1,
        max_size=50,
    ),
    st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_percentile_bounds_equal_numpy(rows: list, confidence: float) -> None:
    values = np.array(rows)
    tail = (1 - confidence) / 2 * 100
    expected = np.percentile(values, [tail, 100 - tail], axis=0)
    low, high = percentile_bounds(values, confidence)
    assert low == pytest.approx(expected[0], rel=1e-12, abs=1e-9)
    assert high == pytest.approx(expected[1], rel=1e-12, abs=1e-9)


def test_bootstrap_f1_interval_covers_the_true_f1_most_of_the_time() -> None:
    # A population confusion matrix; windows of 200 drawn from it; how often does the
    # window's 95 % interval contain the population's F1? (189 of 200 here; a percentile
    # bootstrap of a ratio can be a little liberal on small windows, hence 90 %.)
    population = np.array([[0.3, 0.1], [0.05, 0.55]])
    truth = f1_statistics(population)[0]  # F1 of class "0": scale-free
    rng = np.random.default_rng(11)
    covered = 0
    for window in rng.multinomial(200, population.ravel(), size=200):
        cells = [("0", "0"), ("0", "1"), ("1", "0"), ("1", "1")]
        counts = {cell: int(c) for cell, c in zip(cells, window, strict=True)}
        f1 = binary(counts, seed=int(window[0]))["f1:0"]
        covered += f1.ci_low <= truth <= f1.ci_high
    assert covered / 200 >= 0.90


def test_mae_interval_is_the_normal_approximation_of_the_raw_errors() -> None:
    rng = np.random.default_rng(5)
    y, y_hat = rng.normal(10, 3, 400), rng.normal(10, 3, 400)
    error = y - y_hat
    stats = RegressionStats(
        n=400,
        sum_abs_error=float(np.abs(error).sum()),
        sum_squared_error=float((error**2).sum()),
        total_sum_squares=float(np.var(y) * 400),
        sum_abs_percentage_error=float((np.abs(error) / np.abs(y)).sum()),
    )
    got = by_name(regression_metrics(stats))
    half = 1.959963984540054 * np.abs(error).std(ddof=1) / math.sqrt(400)
    mae = np.abs(error).mean()
    assert (got["mae"].ci_low, got["mae"].ci_high) == pytest.approx(
        (mae - half, mae + half), rel=1e-9
    )
    for name in ("rmse", "r2", "mape"):
        assert (got[name].ci_low, got[name].ci_high) == (None, None)
