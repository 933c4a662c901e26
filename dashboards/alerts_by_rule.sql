-- title: Alerts by rule
-- description: How often each rule went firing in the range (any model, version, segment).
-- page: alerts
-- order: 5
-- visualization: bar
-- x: rule
-- value: fired
-- params:
--   from: {type: "DateTime64(3, 'UTC')", default: now-7d}
--   to: {type: "DateTime64(3, 'UTC')", default: now}
SELECT RuleName AS rule, countIf(State = 'firing') AS fired
FROM ml_alerts
WHERE TransitionAt >= {from:DateTime64(3, 'UTC')}
  AND TransitionAt < {to:DateTime64(3, 'UTC')}
GROUP BY rule
ORDER BY fired DESC, rule
