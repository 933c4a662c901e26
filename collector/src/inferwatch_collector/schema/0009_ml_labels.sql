-- Ground truth, one row per label event. ReplacingMergeTree keeps, per (ModelName,
-- PredictionId), the row with the greatest Timestamp: a later label replaces the earlier one.
-- Replacement happens at merge time, so readers use FINAL or argMax(…, Timestamp) (see
-- docs/storage.md). Not partitioned by time: rows are only replaced within one partition, and
-- a correction may arrive weeks after the first label.
-- Parameters bound server-side by the migration runner: {database}, {ttl_days}.
CREATE TABLE IF NOT EXISTS {database:Identifier}.ml_labels
(
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    ModelName LowCardinality(String) CODEC(ZSTD(1)),
    PredictionId String CODEC(ZSTD(1)),
    ActualLabel String CODEC(ZSTD(1)),
    ActualValue Nullable(Float64) CODEC(ZSTD(1)),
    Attributes Map(LowCardinality(String), String) CODEC(ZSTD(1))
)
ENGINE = ReplacingMergeTree(Timestamp)
ORDER BY (ModelName, PredictionId)
TTL toDateTime(Timestamp) + INTERVAL {ttl_days:UInt32} DAY
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 10000
