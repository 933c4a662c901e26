-- Quality metrics per (model, version, segment, window size, metric, window). A window is
-- re-evaluated while its labels keep arriving: ReplacingMergeTree keeps the latest
-- evaluation (greatest EvaluatedAt); readers use FINAL or argMax(…, EvaluatedAt).
-- Ordered for reading one model's series over time. Small (one row per metric per window):
-- no TTL, so history outlives the raw data for threshold suggestions and reports.
-- Parameters bound server-side by the migration runner: {database}.
CREATE TABLE IF NOT EXISTS {database:Identifier}.ml_evaluations
(
    ModelName LowCardinality(String),
    ModelVersion LowCardinality(String),
    Segment String,
    Window LowCardinality(String),
    WindowStart DateTime64(3, 'UTC') CODEC(Delta(8), ZSTD(1)),
    WindowEnd DateTime64(3, 'UTC') CODEC(Delta(8), ZSTD(1)),
    Metric LowCardinality(String),
    Value Float64,
    Support UInt64,
    LabelCoverage Float64,
    CiLow Nullable(Float64),
    CiHigh Nullable(Float64),
    EvaluatedAt DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(EvaluatedAt)
ORDER BY (ModelName, ModelVersion, Window, Metric, Segment, WindowStart)
SETTINGS non_replicated_deduplication_window = 1000
