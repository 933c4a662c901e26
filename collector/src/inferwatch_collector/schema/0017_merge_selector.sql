-- otel_traces and ml_predictions take a row per span and per prediction, and under a steady
-- ingest merging their parts was about a sixth of the store's CPU (bench/ingest.py end to end,
-- per-thread CPU: the MergeMutate threads 4.1 µs per prediction of 14.7 with batch spans, 4.7
-- per span of 26.3 with single spans). Each row is rewritten about log_base(rows / part) times
-- by the merges that follow its insert; a base of 20 instead of 5 merges wider groups of parts,
-- so fewer times: ml_predictions' merge CPU halved in one process (30 flushes of 55,000
-- predictions), for more parts left per day (14 there instead of 1), which queries read
-- side by side (docs/storage.md, "Parts and merges").
-- Parameters bound server-side by the migration runner: {database}.
ALTER TABLE {database:Identifier}.ml_predictions MODIFY SETTING merge_selector_base = 20;
ALTER TABLE {database:Identifier}.otel_traces MODIFY SETTING merge_selector_base = 20;
