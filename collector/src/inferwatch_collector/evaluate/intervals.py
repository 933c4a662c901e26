"""Confidence intervals: Wilson for proportions, a multinomial bootstrap for F1 scores."""

from __future__ import annotations

import math
from statistics import NormalDist


def z_value(confidence: float) -> float:
    """The two-sided standard-normal quantile of ``confidence`` (1.96 for 0.95)."""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(successes: int, total: int, confidence: float) -> tuple[float, float]:
    """Wilson score interval of ``successes / total``; ``(0, 1)`` when ``total`` is 0.

    Honest for small windows: 3 of 3 correct gives (0.44, 1.0) at 95 %, not (1, 1).

    >>> [round(x, 3) for x in wilson_interval(3, 3, 0.95)]
    [0.439, 1.0]
    """
    if total <= 0:
        return 0.0, 1.0
    z = z_value(confidence)
    p = successes / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def percentile_interval(samples: object, confidence: float) -> tuple[float, float]:
    """The central ``confidence`` interval of bootstrap ``samples`` (a numpy array)."""
    import numpy as np

    values = np.asarray(samples, dtype=float)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)
