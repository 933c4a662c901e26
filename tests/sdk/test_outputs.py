from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from inferwatch._outputs import (
    ROW_SUM_TOLERANCE,
    OutputError,
    Outputs,
    interpret_items,
    interpret_output,
    label_to_str,
)

BINARY = "binary_classification"
MULTICLASS = "multiclass_classification"
REGRESSION = "regression"


def read(
    result: object,
    task: str | None = None,
    classes: Sequence[object] | None = None,
    threshold: float = 0.5,
    batch: bool | None = None,
) -> Outputs:
    return interpret_output(result, task=task, classes=classes, threshold=threshold, batch=batch)


def single(labels: Any = None, scores: Any = None, values: Any = None) -> Outputs:
    return Outputs(labels, scores, values, 1, False)


class Colour(enum.IntEnum):
    RED = 1


class Fruit(str, enum.Enum):
    APPLE = "apple"


# --- label_to_str -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("fraud", "fraud"),
        ("", ""),
        (True, "1"),
        (False, "0"),
        (3, "3"),
        (-2, "-2"),
        (3.0, "3"),
        (-2.0, "-2"),
        (0.5, "0.5"),
        (float("nan"), "nan"),
        (np.int64(7), "7"),
        (np.uint8(7), "7"),
        (np.float64(2.0), "2"),
        (np.float32(0.5), "0.5"),
        (np.bool_(False), "0"),
        (np.str_("setosa"), "setosa"),
        (b"spam", "spam"),
        (Colour.RED, "1"),
        (Fruit.APPLE, "apple"),
    ],
)
def test_label_to_str_is_the_one_canonical_text_of_a_label(value: object, text: str) -> None:
    assert label_to_str(value) == text
    assert type(label_to_str(value)) is str


def test_a_predicted_label_and_an_actual_of_the_same_class_match() -> None:
    predicted = read(0.9, task=BINARY).labels
    from_predict = read(np.array([1]), task=BINARY).labels
    assert predicted == from_predict == [label_to_str(1)] == [label_to_str(True)]
    assert [label_to_str(1.0)] == [label_to_str(np.int64(1))] == predicted


def test_a_label_cannot_be_none() -> None:
    with pytest.raises(OutputError, match="None"):
        label_to_str(None)


# --- one prediction -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("result", "task", "expected"),
    [
        ("cat", None, single(labels=["cat"])),
        ("cat", MULTICLASS, single(labels=["cat"])),
        (3, None, single(labels=["3"])),
        (3, MULTICLASS, single(labels=["3"])),
        (True, BINARY, single(labels=["1"])),
        (False, None, single(labels=["0"])),
        (0.7, BINARY, single(labels=["1"], scores=[0.7])),
        (0.3, BINARY, single(labels=["0"], scores=[0.3])),
        (0.5, BINARY, single(labels=["1"], scores=[0.5])),  # at the threshold: positive
        (1.7, BINARY, single(labels=["1"], scores=[1.7])),  # binary: any float is a score
        (0.4, None, single(labels=["0"], scores=[0.4])),  # task=None: in [0, 1], probability
        (1.0, None, single(labels=["1"], scores=[1.0])),
        (7.5, None, single(values=[7.5])),  # task=None: outside [0, 1], a value
        (-0.1, None, single(values=[-0.1])),
        (0.4, REGRESSION, single(values=[0.4])),
        (3, REGRESSION, single(values=[3.0])),
        (True, REGRESSION, single(values=[1.0])),
        (2.0, MULTICLASS, single(labels=["2"])),  # a class number as float (xgboost)
    ],
)
def test_scalars(result: object, task: str | None, expected: Outputs) -> None:
    assert read(result, task=task) == expected


def test_the_threshold_decides_a_binary_label() -> None:
    assert read(0.3, task=BINARY, threshold=0.25).labels == ["1"]
    assert read(0.3, task=BINARY, threshold=0.35).labels == ["0"]
    assert read(0.3, task=BINARY, threshold=0.3).labels == ["1"]


def test_two_classes_name_the_negative_and_the_positive_label() -> None:
    classes = ("legit", "fraud")
    assert read(0.9, task=BINARY, classes=classes).labels == ["fraud"]
    assert read(0.1, task=BINARY, classes=classes).labels == ["legit"]
    assert read(0.9, task=BINARY, classes=np.array([0, 1])).labels == ["1"]
    assert read(0.9, task=BINARY, classes=["a", "b", "c"]).labels == ["1"]  # not 2: "1"/"0"


def test_labels_are_never_mapped_through_classes() -> None:
    # classes= names probability columns; a returned label is the label itself
    assert read(1, task=MULTICLASS, classes=["a", "b"]).labels == ["1"]


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (np.int64(3), single(labels=["3"])),
        (np.uint8(3), single(labels=["3"])),
        (np.bool_(True), single(labels=["1"])),
        (np.str_("cat"), single(labels=["cat"])),
        (np.float32(0.75), single(labels=["1"], scores=[0.75])),
        (np.float64(0.25), single(labels=["0"], scores=[0.25])),
        (np.array(0.9), single(labels=["1"], scores=[0.9])),  # a 0-D array
        (Colour.RED, single(labels=["1"])),
        (Fruit.APPLE, single(labels=["apple"])),
    ],
)
def test_numpy_scalars_and_enums(result: object, expected: Outputs) -> None:
    assert read(result, task=None) == expected


def test_numpy_scalar_values_for_regression() -> None:
    assert read(np.float32(2.5), task=REGRESSION) == single(values=[2.5])
    assert read(np.int32(4), task=REGRESSION) == single(values=[4.0])


def test_a_non_integral_float_is_not_a_multiclass_prediction() -> None:
    with pytest.raises(OutputError, match="multiclass_classification got the float 0.4"):
        read(0.4, task=MULTICLASS)


def test_a_string_is_not_a_regression_value() -> None:
    with pytest.raises(OutputError, match="regression"):
        read("12.5", task=REGRESSION)


# --- dicts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("result", "task", "expected"),
    [
        ({"label": "cat", "score": 0.3}, BINARY, single(labels=["cat"], scores=[0.3])),
        ({"score": 0.8}, BINARY, single(labels=["1"], scores=[0.8])),  # label by threshold
        ({"score": 0.8}, MULTICLASS, single(scores=[0.8])),
        ({"score": 0.8}, None, single(scores=[0.8])),
        ({"value": 3.5}, REGRESSION, single(values=[3.5])),
        ({"value": np.float32(3.5)}, None, single(values=[3.5])),
        ({"label": np.int64(2), "score": np.float64(0.6)}, None, single(["2"], [0.6])),
        ({"label": 1, "value": 2, "id": "x"}, None, single(labels=["1"], values=[2.0])),
        ({"label": None, "score": 0.2}, BINARY, single(labels=["0"], scores=[0.2])),
    ],
)
def test_dicts_are_taken_at_their_word(result: object, task: str | None, expected: Outputs) -> None:
    assert read(result, task=task) == expected


def test_a_dict_score_uses_the_threshold_and_classes() -> None:
    outputs = read({"score": 0.4}, task=BINARY, classes=["no", "yes"], threshold=0.3)
    assert outputs.labels == ["yes"]


@pytest.mark.parametrize("result", [{}, {"prediction": 1, "proba": 0.3}])
def test_a_dict_without_known_keys_is_an_error_listing_its_keys(result: dict[str, Any]) -> None:
    with pytest.raises(OutputError, match="'label', 'score' or 'value'") as error:
        read(result)
    for key in result:
        assert repr(key) in str(error.value)


def test_a_dict_score_must_be_a_number() -> None:
    with pytest.raises(OutputError, match="must be numbers"):
        read({"label": "a", "score": "high"})


def test_a_list_of_dicts_is_a_batch_with_missing_fields_filled() -> None:
    outputs = read(
        [{"label": "a", "score": 0.9}, {"label": "b"}, {"label": "c", "score": 0.4}],
        task=MULTICLASS,
    )
    assert outputs.labels == ["a", "b", "c"]
    assert outputs.scores is not None
    assert outputs.scores[0] == 0.9 and math.isnan(outputs.scores[1]) and outputs.scores[2] == 0.4
    assert (outputs.values, outputs.count, outputs.batch) == (None, 3, True)


def test_a_dict_of_columns_is_a_batch() -> None:
    outputs = read({"label": ["a", "b"], "score": np.array([0.9, 0.7])}, task=MULTICLASS)
    assert outputs == Outputs(["a", "b"], [0.9, 0.7], None, 2, True)
    by_threshold = read({"score": [0.9, 0.2]}, task=BINARY)
    assert by_threshold == Outputs(["1", "0"], [0.9, 0.2], None, 2, True)
    assert read({"value": (1, 2.5)}, task=REGRESSION) == Outputs(None, None, [1.0, 2.5], 2, True)


def test_dict_columns_must_line_up() -> None:
    with pytest.raises(OutputError, match="differ in length"):
        read({"label": ["a", "b"], "score": [0.9]})
    with pytest.raises(OutputError, match="'score' must be a column"):
        read({"label": ["a", "b"], "score": 0.9})


def test_batch_true_makes_a_single_dict_a_batch_of_one() -> None:
    assert read({"label": "a"}, batch=True) == Outputs(["a"], None, None, 1, True)


# --- batches --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("result", "task", "expected"),
    [
        (["cat", "dog"], None, Outputs(["cat", "dog"], None, None, 2, True)),
        ((1, 0, 2), MULTICLASS, Outputs(["1", "0", "2"], None, None, 3, True)),
        ([True, False], BINARY, Outputs(["1", "0"], None, None, 2, True)),
        ([1, "b", True], None, Outputs(["1", "b", "1"], None, None, 3, True)),
        ([0, 1], BINARY, Outputs(["0", "1"], None, None, 2, True)),  # ints: labels, never a row
        ([0.9, 0.2, 0.6], BINARY, Outputs(["1", "0", "1"], [0.9, 0.2, 0.6], None, 3, True)),
        ([0.9, 0.2, 0.6], None, Outputs(["1", "0", "1"], [0.9, 0.2, 0.6], None, 3, True)),
        ([0.9, 3.5], None, Outputs(None, None, [0.9, 3.5], 2, True)),  # not all in [0, 1]
        ([0.9, 3.5], REGRESSION, Outputs(None, None, [0.9, 3.5], 2, True)),
        ([3, 4], REGRESSION, Outputs(None, None, [3.0, 4.0], 2, True)),
        ([0, 0.5, 1], BINARY, Outputs(["0", "1", "1"], [0.0, 0.5, 1.0], None, 3, True)),
        ([0.0, 2.0, 1.0], MULTICLASS, Outputs(["0", "2", "1"], None, None, 3, True)),
        ([], BINARY, Outputs(None, None, None, 0, True)),
        ((), None, Outputs(None, None, None, 0, True)),
    ],
)
def test_lists_and_tuples(result: object, task: str | None, expected: Outputs) -> None:
    assert read(result, task=task) == expected


@pytest.mark.parametrize(
    ("result", "task", "expected"),
    [
        (np.array(["cat", "dog"]), None, Outputs(["cat", "dog"], None, None, 2, True)),
        (np.array([b"cat"]), None, Outputs(["cat"], None, None, 1, True)),
        (np.array([2, 0], dtype=np.int32), None, Outputs(["2", "0"], None, None, 2, True)),
        (np.array([True, False]), None, Outputs(["1", "0"], None, None, 2, True)),
        (np.array([0.25, 0.75]), None, Outputs(["0", "1"], [0.25, 0.75], None, 2, True)),
        (
            np.array([0.5, 2.5], dtype=np.float32),
            REGRESSION,
            Outputs(None, None, [0.5, 2.5], 2, True),
        ),
        (np.array([], dtype=float), BINARY, Outputs(None, None, None, 0, True)),
        (np.array([[0.7], [0.2]]), BINARY, Outputs(["1", "0"], [0.7, 0.2], None, 2, True)),
        (np.array([[1.5], [2.0]]), REGRESSION, Outputs(None, None, [1.5, 2.0], 2, True)),
        (np.array([["a"], ["b"]]), None, Outputs(["a", "b"], None, None, 2, True)),
        (
            [np.float64(0.2), np.float64(0.7)],
            BINARY,
            Outputs(["0", "1"], [0.2, 0.7], None, 2, True),
        ),
        ([np.int64(1), np.int64(2)], None, Outputs(["1", "2"], None, None, 2, True)),
        (pd.Series([0.1, 0.8]), BINARY, Outputs(["0", "1"], [0.1, 0.8], None, 2, True)),
        (pd.Series(["x", "y"]), None, Outputs(["x", "y"], None, None, 2, True)),
        (
            pd.DataFrame({"a": [0.2, 0.6], "b": [0.8, 0.4]}),
            MULTICLASS,
            Outputs(["1", "0"], [0.8, 0.6], None, 2, True),
        ),
    ],
)
def test_numpy_and_pandas_batches(result: object, task: str | None, expected: Outputs) -> None:
    assert read(result, task=task) == expected


def test_a_probability_matrix_gives_argmax_labels_and_max_scores() -> None:
    matrix = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6]])
    assert read(matrix, task=MULTICLASS) == Outputs(["1", "0", "2"], [0.7, 0.5, 0.6], None, 3, True)
    named = read(matrix.tolist(), task=MULTICLASS, classes=np.array(["a", "b", "c"]))
    assert named.labels == ["b", "a", "c"]
    assert read(matrix, task=None, classes=[10, 20, 30]).labels == ["20", "10", "30"]


def test_a_binary_probability_matrix_scores_the_positive_column_with_the_threshold() -> None:
    matrix = np.array([[0.9, 0.1], [0.35, 0.65], [0.6, 0.4]])
    assert read(matrix, task=BINARY) == Outputs(["0", "1", "0"], [0.1, 0.65, 0.4], None, 3, True)
    low = read(matrix, task=BINARY, classes=["ok", "fraud"], threshold=0.3)
    assert low.labels == ["ok", "fraud", "fraud"]


def test_a_row_with_nan_picks_the_first_nan_like_numpy() -> None:
    matrix = np.array([[0.2, np.nan, 0.5], [np.nan, 0.9, 0.1], [0.1, 0.8, 0.1]])
    outputs = read(matrix, task=MULTICLASS)
    assert outputs.labels == [str(i) for i in np.argmax(matrix, axis=1)] == ["1", "0", "1"]
    assert outputs.scores is not None
    assert math.isnan(outputs.scores[0]) and math.isnan(outputs.scores[1])
    assert outputs.scores[2] == 0.8


def test_nan_and_infinity_are_kept_not_raised() -> None:
    value = read(float("nan"), task=REGRESSION).values
    assert value is not None and math.isnan(value[0])
    assert read(float("inf"), task=REGRESSION).values == [math.inf]
    binary = read(float("nan"), task=BINARY)
    assert binary.labels == ["0"]  # NaN >= threshold is false, as in numpy
    assert binary.scores is not None and math.isnan(binary.scores[0])
    unknown = read(float("nan"), task=None)
    assert unknown.labels is None and unknown.values is not None and math.isnan(unknown.values[0])
    batch = read(np.array([0.2, np.nan, 0.9]), task=BINARY)
    assert batch.labels == ["0", "0", "1"] and batch.count == 3


# --- the ambiguity of a flat sequence of floats ----------------------------------------------


def test_a_row_summing_to_one_with_as_many_items_as_classes_is_one_prediction() -> None:
    row = [0.2, 0.3, 0.5]
    classes = ["a", "b", "c"]
    assert read(row, task=MULTICLASS, classes=classes) == single(labels=["c"], scores=[0.5])
    assert read(np.array(row), task=None, classes=classes) == single(labels=["c"], scores=[0.5])


def test_a_float32_softmax_row_counts_as_summing_to_one() -> None:
    logits = np.random.default_rng(7).normal(size=40).astype(np.float32)
    row = np.exp(logits) / np.exp(logits).sum()
    outputs = read(row, task=MULTICLASS)
    assert outputs.batch is False
    assert outputs.labels == [str(int(np.argmax(row)))]


def test_a_row_may_miss_one_by_the_tolerance_and_no_more() -> None:
    classes = ["a", "b", "c", "d"]
    near = [0.25, 0.25, 0.25, 0.25 + 0.9 * ROW_SUM_TOLERANCE]
    far = [0.25, 0.25, 0.25, 0.25 + 2 * ROW_SUM_TOLERANCE]
    assert read(near, classes=classes).count == 1
    assert read(far, classes=classes).count == 4
    assert 1e-7 < ROW_SUM_TOLERANCE <= 1e-5  # float32 rows miss 1 by ~1e-7


def test_a_flat_sequence_that_is_not_a_row_is_a_batch() -> None:
    classes = ["a", "b", "c"]
    assert read([0.2, 0.3, 0.4], task=None, classes=classes).count == 3  # sums to 0.9
    assert read([0.5, 0.5], task=None, classes=classes).count == 2  # length is not 3
    assert read([0.3, 0.7], task=None).count == 2  # task=None and no classes: never a row
    assert read([0.3, 0.6], task=BINARY).count == 2


def test_without_classes_binary_rows_have_two_items_and_multiclass_rows_any() -> None:
    assert read([0.3, 0.7], task=BINARY) == single(labels=["1"], scores=[0.7])
    assert read([0.1, 0.6, 0.3], task=MULTICLASS) == single(labels=["1"], scores=[0.6])
    assert read([0.1, 0.6, 0.3], task=BINARY).count == 3


def test_batch_true_makes_every_element_one_prediction() -> None:
    outputs = read([0.3, 0.7], task=BINARY, batch=True)
    assert outputs == Outputs(["0", "1"], [0.3, 0.7], None, 2, True)
    assert read("cat", batch=True) == Outputs(["cat"], None, None, 1, True)
    assert read(0.75, task=BINARY, batch=True) == Outputs(["1"], [0.75], None, 1, True)


def test_batch_false_makes_a_flat_sequence_one_probability_row() -> None:
    assert read([0.1, 0.5, 0.4], batch=False) == single(labels=["1"], scores=[0.5])
    assert read([0.3, 0.6], task=BINARY, batch=False) == single(labels=["1"], scores=[0.6])
    assert read(np.array([[0.2, 0.8]]), task=BINARY, batch=False) == single(["1"], [0.8])
    assert read(["cat"], batch=False) == single(labels=["cat"])
    assert read({"label": ["cat"]}, batch=False) == single(labels=["cat"])


def test_batch_false_with_several_predictions_is_an_error() -> None:
    with pytest.raises(OutputError, match="batch=False, but the output holds 2 predictions"):
        read(["cat", "dog"], batch=False)
    with pytest.raises(OutputError, match="holds 2 predictions"):
        read(np.array([[0.2, 0.8], [0.5, 0.5]]), task=BINARY, batch=False)


# --- the yielded items of a generator ---------------------------------------------------------


def test_generator_items_are_one_prediction_each() -> None:
    assert interpret_items([0.2, 0.9], task=BINARY, classes=None) == Outputs(
        ["0", "1"], [0.2, 0.9], None, 2, True
    )
    rows = [np.array([0.1, 0.9]), np.array([0.8, 0.2])]
    assert interpret_items(rows, task=MULTICLASS, classes=["x", "y"]).labels == ["y", "x"]
    assert interpret_items([{"label": "a"}, {"label": "b"}], task=None, classes=None).count == 2
    assert interpret_items((np.int64(i) for i in range(3)), task=None, classes=None).labels == [
        "0",
        "1",
        "2",
    ]
    assert interpret_items([], task=None, classes=None) == Outputs(None, None, None, 0, True)


def test_one_yielded_probability_row_is_one_prediction() -> None:
    outputs = interpret_items([[0.3, 0.7]], task=BINARY, classes=None)
    assert outputs == Outputs(["1"], [0.7], None, 1, True)


# --- errors -----------------------------------------------------------------------------------


class Forecast:
    pass


@pytest.mark.parametrize(
    ("result", "task", "message"),
    [
        (None, None, "the output is None; pass output="),
        (object(), None, "cannot interpret output of type object; pass output="),
        (Forecast(), None, r"\.Forecast; pass output="),
        ({1, 2}, None, "type set"),
        (np.zeros((2, 2, 2)), None, "3-D numpy.ndarray"),
        (["a", 0.5], None, "mixing float, str"),
        ([0.5, None], BINARY, "None"),
        ([[0.2, 0.8], [1.0]], None, r"differ in length \(\[1, 2\]\)"),
        ([[0.2, 0.8]], None, "rows have 2 probabilities but classes= names 3"),
        ([[0.2, 0.3, 0.5]], BINARY, "binary_classification needs 2 probabilities per row"),
        ([[0.2, 0.8]], REGRESSION, "regression needs one number per prediction"),
        ([["a", "b"]], MULTICLASS, "probability rows must hold numbers"),
        ([[]], MULTICLASS, "cannot be empty"),
        ([0.3, 2.0], MULTICLASS, "not class numbers"),
        (["a", "b"], REGRESSION, "regression needs numbers"),
    ],
)
def test_output_errors_say_what_is_wrong(result: object, task: str | None, message: str) -> None:
    classes = ["a", "b", "c"] if "classes=" in message else None
    with pytest.raises(OutputError, match=message):
        read(result, task=task, classes=classes)


def test_an_output_error_is_a_value_error() -> None:
    assert issubclass(OutputError, ValueError)


class ArrayLike:
    """Duck-typed like torch or jax arrays: ``ndim`` and ``tolist()``."""

    def __init__(self, data: list[Any]) -> None:
        self.data = data
        self.ndim = 1

    def tolist(self) -> list[Any]:
        return self.data


class TensorLike:
    """Duck-typed like TensorFlow tensors: no ``tolist()``, but ``numpy()``."""

    def __init__(self, data: list[Any]) -> None:
        self.data = data

    def numpy(self) -> np.ndarray:
        return np.array(self.data)


def test_other_array_libraries_are_read_through_tolist_or_numpy() -> None:
    assert read(ArrayLike([0.2, 0.9]), task=BINARY, batch=True).labels == ["0", "1"]
    matrix = TensorLike([[0.2, 0.8], [0.6, 0.4]])
    assert read(matrix, task=MULTICLASS) == Outputs(["1", "0"], [0.8, 0.6], None, 2, True)


def test_read_only_views_and_large_batches() -> None:
    matrix = np.random.default_rng(3).dirichlet([1.0] * 4, size=1_000)
    matrix.setflags(write=False)
    outputs = read(matrix, task=MULTICLASS, classes=list("wxyz"))
    assert outputs.count == 1_000 and outputs.labels is not None and outputs.scores is not None
    assert outputs.labels == ["wxyz"[i] for i in matrix.argmax(axis=1)]
    assert outputs.scores == matrix.max(axis=1).tolist()


# --- a real scikit-learn model -----------------------------------------------------------------


@pytest.fixture(scope="module")
def iris() -> tuple[Any, np.ndarray]:
    data = load_iris()
    names = data.target_names[data.target]  # string targets: classes_ are the flower names
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    return model.fit(data.data, names), data.data


@pytest.fixture(scope="module")
def cancer() -> tuple[Any, np.ndarray]:
    data = load_breast_cancer()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    return model.fit(data.data, data.target), data.data


def test_iris_predict_gives_the_labels_scikit_learn_gives(iris: tuple[Any, np.ndarray]) -> None:
    model, features = iris
    predicted = model.predict(features)
    outputs = read(predicted, task=MULTICLASS, classes=model.classes_)
    assert outputs.labels == predicted.tolist()
    assert (outputs.count, outputs.batch, outputs.scores) == (150, True, None)


def test_iris_predict_proba_matrix(iris: tuple[Any, np.ndarray]) -> None:
    model, features = iris
    proba = model.predict_proba(features)
    outputs = read(proba, task=MULTICLASS, classes=model.classes_)
    assert outputs.labels == model.classes_[np.argmax(proba, axis=1)].tolist()
    assert outputs.labels == model.predict(features).tolist()
    assert outputs.scores == proba.max(axis=1).tolist()
    assert outputs.count == 150 and outputs.batch


def test_iris_single_row(iris: tuple[Any, np.ndarray]) -> None:
    model, features = iris
    row = model.predict_proba(features[100:101])[0]  # 1-D: one prediction by the default rule
    outputs = read(row, task=MULTICLASS, classes=model.classes_)
    assert outputs == single(labels=[model.predict(features[100:101])[0]], scores=[row.max()])
    one = read(model.predict(features[100:101]), task=MULTICLASS, batch=False)
    assert one == single(labels=["virginica"])


def test_breast_cancer_binary_outputs(cancer: tuple[Any, np.ndarray]) -> None:
    model, features = cancer
    predicted = model.predict(features)
    proba = model.predict_proba(features)
    expected = [str(label) for label in predicted]
    assert read(predicted, task=BINARY).labels == expected
    matrix = read(proba, task=BINARY, classes=model.classes_)
    assert matrix.labels == expected
    assert matrix.scores == proba[:, 1].tolist()
    positive = read(proba[:, 1], task=BINARY)
    assert positive.labels == expected and positive.scores == proba[:, 1].tolist()
    cautious = read(proba[:, 1], task=BINARY, threshold=0.2)
    assert cautious.labels == [str(int(p >= 0.2)) for p in proba[:, 1]]
    assert cautious.labels != expected


def test_breast_cancer_single_predictions(cancer: tuple[Any, np.ndarray]) -> None:
    model, features = cancer
    proba = model.predict_proba(features[:1])
    label = str(model.predict(features[:1])[0])
    assert read(proba, task=BINARY, batch=False) == single([label], [proba[0, 1]])
    assert read(proba[0, 1], task=BINARY) == single([label], [proba[0, 1]])  # numpy float64


def test_regression_model_outputs() -> None:
    data = load_diabetes()
    model = LinearRegression().fit(data.data, data.target)
    predicted = model.predict(data.data)
    assert read(predicted, task=REGRESSION) == Outputs(None, None, predicted.tolist(), 442, True)
    assert read(predicted[0], task=REGRESSION) == single(values=[predicted[0]])
