"""Confidence intervals: Wilson for proportions, a multinomial bootstrap for F1 scores.

>>> [round(x, 3) for x in wilson_interval(3, 3, 0.95)]
[0.439, 1.0]
>>> resamples = multinomial_resamples(np.array([[40, 10], [5, 45]]), samples=200, seed=7)
>>> resamples.shape, int(resamples[0].sum())
((200, 2, 2), 100)
"""

from __future__ import annotations

import math
from functools import lru_cache
from statistics import NormalDist

import numpy as np


@lru_cache(maxsize=16)
def z_value(confidence: float) -> float:
    """The two-sided standard-normal quantile of ``confidence`` (1.96 for 0.95)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, not {confidence!r}")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(successes: int, total: int, confidence: float) -> tuple[float, float]:
    """Wilson score interval of ``successes / total``; ``(0, 1)`` when ``total`` is 0.

    Honest for small windows: 3 of 3 correct gives (0.44, 1.0) at 95 %, not (1, 1).
    """
    if total <= 0:
        return 0.0, 1.0
    z = z_value(confidence)
    p = successes / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    # Exact ends at 0 and n: the formula gives them only up to rounding.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == total else min(1.0, centre + half)
    return low, high


def wilson_bounds(
    successes: np.ndarray, totals: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """``wilson_interval`` of many proportions at once (integer arrays of equal shape)."""
    z2 = z_value(confidence) ** 2
    n = np.maximum(totals, 1)
    p = successes / n
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = np.sqrt(z2 * (p * (1 - p) / n + z2 / (4 * n * n))) / denominator
    low, high = centre - half, centre + half
    low[successes == 0] = 0.0  # also gives (0, 1) for an empty total
    high[successes == totals] = 1.0
    return np.clip(low, 0.0, 1.0, out=low), np.clip(high, 0.0, 1.0, out=high)


def multinomial_resamples(counts: np.ndarray, samples: int, seed: int) -> np.ndarray:
    """``samples`` bootstrap copies of a count table (any shape), each with the same total.

    Resampling the n rows of a window with replacement is the same as one multinomial draw of
    n over the table's cells with the observed proportions; numpy draws all copies in one
    call. The same ``seed`` gives the same copies, so a window's interval is stable.
    """
    total = int(counts.sum())
    draws = np.random.default_rng(seed).multinomial(total, counts.ravel() / total, size=samples)
    return draws.reshape(samples, *counts.shape)


def percentile_bounds(values: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Central ``confidence`` interval of each column of ``values`` (bootstrap copies × stats).

    Equals ``np.percentile(values, [tail, 100 - tail], axis=0)`` (its default linear
    interpolation, up to rounding) at a fraction of the cost for the small tables used here.
    """
    ordered = np.sort(values, axis=0)
    tail = (1 - confidence) / 2
    return _interpolate(ordered, tail), _interpolate(ordered, 1 - tail)


def _interpolate(ordered: np.ndarray, quantile: float) -> np.ndarray:
    position = quantile * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    fraction = position - below
    low: np.ndarray = ordered[below]
    high: np.ndarray = ordered[above]
    # From the nearer end, as numpy does, so that equal neighbours give exactly their value.
    step = high - low
    result: np.ndarray = low + step * fraction if fraction < 0.5 else high - step * (1 - fraction)
    return result
