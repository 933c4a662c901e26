"""inferwatch: production monitoring for machine-learning models, on OpenTelemetry.

::

    from inferwatch import monitor, record_label, last_prediction_id

    @monitor(model="fraud", version="3.1", task="binary_classification")
    def predict(features: dict) -> float: ...

    score = predict({"amount": 12.0})
    record_label(last_prediction_id(), actual=1, model="fraud")   # when the truth is known

Every call becomes a ``predict {model}`` span plus metric events, exported over OTLP by the
OpenTelemetry SDK (see ``configure``). The names on the wire are in ``inferwatch.semconv``.
"""

from __future__ import annotations

from . import semconv
from ._config import configure, force_flush, shutdown
from ._context import last_prediction_id
from ._decorator import monitor
from ._labels import record_label
from ._outputs import OutputError
from ._prediction import Prediction, prediction

__version__ = "0.1.0"

__all__ = [
    "OutputError",
    "Prediction",
    "__version__",
    "configure",
    "force_flush",
    "last_prediction_id",
    "monitor",
    "prediction",
    "record_label",
    "semconv",
    "shutdown",
]
