"""The SQL of one evaluation pass: a small, fixed number of queries over all models.

A pass first folds what arrived since the previous pass into ``ml_outcomes`` (one row per
labelled prediction, its latest label joined in), then reads per (model, version, segment,
window) the sufficient statistics of the windows that changed: prediction-side statistics
from ``ml_predictions`` and confusion cells from ``ml_outcomes``. No query joins the whole
history; ``docs/storage.md`` ("Evaluation") explains why and what it costs.

Parameters are bound server-side. Windows are tumbling and aligned to the Unix epoch
(``{w:UInt32}`` seconds). Segments: each row counts in the all-traffic series ``""`` and once
per ``ml.segment.<key>`` it carries, as ``key=value`` when ``(model, key, value)`` is in
``{top:Array(Tuple(String, String, String))}`` (the key's top-k values by volume), else as
``key=other``. Unless ``{every:UInt8}`` is 1, a query reads only the windows to read (see
``_IN_WINDOWS``). Statements are shaped by ``bench/evaluate.py``, which prints their times.
"""

from __future__ import annotations

NOW = "SELECT now64(6)"

READ_WATERMARK = """
SELECT Watermark FROM ml_evaluator_state FINAL WHERE Name = {name:String}
"""

WRITE_WATERMARK = """
INSERT INTO ml_evaluator_state (Name, Watermark)
SELECT {name:String}, {watermark:DateTime64(6, 'UTC')}
"""

# What arrived in (since, until]: the labels — how many, whether all their ids are UUIDv7
# (UUIDv7ToDateTime gives 0 for any other id), and the hours those ids name, ±5 minutes, in
# Unix seconds — and the predictions: how many, and their id range.
ARRIVALS = """
WITH
    (SELECT (count(), min(t > 0),
             arrayDistinct(arrayConcat(groupUniqArray(toUInt32(intDiv(t - 300, 3600) * 3600)),
                                       groupUniqArray(toUInt32(intDiv(t + 300, 3600) * 3600)))))
     FROM (SELECT toUnixTimestamp(UUIDv7ToDateTime(toUUIDOrZero(PredictionId), 'UTC')) AS t
           FROM ml_labels
           WHERE InsertedAt > {since:DateTime64(6, 'UTC')}
             AND InsertedAt <= {until:DateTime64(6, 'UTC')})) AS labels,
    (SELECT (count(), min(PredictionId), max(PredictionId))
     FROM ml_predictions
     WHERE Timestamp >= {lo:DateTime64(9)} AND Timestamp < {hi:DateTime64(9)}
       AND InsertedAt > {since:DateTime64(6, 'UTC')}
       AND InsertedAt <= {until:DateTime64(6, 'UTC')}) AS predictions
SELECT labels.1, labels.2, labels.3, predictions.1, predictions.2, predictions.3
"""

# The predictions whose outcome may have changed, each with its latest label. ml_outcomes is a
# ReplacingMergeTree on the label time, so a pass need not look at the labels stored before:
# an older label already folded loses to a newer one inserted now, and vice versa. Two arms,
# each left out when nothing arrived for it:
# - labels that arrived in (since, until], joined to their predictions; {hours} narrows that
#   search to the hours their UUIDv7 ids name ({any_hour} = 1 turns it off: business-key ids
#   say nothing about time);
# - predictions that arrived in (since, until], joined to labels stored before them (a
#   prediction may arrive after its label). The new predictions' id range [{first_id},
#   {last_id}] bounds that search: ml_labels is sorted by id, and UUIDv7 ids sort by time.
#   When the range's ends are not both UUIDv7 it may be wide ({any_id} = 1): the labels are
#   then also looked up in the set of new ids.
# A prediction's latest label is the one with the greatest label time, then arrival: LIMIT 1 BY
# over rows read in key order costs a fraction of argMax over (Timestamp, InsertedAt) tuples.
# A prediction both arms find gets two rows; the greater label time wins. (Only two labels
# of one prediction with the same time, stored before and after it, are left to merge order.)
# Readers use FINAL anyway, so the insert skips replacing within its own block.
_FOLD = """
INSERT INTO ml_outcomes
    (Timestamp, ModelName, ModelVersion, PredictionId, PredictedLabel, PredictedValue, Segments,
     ActualLabel, ActualValue, LabelTimestamp, UpdatedAt)
WITH new_predictions AS (
    SELECT Timestamp, ModelName, ModelVersion, PredictionId, PredictedLabel, PredictedValue,
           Segments
    FROM ml_predictions
    WHERE Timestamp >= {lo:DateTime64(9)} AND Timestamp < {hi:DateTime64(9)}
      AND InsertedAt > {since:DateTime64(6, 'UTC')} AND InsertedAt <= {until:DateTime64(6, 'UTC')}
)
SELECT Timestamp, ModelName, ModelVersion, PredictionId, PredictedLabel, PredictedValue,
       Segments, actual_label, actual_value, latest, {until:DateTime64(6, 'UTC')}
FROM (%s)
SETTINGS optimize_on_insert = 0
"""
_ARM = """
    SELECT p.*, l.actual_label, l.actual_value, l.latest
    FROM %s AS p
    INNER JOIN (
        SELECT ModelName, PredictionId, ActualLabel AS actual_label, ActualValue AS actual_value,
               Timestamp AS latest
        FROM ml_labels
        WHERE %s
        ORDER BY ModelName, PredictionId, Timestamp DESC, InsertedAt DESC
        LIMIT 1 BY ModelName, PredictionId
    ) AS l ON l.ModelName = p.ModelName AND l.PredictionId = p.PredictionId
"""
_NEW_LABELS = _ARM % (
    """(
        SELECT Timestamp, ModelName, ModelVersion, PredictionId, PredictedLabel, PredictedValue,
               Segments
        FROM ml_predictions
        WHERE Timestamp >= {lo:DateTime64(9)} AND Timestamp < {hi:DateTime64(9)}
          AND ({any_hour:UInt8} = 1
               OR toUnixTimestamp(toStartOfHour(Timestamp)) IN {hours:Array(UInt32)})
    )""",
    """InsertedAt > {since:DateTime64(6, 'UTC')} AND InsertedAt <= {until:DateTime64(6, 'UTC')}""",
)
_NEW_PREDICTIONS = _ARM % (
    "new_predictions",
    """InsertedAt <= {since:DateTime64(6, 'UTC')}
          AND PredictionId >= {first_id:String} AND PredictionId <= {last_id:String}
          AND ({any_id:UInt8} = 0
               OR (ModelName, PredictionId) IN (SELECT ModelName, PredictionId
                                                FROM new_predictions))""",
)
FOLD_NEW_LABELS = _FOLD % _NEW_LABELS
"""The fold when only labels arrived."""
FOLD_NEW_PREDICTIONS = _FOLD % _NEW_PREDICTIONS
"""The fold when only predictions arrived."""
FOLD_NEW_BOTH = _FOLD % (_NEW_LABELS + "    UNION ALL" + _NEW_PREDICTIONS)
"""The fold when labels and predictions arrived."""

# One part per day of ml_outcomes (days already in one part are left alone).
COMPACT_OUTCOMES = "OPTIMIZE TABLE ml_outcomes FINAL SETTINGS optimize_skip_merged_partitions = 1"

_WINDOW = "intDiv(toUnixTimestamp(Timestamp), {w:UInt32}) * {w:UInt32}"

# The (model, window start) of every window with a new prediction (kind 1: its prediction
# statistics changed) or a changed outcome (kind 2: its confusion cells changed). Outcomes
# folded at one of the times {folded} were read by the pass that folded them already.
CHANGED_WINDOWS = f"""
SELECT DISTINCT ModelName, {_WINDOW} AS window, toUInt8(1) AS kind
FROM ml_predictions
WHERE Timestamp >= {{lo:DateTime64(9)}} AND Timestamp < {{hi:DateTime64(9)}}
  AND InsertedAt > {{since:DateTime64(6, 'UTC')}} AND InsertedAt <= {{until:DateTime64(6, 'UTC')}}
UNION ALL
SELECT DISTINCT ModelName, {_WINDOW} AS window, toUInt8(2) AS kind
FROM ml_outcomes
WHERE Timestamp >= {{lo:DateTime64(9)}} AND Timestamp < {{hi:DateTime64(9)}}
  AND UpdatedAt > {{since:DateTime64(6, 'UTC')}} AND UpdatedAt <= {{until:DateTime64(6, 'UTC')}}
  AND UpdatedAt NOT IN {{folded:Array(DateTime64(6, 'UTC'))}}
"""

# The predictions per (model, window), or per (model, hour) — the primary key's prefix, so the
# rows are counted in the order they are stored, at a third of the cost (bench/evaluate.py):
# a process starting from stored window statistics reads again every window whose count
# differs from the stored one (or that nothing stored).
WINDOW_COUNTS = f"""
SELECT ModelName, {_WINDOW} AS window, count() AS predictions
FROM ml_predictions
WHERE Timestamp >= {{lo:DateTime64(9)}} AND Timestamp < {{hi:DateTime64(9)}}
GROUP BY ModelName, window
"""
HOUR_COUNTS = """
SELECT ModelName, toUnixTimestamp(toStartOfHour(Timestamp)) AS hour, count() AS predictions
FROM ml_predictions
WHERE Timestamp >= {lo:DateTime64(9)} AND Timestamp < {hi:DateTime64(9)}
GROUP BY ModelName, toStartOfHour(Timestamp)
SETTINGS optimize_aggregation_in_order = 1
"""

TOP_SEGMENT_VALUES = """
SELECT ModelName, kv.1 AS key, topK({k:UInt32})(kv.2) AS top
FROM ml_predictions
ARRAY JOIN arrayZip(mapKeys(Segments), mapValues(Segments)) AS kv
WHERE Timestamp >= {lo:DateTime64(9)} AND Timestamp < {hi:DateTime64(9)}
GROUP BY ModelName, key
"""

# The rows a pass reads: the range [lo, hi), and unless {every} only the models {models}; when
# the windows to read are not all of those models' windows in the range, {exact} = 1 adds the
# test of each (model, window) in {changed}. Their (model, hour) pairs {hours} come first: they
# are the primary key's prefix, so the index skips the other hours before the exact test runs.
_IN_WINDOWS = f"""Timestamp >= {{lo:DateTime64(9)}} AND Timestamp < {{hi:DateTime64(9)}}
      AND ({{every:UInt8}} = 1 OR ModelName IN {{models:Array(String)}})
      AND ({{exact:UInt8}} = 0
           OR ((ModelName, toUnixTimestamp(toStartOfHour(Timestamp)))
                   IN {{hours:Array(Tuple(String, UInt32))}}
               AND (ModelName, {_WINDOW}) IN {{changed:Array(Tuple(String, UInt32))}}))"""

# A segment series' name: key=value for the top values ({top}: model, key, value), else
# key=other.
_SEGMENT = (
    "concat(k, '=', if((model, k, v) IN {top:Array(Tuple(String, String, String))}, v, 'other'))"
)


def _prediction_series(
    columns: tuple[str, ...],
    aggregates: str,
    *,
    keys: str = "",
    where: str = "",
    window: str = _WINDOW,
) -> str:
    """Aggregates of ``ml_predictions`` per series: each row counts in the all-traffic series
    and once per segment key it carries (a second arm reads only rows that have segments).

    ``columns`` are ``expression AS name``; ``keys`` extends the GROUP BY (``, label``).
    """
    names = ", ".join(column.rsplit(" AS ", 1)[-1] for column in columns)
    return f"""
WITH rows AS (
    SELECT ModelName AS model, ModelVersion AS version, {window} AS window,
           {", ".join(columns)}, Segments
    FROM ml_predictions
    WHERE {_IN_WINDOWS}{where}
)
SELECT model, version, segment, window{keys}, {aggregates}
FROM (
    SELECT model, version, window, {names}, '' AS segment FROM rows
    UNION ALL
    SELECT model, version, window, {names}, {_SEGMENT} AS segment
    FROM rows
    ARRAY JOIN mapKeys(Segments) AS k, mapValues(Segments) AS v
    WHERE notEmpty(Segments)
)
GROUP BY model, version, segment, window{keys}
"""


# Drift bins, {slots} = 2 * {bins} of them per row: a score counts in floor(score * bins), the
# last bin closed; a regression value (no score) of a model with value bin edges ({edges} of
# {edge_models}: chosen from the reference, ``window_stats.value_edges``) counts in bins + the
# number of edges <= value. Any other row counts under its predicted label instead
# (PREDICTION_LABELS), so its bin ({slots}) is out of range.
_EDGE_INDEX = "indexOf({edge_models:Array(String)}, ModelName)"
_HAS_VALUE_BIN = f"PredictedValue IS NOT NULL AND {_EDGE_INDEX} > 0"
# An index into an array, not a map: on bench/evaluate.py's scored rows (3 M), PREDICTION_STATS
# took 0.15 s without value bins, 0.18 s with a constant map's lookup, 0.16 s with this.
_DRIFT_BIN = (
    "multiIf(Score IS NOT NULL, "
    "least(toUInt32(floor(greatest(assumeNotNull(Score), 0) * {bins:UInt32})), {bins:UInt32} - 1), "
    f"{_HAS_VALUE_BIN}, "
    "toUInt32({bins:UInt32} + arrayCount(e -> e <= assumeNotNull(PredictedValue), "
    f"arrayElement({{edges:Array(Array(Float64))}}, {_EDGE_INDEX}))), "
    "{slots:UInt32}) AS bin"
)
_DRIFT_BINS = "countResample(0, {slots:UInt32}, 1)(bin) AS drift_bins"
_UNBINNED = f"\n      AND Score IS NULL AND NOT ({_HAS_VALUE_BIN})"

# Latency quantiles are exact (quantilesExact): one selection per window, cheap next to the scan.
PREDICTION_STATS = _prediction_series(
    ("Task AS task", "LatencyMs AS latency_ms", "StatusCode AS status", _DRIFT_BIN),
    "any(task) AS task, count() AS predictions, countIf(status = 'error') AS errors, "
    f"quantilesExact(0.5, 0.95, 0.99)(latency_ms) AS latency, {_DRIFT_BINS}",
)

# Predictions without a drift bin, counted per predicted label (their drift histogram).
PREDICTION_LABELS = _prediction_series(
    ("PredictedLabel AS label",), "count() AS n", keys=", label", where=_UNBINNED
)

# The drift reference: the same histograms over [lo, hi) as one window (0).
REFERENCE_BINS = _prediction_series(
    (_DRIFT_BIN,), f"count() AS predictions, {_DRIFT_BINS}", window="toUInt32(0)"
)
REFERENCE_LABELS = _prediction_series(
    ("PredictedLabel AS label",),
    "count() AS n",
    keys=", label",
    where=_UNBINNED,
    window="toUInt32(0)",
)

# The regression values of the reference, per model ({models}): the values at ranks
# ceil(i * n / bins), i = 1 … bins - 1 (exact quantiles: the same data gives the same edges).
REFERENCE_VALUE_QUANTILES = f"""
SELECT ModelName,
       arrayMap(i -> sorted[toUInt64(greatest(1, ceil(i * length(sorted) / {{bins:UInt32}})))],
                range(1, {{bins:UInt32}})) AS quantiles
FROM (
    SELECT ModelName, arraySort(groupArray(assumeNotNull(PredictedValue))) AS sorted
    FROM ml_predictions
    WHERE {_IN_WINDOWS}
      AND Score IS NULL AND PredictedValue IS NOT NULL AND isFinite(assumeNotNull(PredictedValue))
    GROUP BY ModelName
)
"""

# Cells of the confusion matrix, and the sums regression metrics need (sklearn's MAPE divides
# by max(|y|, machine epsilon)). Regression rows have no labels: all of a series' rows fall in
# the one cell ('', ''), so the sums (and varPop) there are the series'. ml_outcomes is read
# once (FINAL): rows are first aggregated per distinct segment map, then each group counts in
# the all-traffic series and in one series per segment key.
OUTCOME_STATS = f"""
SELECT model, version, segment, window, actual, predicted,
       sum(cell_n) AS n, sum(cell_reg_n) AS reg_n, sum(cell_sae) AS sae, sum(cell_sse) AS sse,
       varPopIfMerge(cell_var_y) AS var_y, sum(cell_sape) AS sape
FROM (
    SELECT model, version, window, actual, predicted, Segments,
           count() AS cell_n,
           countIf(is_reg) AS cell_reg_n,
           sumIf(abs(e), is_reg) AS cell_sae,
           sumIf(e * e, is_reg) AS cell_sse,
           varPopIfState(y, is_reg) AS cell_var_y,
           sumIf(abs(e) / greatest(abs(y), 2.220446049250313e-16), is_reg) AS cell_sape
    FROM (
        SELECT ModelName AS model, ModelVersion AS version, {_WINDOW} AS window,
               ActualLabel AS actual, PredictedLabel AS predicted, Segments,
               ActualValue IS NOT NULL AND PredictedValue IS NOT NULL AS is_reg,
               assumeNotNull(ActualValue) AS y, y - assumeNotNull(PredictedValue) AS e
        FROM ml_outcomes FINAL
        WHERE {_IN_WINDOWS}
    )
    GROUP BY model, version, window, actual, predicted, Segments
)
ARRAY JOIN arrayConcat([''], arrayMap((k, v) -> {_SEGMENT}, mapKeys(Segments), mapValues(Segments)))
    AS segment
GROUP BY model, version, segment, window, actual, predicted
SETTINGS do_not_merge_across_partitions_select_final = 1
"""
