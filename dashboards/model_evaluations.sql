-- title: Evaluations of the model
-- description: >-
--   Every metric of every window of the model in the range, with support and confidence
--   interval: the table of the static report (inferwatch report --format csv).
-- page: none
-- visualization: table
-- link: window_start
-- params:
--   model: {type: String, description: "the model's name"}
--   version: {type: String, default: '', description: 'one version, or all if empty'}
--   segment: {type: String, default: '', description: 'a segment (region=eu), or all traffic if empty'}
--   window: {type: String, default: 1h, description: window size of the evaluations}
--   from: {type: "DateTime64(3, 'UTC')", default: now-7d}
--   to: {type: "DateTime64(3, 'UTC')", default: now}
SELECT WindowStart AS window_start, ModelVersion AS version, Metric AS metric,
       Value AS value, CiLow AS ci_low, CiHigh AS ci_high, Support AS support,
       LabelCoverage AS label_coverage, WindowEnd AS window_end
FROM ml_evaluations FINAL
WHERE ModelName = {model:String}
  AND ({version:String} = '' OR ModelVersion = {version:String})
  AND Segment = {segment:String}
  AND Window = {window:String}
  AND WindowStart >= {from:DateTime64(3, 'UTC')}
  AND WindowStart < {to:DateTime64(3, 'UTC')}
  AND NOT startsWith(Metric, 'confusion:')
ORDER BY window_start, version, metric
