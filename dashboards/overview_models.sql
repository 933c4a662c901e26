-- title: Models
-- description: >-
--   Every model and version evaluated in the range: its newest window's headline metrics,
--   the predictions of the range and the alerts firing now.
-- page: overview
-- order: 10
-- visualization: table
-- link: model
-- params:
--   window: {type: String, default: 1h, description: window size of the evaluations}
--   from: {type: "DateTime64(3, 'UTC')", default: now-1d}
--   to: {type: "DateTime64(3, 'UTC')", default: now}
WITH firing AS (
    SELECT ModelName, ModelVersion, count() AS firing_alerts
    FROM (
        SELECT RuleName, ModelName, ModelVersion, Segment,
               argMax(State, TransitionAt) AS state
        FROM ml_alerts
        GROUP BY RuleName, ModelName, ModelVersion, Segment
    )
    WHERE state = 'firing'
    GROUP BY ModelName, ModelVersion
)
SELECT
    e.ModelName AS model,
    e.ModelVersion AS version,
    if(any(f.firing_alerts) > 0, 'firing', 'ok') AS status,
    any(f.firing_alerts) AS firing_alerts,
    max(e.WindowEnd) AS last_window_end,
    toUInt64(sumIf(e.Value, e.Metric = 'prediction_count')) AS predictions,
    argMaxIf(toNullable(e.Value), e.WindowStart, e.Metric = 'label_coverage') AS label_coverage,
    argMaxIf(toNullable(e.Value), e.WindowStart, e.Metric = 'accuracy') AS accuracy,
    argMaxIf(toNullable(e.Value), e.WindowStart, e.Metric = 'f1') AS f1,
    argMaxIf(toNullable(e.Value), e.WindowStart, e.Metric = 'mae') AS mae,
    argMaxIf(toNullable(e.Value), e.WindowStart, e.Metric = 'error_rate') AS error_rate,
    argMaxIf(toNullable(e.Value), e.WindowStart, e.Metric = 'latency_p95_ms') AS latency_p95_ms,
    argMaxIf(toNullable(e.Value), e.WindowStart, e.Metric = 'psi') AS psi
FROM ml_evaluations AS e FINAL
LEFT JOIN firing AS f ON f.ModelName = e.ModelName AND f.ModelVersion = e.ModelVersion
WHERE e.Window = {window:String}
  AND e.Segment = ''
  AND e.WindowStart >= {from:DateTime64(3, 'UTC')}
  AND e.WindowStart < {to:DateTime64(3, 'UTC')}
  AND e.Metric IN ('prediction_count', 'label_coverage', 'accuracy', 'f1', 'mae',
                   'error_rate', 'latency_p95_ms', 'psi')
GROUP BY model, version
ORDER BY model, version
