-- Notifications sent: one row per (transition, notifier) once the notifier accepted it, and one
-- per repeat of a firing alert. A transition in ml_alerts without a row here for a notifier is
-- still to be sent to it — also after a restart — which makes each transition notified once.
-- Parameters bound server-side by the migration runner: {database}.
CREATE TABLE IF NOT EXISTS {database:Identifier}.ml_alert_notifications
(
    TransitionId String,
    Notifier LowCardinality(String),
    Kind LowCardinality(String),
    SentAt DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (Notifier, TransitionId, SentAt);
