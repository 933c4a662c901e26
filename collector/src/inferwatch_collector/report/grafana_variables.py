"""Dashboard variables for the parameters a Grafana dashboard's panels read.

* ``datasource``: the ClickHouse data source; its default is the provisioned one
  (``deploy/grafana/provisioning/datasources/inferwatch-clickhouse.yaml``);
* ``model``, ``version``, ``segment``: drop-downs filled from ``ml_evaluations`` (version and
  segment for the chosen model), with an ``''`` entry ("all") where the parameter's default
  is ``''``;
* ``window``: the common window sizes, the definitions' default selected;
* anything else (``window_start``, ``state``, ``limit``, …): a text box holding its default.

Variable queries read the variables the same way panels do (``decodeURLComponent`` of the
percent-encoded value), so a chosen value can never change the SQL around it.
"""

from __future__ import annotations

from typing import Any

from inferwatch_collector.report.definitions import Parameter
from inferwatch_collector.report.grafana_sql import variable_text

PLUGIN_ID = "grafana-clickhouse-datasource"
DATASOURCE_UID = "inferwatch-clickhouse"
"""The uid of the provisioned data source; the ``datasource`` variable's default."""
DATASOURCE_NAME = "inferwatch ClickHouse"
DATASOURCE = {"type": PLUGIN_ID, "uid": "${datasource}"}

COMMON_WINDOWS = ("5m", "15m", "30m", "1h", "6h", "12h", "1d", "7d")

_ALL_LABELS = {"model": "(all models)", "version": "(all versions)", "segment": "(all traffic)"}


def datasource_variable() -> dict[str, Any]:
    return {
        "current": {"text": DATASOURCE_NAME, "value": DATASOURCE_UID},
        "hide": 0,
        "includeAll": False,
        "label": "ClickHouse",
        "multi": False,
        "name": "datasource",
        "options": [],
        "query": PLUGIN_ID,
        "refresh": 1,
        "regex": "",
        "type": "datasource",
    }


def dashboard_variable(name: str, parameter: Parameter | None, names: set[str]) -> dict[str, Any]:
    """The variable ``name``, described by ``parameter`` (``None``: one the page implies, such
    as ``window`` for the window page's range); ``names``: every variable of the dashboard."""
    default = "" if parameter is None or parameter.default is None else str(parameter.default)
    description = parameter.description if parameter is not None else ""
    if name in ("model", "version", "segment"):
        optional = parameter is None or parameter.default == ""
        sql = _values_sql(name, with_all=optional or name == "segment", names=names)
        variable = _query_variable(name, sql)
        if optional:
            variable["current"] = {"text": _ALL_LABELS[name], "value": ""}
    elif name == "window":
        variable = _custom_variable(name, default or "1h")
    else:
        variable = _textbox_variable(name, default)
    variable["label"] = name.replace("_", " ").capitalize()
    variable["description"] = description
    return variable


def _values_sql(name: str, with_all: bool, names: set[str]) -> str:
    column = {"model": "ModelName", "version": "ModelVersion", "segment": "Segment"}[name]
    where = []
    if name != "model" and "model" in names:
        where.append(f"ModelName = {variable_text('model').sql}")
    if not with_all:
        filters = f" WHERE {' AND '.join(where)}" if where else ""
        return f"SELECT DISTINCT {column} FROM ml_evaluations{filters} ORDER BY {column}"
    where.append(f"{column} != ''")
    return (
        f"SELECT value, text FROM (SELECT '' AS value, '{_ALL_LABELS[name]}' AS text "
        f"UNION ALL SELECT DISTINCT {column} AS value, {column} AS text FROM ml_evaluations "
        f"WHERE {' AND '.join(where)}) ORDER BY value"
    )


def _query_variable(name: str, sql: str) -> dict[str, Any]:
    return {
        "current": {},
        "datasource": dict(DATASOURCE),
        "definition": sql,
        "hide": 0,
        "includeAll": False,
        "multi": False,
        "name": name,
        "options": [],
        "query": {"editorType": "sql", "queryType": "sql", "rawSql": sql, "refId": "var"},
        "refresh": 1,
        "regex": "",
        "skipUrlSync": False,
        "sort": 0,
        "type": "query",
    }


def _custom_variable(name: str, default: str) -> dict[str, Any]:
    values = list(COMMON_WINDOWS) if default in COMMON_WINDOWS else [default, *COMMON_WINDOWS]
    return {
        "allowCustomValue": True,
        "current": {"text": default, "value": default},
        "hide": 0,
        "includeAll": False,
        "multi": False,
        "name": name,
        "options": [{"selected": v == default, "text": v, "value": v} for v in values],
        "query": ",".join(values),
        "skipUrlSync": False,
        "type": "custom",
    }


def _textbox_variable(name: str, default: str) -> dict[str, Any]:
    return {
        "current": {"text": default, "value": default},
        "hide": 0,
        "name": name,
        "options": [{"selected": True, "text": default, "value": default}],
        "query": default,
        "skipUrlSync": False,
        "type": "textbox",
    }
