"""Ground truth: ``record_label`` sends the actual outcome of earlier predictions.

::

    from inferwatch import record_label

    record_label(prediction_id, actual=1, model="fraud")                 # a class
    record_label(["id-1", "id-2"], actual=["cat", "dog"], model="pets")   # a batch
    record_label("id-3", actual=212.5, model="price")                     # a regression value

Each label is one OpenTelemetry log record, event name ``ml.label``, emitted through the
logs API (whatever logger provider is global), so it may come minutes or weeks after the
prediction and from another process. Its attributes: ``ml.model.name``,
``ml.prediction.id``, ``ml.model.version`` when given, and either

* ``ml.label`` (string) for a class: an int, str or bool actual (numpy too), written as the
  same string the decorator writes for a predicted label (``label_to_str``: ``True`` is
  ``"1"``), so that the two compare equal; or
* ``ml.label.value`` (double) for a regression value: a float actual (numpy floats too).
  A float is always a value, even ``1.0``: pass classes as int, str or bool, and pass a
  regression actual as a float (``float(212)``), since an int is taken for a class.
"""

from __future__ import annotations

import logging
import math
import numbers
import time
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry import _logs
from opentelemetry._logs import SeverityNumber

from . import semconv
from ._config import current_settings
from ._outputs import label_to_str

_logger = logging.getLogger(semconv.INSTRUMENTATION_NAME)
_failure_logged = False


def record_label(
    prediction_id: str | Sequence[str],
    actual: object | Sequence[object],
    *,
    model: str,
    version: str | None = None,
    timestamp_ns: int | None = None,
    attributes: Mapping[str, object] | None = None,
) -> None:
    """Record the actual outcome of one prediction, or of several.

    Args:
        prediction_id: the id the prediction got (``last_prediction_id()``, or your own
            ``id=`` key), or a list of ids.
        actual: the true class (int, str, bool: sent as ``ml.label``) or the true value
            (float, even ``1.0``: sent as ``ml.label.value``); a list of the same length
            when ``prediction_id`` is a list.
        model: the model name, as given to ``@monitor``.
        version: the model version, when known.
        timestamp_ns: when the truth became known, Unix nanoseconds; default now.
        attributes: more attributes for every record (the ``ml.*`` ones above win).

    Raises:
        ValueError: lists of different lengths, a NaN or infinite actual, None, an empty
            id or model name. Trouble exporting is logged, never raised.
    """
    if not current_settings().enabled:
        return
    ids, actuals = _pairs(prediction_id, actual)
    labels = [_label_attribute(value, pid) for pid, value in zip(ids, actuals, strict=True)]
    common = _common_attributes(model, version, attributes)
    _emit(ids, labels, common, _timestamp(timestamp_ns))


def _pairs(prediction_id: object, actual: object) -> tuple[list[str], list[object]]:
    if isinstance(prediction_id, (str, int)):
        return [_check_id(prediction_id)], [actual]
    ids = _as_list(prediction_id)
    actuals = _as_list(actual)
    if ids is None:
        raise ValueError(f"prediction_id: expected a string or a list, got {prediction_id!r}")
    if actuals is None:
        raise ValueError("actual: expected a list of actuals for a list of prediction ids")
    if len(actuals) != len(ids):
        raise ValueError(f"record_label: {len(ids)} prediction ids but {len(actuals)} actuals")
    return [_check_id(pid) for pid in ids], actuals


def _as_list(items: object) -> list[object] | None:
    """A list, tuple or 1-D array as a list of Python values; None for anything else."""
    if isinstance(items, (list, tuple)):
        return list(items)
    if getattr(items, "ndim", None) == 1 and hasattr(items, "tolist"):
        return list(items.tolist())  # numpy (and the like): Python ints, floats, strs
    return None


def _check_id(prediction_id: object) -> str:
    # Business keys may be ints; the decorator writes them as str() too.
    if isinstance(prediction_id, (str, int)) and not isinstance(prediction_id, bool):
        text = str(prediction_id)
        if text:
            return text
    raise ValueError(f"prediction_id: expected a non-empty string, got {prediction_id!r}")


def _label_attribute(actual: object, prediction_id: str) -> tuple[str, str | float]:
    """``(ml.label, "class")`` or ``(ml.label.value, number)``."""
    if getattr(actual, "ndim", None) == 0 and hasattr(actual, "tolist"):
        actual = actual.tolist()  # a numpy scalar: its Python value
    if actual is None:
        raise ValueError(f"actual: None is not a label (prediction id {prediction_id!r})")
    if isinstance(actual, numbers.Real) and not isinstance(actual, numbers.Integral):
        value = float(actual)
        if not math.isfinite(value):
            raise ValueError(
                f"actual: expected a finite number, got {value} (prediction id {prediction_id!r})"
            )
        return semconv.ML_LABEL_VALUE, value
    return semconv.ML_LABEL, label_to_str(actual)


def _common_attributes(
    model: object, version: object, extra: Mapping[str, object] | None
) -> dict[str, Any]:
    if not isinstance(model, str) or not model:
        raise ValueError(f"model: expected a non-empty string, got {model!r}")
    common: dict[str, Any] = dict(extra or {})
    common[semconv.ML_MODEL_NAME] = model
    if version is not None:
        common[semconv.ML_MODEL_VERSION] = str(version)
    return common


def _timestamp(timestamp_ns: int | None) -> int:
    if timestamp_ns is None:
        return time.time_ns()
    if isinstance(timestamp_ns, int) and not isinstance(timestamp_ns, bool) and timestamp_ns > 0:
        return timestamp_ns
    raise ValueError(f"timestamp_ns: expected Unix nanoseconds, got {timestamp_ns!r}")


def _emit(
    ids: list[str], labels: list[tuple[str, str | float]], common: dict[str, Any], at: int
) -> None:
    global _failure_logged
    try:
        logger = _logs.get_logger(semconv.INSTRUMENTATION_NAME)
        observed = time.time_ns()
        for prediction_id, (key, value) in zip(ids, labels, strict=True):
            attributes = {**common, semconv.ML_PREDICTION_ID: prediction_id, key: value}
            logger.emit(
                timestamp=at,
                observed_timestamp=observed,
                severity_number=SeverityNumber.INFO,
                severity_text="INFO",
                event_name=semconv.LABEL_EVENT_NAME,
                attributes=attributes,
            )
    except Exception:  # telemetry never breaks the host: log once, carry on
        if not _failure_logged:
            _failure_logged = True
            _logger.warning("inferwatch: could not emit a label record", exc_info=True)
