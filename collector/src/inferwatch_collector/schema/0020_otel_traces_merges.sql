-- otel_traces merges wider groups of parts too (docs/storage.md, "Parts and merges"), as
-- ml_predictions does since 0017. With single-prediction spans its merges grew to about 12 µs
-- of CPU per span by the third 1,000-request round (bench/ingest.py end to end, per-thread
-- CPU), a third of the service's; with a base of 20, 7.4 µs, and that round's rate 51,700-52,300
-- spans/s against 47,500-48,800. 0017 left this table at the default because the base pushed
-- the collector past 1 GiB under overload with batch spans; since batch spans are decoded whole
-- in Compact flush parts (decode_batch_spans: auto, 0019), that overload peaks at 744-759 MiB.
-- Parameters bound server-side by the migration runner: {database}.
ALTER TABLE {database:Identifier}.otel_traces MODIFY SETTING merge_selector_base = 20;
