-- Labelled outcomes, materialized incrementally by the evaluator (see docs/storage.md,
-- "Evaluation"): one row per labelled prediction holding the prediction's fields and its
-- latest label, so that a pass reads joined rows instead of joining 10 M predictions again.
-- InsertedAt (arrival time, set by the server) tells a pass which labels and predictions
-- arrived since the previous one; the minmax index lets it skip the parts written before.
-- MATERIALIZE fixes the arrival time of rows already stored (else it would be read as now).
-- Parameters bound server-side by the migration runner: {database}, {ttl_days}.
ALTER TABLE {database:Identifier}.ml_predictions
    ADD COLUMN IF NOT EXISTS InsertedAt DateTime64(6, 'UTC') DEFAULT now64(6) CODEC(Delta(8), ZSTD(1)),
    ADD INDEX IF NOT EXISTS idx_inserted_at InsertedAt TYPE minmax GRANULARITY 1;
ALTER TABLE {database:Identifier}.ml_predictions MATERIALIZE COLUMN InsertedAt
SETTINGS mutations_sync = 2;
ALTER TABLE {database:Identifier}.ml_labels
    ADD COLUMN IF NOT EXISTS InsertedAt DateTime64(6, 'UTC') DEFAULT now64(6) CODEC(Delta(8), ZSTD(1)),
    ADD INDEX IF NOT EXISTS idx_inserted_at InsertedAt TYPE minmax GRANULARITY 1;
ALTER TABLE {database:Identifier}.ml_labels MATERIALIZE COLUMN InsertedAt
SETTINGS mutations_sync = 2;
-- Keyed like ml_predictions (model, hour of the prediction) so a window reads one range;
-- the prediction id ends the key, so a later label of a prediction replaces the earlier row
-- (the greatest LabelTimestamp wins; readers use FINAL).
CREATE TABLE IF NOT EXISTS {database:Identifier}.ml_outcomes
(
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    ModelName LowCardinality(String) CODEC(ZSTD(1)),
    ModelVersion LowCardinality(String) CODEC(ZSTD(1)),
    PredictionId String CODEC(ZSTD(1)),
    PredictedLabel String CODEC(ZSTD(1)),
    PredictedValue Nullable(Float64) CODEC(ZSTD(1)),
    Segments Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ActualLabel String CODEC(ZSTD(1)),
    ActualValue Nullable(Float64) CODEC(ZSTD(1)),
    LabelTimestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    UpdatedAt DateTime64(6, 'UTC') CODEC(Delta(8), ZSTD(1))
)
ENGINE = ReplacingMergeTree(LabelTimestamp)
PARTITION BY toDate(Timestamp)
ORDER BY (ModelName, toStartOfHour(Timestamp), PredictionId)
TTL toDateTime(Timestamp) + INTERVAL {ttl_days:UInt32} DAY
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;
-- The evaluator's watermark: rows that arrived up to Watermark are folded into ml_outcomes.
CREATE TABLE IF NOT EXISTS {database:Identifier}.ml_evaluator_state
(
    Name String,
    Watermark DateTime64(6, 'UTC'),
    UpdatedAt DateTime64(6, 'UTC') DEFAULT now64(6)
)
ENGINE = ReplacingMergeTree(UpdatedAt)
ORDER BY Name
