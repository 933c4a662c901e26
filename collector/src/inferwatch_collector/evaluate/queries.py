"""The SQL of one evaluation pass: a small, fixed number of queries over all models.

Every query covers all models, versions and segments of the pass's time range at once and
returns sufficient statistics per (model, version, segment, window): the evaluator computes
the metrics from them (``metrics.py``). Parameters are bound server-side.

Segments: each prediction counts in the all-traffic series (segment ``""``) and once per
``ml.segment.<key>`` it carries, as ``key=value`` when the value is among the key's top-k by
volume in the range (``{top_keys}``: ``model|key``, ``{top_values}``: its values), else
``key=other``. The latest label of a prediction wins (``argMax`` over ``ml_labels``).
"""

from __future__ import annotations

TOP_SEGMENT_VALUES = """
SELECT ModelName, kv.1 AS key, topK({k:UInt32})(kv.2) AS top
FROM ml_predictions
ARRAY JOIN arrayZip(mapKeys(Segments), mapValues(Segments)) AS kv
WHERE Timestamp >= {lo:DateTime64(9)} AND Timestamp < {hi:DateTime64(9)}
GROUP BY ModelName, key
"""

_JOINED = """
WITH labels AS (
    SELECT ModelName, PredictionId,
           argMax(ActualLabel, Timestamp) AS actual_label,
           argMax(ActualValue, Timestamp) AS actual_value,
           1 AS labelled
    FROM ml_labels
    WHERE ModelName IN (
        SELECT DISTINCT ModelName FROM ml_predictions
        WHERE Timestamp >= {lo:DateTime64(9)} AND Timestamp < {hi:DateTime64(9)})
    GROUP BY ModelName, PredictionId
),
joined AS (
    SELECT p.ModelName AS model, p.ModelVersion AS version, p.Task AS task,
           toDateTime64(intDiv(toUnixTimestamp(p.Timestamp), {w:UInt32}) * {w:UInt32}, 3, 'UTC')
               AS window_start,
           p.PredictedLabel AS predicted_label, p.Score AS score,
           p.PredictedValue AS predicted_value, p.LatencyMs AS latency_ms,
           p.StatusCode AS status, p.Segments AS segments,
           l.labelled AS labelled, l.actual_label AS actual_label, l.actual_value AS actual_value
    FROM ml_predictions AS p
    LEFT JOIN labels AS l ON l.ModelName = p.ModelName AND l.PredictionId = p.PredictionId
    WHERE p.Timestamp >= {lo:DateTime64(9)} AND p.Timestamp < {hi:DateTime64(9)}
),
expanded AS (
    SELECT *,
           if(kv.1 = '', '',
              concat(kv.1, '=', if(has({top_values:Array(Array(String))}[
                                           indexOf({top_keys:Array(String)},
                                                   concat(model, '|', kv.1))],
                                       kv.2), kv.2, 'other'))) AS segment
    FROM joined
    ARRAY JOIN arrayConcat([('', '')], arrayZip(mapKeys(segments), mapValues(segments))) AS kv
)
"""

SERIES_STATS = (
    _JOINED
    + """
SELECT model, version, segment, window_start, any(task) AS task,
       count() AS predictions,
       countIf(labelled = 1) AS labelled_count,
       countIf(status = 'error') AS errors,
       quantilesExact(0.5, 0.95, 0.99)(latency_ms) AS latency,
       countIf(labelled = 1 AND actual_value IS NOT NULL AND predicted_value IS NOT NULL) AS reg_n,
       sumIf(abs(actual_value - predicted_value),
             labelled = 1 AND actual_value IS NOT NULL AND predicted_value IS NOT NULL) AS sae,
       sumIf(pow(actual_value - predicted_value, 2),
             labelled = 1 AND actual_value IS NOT NULL AND predicted_value IS NOT NULL) AS sse,
       varPopIf(actual_value,
                labelled = 1 AND actual_value IS NOT NULL AND predicted_value IS NOT NULL) AS var_y,
       sumIf(abs(actual_value - predicted_value)
                 / greatest(abs(actual_value), 2.220446049250313e-16),
             labelled = 1 AND actual_value IS NOT NULL AND predicted_value IS NOT NULL) AS sape
FROM expanded
GROUP BY model, version, segment, window_start
"""
)

CONFUSION_CELLS = (
    _JOINED
    + """
SELECT model, version, segment, window_start,
       if(actual_label = '' AND actual_value IS NOT NULL, toString(actual_value), actual_label)
           AS actual, predicted_label, count() AS n
FROM expanded
WHERE labelled = 1
GROUP BY model, version, segment, window_start, actual, predicted_label
"""
)

HISTOGRAMS = (
    _JOINED
    + """
SELECT model, version, segment, window_start,
       if(score IS NULL, concat('label:', predicted_label),
          concat('score:', toString(least(toUInt32(floor(greatest(score, 0) * {bins:UInt32})),
                                          {bins:UInt32} - 1)))) AS bin,
       count() AS n
FROM expanded
GROUP BY model, version, segment, window_start, bin
"""
)
