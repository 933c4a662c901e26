-- title: Metrics of the window
-- description: Every metric of one window of the model, with support and confidence interval.
-- page: window
-- order: 10
-- visualization: table
-- params:
--   model: {type: String, description: "the model's name"}
--   version: {type: String, default: '', description: 'one version, or all if empty'}
--   segment: {type: String, default: '', description: 'a segment (region=eu), or all traffic if empty'}
--   window: {type: String, default: 1h, description: "the window's size"}
--   window_start: {type: "DateTime64(3, 'UTC')", description: "the window's start"}
SELECT ModelVersion AS version, Metric AS metric, Value AS value, CiLow AS ci_low,
       CiHigh AS ci_high, Support AS support, LabelCoverage AS label_coverage,
       WindowEnd AS window_end, EvaluatedAt AS evaluated_at
FROM ml_evaluations FINAL
WHERE ModelName = {model:String}
  AND ({version:String} = '' OR ModelVersion = {version:String})
  AND Segment = {segment:String}
  AND Window = {window:String}
  AND WindowStart = {window_start:DateTime64(3, 'UTC')}
  AND NOT startsWith(Metric, 'confusion:')
ORDER BY version, metric
