-- How the two ingest tables merge their parts (docs/storage.md, "Parts and merges"):
-- - ml_predictions takes a row per prediction, and under a steady ingest merging its parts was
--   about a sixth of the store's CPU (bench/ingest.py end to end, per-thread CPU: the
--   MergeMutate threads 4.1 µs per prediction of 14.7 with batch spans). Each row is rewritten
--   about log_base(rows per day / rows per part) times; a base of 20 instead of 5 merges wider
--   groups of parts, so fewer times, for more parts left per day at a time.
-- - otel_traces rows of batch spans carry about 100 KB of array JSON each, and its parts hold
--   few rows, so ClickHouse merged them horizontally (every column at once, below 131,072
--   rows), 160–270 MiB per merge; vertical merges (column by column) take less, which keeps
--   the collector's memory under 1 GiB under overload with batch spans.
-- Parameters bound server-side by the migration runner: {database}.
ALTER TABLE {database:Identifier}.ml_predictions MODIFY SETTING merge_selector_base = 20;
ALTER TABLE {database:Identifier}.otel_traces
    MODIFY SETTING vertical_merge_algorithm_min_rows_to_activate = 1;
