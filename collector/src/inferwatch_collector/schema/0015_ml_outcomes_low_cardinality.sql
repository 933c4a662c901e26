-- ml_outcomes, read on every evaluation pass (see docs/storage.md, "Evaluation"):
-- - the class labels become LowCardinality: a pass groups outcomes by (actual, predicted)
--   label, and grouping by dictionary keys instead of strings takes about a fifth off the
--   full pass's outcome scan at 10 M rows (bench/evaluate.py). Class labels are few by nature.
--   Rows stored before are rewritten once (a mutation of the two columns).
-- - UpdatedAt (the pass that folded the row) gets a minmax index: a pass looks up the windows
--   whose outcomes changed since the previous pass, and the index skips what was written before.
-- - A day none of whose parts changed for an hour is merged into one part: readers use FINAL,
--   which merges overlapping parts on every read, and ClickHouse leaves a few parts per day
--   unmerged on its own.
-- Parameters bound server-side by the migration runner: {database}.
ALTER TABLE {database:Identifier}.ml_outcomes
    MODIFY COLUMN PredictedLabel LowCardinality(String) CODEC(ZSTD(1)),
    MODIFY COLUMN ActualLabel LowCardinality(String) CODEC(ZSTD(1))
SETTINGS mutations_sync = 2;
ALTER TABLE {database:Identifier}.ml_outcomes
    ADD INDEX IF NOT EXISTS idx_updated_at UpdatedAt TYPE minmax GRANULARITY 1;
ALTER TABLE {database:Identifier}.ml_outcomes MATERIALIZE INDEX idx_updated_at
SETTINGS mutations_sync = 2;
ALTER TABLE {database:Identifier}.ml_outcomes
    MODIFY SETTING min_age_to_force_merge_seconds = 3600,
                   min_age_to_force_merge_on_partition_only = 1;
