-- ml_predictions' maps (Segments, Features, Attributes) get plain String keys instead of
-- LowCardinality(String) ones. Their rows hold a few keys each, the same few in every row, so
-- compression sees them as well either way; but merging parts of these maps cost ClickHouse
-- about 2 µs more per row with LowCardinality keys (4.1 against 1.9 µs per row merging six
-- 40,000-row flush parts, 6.1 against 3.2 merging those into a larger part), half of what this
-- table's merges cost during ingest (docs/performance.md, "Eighth round"). The otel_* tables
-- keep the OpenTelemetry Collector exporter's types (their merges are not slower for it).
-- Rows stored before are rewritten once, in the background (a mutation of the three columns);
-- reads meanwhile see the same values.
-- Parameters bound server-side by the migration runner: {database}.
ALTER TABLE {database:Identifier}.ml_predictions
    MODIFY COLUMN Segments Map(String, String) CODEC(ZSTD(1)),
    MODIFY COLUMN Features Map(String, String) CODEC(ZSTD(1)),
    MODIFY COLUMN Attributes Map(String, String) CODEC(ZSTD(1));
