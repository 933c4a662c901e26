-- Compact parts for what a flush writes, Wide parts for what merges make of them
-- (docs/storage.md, "Parts and merges"). Migration 0018 made every part Compact up to 256 MiB;
-- since batch spans are decoded whole by chDB (decode_batch_spans: auto), in 32 MiB flushes,
-- that no longer paid with batch spans, and merging Compact otel_traces parts cost single
-- spans more than it saved (bench/ingest.py end to end, 3-round A/B: 50,920 spans/s against
-- 54,451 with Wide parts, 57,046 with these settings).
-- A part is Compact when it has fewer bytes than min_bytes_for_wide_part OR fewer rows than
-- min_rows_for_wide_part: the byte bound is ClickHouse's default again (10 MiB), and the row
-- bounds sit above one flush (up to about 85,000 spans, or 170,000 predictions, per 32 MiB
-- flush) and below most merges.
-- Parameters bound server-side by the migration runner: {database}.
ALTER TABLE {database:Identifier}.otel_traces
    MODIFY SETTING min_bytes_for_wide_part = 10485760, min_rows_for_wide_part = 100000;
ALTER TABLE {database:Identifier}.ml_predictions
    MODIFY SETTING min_bytes_for_wide_part = 10485760, min_rows_for_wide_part = 1000000;
