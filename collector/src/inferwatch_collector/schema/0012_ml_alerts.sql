-- Alert history: one row per change of state of one (rule, model, version, segment) series
-- (see alert/states.py). The newest row of a series is its current state, read back at the
-- start of every pass, so a restarted evaluator continues where it stopped. No TTL: the state
-- of a long-firing alert must outlive the retention of the data, and the table stays small.
-- Parameters bound server-side by the migration runner: {database}.
CREATE TABLE IF NOT EXISTS {database:Identifier}.ml_alerts
(
    TransitionId String,
    TransitionAt DateTime64(3, 'UTC'),
    RuleName LowCardinality(String),
    ModelName LowCardinality(String),
    ModelVersion LowCardinality(String),
    Segment String,
    Metric LowCardinality(String),
    Window LowCardinality(String),
    PreviousState LowCardinality(String),
    State LowCardinality(String),
    FiringSince Nullable(DateTime64(3, 'UTC')),
    WindowStart Nullable(DateTime64(3, 'UTC')),
    WindowEnd Nullable(DateTime64(3, 'UTC')),
    Value Float64,
    Threshold Float64,
    CiLow Nullable(Float64),
    CiHigh Nullable(Float64),
    Support UInt64,
    LabelCoverage Float64,
    Severity LowCardinality(String),
    Labels Map(String, String),
    Annotation String,
    GeneratorUrl String
)
ENGINE = MergeTree
ORDER BY (RuleName, ModelName, ModelVersion, Segment, TransitionAt)
SETTINGS non_replicated_deduplication_window = 1000;
