-- title: Summary
-- description: >-
--   Predictions and labels in the range, and the headline metrics of the newest window (of
--   the newest version, when all versions are shown: the version tile says which).
-- page: model
-- order: 10
-- visualization: stat
-- params:
--   model: {type: String, description: "the model's name"}
--   version: {type: String, default: '', description: 'one version, or all if empty'}
--   segment: {type: String, default: '', description: 'a segment (region=eu), or all traffic if empty'}
--   window: {type: String, default: 1h, description: window size of the evaluations}
--   from: {type: "DateTime64(3, 'UTC')", default: now-7d}
--   to: {type: "DateTime64(3, 'UTC')", default: now}
SELECT argMax(ModelVersion, (WindowStart, ModelVersion)) AS version,
       toUInt64(sumIf(latest, Metric = 'prediction_count')) AS predictions,
       toUInt64(sumIf(latest, Metric = 'label_count')) AS labels,
       argMaxIf(toNullable(latest), (WindowStart, ModelVersion), Metric = 'accuracy') AS accuracy,
       argMaxIf(toNullable(latest), (WindowStart, ModelVersion), Metric = 'f1') AS f1,
       argMaxIf(toNullable(latest), (WindowStart, ModelVersion), Metric = 'mae') AS mae,
       argMaxIf(toNullable(latest), (WindowStart, ModelVersion), Metric = 'latency_p95_ms') AS latency_p95_ms,
       argMaxIf(toNullable(latest), (WindowStart, ModelVersion), Metric = 'error_rate') AS error_rate
FROM (
    -- The latest evaluation of each window: argMax, not FINAL, which would merge the parts
    -- the evaluator has just written (docs/storage.md, "What the dashboard reads").
    SELECT ModelVersion, Metric, WindowStart, argMax(Value, EvaluatedAt) AS latest
    FROM ml_evaluations
    WHERE ModelName = {model:String}
      AND ({version:String} = '' OR ModelVersion = {version:String})
      AND Segment = {segment:String}
      AND Window = {window:String}
      AND WindowStart >= {from:DateTime64(3, 'UTC')}
      AND WindowStart < {to:DateTime64(3, 'UTC')}
      AND Metric IN ('prediction_count', 'label_count', 'accuracy', 'f1', 'mae',
                     'latency_p95_ms', 'error_rate')
    GROUP BY ModelVersion, Metric, WindowStart
)
