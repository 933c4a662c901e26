"""Drift of a window's histogram against a reference: PSI and Jensen–Shannon divergence."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon

from inferwatch_collector.evaluate.drift import (
    PSI_EPSILON,
    drift_metrics,
    jensen_shannon_divergence,
    population_stability_index,
)

BINS = ["a", "b", "c", "d", "e"]
histograms = st.dictionaries(st.sampled_from(BINS), st.integers(0, 100), min_size=1).filter(
    lambda h: sum(h.values()) > 0
)


def proportions(current: dict, reference: dict) -> tuple[np.ndarray, np.ndarray]:
    bins = sorted(set(current) | set(reference))
    p = np.array([current.get(b, 0) for b in bins], dtype=float)
    q = np.array([reference.get(b, 0) for b in bins], dtype=float)
    return p / p.sum(), q / q.sum()


@settings(max_examples=200, deadline=None)
@given(histograms, histograms)
def test_js_divergence_equals_scipy_in_bits(current: dict, reference: dict) -> None:
    p, q = proportions(current, reference)
    got = {m.name: m.value for m in drift_metrics(current, reference)}
    assert got["js_divergence"] == pytest.approx(jensenshannon(p, q, base=2) ** 2, abs=1e-12)
    assert 0.0 <= got["js_divergence"] <= 1.0


@settings(max_examples=200, deadline=None)
@given(histograms, histograms)
def test_psi_is_the_formula_with_empty_bins_raised_to_epsilon(current: dict, reference: dict):
    p, q = proportions(current, reference)
    p, q = np.maximum(p, PSI_EPSILON), np.maximum(q, PSI_EPSILON)
    expected = float(((p - q) * np.log(p / q)).sum())
    psi = population_stability_index(current, reference)
    assert psi == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert psi >= 0
    assert psi == pytest.approx(population_stability_index(reference, current), rel=1e-12)


def test_psi_of_a_known_shift() -> None:
    # p = (½, ½), q = (¼, ¾): ¼·ln 2 + ¼·ln(3/2) = ¼·ln 3.
    psi = population_stability_index({"a": 50, "b": 50}, {"a": 25, "b": 75})
    assert psi == pytest.approx(math.log(3) / 4, rel=1e-12)


def test_a_label_in_only_one_histogram_is_large_but_finite_drift() -> None:
    current, reference = {"a": 50, "new": 50}, {"a": 100}
    psi = population_stability_index(current, reference)
    # bin a: p = ½, q = 1; bin new: p = ½, q raised to ε.
    expected = (0.5 - 1) * math.log(0.5) + (0.5 - PSI_EPSILON) * math.log(0.5 / PSI_EPSILON)
    assert psi == pytest.approx(expected, rel=1e-12)
    assert jensen_shannon_divergence(current, reference) == pytest.approx(
        jensenshannon([0.5, 0.5], [1.0, 0.0], base=2) ** 2, abs=1e-12
    )


def test_disjoint_histograms_are_one_bit_apart() -> None:
    assert jensen_shannon_divergence({"a": 10}, {"b": 3}) == 1.0


def test_identical_distributions_do_not_drift() -> None:
    got = {m.name: m.value for m in drift_metrics({"a": 10, "b": 30}, {"a": 100, "b": 300})}
    assert got == {"psi": pytest.approx(0.0, abs=1e-15), "js_divergence": pytest.approx(0.0)}


def test_score_bins_may_be_numbers() -> None:
    got = {m.name: m for m in drift_metrics({0: 5, 3: 5}, {0: 5, 9: 5})}
    assert got["js_divergence"].value == pytest.approx(0.5, abs=1e-12)
    assert got["psi"].support == got["js_divergence"].support == 10


def test_no_drift_without_a_window_or_a_reference() -> None:
    assert drift_metrics({}, {"a": 1}) == []
    assert drift_metrics({"a": 1}, {"a": 0}) == []
