"""Drift of a distribution against a reference: PSI and Jensen–Shannon divergence.

Both compare two histograms (bin or label → count) over the union of their bins: a bin or
label seen in only one of them counts 0 in the other. PSI gives an empty bin the proportion
``PSI_EPSILON`` (it is infinite otherwise); the Jensen–Shannon divergence needs no such help
and is reported in bits (base 2), so it lies in [0, 1].

>>> [(m.name, round(m.value, 4)) for m in drift_metrics({"a": 50, "b": 50}, {"a": 25, "b": 75})]
[('psi', 0.2747), ('js_divergence', 0.0488)]
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

import numpy as np

from .metrics import MetricValue

Bin = TypeVar("Bin", bound=Hashable)
"""A histogram's bin: a score bin (``score:3``), a predicted label (``label:fraud``), …"""

PSI_EPSILON = 1e-4
"""Proportion given to an empty bin in PSI: a bin empty on one side adds
(p − ε)·ln(p / ε), about 9.2·p for ε = 10⁻⁴: large, as a new or vanished bin should be,
but finite."""


def _proportions(
    current: Mapping[Bin, int], reference: Mapping[Bin, int]
) -> tuple[np.ndarray, np.ndarray]:
    bins = list(dict.fromkeys([*current, *reference]))  # no sort: bins may mix types
    p = np.array([current.get(b, 0) for b in bins], dtype=float)
    q = np.array([reference.get(b, 0) for b in bins], dtype=float)
    return p / p.sum(), q / q.sum()


def population_stability_index(current: Mapping[Bin, int], reference: Mapping[Bin, int]) -> float:
    """Σ (p − q) ln(p / q) over the bins, empty bins raised to ``PSI_EPSILON``."""
    p, q = _proportions(current, reference)
    p, q = np.maximum(p, PSI_EPSILON), np.maximum(q, PSI_EPSILON)
    return float(((p - q) * np.log(p / q)).sum())


def jensen_shannon_divergence(current: Mapping[Bin, int], reference: Mapping[Bin, int]) -> float:
    """JS divergence in bits: equals ``scipy.spatial.distance.jensenshannon(p, q, 2) ** 2``."""
    p, q = _proportions(current, reference)
    m = (p + q) / 2
    return min(1.0, max(0.0, (_kl_bits(p, m) + _kl_bits(q, m)) / 2))


def _kl_bits(a: np.ndarray, m: np.ndarray) -> float:
    """Kullback–Leibler divergence KL(a ‖ m) in bits; 0·log 0 = 0 (m > 0 wherever a > 0)."""
    mask = a > 0
    return float((a[mask] * np.log2(a[mask] / m[mask])).sum())


def drift_metrics(current: Mapping[Bin, int], reference: Mapping[Bin, int]) -> list[MetricValue]:
    """``psi`` and ``js_divergence`` of a window against the reference; none if either is empty.

    The support is the window's count.
    """
    n, m = sum(current.values()), sum(reference.values())
    if n <= 0 or m <= 0:
        return []
    return [
        MetricValue("psi", population_stability_index(current, reference), n),
        MetricValue("js_divergence", jensen_shannon_divergence(current, reference), n),
    ]
