"""How a model's output becomes predictions: class labels, scores and values.

    >>> interpret_output(0.83, task="binary_classification", classes=None)
    Outputs(labels=['1'], scores=[0.83], values=None, count=1, batch=False)
    >>> proba = [[0.1, 0.9], [0.8, 0.2]]
    >>> interpret_output(proba, task="multiclass_classification", classes=["ok", "fraud"])
    Outputs(labels=['fraud', 'ok'], scores=[0.9, 0.8], values=None, count=2, batch=True)

The rules, with examples, are in ``docs/outputs.md``; keep the two in step. This runs on every
instrumented call: exact-type checks come first, and numpy is never imported — numpy (and
torch, pandas, ...) values are read through their ``tolist()``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .semconv import TASK_BINARY, TASK_MULTICLASS, TASK_REGRESSION

_Prediction = tuple[str | None, float | None, float | None]
"""One prediction: (label, score, value), each None when the output did not give it."""

ROW_SUM_TOLERANCE = 1e-5
"""How far from 1 a probability row may sum (float32 softmax rows miss 1 by ~1e-7 a class)."""

_NUMBERS = frozenset({int, float})
_NUMBERS_OR_BOOL = frozenset({int, float, bool})
_LABEL_KINDS = frozenset({str, int, bool})
_ROW_KINDS = frozenset({list, tuple})
_BUILTIN = frozenset({str, int, float, bool, dict, list, tuple})
_FIELDS = ("label", "score", "value")
_NAN = float("nan")
_HINT = "pass output= to @monitor with a function returning a label, score, value or dict"


class OutputError(ValueError):
    """A model output the SDK cannot understand; the message names the problem and the fix."""


# Not frozen: one is built on every monitored call, and a frozen dataclass's __init__
# costs several times more (bench/sdk_overhead.py). Treat instances as immutable.
@dataclass(slots=True)
class Outputs:
    """The predictions of one call as parallel lists; a field is None when no prediction has it.

    >>> interpret_output(["cat", "dog"], task=None, classes=None)
    Outputs(labels=['cat', 'dog'], scores=None, values=None, count=2, batch=True)
    """

    labels: list[str] | None
    """Predicted class per prediction, as strings (see ``label_to_str``)."""
    scores: list[float] | None
    """Probability / confidence per prediction."""
    values: list[float] | None
    """Regression output per prediction."""
    count: int
    """Number of predictions."""
    batch: bool
    """True when the call produced a batch: the span carries arrays."""


_EMPTY = Outputs(None, None, None, 0, True)


def label_to_str(value: object) -> str:
    """Return the one canonical string of a class label, for predictions and actuals alike.

    Strings are kept; ``True``/``False`` are ``"1"``/``"0"``; integers, and floats that are
    whole numbers, are their decimal digits; other floats their ``repr``; numpy scalars as
    their Python value; bytes are decoded as UTF-8; anything else is ``str(value)``.

    >>> [label_to_str(v) for v in ("fraud", True, 3, 3.0, 0.5)]
    ['fraud', '1', '3', '3', '0.5']
    """
    label: Any = value  # narrowed by the exact-type checks below
    kind = type(label)
    if kind is str:
        return value  # type: ignore[return-value]
    if kind is int:
        return str(label)
    if kind is bool:
        return "1" if label else "0"
    if kind is float:
        return str(int(label)) if label.is_integer() else repr(label)
    return _other_label_to_str(value)


def _other_label_to_str(value: object) -> str:
    if value is None:
        raise OutputError("a class label cannot be None")
    if isinstance(value, str):  # str enums, numpy.str_: their text, not "Enum.MEMBER"
        return str.__str__(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    if getattr(value, "ndim", None) == 0 and hasattr(value, "tolist"):  # numpy scalar
        return label_to_str(value.tolist())
    if isinstance(value, (int, float)):  # IntEnum and other subclasses
        return label_to_str(int(value) if isinstance(value, int) else float(value))
    return str(value)


def interpret_output(
    result: object,
    *,
    task: str | None,
    classes: Sequence[object] | None,
    threshold: float = 0.5,
    batch: bool | None = None,
) -> Outputs:
    """Read the return value of a model call as one prediction or a batch.

    Args:
        result: what the model returned (label, probability, value, probability row or
            matrix, dict, list, numpy scalar or array).
        task: ``binary_classification``, ``multiclass_classification``, ``regression`` or None.
        classes: names of the columns of probability rows; for a binary task with two
            classes, ``classes[0]`` is the negative and ``classes[1]`` the positive label.
        threshold: a binary probability at or above it predicts the positive class.
        batch: True: each element is one prediction; False: the whole output is one
            prediction; None: decide by the documented default rules.

    Raises:
        OutputError: the output cannot be understood.

    >>> interpret_output(4.2, task="regression", classes=None).values
    [4.2]
    """
    kind = type(result)
    if kind is float or kind is int or kind is str or kind is bool:
        if batch:
            return _batch([result], {kind}, task, classes, threshold)
        label, score, value = _scalar(result, task, classes, threshold)
        return Outputs(
            None if label is None else [label],
            None if score is None else [score],
            None if value is None else [value],
            1,
            False,
        )
    if kind is list or kind is tuple:
        return _sequence(result, task, classes, threshold, batch)  # type: ignore[arg-type]
    if kind is dict:
        return _mapping(result, task, classes, threshold, batch)  # type: ignore[arg-type]
    builtin = _to_builtin(result)
    return interpret_output(builtin, task=task, classes=classes, threshold=threshold, batch=batch)


def read_scalar(
    result: object, task: str | None, classes: Sequence[object] | None, threshold: float
) -> _Prediction | None:
    """One prediction ``(label, score, value)`` from a plain str/int/float/bool output.

    Returns None for every other output (read those with ``interpret_output``). The same
    reading as ``interpret_output`` without ``batch=True``, minus the lists: the hot path of
    ``batched=True`` keeps the tuple (bench/sdk_overhead.py).

    >>> read_scalar(0.83, "binary_classification", None, 0.5)
    ('1', 0.83, None)
    >>> read_scalar([0.1, 0.9], "binary_classification", None, 0.5) is None
    True
    """
    kind = type(result)
    if kind is float or kind is int or kind is str or kind is bool:
        return _scalar(result, task, classes, threshold)
    return None


def interpret_items(
    items: Sequence[object],
    *,
    task: str | None,
    classes: Sequence[object] | None,
    threshold: float = 0.5,
) -> Outputs:
    """Read the items a generator yielded, each one prediction, as one batch.

    >>> interpret_items([0.2, 0.9], task="binary_classification", classes=None).labels
    ['0', '1']
    """
    return _sequence(list(items), task, classes, threshold, True)


# --- one prediction ----------------------------------------------------------------------


def _scalar(value: Any, task: str | None, classes: Any, threshold: float) -> _Prediction:
    kind = type(value)
    if task == TASK_REGRESSION:
        if kind is str:
            raise OutputError(f"task=regression needs a number, got the string {value!r}")
        return None, None, float(value)
    if kind is float:
        return _float_prediction(value, task, classes, threshold)
    if kind is str:
        return value, None, None
    if kind is bool:
        return ("1" if value else "0"), None, None
    return str(value), None, None


def _float_prediction(
    value: float, task: str | None, classes: Any, threshold: float
) -> _Prediction:
    if task == TASK_MULTICLASS:
        if value % 1 == 0:  # a class number such as 2.0 (xgboost returns those)
            return str(int(value)), None, None
        raise OutputError(
            f"multiclass_classification got the float {value!r}: return a class label, "
            "a probability row, or a dict with 'label' and 'score'"
        )
    if task == TASK_BINARY or 0.0 <= value <= 1.0:
        negative, positive = _binary_names(classes)
        return (positive if value >= threshold else negative), value, None
    return None, None, value


def _dict_prediction(
    output: Mapping[str, Any], task: str | None, classes: Any, threshold: float
) -> _Prediction:
    label, score, value = output.get("label"), output.get("score"), output.get("value")
    try:
        score = None if score is None else float(score)
        value = None if value is None else float(value)
    except (TypeError, ValueError) as error:
        raise OutputError(f"a dict's 'score' and 'value' must be numbers: {error}") from None
    if label is not None:
        label = label_to_str(label)
    elif score is not None and task == TASK_BINARY:
        negative, positive = _binary_names(classes)
        label = positive if score >= threshold else negative
    return label, score, value


def _binary_names(classes: Any) -> tuple[str, str]:
    """(negative, positive) label of a binary task."""
    if classes is not None and len(classes) == 2:
        return label_to_str(classes[0]), label_to_str(classes[1])
    return "0", "1"


# --- sequences and batches ---------------------------------------------------------------


def _sequence(
    items: Sequence[Any], task: str | None, classes: Any, threshold: float, batch: bool | None
) -> Outputs:
    items, kinds = _plain(items)
    if (
        batch is not True
        and len(items) >= 2
        and kinds <= _NUMBERS
        and (batch is False or _is_one_row(items, kinds, task, classes))
    ):
        labels, scores = _probability_rows([items], len(items), task, classes, threshold)
        return Outputs(labels, scores, None, 1, False)
    outputs = _batch(items, kinds, task, classes, threshold)
    return _unbatch(outputs) if batch is False else outputs


def _is_one_row(items: Sequence[Any], kinds: set[type], task: str | None, classes: Any) -> bool:
    """The default rule for a flat sequence of floats: one probability row, or a batch?"""
    if float not in kinds or int in kinds or task == TASK_REGRESSION:
        return False
    if classes is not None:
        size = len(classes)
    elif task == TASK_BINARY:
        size = 2
    elif task == TASK_MULTICLASS:
        size = len(items)
    else:
        return False
    return len(items) == size and abs(math.fsum(items) - 1.0) <= ROW_SUM_TOLERANCE


def _batch(
    items: Sequence[Any], kinds: set[type], task: str | None, classes: Any, threshold: float
) -> Outputs:
    count = len(items)
    if count == 0:
        return _EMPTY
    if task == TASK_REGRESSION and str in kinds:
        raise OutputError("task=regression needs numbers, got strings")
    if task == TASK_REGRESSION and kinds <= _NUMBERS_OR_BOOL:
        values = list(items) if kinds == {float} else [float(item) for item in items]
        return Outputs(None, None, values, count, True)
    if float in kinds and kinds <= _NUMBERS:
        return _float_batch(items, kinds, task, classes, threshold)
    if kinds <= _LABEL_KINDS:
        return Outputs(_labels(items, kinds), None, None, count, True)
    if kinds == {dict}:
        return _combine([_dict_prediction(item, task, classes, threshold) for item in items])
    if kinds <= _ROW_KINDS:
        return _rows(items, task, classes, threshold)
    names = ", ".join(sorted(kind.__name__ for kind in kinds))
    raise OutputError(f"cannot interpret a batch mixing {names}; {_HINT}")


def _float_batch(
    items: Sequence[Any], kinds: set[type], task: str | None, classes: Any, threshold: float
) -> Outputs:
    count = len(items)
    if task == TASK_MULTICLASS:
        if all(item % 1 == 0 for item in items):  # class numbers such as 2.0
            return Outputs([str(int(item)) for item in items], None, None, count, True)
        raise OutputError(
            "multiclass_classification got floats that are not class numbers: return labels "
            "or probability rows (one per prediction)"
        )
    numbers = list(items) if kinds == {float} else [float(item) for item in items]
    if task == TASK_BINARY or all(0.0 <= item <= 1.0 for item in numbers):
        negative, positive = _binary_names(classes)
        labels = [positive if score >= threshold else negative for score in numbers]
        return Outputs(labels, numbers, None, count, True)
    return Outputs(None, None, numbers, count, True)


def _labels(items: Sequence[Any], kinds: set[type]) -> list[str]:
    if kinds == {str}:
        return list(items)
    if kinds == {int}:
        return list(map(str, items))
    return list(map(label_to_str, items))


def _rows(rows: Sequence[Any], task: str | None, classes: Any, threshold: float) -> Outputs:
    """A matrix, one row per prediction: probability rows, or one number each."""
    lengths = set(map(len, rows))
    if lengths == {1}:  # an (n, 1) matrix: one label, probability or value per prediction
        flat, kinds = _plain([row[0] for row in rows])
        return _batch(flat, kinds, task, classes, threshold)
    if len(lengths) != 1:
        raise OutputError(f"the rows of the output differ in length ({sorted(lengths)})")
    labels, scores = _probability_rows(rows, lengths.pop(), task, classes, threshold)
    return Outputs(labels, scores, None, len(rows), True)


def _probability_rows(
    rows: Sequence[Any], size: int, task: str | None, classes: Any, threshold: float
) -> tuple[list[str], list[float]]:
    """Labels and scores of probability rows that each have ``size`` columns."""
    _check_row_size(size, task, classes)
    try:
        if task == TASK_BINARY:  # score = P(positive), so the threshold applies as for a float
            scores = [float(row[1]) for row in rows]
            negative, positive = _binary_names(classes)
            return [positive if score >= threshold else negative for score in scores], scores
        names = [str(i) for i in range(size)] if classes is None else _class_names(classes)
        return _argmax_rows(rows, names)
    except (TypeError, ValueError):
        raise OutputError(f"probability rows must hold numbers only; {_HINT}") from None


def _check_row_size(size: int, task: str | None, classes: Any) -> None:
    if task == TASK_REGRESSION:
        raise OutputError(
            f"task=regression needs one number per prediction, got rows of {size}; {_HINT}"
        )
    if size == 0:
        raise OutputError("a probability row cannot be empty")
    if classes is not None and len(classes) != size:
        raise OutputError(f"rows have {size} probabilities but classes= names {len(classes)}")
    if task == TASK_BINARY and size != 2:
        raise OutputError(f"binary_classification needs 2 probabilities per row, got {size}")


def _argmax_rows(rows: Sequence[Any], names: list[str]) -> tuple[list[str], list[float]]:
    # Hot loop (1,000 rows in ~0.3 ms): max() and index() run in C.
    labels = []
    scores = []
    for row in rows:
        total = sum(row)
        if total != total:  # a NaN: like numpy.argmax, the first NaN wins
            index = next((i for i, x in enumerate(row) if x != x), None)
            index = row.index(max(row)) if index is None else index
        else:
            index = row.index(max(row))
        labels.append(names[index])
        scores.append(float(row[index]))
    return labels, scores


def _class_names(classes: Sequence[object]) -> list[str]:
    return [label_to_str(name) for name in classes]


def _combine(predictions: list[_Prediction]) -> Outputs:
    """One batch from single predictions; a field some of them lack is filled ("" or NaN)."""
    if not predictions:
        return _EMPTY
    labels, scores, values = (list(column) for column in zip(*predictions, strict=True))
    return Outputs(
        _fill(labels, ""), _fill(scores, _NAN), _fill(values, _NAN), len(predictions), True
    )


def _fill(column: list[Any], missing: object) -> list[Any] | None:
    absent = column.count(None)
    if absent == 0:
        return column
    if absent == len(column):
        return None
    return [missing if item is None else item for item in column]


def _unbatch(outputs: Outputs) -> Outputs:
    """Apply ``batch=False``: the output must hold exactly one prediction."""
    if outputs.count != 1:
        raise OutputError(f"batch=False, but the output holds {outputs.count} predictions")
    return Outputs(outputs.labels, outputs.scores, outputs.values, 1, False)


# --- dicts -------------------------------------------------------------------------------


def _mapping(
    output: dict[Any, Any], task: str | None, classes: Any, threshold: float, batch: bool | None
) -> Outputs:
    present = [key for key in _FIELDS if output.get(key) is not None]
    if not present:
        keys = ", ".join(sorted(map(repr, output))[:10]) or "none"
        raise OutputError(f"a dict output needs 'label', 'score' or 'value'; its keys: {keys}")
    if any(_is_column(output[key]) for key in present):
        outputs = _columns(output, present, task, classes, threshold)
        return _unbatch(outputs) if batch is False else outputs
    label, score, value = _dict_prediction(output, task, classes, threshold)
    return Outputs(
        None if label is None else [label],
        None if score is None else [score],
        None if value is None else [value],
        1,
        bool(batch),
    )


def _is_column(value: object) -> bool:
    return type(value) in _ROW_KINDS or (getattr(value, "ndim", 0) or 0) >= 1


def _columns(
    output: dict[Any, Any], present: list[str], task: str | None, classes: Any, threshold: float
) -> Outputs:
    """A dict of columns, e.g. ``{"label": [...], "score": [...]}``: a batch."""
    columns = {key: _column(output[key], key) for key in present}
    lengths = {len(column) for column in columns.values()}
    if len(lengths) != 1:
        raise OutputError(f"the dict's columns differ in length ({sorted(lengths)})")
    labels = _class_names(columns["label"]) if "label" in columns else None
    try:
        scores = [float(x) for x in columns["score"]] if "score" in columns else None
        values = [float(x) for x in columns["value"]] if "value" in columns else None
    except (TypeError, ValueError) as error:
        raise OutputError(f"a dict's 'score' and 'value' must be numbers: {error}") from None
    if labels is None and scores is not None and task == TASK_BINARY:
        negative, positive = _binary_names(classes)
        labels = [positive if score >= threshold else negative for score in scores]
    count = lengths.pop()
    return Outputs(labels, scores, values, count, True) if count else _EMPTY


def _column(value: Any, key: str) -> list[Any]:
    if type(value) in _ROW_KINDS:
        return list(value)
    if hasattr(value, "tolist") and getattr(value, "ndim", 0) == 1:
        return list(value.tolist())
    raise OutputError(f"the dict's {key!r} must be a column (a list or 1-D array) like the others")


# --- anything else -----------------------------------------------------------------------


def _plain(items: Sequence[Any]) -> tuple[Sequence[Any], set[type]]:
    """The items with numpy scalars, arrays and the like turned into Python values."""
    kinds = set(map(type, items))
    if kinds <= _BUILTIN:
        return items, kinds
    items = [item if type(item) in _BUILTIN else _to_builtin(item) for item in items]
    return items, set(map(type, items))


def _to_builtin(value: object) -> Any:
    """A Python str, int, float, bool, dict, list or tuple with the same meaning as ``value``."""
    if value is None:
        raise OutputError(f"the output is None; {_HINT}")
    ndim = getattr(value, "ndim", None)
    if ndim is not None and hasattr(value, "tolist"):  # numpy, torch, jax, pandas Series
        if ndim > 2:
            raise OutputError(f"cannot interpret a {ndim}-D {_type_name(value)}; {_HINT}")
        return value.tolist()
    if hasattr(value, "to_numpy"):  # pandas DataFrame
        return _to_builtin(value.to_numpy())
    if callable(getattr(value, "numpy", None)):  # TensorFlow tensors
        return _to_builtin(value.numpy())
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    for kind in (bool, int, float, str):  # subclasses: IntEnum, str enums, ...
        if isinstance(value, kind):
            return kind.__str__(value) if kind is str else kind(value)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Sequence):
        return list(value)
    raise OutputError(f"cannot interpret output of type {_type_name(value)}; {_HINT}")


def _type_name(value: object) -> str:
    kind = type(value)
    if kind.__module__ == "builtins":
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"
