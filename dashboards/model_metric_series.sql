-- title: Metrics over time
-- description: >-
--   Chosen metrics of the model per window, with their confidence intervals. The charts of
--   the model page reuse this query (`query: model_metric_series`), each with its metrics.
-- page: none
-- visualization: timeseries
-- x: time
-- series: series
-- value: value
-- low: low
-- high: high
-- link: time
-- threshold: rules
-- params:
--   model: {type: String, description: "the model's name"}
--   metrics: {type: Array(String), default: [f1], description: the metrics to show}
--   version: {type: String, default: '', description: 'one version, or all if empty'}
--   segment: {type: String, default: '', description: 'a segment (region=eu), or all traffic if empty'}
--   window: {type: String, default: 1h, description: window size of the evaluations}
--   from: {type: "DateTime64(3, 'UTC')", default: now-7d}
--   to: {type: "DateTime64(3, 'UTC')", default: now}
SELECT WindowStart AS time,
       concat(Metric, if({version:String} = '', concat(' · ', ModelVersion), '')) AS series,
       latest.1 AS value, latest.2 AS low, latest.3 AS high, latest.4 AS support
FROM (
    -- The latest evaluation of each window: argMax, not FINAL, which would merge the parts
    -- the evaluator has just written (docs/storage.md, "What the dashboard reads").
    SELECT ModelVersion, Metric, WindowStart,
           argMax((Value, CiLow, CiHigh, Support), EvaluatedAt) AS latest
    FROM ml_evaluations
    WHERE ModelName = {model:String}
      AND ({version:String} = '' OR ModelVersion = {version:String})
      AND Segment = {segment:String}
      AND Window = {window:String}
      AND WindowStart >= {from:DateTime64(3, 'UTC')}
      AND WindowStart < {to:DateTime64(3, 'UTC')}
      AND Metric IN {metrics:Array(String)}
    GROUP BY ModelVersion, Metric, WindowStart
)
ORDER BY series, time
