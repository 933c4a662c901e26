"""One Grafana panel per report definition: its query, visualization, threshold and links.

| definition | Grafana panel |
| --- | --- |
| ``timeseries`` | time series, one line per ``series`` |
| ``bar`` with a ``series`` | time series drawn as stacked bars (``x`` is a time) |
| ``bar`` without | bar chart of ``value`` per ``x`` |
| ``stat`` | stat, one tile per numeric column |
| ``table`` | table |
| ``heatmap`` | table turned into a ``y`` × ``x`` matrix of ``value``, cells coloured |

The heatmap is the confusion matrix: Grafana's heatmap panel wants numeric buckets, so a
table grouped to a matrix (rows ``y``, columns ``x``) shows the classes by name.

A numeric ``threshold`` becomes the panel's threshold (a dashed line on time series); one
naming a parameter takes that parameter's default. ``threshold: rules`` (the alert rules'
thresholds) is not known when the dashboards are generated, so Grafana draws none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from inferwatch_collector.report.definitions import ReportDefinition
from inferwatch_collector.report.grafana_sql import FORMAT_TIME_SERIES, panel_sql, query_format
from inferwatch_collector.report.grafana_variables import DATASOURCE

MIN_PLUGIN_VERSION = "4.0.3"
"""The plugin version whose query model the targets follow (``$__fromTime_ms`` came in 4.0.3)."""

_SIZES = {  # (width of 24, height)
    "stat": (24, 4),
    "timeseries": (12, 8),
    "bar": (12, 8),
    "heatmap": (12, 9),
    "table": (24, 9),
}


def build_panel(
    definition: ReportDefinition, page: str, panel_id: int, links: Mapping[str, str]
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The panel of ``definition`` on ``page``'s dashboard, and the variables it reads.

    Args:
        links: the data link URL for each ``link`` kind this dashboard can follow
            (``model``, ``time``); other kinds get no link.
    """
    sql, variables = panel_sql(definition, page)
    format_ = query_format(definition)
    panel: dict[str, Any] = {
        "datasource": dict(DATASOURCE),
        "description": definition.description,
        "fieldConfig": {"defaults": _defaults(definition), "overrides": []},
        "id": panel_id,
        "targets": [
            {
                "datasource": dict(DATASOURCE),
                "editorType": "sql",
                "format": format_,
                "pluginVersion": MIN_PLUGIN_VERSION,
                "queryType": "timeseries" if format_ == FORMAT_TIME_SERIES else "table",
                "rawSql": sql,
                "refId": "A",
            }
        ],
        "title": definition.title,
    }
    shape = _SHAPES[definition.visualization]
    shape(panel, definition)
    _add_link(panel, definition, links)
    return panel, variables


def panel_size(definition: ReportDefinition) -> tuple[int, int]:
    """``(width, height)`` in grid units (the grid is 24 wide)."""
    return _SIZES[definition.visualization]


def _defaults(definition: ReportDefinition) -> dict[str, Any]:
    defaults: dict[str, Any] = {"color": {"mode": "palette-classic"}, "mappings": []}
    if definition.unit:
        defaults["unit"] = definition.unit
    steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
    threshold = _threshold_value(definition)
    if threshold is not None:
        steps.append({"color": "red", "value": threshold})
    defaults["thresholds"] = {"mode": "absolute", "steps": steps}
    return defaults


def _threshold_value(definition: ReportDefinition) -> float | None:
    threshold = definition.threshold
    if isinstance(threshold, float):
        return threshold
    if isinstance(threshold, str) and threshold != "rules":
        default = definition.parameter(threshold).default
        if isinstance(default, (int, float)) and not isinstance(default, bool):
            return float(default)
    return None


def _timeseries(panel: dict[str, Any], definition: ReportDefinition) -> None:
    bars = definition.visualization == "bar"
    defaults = panel["fieldConfig"]["defaults"]
    defaults["custom"] = {
        "drawStyle": "bars" if bars else "line",
        "fillOpacity": 80 if bars else 0,
        "lineWidth": 1,
        "showPoints": "never" if bars else "auto",
        "spanNulls": False,
        "stacking": {"group": "A", "mode": "normal" if bars else "none"},
        "thresholdsStyle": {
            "mode": "dashed" if len(defaults["thresholds"]["steps"]) > 1 else "off"
        },
    }
    if "series" in definition.columns:
        # long → wide frames name every line ``value`` with a ``series`` label: show the label
        defaults["displayName"] = "${__field.labels.series}"
    panel["type"] = "timeseries"
    panel["options"] = {
        "legend": {"calcs": [], "displayMode": "list", "placement": "bottom", "showLegend": True},
        "tooltip": {"mode": "multi", "sort": "none"},
    }


def _bar(panel: dict[str, Any], definition: ReportDefinition) -> None:
    if query_format(definition) == FORMAT_TIME_SERIES:
        _timeseries(panel, definition)
        return
    panel["type"] = "barchart"
    panel["fieldConfig"]["defaults"]["custom"] = {"fillOpacity": 80, "lineWidth": 1}
    panel["options"] = {
        "barWidth": 0.8,
        "legend": {"calcs": [], "displayMode": "list", "placement": "bottom", "showLegend": True},
        "orientation": "auto",
        "showValue": "auto",
        "tooltip": {"mode": "single", "sort": "none"},
        "xField": definition.columns.get("x", ""),
    }


def _stat(panel: dict[str, Any], definition: ReportDefinition) -> None:
    panel["type"] = "stat"
    panel["fieldConfig"]["defaults"]["color"] = {"mode": "thresholds"}
    panel["options"] = {
        "colorMode": "value" if _threshold_value(definition) is not None else "none",
        "graphMode": "none",
        "justifyMode": "auto",
        "orientation": "auto",
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "textMode": "value_and_name",
    }


def _table(panel: dict[str, Any], definition: ReportDefinition) -> None:
    panel["type"] = "table"
    panel["fieldConfig"]["defaults"]["custom"] = {
        "align": "auto",
        "cellOptions": {"type": "auto"},
        "filterable": True,
    }
    panel["options"] = {"cellHeight": "sm", "footer": {"show": False}, "showHeader": True}


def _matrix(panel: dict[str, Any], definition: ReportDefinition) -> None:
    """The confusion matrix: rows ``y``, columns ``x``, cells ``value`` coloured by size."""
    _table(panel, definition)
    roles = definition.columns
    if not all(role in roles for role in ("x", "y", "value")):
        return
    panel["transformations"] = [
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
    defaults = panel["fieldConfig"]["defaults"]
    defaults["color"] = {"mode": "continuous-BlPu"}
    defaults["custom"]["cellOptions"] = {"mode": "gradient", "type": "color-background"}
    panel["fieldConfig"]["overrides"].append(  # the row header (the y values) stays plain
        {
            "matcher": {"id": "byType", "options": "string"},
            "properties": [{"id": "custom.cellOptions", "value": {"type": "auto"}}],
        }
    )


_SHAPES = {
    "timeseries": _timeseries,
    "bar": _bar,
    "stat": _stat,
    "table": _table,
    "heatmap": _matrix,
}


def _add_link(
    panel: dict[str, Any], definition: ReportDefinition, links: Mapping[str, str]
) -> None:
    """``link: model`` on a table: its model cells open the model dashboard; ``link: time`` on a
    time series: a point opens its window's report. Grafana cannot tell a row's window size
    or model from other columns it is not told about, so other links are left out."""
    url = links.get(definition.link)
    if definition.link == "time" and url and panel["type"] == "timeseries":
        link = {"targetBlank": False, "title": "Window report", "url": url}
        panel["fieldConfig"]["defaults"]["links"] = [link]
    elif definition.link == "model" and url and panel["type"] == "table":
        link = {"targetBlank": False, "title": "Model dashboard", "url": url}
        panel["fieldConfig"]["overrides"].append(
            {
                "matcher": {"id": "byName", "options": definition.link},
                "properties": [{"id": "links", "value": [link]}],
            }
        )
