"""Drift of a distribution against a reference: PSI and Jensen–Shannon divergence.

Both compare two histograms over the same bins (score bins, or predicted labels). PSI gives
empty bins a proportion of ``PSI_EPSILON`` (it is infinite otherwise); the Jensen–Shannon
divergence needs no such help and is reported in bits (base 2), so it lies in [0, 1].
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .metrics import MetricValue

PSI_EPSILON = 1e-4


def _proportions(
    current: Mapping[str, int], reference: Mapping[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    bins = sorted(set(current) | set(reference))
    p = np.array([current.get(b, 0) for b in bins], dtype=float)
    q = np.array([reference.get(b, 0) for b in bins], dtype=float)
    return p / p.sum(), q / q.sum()


def population_stability_index(current: Mapping[str, int], reference: Mapping[str, int]) -> float:
    """Σ (p − q) ln(p / q), with empty bins raised to ``PSI_EPSILON``."""
    p, q = _proportions(current, reference)
    p, q = np.maximum(p, PSI_EPSILON), np.maximum(q, PSI_EPSILON)
    return float(((p - q) * np.log(p / q)).sum())


def jensen_shannon_divergence(current: Mapping[str, int], reference: Mapping[str, int]) -> float:
    """JS divergence in bits: equals ``scipy.spatial.distance.jensenshannon(p, q, 2) ** 2``."""
    p, q = _proportions(current, reference)
    m = (p + q) / 2

    def kl(a: np.ndarray) -> float:
        mask = a > 0
        return float((a[mask] * np.log2(a[mask] / m[mask])).sum())

    return max(0.0, (kl(p) + kl(q)) / 2)


def drift_metrics(current: Mapping[str, int], reference: Mapping[str, int]) -> list[MetricValue]:
    """``psi`` and ``js_divergence`` of a window against the reference; none if either is empty."""
    n, m = sum(current.values()), sum(reference.values())
    if n == 0 or m == 0:
        return []
    return [
        MetricValue("psi", population_stability_index(current, reference), n),
        MetricValue("js_divergence", jensen_shannon_divergence(current, reference), n),
    ]
