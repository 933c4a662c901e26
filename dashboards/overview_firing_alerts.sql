-- title: Firing alerts
-- description: The alerts firing now, newest first, with the window that made them fire.
-- page: overview
-- order: 20
-- visualization: table
-- link: window_start
-- params: {}
SELECT rule, model, version, segment, severity, metric, window, window_start,
       value, threshold, firing_since, annotation, generator_url
FROM (
    SELECT RuleName AS rule, ModelName AS model, ModelVersion AS version, Segment AS segment,
           argMax(State, TransitionAt) AS state,
           argMax(Severity, TransitionAt) AS severity,
           argMax(Metric, TransitionAt) AS metric,
           argMax(Window, TransitionAt) AS window,
           argMax(WindowStart, TransitionAt) AS window_start,
           argMax(Value, TransitionAt) AS value,
           argMax(Threshold, TransitionAt) AS threshold,
           argMax(FiringSince, TransitionAt) AS firing_since,
           argMax(Annotation, TransitionAt) AS annotation,
           argMax(GeneratorUrl, TransitionAt) AS generator_url
    FROM ml_alerts
    GROUP BY rule, model, version, segment
)
WHERE state = 'firing'
ORDER BY firing_since DESC, rule, model
