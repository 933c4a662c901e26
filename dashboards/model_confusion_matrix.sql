-- title: Confusion matrix
-- description: Labelled predictions by actual (rows) and predicted (columns) class, summed over the range.
-- page: model
-- order: 30
-- visualization: heatmap
-- x: predicted
-- y: actual
-- value: count
-- params:
--   model: {type: String, description: "the model's name"}
--   version: {type: String, default: '', description: 'one version, or all if empty'}
--   segment: {type: String, default: '', description: 'a segment (region=eu), or all traffic if empty'}
--   window: {type: String, default: 1h, description: window size of the evaluations}
--   from: {type: "DateTime64(3, 'UTC')", default: now-7d}
--   to: {type: "DateTime64(3, 'UTC')", default: now}
SELECT arrayElement(splitByChar(':', Metric), 2) AS actual,
       arrayStringConcat(arraySlice(splitByChar(':', Metric), 3), ':') AS predicted,
       toUInt64(sum(latest)) AS count
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
      AND startsWith(Metric, 'confusion:')
    GROUP BY ModelVersion, Metric, WindowStart
)
GROUP BY actual, predicted
ORDER BY actual, predicted
