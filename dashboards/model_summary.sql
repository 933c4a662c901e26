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
       toUInt64(sumIf(Value, Metric = 'prediction_count')) AS predictions,
       toUInt64(sumIf(Value, Metric = 'label_count')) AS labels,
       argMaxIf(toNullable(Value), (WindowStart, ModelVersion), Metric = 'accuracy') AS accuracy,
       argMaxIf(toNullable(Value), (WindowStart, ModelVersion), Metric = 'f1') AS f1,
       argMaxIf(toNullable(Value), (WindowStart, ModelVersion), Metric = 'mae') AS mae,
       argMaxIf(toNullable(Value), (WindowStart, ModelVersion), Metric = 'latency_p95_ms') AS latency_p95_ms,
       argMaxIf(toNullable(Value), (WindowStart, ModelVersion), Metric = 'error_rate') AS error_rate
FROM ml_evaluations FINAL
WHERE ModelName = {model:String}
  AND ({version:String} = '' OR ModelVersion = {version:String})
  AND Segment = {segment:String}
  AND Window = {window:String}
  AND WindowStart >= {from:DateTime64(3, 'UTC')}
  AND WindowStart < {to:DateTime64(3, 'UTC')}
  AND Metric IN ('prediction_count', 'label_count', 'accuracy', 'f1', 'mae',
                 'latency_p95_ms', 'error_rate')
