-- One row per prediction (batch spans exploded). The evaluator reads it by model and time
-- window, so rows are sorted by model, then hour, then version, then time: a window scan on
-- one model reads one contiguous range per hour. Labels are joined by PredictionId, which the
-- bloom filter index lets ClickHouse find without a full scan. See docs/storage.md.
-- Parameters bound server-side by the migration runner: {database}, {ttl_days}.
CREATE TABLE IF NOT EXISTS {database:Identifier}.ml_predictions
(
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    ModelName LowCardinality(String) CODEC(ZSTD(1)),
    ModelVersion LowCardinality(String) CODEC(ZSTD(1)),
    Task LowCardinality(String) CODEC(ZSTD(1)),
    PredictionId String CODEC(ZSTD(1)),
    PredictedLabel String CODEC(ZSTD(1)),
    Score Nullable(Float64) CODEC(ZSTD(1)),
    PredictedValue Nullable(Float64) CODEC(ZSTD(1)),
    LatencyMs Float64 CODEC(ZSTD(1)),
    StatusCode LowCardinality(String) CODEC(ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    Segments Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    Features Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    Attributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    INDEX idx_prediction_id PredictionId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_segment_key mapKeys(Segments) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_segment_value mapValues(Segments) TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toDate(Timestamp)
PRIMARY KEY (ModelName, toStartOfHour(Timestamp), ModelVersion)
ORDER BY (ModelName, toStartOfHour(Timestamp), ModelVersion, Timestamp)
TTL toDateTime(Timestamp) + INTERVAL {ttl_days:UInt32} DAY
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000
