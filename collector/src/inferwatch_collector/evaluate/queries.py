"""The SQL of one evaluation pass: a small, fixed number of queries over all models.

A pass first folds what arrived since the previous pass into ``ml_outcomes`` (one row per
labelled prediction, its latest label joined in), then reads per (model, version, segment,
window) the sufficient statistics of the windows that changed: prediction-side statistics
from ``ml_predictions`` and confusion cells from ``ml_outcomes``. No query joins the whole
history; ``docs/storage.md`` ("Evaluation") explains why and what it costs.

Parameters are bound server-side. Windows are tumbling and aligned to the Unix epoch
(``{w:UInt32}`` seconds). Segments: each row counts in the all-traffic series ``""`` and once
per ``ml.segment.<key>`` it carries, as ``key=value`` when ``model|key=value`` is in
``{top:Array(String)}`` (the key's top-k values by volume), else as ``key=other``.
``{changed:Array(String)}`` lists ``model|window start`` of the windows to read, unless
``{every:UInt8}`` is 1.
"""

from __future__ import annotations

NOW = "SELECT now64(6)"

READ_WATERMARK = """
SELECT Watermark FROM ml_evaluator_state FINAL WHERE Name = {name:String}
"""

WRITE_WATERMARK = """
INSERT INTO ml_evaluator_state (Name, Watermark)
SELECT {name:String}, {watermark:DateTime64(6, 'UTC')}
"""

# Labels and predictions that arrived in (since, until]; the first element says whether all
# label ids are UUIDv7 (then their hours narrow the search for the predictions).
ARRIVED_LABEL_HOURS = """
SELECT min(isNotNull(toUUIDOrNull(PredictionId))
           AND UUIDv7ToDateTime(toUUIDOrZero(PredictionId)) > toDateTime(0)) AS all_v7,
       groupUniqArray(toStartOfHour(
           UUIDv7ToDateTime(toUUIDOrZero(PredictionId), 'UTC') + INTERVAL d MINUTE)) AS hours
FROM ml_labels
ARRAY JOIN [-5, 5] AS d
WHERE InsertedAt > {since:DateTime64(6, 'UTC')} AND InsertedAt <= {until:DateTime64(6, 'UTC')}
"""

# The predictions whose outcome may have changed, each with its latest label. ml_outcomes is a
# ReplacingMergeTree on the label time, so a pass need not look at the labels stored before:
# an older label already folded loses to a newer one inserted now, and vice versa. Two arms:
# - labels that arrived in (since, until] (argMax among them), joined to their predictions;
#   {hours} narrows that search to the hours their UUIDv7 ids name ({any_hour} = 1 turns it
#   off: business-key ids say nothing about time);
# - predictions that arrived in (since, until], joined to labels stored before them (a
#   prediction may arrive after its label). The id range of the new predictions bounds that
#   search: ml_labels is sorted by id, and UUIDv7 ids sort by time.
# A prediction both arms find gets two rows; the greater label time wins. (Only two labels
# of one prediction with the same time, stored before and after it, are left to merge order.)
_FOLD = """
INSERT INTO ml_outcomes
    (Timestamp, ModelName, ModelVersion, PredictionId, PredictedLabel, PredictedValue, Segments,
     ActualLabel, ActualValue, LabelTimestamp, UpdatedAt)
WITH new_predictions AS (
    SELECT Timestamp, ModelName, ModelVersion, PredictionId, PredictedLabel, PredictedValue,
           Segments
    FROM ml_predictions
    WHERE Timestamp >= {lo:DateTime64(9)} AND Timestamp < {hi:DateTime64(9)}
      AND InsertedAt > {since:DateTime64(6, 'UTC')} AND InsertedAt <= {until:DateTime64(6, 'UTC')}
)
SELECT Timestamp, ModelName, ModelVersion, PredictionId, PredictedLabel, PredictedValue,
       Segments, actual_label, actual_value, latest.1, {until:DateTime64(6, 'UTC')}
FROM (
    SELECT p.*, l.actual_label, l.actual_value, l.latest
    FROM (
        SELECT Timestamp, ModelName, ModelVersion, PredictionId, PredictedLabel, PredictedValue,
               Segments
        FROM ml_predictions
        WHERE Timestamp >= {lo:DateTime64(9)} AND Timestamp < {hi:DateTime64(9)}
          AND ({any_hour:UInt8} = 1 OR toStartOfHour(Timestamp) IN {hours:Array(DateTime)})
    ) AS p
    INNER JOIN (%(labels)s
        WHERE InsertedAt > {since:DateTime64(6, 'UTC')}
          AND InsertedAt <= {until:DateTime64(6, 'UTC')}
        GROUP BY ModelName, PredictionId
    ) AS l ON l.ModelName = p.ModelName AND l.PredictionId = p.PredictionId
    UNION ALL
    SELECT p.*, l.actual_label, l.actual_value, l.latest
    FROM new_predictions AS p
    INNER JOIN (%(labels)s
        WHERE InsertedAt <= {since:DateTime64(6, 'UTC')}
          AND PredictionId >= (SELECT min(PredictionId) FROM new_predictions)
          AND PredictionId <= (SELECT max(PredictionId) FROM new_predictions)%(ids)s
        GROUP BY ModelName, PredictionId
    ) AS l ON l.ModelName = p.ModelName AND l.PredictionId = p.PredictionId
)
"""
_LATEST_LABEL = """
        SELECT ModelName, PredictionId,
               argMax(ActualLabel, (Timestamp, InsertedAt)) AS actual_label,
               argMax(ActualValue, (Timestamp, InsertedAt)) AS actual_value,
               max((Timestamp, InsertedAt)) AS latest
        FROM ml_labels"""
FOLD_OUTCOMES = _FOLD % {"labels": _LATEST_LABEL, "ids": ""}
"""The fold when the new predictions' ids are UUIDv7: their id range is a narrow time range."""
FOLD_OUTCOMES_ANY_ID = _FOLD % {
    "labels": _LATEST_LABEL,
    "ids": """
          AND (ModelName, PredictionId) IN (SELECT ModelName, PredictionId FROM new_predictions)""",
}
"""The fold when some ids are business keys: their range says nothing, a set narrows it."""

_WINDOW = "intDiv(toUnixTimestamp(Timestamp), {w:UInt32}) * {w:UInt32}"

# The (model, window start) of every window with a new prediction or a changed outcome.
CHANGED_WINDOWS = f"""
SELECT DISTINCT ModelName, {_WINDOW} AS window
FROM ml_predictions
WHERE Timestamp >= {{lo:DateTime64(9)}} AND Timestamp < {{hi:DateTime64(9)}}
  AND InsertedAt > {{since:DateTime64(6, 'UTC')}} AND InsertedAt <= {{until:DateTime64(6, 'UTC')}}
UNION DISTINCT
SELECT DISTINCT ModelName, {_WINDOW} AS window
FROM ml_outcomes
WHERE Timestamp >= {{lo:DateTime64(9)}} AND Timestamp < {{hi:DateTime64(9)}}
  AND UpdatedAt > {{since:DateTime64(6, 'UTC')}} AND UpdatedAt <= {{until:DateTime64(6, 'UTC')}}
"""

TOP_SEGMENT_VALUES = """
SELECT ModelName, kv.1 AS key, topK({k:UInt32})(kv.2) AS top
FROM ml_predictions
ARRAY JOIN arrayZip(mapKeys(Segments), mapValues(Segments)) AS kv
WHERE Timestamp >= {lo:DateTime64(9)} AND Timestamp < {hi:DateTime64(9)}
GROUP BY ModelName, key
"""


def _series(table: str, columns: str, final: str = "") -> str:
    """Rows of ``table`` in the windows to read, once per segment they count in."""
    return f"""
WITH rows AS (
    SELECT ModelName AS model, ModelVersion AS version,
           toDateTime({_WINDOW}, 'UTC') AS window_start, {columns},
           arrayConcat([('', '')], arrayZip(mapKeys(Segments), mapValues(Segments))) AS kvs
    FROM {table} {final}
    WHERE Timestamp >= {{lo:DateTime64(9)}} AND Timestamp < {{hi:DateTime64(9)}}
      AND ({{every:UInt8}} = 1
           OR has({{changed:Array(String)}}, concat(ModelName, '|', toString({_WINDOW}))))
),
expanded AS (
    SELECT *,
           if(kv.1 = '', '',
              concat(kv.1, '=',
                     if(has({{top:Array(String)}}, concat(model, '|', kv.1, '=', kv.2)),
                        kv.2, 'other'))) AS segment
    FROM rows
    ARRAY JOIN kvs AS kv
)
"""


# Latency quantiles are exact (quantilesExact): one sort per window, cheap next to the scan.
PREDICTION_STATS = (
    _series(
        "ml_predictions",
        "Task AS task, LatencyMs AS latency_ms, StatusCode AS status, "
        "if(Score IS NULL, concat('label:', PredictedLabel), concat('score:', toString(least("
        "toUInt32(floor(greatest(Score, 0) * {bins:UInt32})), {bins:UInt32} - 1)))) AS bin",
    )
    + """
SELECT model, version, segment, window_start, any(task) AS task,
       count() AS predictions,
       countIf(status = 'error') AS errors,
       quantilesExact(0.5, 0.95, 0.99)(latency_ms) AS latency,
       sumMap(map(assumeNotNull(bin), toUInt64(1))) AS histogram
FROM expanded
GROUP BY model, version, segment, window_start
"""
)

# Cells of the confusion matrix, and the sums regression metrics need (sklearn's MAPE divides
# by max(|y|, machine epsilon)). Regression rows have no labels: all of a series' rows fall in
# the one cell ('', ''), so the sums (and varPop) there are the series'.
OUTCOME_STATS = (
    _series(
        "ml_outcomes",
        "PredictedLabel AS predicted, PredictedValue AS predicted_value, "
        "ActualLabel AS actual, ActualValue AS actual_value",
        final="FINAL",
    )
    + """
SELECT model, version, segment, window_start, actual, predicted,
       count() AS n,
       countIf(actual_value IS NOT NULL AND predicted_value IS NOT NULL) AS reg_n,
       sumIf(abs(actual_value - predicted_value), isNotNull(actual_value - predicted_value)) AS sae,
       sumIf(pow(actual_value - predicted_value, 2), isNotNull(actual_value - predicted_value))
           AS sse,
       varPopIf(actual_value, isNotNull(actual_value - predicted_value)) AS var_y,
       sumIf(abs(actual_value - predicted_value)
                 / greatest(abs(actual_value), 2.220446049250313e-16),
             isNotNull(actual_value - predicted_value)) AS sape
FROM expanded
GROUP BY model, version, segment, window_start, actual, predicted
SETTINGS do_not_merge_across_partitions_select_final = 1
"""
)
