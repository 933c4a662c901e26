-- The parts a flush writes into the two ingest tables are Compact (every column in one file)
-- up to 256 MiB of uncompressed data, instead of 10 MiB (docs/storage.md, "Parts and merges").
-- A Wide part holds two files per column and subcolumn: 130 for an otel_traces part, 92 for
-- an ml_predictions part. Creating and deleting those files (each flush, each merge) was
-- 3–4 µs of kernel time per prediction with batch spans (bench/ingest.py end to end, the
-- service's system CPU), mostly ext4 finding free inodes; Compact flush parts take 1–1.5.
-- Parts merged past 256 MiB are Wide again, so large scans still read only their columns.
-- Parameters bound server-side by the migration runner: {database}.
ALTER TABLE {database:Identifier}.otel_traces MODIFY SETTING min_bytes_for_wide_part = 268435456;
ALTER TABLE {database:Identifier}.ml_predictions
    MODIFY SETTING min_bytes_for_wide_part = 268435456;
