from inferwatch import semconv


def test_per_prediction_arrays_are_all_ml_prediction_attributes() -> None:
    assert all(name.startswith("ml.prediction.") for name in semconv.PER_PREDICTION_ARRAYS)
    assert len(set(semconv.PER_PREDICTION_ARRAYS)) == len(semconv.PER_PREDICTION_ARRAYS)


def test_tasks_are_the_documented_three() -> None:
    assert semconv.TASKS == ("binary_classification", "multiclass_classification", "regression")
