"""``inferwatch report``: each format against a seeded store, bad flags, and beside ``serve``.

The store is seeded once for the module by ``report_seed.py`` (real evaluator and alert
engine); the command runs as a subprocess, as a user runs it. Expected figures come from the
seeded data (predictions, labels, the windows where quality drops, the alert transitions) or
from ``ml_evaluations`` read directly, never from the command's own code.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from report_seed import HOUR, SeededData, seed_data_dir, serve_seeded
from service_process import INFERWATCH, clean_environ, open_store

from inferwatch_collector.report.run import json_value
from inferwatch_collector.report.static_anomalies import find_anomalies
from inferwatch_collector.report.static_html import read_asset, script_text
from inferwatch_collector.store import default_dsn

STORED = """
SELECT ModelVersion, WindowStart, Metric, Value, CiLow, CiHigh, Support
FROM ml_evaluations FINAL
WHERE ModelName = {model:String} AND Segment = {segment:String} AND Window = '1h'
  AND WindowStart >= {start:DateTime64(3, 'UTC')} AND WindowStart < {end:DateTime64(3, 'UTC')}
  AND NOT startsWith(Metric, 'confusion:')
"""
CSV_HEADER = (
    "model,version,segment,window,window_start,metric,value,ci_low,ci_high,support"
).split(",")


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> SeededData:
    return seed_data_dir(tmp_path_factory.mktemp("report") / "data")


def stored(
    data: SeededData, segment: str = "", start: datetime | None = None, end: datetime | None = None
) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    """``(version, window_start, metric) → (value, ci_low, ci_high, support)`` as stored."""
    assert data.data_dir is not None
    bounds = {"start": start or data.start, "end": end or data.end}
    parameters = {"model": data.classifier, "segment": segment, **bounds}
    with open_store(data.data_dir) as client:
        rows = client.query(STORED, parameters=parameters).result_rows
    return {
        (version, json_value(window_start), metric): tuple(json_value(v) for v in values)
        for version, window_start, metric, *values in rows
    }


def report(
    data: SeededData, *flags: str, model: str | None = None
) -> subprocess.CompletedProcess[str]:
    assert data.data_dir is not None and data.config_path is not None
    command = [str(INFERWATCH), "report", "--model", model or data.classifier, *flags,
               "--data-dir", str(data.data_dir), "--config", str(data.config_path)]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, env=clean_environ(), timeout=180)


def period(data: SeededData) -> tuple[str, ...]:
    return ("--from", iso(data.start), "--to", iso(data.end))


def report_json(data: SeededData, *flags: str) -> dict[str, Any]:
    result = report(data, "--format", "json", *flags)
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def test_json_numbers_are_the_stored_evaluations_and_the_summary_is_the_seeded_data(
    seeded: SeededData,
) -> None:
    answer = report_json(seeded, *period(seeded))
    got = {
        (e["version"], e["window_start"], e["metric"]): (
            e["value"], e["ci_low"], e["ci_high"], e["support"]
        )
        for e in answer["evaluations"]
    }  # fmt: skip
    assert got == stored(seeded)
    assert len(got) == len(answer["evaluations"])  # no row twice

    summary = answer["summary"]
    chosen = seeded.select(seeded.classifier)
    assert summary["windows"] == len(seeded.window_starts) == 48
    assert summary["predictions"] == len(chosen)
    assert summary["labels"] == sum(p.labelled for p in chosen)
    assert summary["label_coverage"] == pytest.approx(summary["labels"] / len(chosen))
    assert summary["alerts_fired"] == sum(t.state == "firing" for t in seeded.transitions) == 2
    assert summary["alert_transitions"] == len(seeded.transitions)
    assert summary["firing_at_end"] == [seeded.rule]
    f1 = {(h["metric"], h["version"]): h for h in summary["headline"]}[("f1", "2")]
    assert f1["latest_window"] == iso(seeded.window_starts[-1])
    assert f1["worst_window"] in {iso(t) for t in seeded.drop_windows}

    breaches = {(a["window_start"], a["version"], a["metric"]) for a in answer["anomalies"]
                if a["kind"] == "breach"}  # fmt: skip
    assert breaches == {(iso(t), seeded.firing_version, "f1") for t in seeded.drop_windows}
    assert summary["breaches"] == len(breaches)
    assert answer["source"] == "store"
    assert set(answer["reports"]) >= {"model_quality", "model_volume", "model_alerts"}
    assert answer["rules"][0]["name"] == seeded.rule


def test_csv_rows_are_the_evaluations_of_the_range(seeded: SeededData, tmp_path: Path) -> None:
    start, end = seeded.start + 10 * HOUR, seeded.start + 20 * HOUR
    out = tmp_path / "fraud.csv"
    result = report(seeded, "--from", iso(start), "--to", iso(end), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}" in result.stderr and result.stdout == ""
    lines = list(csv.reader(io.StringIO(out.read_text())))
    assert lines[0] == CSV_HEADER
    rows = [dict(zip(CSV_HEADER, line, strict=True)) for line in lines[1:]]
    expected = stored(seeded, start=start, end=end)
    assert len(rows) == len(expected)
    for row in rows:
        assert (row["model"], row["segment"], row["window"]) == (seeded.classifier, "", "1h")
        value, low, high, support = expected[(row["version"], row["window_start"], row["metric"])]
        assert row["value"] == ("" if value is None else repr(value))
        assert row["ci_low"] == ("" if low is None else repr(low))
        assert row["ci_high"] == ("" if high is None else repr(high))
        assert int(row["support"]) == support
    assert {row["window_start"] for row in rows} == {iso(start + i * HOUR) for i in range(10)}


def test_version_and_segment_narrow_the_report(seeded: SeededData) -> None:
    segment, version = f"{seeded.segment_key}=eu", seeded.firing_version
    result = report(seeded, *period(seeded), "--format", "csv", "--version", version,
                    "--segment", segment)  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows and {(r["version"], r["segment"]) for r in rows} == {(version, segment)}
    counts = sum(float(r["value"]) for r in rows if r["metric"] == "prediction_count")
    assert counts == len(seeded.select(seeded.classifier, version, segment))
    expected = {k: v for k, v in stored(seeded, segment=segment).items() if k[0] == version}
    assert len(rows) == len(expected)


def test_markdown_has_the_summary_the_anomalies_and_the_alerts(seeded: SeededData) -> None:
    result = report(seeded, *period(seeded), "--format", "md", "-o", "-")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith(f"# inferwatch report: {seeded.classifier}\n")
    summary = text[text.index("## Summary") : text.index("## Anomalies")]
    assert f"- **Predictions:** {len(seeded.select(seeded.classifier))}\n" in summary
    assert "- **Alerts fired:** 2 (5 transitions)" in summary
    assert f"- **Firing at the end:** {seeded.rule}" in summary
    alerts = text[text.index("## Alerts") : text.index("## Metrics per window")]
    firing = [line for line in alerts.splitlines() if f"| {seeded.rule} |" in line]
    assert len(firing) == len(seeded.transitions)
    assert sum("| firing |" in line for line in firing) == 2
    anomalies = text[text.index("## Anomalies") : text.index("## Alerts")]
    assert anomalies.count("| breach |") == len(seeded.drop_windows)
    for version in seeded.versions:
        assert f"### Version {version}\n" in text
    table = text[text.index(f"### Version {seeded.firing_version}") :]
    assert sum(line.startswith("| 20") for line in table.splitlines()) == 48


def test_html_is_one_self_contained_file_with_the_chart_code_and_data(
    seeded: SeededData, tmp_path: Path
) -> None:
    out = tmp_path / "fraud.html"
    result = report(seeded, *period(seeded), "-o", str(out))
    assert result.returncode == 0, result.stderr
    html = out.read_text()
    charts_js = read_asset("charts.js")
    assert charts_js and script_text(charts_js) in html
    assert "InferwatchCharts.render(" in html
    block = re.search(
        r'<script type="application/json" id="inferwatch-report-data">(.*?)</script>', html, re.S
    )
    assert block is not None
    data = json.loads(block[1])
    quality = data["charts"]["model_quality"]
    assert quality["report"]["rows"] and {t["metric"] for t in quality["thresholds"]} == {"f1"}
    markers = quality["markers"]
    assert [m["state"] for m in markers].count("firing") == 2
    assert {m["time"] for m in markers} == {
        iso(t.at - HOUR) for t in seeded.transitions
    }  # each marker at the window whose pass made the transition
    assert data["charts"]["model_volume"]["markers"] == []  # a bar chart: no markers
    assert_nothing_remote(html)
    assert "<h2>Summary</h2>" in html and seeded.rule in html


def assert_nothing_remote(html: str) -> None:
    """No attribute, CSS or script loads anything: the only URLs are XML namespace names."""
    namespaces = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xhtml",
                  "http://www.w3.org/1999/xlink"}  # fmt: skip
    urls = set(re.findall(r"https?://[^\s\"'<>)]*", html))
    assert urls <= namespaces, urls - namespaces
    assert not re.search(r"\b(src|href|srcset|action)\s*=\s*[\"']?(?!#)[^\s\"'>]", html, re.I)
    assert not re.search(r"@import|(?<![\w.])url\(\s*[\"']?(?!#|data:)", html, re.I)
    assert "<link" not in html.lower() and "<iframe" not in html.lower()
    assert not re.search(r"\bfetch\s*\(|XMLHttpRequest|WebSocket|EventSource|sendBeacon", html)


def test_dsn_names_the_store_and_markdown_on_stdout_is_the_default(
    seeded: SeededData, tmp_path: Path
) -> None:
    assert seeded.data_dir is not None
    elsewhere = str(tmp_path / "empty")  # no store there: the data can only come from --dsn
    flags = ("--dsn", default_dsn(seeded.data_dir), "--data-dir", elsewhere)
    command = [str(INFERWATCH), "report", "--model", seeded.classifier, *period(seeded), *flags]
    result = subprocess.run(command, capture_output=True, text=True, env=clean_environ())
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"# inferwatch report: {seeded.classifier}\n")
    assert f"- **Predictions:** {len(seeded.select(seeded.classifier))}\n" in result.stdout


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (("--from", "yesterday"), "--from"),
        (("--to", "2026-13-45"), "--to"),
        (("--from", "now-1d", "--to", "now-2d"), "--from"),
        (("--window", "hourly"), "--window"),
        (("--format", "pdf"), "--format"),
        (("-o", "/no/such/folder/report.md"), "-o"),
    ],
)
def test_bad_flags_exit_2_naming_the_flag(
    seeded: SeededData, flags: tuple[str, ...], named: str
) -> None:
    result = report(seeded, *flags)
    assert result.returncode == 2, result.stderr
    assert named in result.stderr and result.stdout == ""


def test_no_data_exits_1_saying_so(seeded: SeededData, tmp_path: Path) -> None:
    unknown = report(seeded, *period(seeded), model="no-such-model")
    assert unknown.returncode == 1
    assert "no evaluations of model 'no-such-model'" in unknown.stderr
    empty = report(seeded, "--from", iso(seeded.start - 10 * HOUR), "--to", iso(seeded.start))
    assert empty.returncode == 1 and f"model '{seeded.classifier}'" in empty.stderr
    nowhere = tmp_path / "no-store"
    command = [str(INFERWATCH), "report", "--model", "fraud", "--data-dir", str(nowhere)]
    missing = subprocess.run(command, capture_output=True, text=True, env=clean_environ())
    assert missing.returncode == 1 and "no store in --data-dir" in missing.stderr
    assert not nowhere.exists()  # a report never creates a store


def test_beside_a_running_service_the_report_reads_through_it(seeded: SeededData) -> None:
    flags = (*period(seeded), "--format", "json")
    with serve_seeded(seeded):
        through = report_json(seeded, *flags)
        assert report(seeded, *period(seeded), model="no-such-model").returncode == 1
    direct = report_json(seeded, *flags)
    assert (through["source"], direct["source"]) == ("service", "store")
    assert comparable(through) == comparable(direct)
    assert len(through["evaluations"]) == len(stored(seeded))


def comparable(answer: dict[str, Any]) -> dict[str, Any]:
    """The report without what differs between two runs (when, how long, read from where)."""
    rest = {k: v for k, v in answer.items() if k not in ("generated_at", "source", "reports")}
    rest["reports"] = {
        name: {k: v for k, v in result.items() if k != "elapsed_ms"}
        for name, result in answer["reports"].items()
    }
    return rest


def test_outliers_are_values_well_outside_their_neighbours_range() -> None:
    start = datetime(2026, 11, 27, tzinfo=timezone.utc)
    values = [0.90, 0.91, 0.92, 0.90, 0.60, 0.91, 0.90, 0.92, 0.93]
    rows = [
        {"version": "1", "metric": "f1", "window_start": iso(start + timedelta(hours=i)),
         "value": value}
        for i, value in enumerate(values)
    ]  # fmt: skip
    rows.append({**rows[0], "metric": "f1:cat", "value": 0.1})  # per-class: not checked
    found = find_anomalies(rows, [], [])
    assert [(a["kind"], a["value"]) for a in found] == [("outlier", 0.60)]
    rule = {"name": "f1-low", "metric": "f1", "version": None, "op": "<", "threshold": 0.905}
    breaches = [a for a in find_anomalies(rows, [rule], []) if a["kind"] == "breach"]
    assert [a["value"] for a in breaches] == [0.90, 0.90, 0.60, 0.90]
    auto = {**rule, "threshold": "auto"}
    assert not [a for a in find_anomalies(rows, [auto], []) if a["kind"] == "breach"]
    recorded = [{"rule": "f1-low", "threshold": 0.7}]  # the auto threshold an alert recorded
    assert [
        a["value"] for a in find_anomalies(rows, [auto], recorded) if a["kind"] == "breach"
    ] == [0.60]
