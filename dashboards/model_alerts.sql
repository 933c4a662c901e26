-- title: Alerts of the model
-- description: Every change of alert state of the model's rules in the range (also drawn as markers on its charts).
-- page: model
-- order: 90
-- visualization: table
-- x: time
-- link: window_start
-- params:
--   model: {type: String, description: "the model's name"}
--   version: {type: String, default: '', description: 'one version, or all if empty'}
--   from: {type: "DateTime64(3, 'UTC')", default: now-7d}
--   to: {type: "DateTime64(3, 'UTC')", default: now}
SELECT TransitionAt AS time, RuleName AS rule, ModelVersion AS version, Segment AS segment,
       Metric AS metric, Window AS window, PreviousState AS previous_state, State AS state,
       Severity AS severity, Value AS value, Threshold AS threshold,
       WindowStart AS window_start, WindowEnd AS window_end, Annotation AS annotation
FROM ml_alerts
WHERE ModelName = {model:String}
  AND ({version:String} = '' OR ModelVersion = {version:String})
  AND TransitionAt >= {from:DateTime64(3, 'UTC')}
  AND TransitionAt < {to:DateTime64(3, 'UTC')}
ORDER BY time DESC, rule
LIMIT 1000
