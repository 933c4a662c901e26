-- title: Alert history
-- description: Every change of alert state in the range, newest first.
-- page: alerts
-- order: 10
-- visualization: table
-- x: time
-- link: window_start
-- params:
--   model: {type: String, default: '', description: 'one model, or all if empty'}
--   state: {type: String, default: '', description: 'one state (firing, resolved, pending, no_data), or all if empty'}
--   from: {type: "DateTime64(3, 'UTC')", default: now-7d}
--   to: {type: "DateTime64(3, 'UTC')", default: now}
SELECT TransitionAt AS time, RuleName AS rule, ModelName AS model, ModelVersion AS version,
       Segment AS segment, Metric AS metric, Window AS window,
       PreviousState AS previous_state, State AS state, Severity AS severity,
       Value AS value, Threshold AS threshold, WindowStart AS window_start,
       Annotation AS annotation, GeneratorUrl AS generator_url
FROM ml_alerts
WHERE ({model:String} = '' OR ModelName = {model:String})
  AND ({state:String} = '' OR State = {state:String})
  AND TransitionAt >= {from:DateTime64(3, 'UTC')}
  AND TransitionAt < {to:DateTime64(3, 'UTC')}
ORDER BY time DESC, rule, model
LIMIT 5000
