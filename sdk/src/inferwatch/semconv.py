"""Semantic conventions of inferwatch: the names every sender and the collector agree on.

This module is the contract between the SDK (which writes these names) and the collector
(which reads them). ``docs/semantic-conventions.md`` documents each name; keep both in step.
It imports nothing, so the collector can use it without pulling in the SDK's dependencies.
"""

from __future__ import annotations

# --- spans -----------------------------------------------------------------------------
PREDICTION_SPAN_PREFIX = "predict "
"""A prediction span is named ``predict {ml.model.name}``."""

LABEL_EVENT_NAME = "ml.label"
"""Event name of a ground-truth log record (and the name of a label span)."""

# --- model ---------------------------------------------------------------------------
ML_MODEL_NAME = "ml.model.name"
ML_MODEL_VERSION = "ml.model.version"
ML_TASK = "ml.task"

# --- prediction (scalar on a single call, parallel arrays on a batch span) -----------
ML_PREDICTION_ID = "ml.prediction.id"
ML_PREDICTION_LABEL = "ml.prediction.label"
ML_PREDICTION_SCORE = "ml.prediction.score"
ML_PREDICTION_VALUE = "ml.prediction.value"
ML_PREDICTION_COUNT = "ml.prediction.count"

# Per-prediction arrays carried by spans built from the hot-path buffer (batched=True).
ML_PREDICTION_TIMESTAMP = "ml.prediction.timestamp"
"""int[]: each prediction's start time, Unix nanoseconds."""
ML_PREDICTION_DURATION = "ml.prediction.duration"
"""double[]: each prediction's duration, seconds."""
ML_PREDICTION_STATUS = "ml.prediction.status"
"""string[]: ``ok`` or ``error`` per prediction."""
ML_PREDICTION_TRACE_ID = "ml.prediction.trace_id"
"""string[]: hex trace id of the request each prediction ran in (empty if none)."""
ML_PREDICTION_SPAN_ID = "ml.prediction.span_id"
"""string[]: hex span id of the request each prediction ran in (empty if none)."""

PER_PREDICTION_ARRAYS = (
    ML_PREDICTION_ID,
    ML_PREDICTION_LABEL,
    ML_PREDICTION_SCORE,
    ML_PREDICTION_VALUE,
    ML_PREDICTION_TIMESTAMP,
    ML_PREDICTION_DURATION,
    ML_PREDICTION_STATUS,
    ML_PREDICTION_TRACE_ID,
    ML_PREDICTION_SPAN_ID,
)
"""Attributes that, on a batch span, are parallel arrays of ``ml.prediction.count`` items."""

# --- prefixes --------------------------------------------------------------------------
ML_SEGMENT_PREFIX = "ml.segment."
ML_FEATURE_PREFIX = "ml.feature."

# --- ground truth ----------------------------------------------------------------------
ML_LABEL = "ml.label"
"""string: the actual class of a classification prediction."""
ML_LABEL_VALUE = "ml.label.value"
"""double: the actual value of a regression prediction."""

# --- enumerations ----------------------------------------------------------------------
TASK_BINARY = "binary_classification"
TASK_MULTICLASS = "multiclass_classification"
TASK_REGRESSION = "regression"
TASKS = (TASK_BINARY, TASK_MULTICLASS, TASK_REGRESSION)

STATUS_OK = "ok"
STATUS_ERROR = "error"

# --- metrics -----------------------------------------------------------------------------
METRIC_PREDICTIONS = "ml.predictions"
"""Counter, ``{prediction}``: predictions made."""
METRIC_DURATION = "ml.prediction.duration"
"""Histogram, ``s``: duration of each instrumented call."""
METRIC_SCORE = "ml.prediction.score"
"""Histogram, ``1``: prediction scores (probability / confidence)."""
METRIC_ERRORS = "ml.prediction.errors"
"""Counter, ``{error}``: calls that raised."""
METRIC_BUFFER_DROPPED = "inferwatch.buffer.dropped"
"""Counter, ``{call}``: calls dropped by a full hot-path buffer (``batched=True``)."""

# Attributes on metric points.
METRIC_ATTR_MODEL = ML_MODEL_NAME
METRIC_ATTR_VERSION = ML_MODEL_VERSION
METRIC_ATTR_STATUS = "ml.status"
METRIC_ATTR_ERROR_TYPE = "error.type"

INSTRUMENTATION_NAME = "inferwatch"
