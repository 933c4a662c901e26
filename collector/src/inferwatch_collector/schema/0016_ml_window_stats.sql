-- The sufficient statistics of each evaluated window (see docs/storage.md, "Evaluation"), so
-- that a process starting afresh (`inferwatch evaluate --once` on a schedule, the hourly full
-- pass) reads the windows nothing arrived for from here instead of scanning their rows again.
-- One row per (window size, model, window): all its series as JSON, exact as of `Until` (the
-- arrivals folded when they were computed), for the settings `Fingerprint` names (drift bins,
-- top segment values, format). A later computation replaces the row (the greatest ComputedAt
-- wins; readers use FINAL).
-- Parameters bound server-side by the migration runner: {database}, {ttl_days}.
CREATE TABLE IF NOT EXISTS {database:Identifier}.ml_window_stats
(
    WindowSeconds UInt32,
    ModelName LowCardinality(String),
    WindowStart DateTime('UTC'),
    Fingerprint UInt64,
    Until DateTime64(6, 'UTC'),
    Stats String CODEC(ZSTD(3)),
    ComputedAt DateTime64(6, 'UTC') DEFAULT now64(6)
)
ENGINE = ReplacingMergeTree(ComputedAt)
ORDER BY (WindowSeconds, ModelName, WindowStart)
TTL toDateTime(WindowStart) + INTERVAL {ttl_days:UInt32} DAY
