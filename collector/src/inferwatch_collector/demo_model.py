"""The demo's model and its traffic: a real scikit-learn classifier, and patients that drift.

The model is a logistic regression trained on scikit-learn's breast cancer data set (569
tumours, 30 measurements each). Its task is binary: ``1`` is malignant (the positive class of
F1), ``0`` benign. Traffic replays the held-out tumours, with a little measurement noise, from
three regions; while ``drifting``, the scanner of one region reads every measurement 40 %
too small, so malignant tumours look benign there: recall, F1 and the score distribution drop.

>>> model = DemoModel.train(seed=7)
>>> traffic = Traffic(model, seed=7)
>>> case = traffic.next_case(drifting=False)
>>> 0.0 <= model.malignant_probability(case.features) <= 1.0
True

scikit-learn is imported here only, and only when this module is: it is the ``demo`` extra of
``inferwatch-collector``, not a dependency of the service.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

REGIONS = ("eu", "us", "apac")
REGION_SHARES = (0.5, 0.3, 0.2)
DRIFT_REGION = "eu"
DRIFT_SCALE = 0.6
"""While drifting, the measurements of ``DRIFT_REGION`` are multiplied by this (a scanner
recalibrated wrongly): F1 falls to about 0.2 in that region and 0.7 overall, from 0.96."""
NOISE = 0.05
"""Measurement noise added to every replayed tumour, in standard deviations of each feature,
so that the traffic is not the same 228 rows over and over."""


@dataclass(frozen=True)
class Case:
    """One request to the model: a tumour's measurements, where it came from, the truth."""

    features: np.ndarray
    region: str
    actual: int
    """1 malignant, 0 benign: known to the demo, sent to inferwatch only later as a label."""


@dataclass(frozen=True)
class DemoModel:
    """A fitted scikit-learn pipeline (scaler + logistic regression) and its held-out data."""

    pipeline: Pipeline
    test_features: np.ndarray
    test_actuals: np.ndarray
    feature_scale: np.ndarray
    test_f1: float
    """F1 of the malignant class on the held-out tumours, as trained."""

    @classmethod
    def train(cls, seed: int = 7) -> DemoModel:
        """Train on 60 % of the data set; the other 40 % is what the traffic replays."""
        data: Any = load_breast_cancer()
        features, actuals = data.data, 1 - data.target  # the data set's 0 is malignant
        train_x, test_x, train_y, test_y = train_test_split(
            features, actuals, test_size=0.4, random_state=seed, stratify=actuals
        )
        pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        pipeline.fit(train_x, train_y)
        test_f1 = float(f1_score(test_y, pipeline.predict(test_x)))
        return cls(pipeline, test_x, test_y, train_x.std(axis=0), test_f1)

    def malignant_probability(self, features: np.ndarray) -> float:
        """The model's answer for one tumour: the probability that it is malignant."""
        return float(self.pipeline.predict_proba(features.reshape(1, -1))[0, 1])


class Traffic:
    """An endless stream of cases drawn from the held-out tumours; not thread-safe."""

    def __init__(self, model: DemoModel, seed: int = 7) -> None:
        self._model = model
        self._rng = np.random.default_rng(seed)

    def next_case(self, *, drifting: bool) -> Case:
        """The next request; ``drifting`` shrinks the measurements of ``DRIFT_REGION``."""
        model, rng = self._model, self._rng
        row = int(rng.integers(len(model.test_actuals)))
        region = str(rng.choice(REGIONS, p=REGION_SHARES))
        noise = rng.normal(0.0, NOISE, model.feature_scale.shape) * model.feature_scale
        features = np.maximum(model.test_features[row] + noise, 0.0)
        if drifting and region == DRIFT_REGION:
            features = features * DRIFT_SCALE
        return Case(features, region, int(model.test_actuals[row]))

    def uniform(self) -> float:
        """A number in [0, 1) from the same seeded generator (label delays and losses)."""
        return float(self._rng.random())
