"""A real scikit-learn model, trained on a dataset scikit-learn ships, decorated as people do."""

from __future__ import annotations

import pytest
from sdk_telemetry import Telemetry

from inferwatch import last_prediction_id, monitor, semconv

np = pytest.importorskip("numpy")
datasets = pytest.importorskip("sklearn.datasets")
linear_model = pytest.importorskip("sklearn.linear_model")


@pytest.fixture(scope="module")
def iris_model():  # type: ignore[no-untyped-def]
    X, y = datasets.load_iris(return_X_y=True)
    classifier = linear_model.LogisticRegression(max_iter=500).fit(X, y)
    return classifier, X


def test_decorated_predict_and_predict_proba(iris_model, model: str, telemetry: Telemetry) -> None:  # type: ignore[no-untyped-def]
    classifier, X = iris_model
    names = ["setosa", "versicolor", "virginica"]

    @monitor(model=model, task="multiclass_classification", classes=names)
    def predict_proba(rows):  # type: ignore[no-untyped-def]
        return classifier.predict_proba(rows)

    @monitor(model=model, task="multiclass_classification")
    def predict(rows):  # type: ignore[no-untyped-def]
        return classifier.predict(rows)

    probabilities = predict_proba(X[:20])
    assert len(last_prediction_id()) == 20
    labels = predict(X[:20])
    proba_span, label_span = telemetry.spans()
    expected = [names[i] for i in probabilities.argmax(axis=1)]
    assert list(proba_span.attributes[semconv.ML_PREDICTION_LABEL]) == expected
    assert list(proba_span.attributes[semconv.ML_PREDICTION_SCORE]) == pytest.approx(
        probabilities.max(axis=1).tolist()
    )
    assert list(label_span.attributes[semconv.ML_PREDICTION_LABEL]) == [str(v) for v in labels]


def test_single_row_predict_proba_with_batch_false(
    iris_model,
    model: str,
    telemetry: Telemetry,  # type: ignore[no-untyped-def]
) -> None:
    classifier, X = iris_model

    @monitor(model=model, classes=[0, 1, 2], batch=False, task="multiclass_classification")
    def predict_one(row):  # type: ignore[no-untyped-def]
        return classifier.predict_proba([row])[0]

    row = predict_one(X[100])
    attributes = dict(telemetry.span().attributes or {})
    assert attributes[semconv.ML_PREDICTION_COUNT] == 1
    assert attributes[semconv.ML_PREDICTION_LABEL] == str(int(np.argmax(row)))
    assert isinstance(last_prediction_id(), str)
