"""The Grafana dashboards generated from the report definitions (``dashboards/grafana/``).

Grafana cannot run here, so what it would do is done the way it does it: each panel's
``rawSql`` has its variables interpolated as Grafana's template service formats them
(``percentencode`` is ``encodeURIComponent`` plus ``!'()*``), then its ``$__`` macros expanded
as the ClickHouse plugin's backend expands them (``$__fromTime_ms`` →
``fromUnixTimestamp64Milli(ms)``, …); the result must parse (``EXPLAIN AST``) and run in
chDB, and on seeded data return what the web dashboard's bound query returns.

One chDB folder per process at a time: the tests on the empty ``store`` come first, the
module's seeded store is opened after them.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from clickhouse_connect.driver import Client
from report_seed import HOUR, NOT_APPLICABLE, SeededData, monitoring_config, seed_store

from inferwatch_collector.report.definitions import load_definitions, placeholders
from inferwatch_collector.report.grafana import (
    REGENERATE,
    build_dashboards,
    dashboard_json,
    main,
    write_dashboards,
)
from inferwatch_collector.report.grafana_variables import DATASOURCE_UID, PLUGIN_ID
from inferwatch_collector.report.pages import page_definitions
from inferwatch_collector.report.run import json_value, run_report
from inferwatch_collector.store import default_dsn, open_client, run_migrations

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "dashboards" / "grafana"
PROVISIONING = REPO / "deploy" / "grafana" / "provisioning"
DEFINITIONS = load_definitions()
DASHBOARDS = {
    path.name: json.loads(path.read_text(encoding="utf-8"))
    for path in sorted(COMMITTED.glob("*.json"))
}
READ_ONLY = {"readonly": 1}

# Grafana's variable syntax ($name, ${name}, ${name.path:format}) and the plugin's macros.
_VARIABLE = re.compile(r"\$\{(\w+)(?:\.([^:}]+))?(?::([^}]+))?\}|\$(\w+)")
_MACRO = re.compile(r"\$__(\w+)(?:\(([^()]*)\))?")
_PLACEHOLDER = re.compile(r"(?<!\$)\{\s*[A-Za-z_]\w*\s*:[^{}]+\}")


def grafana_interpolate(text: str, values: Mapping[str, str]) -> str:
    """Replace dashboard variables as Grafana's template service does; ``$__…`` is left for
    the plugin."""

    def replace(match: re.Match[str]) -> str:
        name, fmt = match[1] or match[4], match[3]
        if name.startswith("__"):
            return match[0]
        assert name in values, f"variable ${name} has no value"
        if fmt == "percentencode":  # encodeURIComponent, and !'()* too: RFC 3986 unreserved
            return quote(values[name], safe="")
        assert fmt is None, f"format {fmt!r} of ${name} is not one the tests know"
        return values[name]

    return _VARIABLE.sub(replace, text)


def plugin_macros(sql: str, start: datetime, end: datetime, interval_s: int = 60) -> str:
    """Expand the macros as grafana-clickhouse-datasource's backend (pkg/macros) does."""
    seconds = {"from": int(start.timestamp()), "to": int(end.timestamp())}
    millis = {"from": int(start.timestamp() * 1000), "to": int(end.timestamp() * 1000)}

    def replace(match: re.Match[str]) -> str:
        name, argument = match[1], (match[2] or "").strip()
        expansions = {
            "fromTime": f"toDateTime({seconds['from']})",
            "toTime": f"toDateTime({seconds['to']})",
            "fromTime_ms": f"fromUnixTimestamp64Milli({millis['from']})",
            "toTime_ms": f"fromUnixTimestamp64Milli({millis['to']})",
            "interval_s": str(interval_s),
            "timeFilter": f"{argument} >= toDateTime({seconds['from']}) "
            f"AND {argument} <= toDateTime({seconds['to']})",
        }
        assert name in expansions, f"macro $__{name} is not one the plugin has"
        return expansions[name]

    expanded = _MACRO.sub(replace, sql)
    assert "$" not in expanded, expanded
    return expanded


def expand(sql: str, values: Mapping[str, str], start: datetime, end: datetime) -> str:
    """What reaches ClickHouse: Grafana's interpolation (frontend), then the macros (backend)."""
    return plugin_macros(grafana_interpolate(sql, values), start, end)


def panel_queries(dashboard: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """``(what, sql)`` of every panel target and every query variable."""
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            yield f"panel {panel['title']!r}", target["rawSql"]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            yield f"variable {variable['name']!r}", variable["query"]["rawSql"]


def sample_values(dashboard: Mapping[str, Any], **chosen: str) -> dict[str, str]:
    """Each variable's default (``current``), with ``chosen`` ones instead."""
    values = {
        v["name"]: str(v.get("current", {}).get("value", ""))
        for v in dashboard["templating"]["list"]
    }
    return {**values, **chosen}


def now_ms() -> datetime:
    moment = datetime.now(timezone.utc)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


# --- the files ------------------------------------------------------------------------------


def test_committed_dashboards_are_what_the_definitions_generate(tmp_path: Path) -> None:
    written = write_dashboards(tmp_path, DEFINITIONS)
    fresh = {path.name: path.read_bytes() for path in written}
    committed = {path.name: path.read_bytes() for path in COMMITTED.glob("*.json")}
    hint = f"dashboards/grafana/ is out of date: run `{REGENERATE}` (make grafana) and commit"
    assert sorted(committed) == sorted(fresh), hint
    for name, content in fresh.items():
        assert committed[name] == content, f"{name}: {hint}"


def test_output_is_stable_text() -> None:
    first = {name: dashboard_json(d) for name, d in build_dashboards(DEFINITIONS).items()}
    second = {name: dashboard_json(d) for name, d in build_dashboards(load_definitions()).items()}
    assert first == second
    for name, text in first.items():
        assert text.endswith("}\n") and "\r" not in text
        assert (
            text
            == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        )
        assert json.loads(text)["uid"] == name.removesuffix(".json")


def test_check_flag_fails_on_a_stale_file_and_the_module_runs(tmp_path: Path) -> None:
    assert main(["--out", str(tmp_path), "--check"]) == 1  # nothing there yet
    done = subprocess.run(
        [sys.executable, "-m", "inferwatch_collector.report.grafana", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert sorted(Path(line).name for line in done.stdout.split()) == sorted(DASHBOARDS)
    assert main(["--out", str(tmp_path), "--check"]) == 0
    model = tmp_path / "inferwatch-model.json"
    model.write_text(model.read_text().replace("Quality", "Quallity"))
    assert main(["--out", str(tmp_path), "--check"]) == 1


# --- the structure --------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["overview", "model", "alerts", "window"])
def test_every_definition_of_a_page_has_its_panel_in_order(page: str) -> None:
    dashboard = DASHBOARDS[f"inferwatch-{page}.json"]
    reports = page_definitions(DEFINITIONS, page)
    panels = dashboard["panels"]
    assert [p["title"] for p in panels] == [d.title for d in reports]
    for panel, definition in zip(panels, reports, strict=True):
        sql = panel["targets"][0]["rawSql"]
        assert sql.startswith(f"-- inferwatch report {definition.name}:")
        assert panel["description"] == definition.description
        expected = {"timeseries": "timeseries", "stat": "stat", "table": "table"}
        if definition.visualization in expected:
            assert panel["type"] == expected[definition.visualization]
        time_series = definition.visualization == "timeseries" or (
            definition.visualization == "bar" and "series" in definition.columns
        )
        assert panel["targets"][0]["format"] == (0 if time_series else 1)
        if time_series:  # the time first, the label, one value: what long → wide wants
            assert (
                sql.splitlines()[1] == "SELECT `time` AS time, `series` AS series, `value` AS value"
            )
            assert sql.endswith("ORDER BY time, series")
    ids = [p["id"] for p in panels]
    assert ids == sorted(set(ids))


def test_confusion_matrix_is_a_matrix_of_actual_by_predicted() -> None:
    panel = next(
        p for p in DASHBOARDS["inferwatch-model.json"]["panels"] if p["title"] == "Confusion matrix"
    )
    roles = DEFINITIONS["model_confusion_matrix"].columns
    assert panel["type"] == "table"
    assert panel["transformations"] == [
        {
            "id": "groupingToMatrix",
            "options": {
                "columnField": roles["x"],
                "emptyValue": "null",
                "rowField": roles["y"],
                "valueField": roles["value"],
            },
        }
    ]


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_every_variable_used_is_defined_and_no_placeholder_is_left(name: str) -> None:
    dashboard = DASHBOARDS[name]
    defined = {v["name"] for v in dashboard["templating"]["list"]}
    texts = [sql for _, sql in panel_queries(dashboard)]
    for panel in dashboard["panels"]:
        config = panel["fieldConfig"]
        links = config["defaults"].get("links", [])
        links += [
            p["value"][0]
            for o in config["overrides"]
            for p in o["properties"]
            if p["id"] == "links"
        ]
        texts += [link["url"] for link in links]
    for text in texts:
        used = {m[1] or m[4] for m in _VARIABLE.finditer(text)}
        assert {u for u in used if not u.startswith("__")} <= defined, text
        assert not _PLACEHOLDER.search(text), text
    for _, sql in panel_queries(dashboard):
        # the definitions' own parser sees only Grafana variables (``${name:format}``) now
        assert all(f"${{{name}:{fmt}}}" in sql for name, fmt in placeholders(sql))
        assert all(fmt == "percentencode" for _, fmt in placeholders(sql)), sql


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_panels_read_the_provisioned_clickhouse_data_source(name: str) -> None:
    provisioned = yaml.safe_load(
        (PROVISIONING / "datasources" / "inferwatch-clickhouse.yaml").read_text()
    )["datasources"]
    assert [(d["uid"], d["type"]) for d in provisioned] == [(DATASOURCE_UID, PLUGIN_ID)]
    dashboard = DASHBOARDS[name]
    variable = dashboard["templating"]["list"][0]
    assert (variable["name"], variable["type"], variable["query"]) == (
        "datasource", "datasource", PLUGIN_ID,
    )  # fmt: skip
    assert variable["current"]["value"] == provisioned[0]["uid"]
    for panel in dashboard["panels"]:
        for source in [panel["datasource"], *(t["datasource"] for t in panel["targets"])]:
            assert source == {"type": PLUGIN_ID, "uid": "${datasource}"}
        assert all(t["editorType"] == "sql" for t in panel["targets"])
    assert dashboard["schemaVersion"] >= 39


def test_provisioning_files_are_documented() -> None:
    datasource = (PROVISIONING / "datasources" / "inferwatch-clickhouse.yaml").read_text()
    readme = (REPO / "deploy" / "grafana" / "README.md").read_text()
    names = set(re.findall(r"\$\{?(INFERWATCH_\w+)\}?", datasource))
    assert len(names) == 7
    assert all(f"`{name}`" in readme for name in names)
    provider = yaml.safe_load((PROVISIONING / "dashboards" / "inferwatch.yaml").read_text())
    [files] = provider["providers"]
    assert files["type"] == "file" and files["options"]["path"] in readme


# --- the SQL in ClickHouse: an empty store ---------------------------------------------------


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_every_query_parses_and_runs_on_the_empty_schema(store: Client, name: str) -> None:
    dashboard = DASHBOARDS[name]
    end = now_ms()
    values = sample_values(dashboard, model="fraud", window_start="2026-11-27T09:00:00Z")
    for what, raw in panel_queries(dashboard):
        sql = expand(raw, values, end - timedelta(days=7), end)
        ast = store.query(f"EXPLAIN AST {sql}", settings=READ_ONLY).result_rows
        assert ast and ast[0][0].startswith("SelectWithUnionQuery"), what
        store.query(sql, settings=READ_ONLY)  # raises with the ClickHouse error if not


def test_a_variable_value_stays_one_string_literal(store: Client) -> None:
    """Whatever a variable holds reaches ClickHouse as exactly that text."""
    nasty = [
        "x\\' OR 1=1 --",
        "it's",
        'say "hi"',
        "back\\slash\\",
        "%41 + 100% ~ $__fromTime ${model}",
        "region=eu;DROP TABLE ml_alerts",
        "中文 · émoji 🙂",
        "",
    ]
    for value in nasty:
        sql = grafana_interpolate(
            "SELECT decodeURLComponent('${model:percentencode}')", {"model": value}
        )
        assert store.query(sql, settings=READ_ONLY).result_rows == [(value,)], value


# --- the SQL in ClickHouse: seeded data --------------------------------------------------------


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, SeededData]]:
    folder = tmp_path_factory.mktemp("grafana")
    _, config = monitoring_config(folder)
    client = open_client(default_dsn(folder / "data"))
    run_migrations(client, ttl_days=30)
    try:
        yield client, seed_store(client, now_ms(), config)
    finally:
        client.close()


def grafana_rows(client: Client, panel: Mapping[str, Any], values: Mapping[str, str],
                 start: datetime, end: datetime) -> tuple[list[str], list[list[Any]]]:  # fmt: skip
    result = client.query(expand(panel["targets"][0]["rawSql"], values, start, end),
                          settings=READ_ONLY)  # fmt: skip
    return list(result.column_names), [[json_value(v) for v in row] for row in result.result_rows]


@pytest.mark.parametrize(
    ("page", "model", "version", "segment"),
    [
        ("overview", "", "", ""),
        ("model", "fraud", "", ""),
        ("model", "fraud", "2", "region=eu"),
        ("model", "price", "", ""),
        ("alerts", "", "", ""),
        ("alerts", "fraud", "", ""),
    ],
)
def test_panels_return_what_the_web_dashboard_reports_return(
    seeded: tuple[Client, SeededData], page: str, model: str, version: str, segment: str
) -> None:
    client, data = seeded
    dashboard = DASHBOARDS[f"inferwatch-{page}.json"]
    start, end = data.start + 6 * HOUR, data.now
    values = sample_values(dashboard, model=model, version=version, segment=segment, window="1h")
    for panel, definition in zip(
        dashboard["panels"], page_definitions(DEFINITIONS, page), strict=True
    ):
        bound = {k: v for k, v in values.items() if k in definition.parameter_names}
        bound.update({"from": start, "to": end})
        web = run_report(client, definition, bound, now=data.now, strict=False)
        columns, rows = grafana_rows(client, panel, values, start, end)
        if panel["targets"][0]["format"] == 1:
            assert rows == web.rows, definition.name
            assert columns == web.columns or not rows  # no rows: no header
            continue
        roles = definition.columns
        expected = sorted(
            [r[roles["x"]], r[roles["series"]], r[roles["value"]]] for r in web.records()
        )
        assert columns == ["time", "series", "value"] or not rows  # no rows: no header
        assert rows == sorted(rows, key=lambda r: (r[0], r[1])), "not sorted by time"
        assert sorted(rows) == expected, definition.name
        assert expected or definition.name in NOT_APPLICABLE[model], f"{definition.name}: no rows"


def test_window_dashboard_shows_the_window_a_data_link_names(
    seeded: tuple[Client, SeededData],
) -> None:
    client, data = seeded
    dashboard = DASHBOARDS["inferwatch-window.json"]
    window = data.drop_windows[-1]
    # a time series point's data link carries ${__value.time}: Unix milliseconds
    values = sample_values(dashboard, model="fraud", window="1h",
                           window_start=str(int(window.timestamp() * 1000)))  # fmt: skip
    metrics, misclassified = dashboard["panels"]
    _, rows = grafana_rows(client, metrics, values, data.start, data.now)
    web = run_report(client, DEFINITIONS["window_metrics"],
                     {"model": "fraud", "window": "1h", "window_start": window})  # fmt: skip
    assert rows == web.rows and len(rows) > 10
    _, rows = grafana_rows(client, misclassified, values, data.start, data.now)
    expected = data.misclassified("fraud", window)
    assert sorted(r[2] for r in rows) == sorted(p.id for p in expected) and expected
    # the time picker does not widen it: raw rows are read for that one window only
    iso = sample_values(dashboard, model="fraud", window="1h", window_start=window.isoformat())
    assert grafana_rows(client, misclassified, iso, data.start - 30 * HOUR, data.now)[1] == rows
    empty = sample_values(dashboard, model="fraud", window="1h", window_start="")
    assert grafana_rows(client, misclassified, empty, data.start, data.now)[1] == []


def test_variable_queries_list_the_seeded_values(seeded: tuple[Client, SeededData]) -> None:
    client, data = seeded
    dashboard = DASHBOARDS["inferwatch-model.json"]
    values = sample_values(dashboard, model="fraud")
    options = {}
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            sql = expand(variable["query"]["rawSql"], values, data.start, data.now)
            options[variable["name"]] = [row[0] for row in client.query(sql).result_rows]
    assert options == {
        "model": ["fraud", "price"],
        "version": ["", "1", "2"],
        "segment": ["", "region=eu", "region=us"],
    }


def test_an_injected_model_value_reads_nothing(seeded: tuple[Client, SeededData]) -> None:
    """The value that breaks out of Grafana's ``sqlstring`` quoting in ClickHouse (it escapes
    the quote, not the backslash) is only a model name that does not exist here."""
    client, data = seeded
    dashboard = DASHBOARDS["inferwatch-model.json"]
    summary = next(p for p in dashboard["panels"] if p["title"] == "Summary")
    values = sample_values(dashboard, model="nobody\\' OR 1=1 --")
    columns, rows = grafana_rows(client, summary, values, data.start, data.now)
    predictions = columns.index("predictions")
    assert rows[0][predictions] == 0  # no prediction of any model
    # the same panel written with ${model:sqlstring} would have read every model's rows
    sqlstring = "'" + values["model"].replace("'", "''").replace('"', '\\"') + "'"
    leaky = summary["targets"][0]["rawSql"].replace(
        "decodeURLComponent('${model:percentencode}')", sqlstring
    )
    sql = plugin_macros(grafana_interpolate(leaky, values), data.start, data.now)
    assert client.query(sql, settings=READ_ONLY).result_rows[0][predictions] > 0
