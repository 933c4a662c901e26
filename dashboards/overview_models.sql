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
    max(e.window_end) AS last_window_end,
    toUInt64(sumIf(e.value, e.Metric = 'prediction_count')) AS predictions,
    argMaxIf(toNullable(e.value), e.WindowStart, e.Metric = 'label_coverage') AS label_coverage,
    argMaxIf(toNullable(e.value), e.WindowStart, e.Metric = 'accuracy') AS accuracy,
    argMaxIf(toNullable(e.value), e.WindowStart, e.Metric = 'f1') AS f1,
    argMaxIf(toNullable(e.value), e.WindowStart, e.Metric = 'mae') AS mae,
    argMaxIf(toNullable(e.value), e.WindowStart, e.Metric = 'error_rate') AS error_rate,
    argMaxIf(toNullable(e.value), e.WindowStart, e.Metric = 'latency_p95_ms') AS latency_p95_ms,
    argMaxIf(toNullable(e.value), e.WindowStart, e.Metric = 'psi') AS psi
FROM (
    -- The latest evaluation of each window: argMax, not FINAL, which would merge the parts
    -- the evaluator has just written (docs/storage.md, "What the dashboard reads").
    SELECT ModelName, ModelVersion, Metric, WindowStart,
           argMax((Value, WindowEnd), EvaluatedAt) AS latest,
           latest.1 AS value, latest.2 AS window_end
    FROM ml_evaluations
    WHERE Window = {window:String}
      AND Segment = ''
      AND WindowStart >= {from:DateTime64(3, 'UTC')}
      AND WindowStart < {to:DateTime64(3, 'UTC')}
      AND Metric IN ('prediction_count', 'label_coverage', 'accuracy', 'f1', 'mae',
                     'error_rate', 'latency_p95_ms', 'psi')
    GROUP BY ModelName, ModelVersion, Metric, WindowStart
) AS e
LEFT JOIN firing AS f ON f.ModelName = e.ModelName AND f.ModelVersion = e.ModelVersion
GROUP BY model, version
ORDER BY model, version
