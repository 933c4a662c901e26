-- title: Misclassified predictions
-- description: >-
--   The window's labelled predictions whose prediction missed (regression: the largest
--   errors first), with the trace to follow in a tracing tool. Reads raw rows, so its range
--   is at most one day. A segment `key=value` keeps that value's predictions (the pooled
--   `other` value has no predictions of its own here).
-- page: window
-- order: 20
-- visualization: table
-- max_range: 1d
-- params:
--   model: {type: String, description: "the model's name"}
--   version: {type: String, default: '', description: 'one version, or all if empty'}
--   segment: {type: String, default: '', description: 'a segment value (region=eu), or all traffic if empty'}
--   from: {type: "DateTime64(3, 'UTC')", description: "the window's start"}
--   to: {type: "DateTime64(3, 'UTC')", description: "the window's end"}
--   limit: {type: UInt32, default: 200, description: rows shown at most}
SELECT o.Timestamp AS time, o.ModelVersion AS version, o.PredictionId AS prediction_id,
       o.PredictedLabel AS predicted, o.ActualLabel AS actual,
       o.PredictedValue AS predicted_value, o.ActualValue AS actual_value,
       p.TraceId AS trace_id, p.SpanId AS span_id
FROM (
    SELECT Timestamp, ModelVersion, PredictionId, PredictedLabel, ActualLabel,
           PredictedValue, ActualValue
    FROM ml_outcomes FINAL
    WHERE ModelName = {model:String}
      AND ({version:String} = '' OR ModelVersion = {version:String})
      AND Timestamp >= {from:DateTime64(3, 'UTC')}
      AND Timestamp < {to:DateTime64(3, 'UTC')}
      AND (ActualValue IS NOT NULL OR PredictedLabel != ActualLabel)
      AND ({segment:String} = ''
           OR Segments[splitByChar('=', {segment:String})[1]]
              = arrayStringConcat(arraySlice(splitByChar('=', {segment:String}), 2), '='))
) AS o
LEFT JOIN (
    SELECT PredictionId, any(TraceId) AS TraceId, any(SpanId) AS SpanId
    FROM ml_predictions
    WHERE ModelName = {model:String}
      AND Timestamp >= {from:DateTime64(3, 'UTC')}
      AND Timestamp < {to:DateTime64(3, 'UTC')}
    GROUP BY PredictionId
) AS p ON p.PredictionId = o.PredictionId
ORDER BY abs(ifNull(o.PredictedValue - o.ActualValue, 0)) DESC, time
LIMIT {limit:UInt32}
