"""Report SQL for Grafana: every ``{name:Type}`` placeholder replaced by what Grafana supplies.

Grafana has no bound parameters: it pastes text into the query. Each placeholder of a
definition is therefore replaced by a SQL expression made of Grafana macros and variables:

* ``from`` / ``to`` become the dashboard's time range, as the ClickHouse plugin's macros
  (``$__fromTime_ms`` for a ``DateTime64``, ``$__fromTime`` for a ``DateTime``);
* on the window page, ``window_start`` is a variable and ``from`` / ``to`` are that window
  (``window_start`` to ``window_start`` + ``window``), so that its raw-row reports never scan
  more than one window whatever the time picker says;
* every other parameter is a dashboard variable, pasted as
  ``decodeURLComponent('${name:percentencode}')``.

Why percent-encoding: ClickHouse string literals honour backslash escapes, and Grafana's
``sqlstring`` and ``singlequote`` formats only escape the quote, so a value with a backslash
before its quote (``x\\' OR 1=1 --``) closes the literal and injects SQL. ``percentencode`` leaves
nothing but ``[A-Za-z0-9-_.~%]`` inside the quotes, and ``decodeURLComponent`` gives ClickHouse
the exact value back: a variable's value is always one string literal.

>>> parameter_expression(Parameter("model", "String"), "model").sql
"decodeURLComponent('${model:percentencode}')"
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from inferwatch_collector.report.definitions import Parameter, ReportDefinition, placeholders

FORMAT_TIME_SERIES = 0
FORMAT_TABLE = 1
"""The plugin's ``format`` of a query: time series frames are turned from long to wide."""

WINDOW_PAGE = "window"

# Same grammar as the definitions' placeholders (report/definitions.py): ``{name:Type}``;
# ``${name:format}`` is Grafana's variable syntax, not a placeholder.
_PLACEHOLDER = re.compile(r"(?<!\$)\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([^{}]+?)\s*\}")


class GrafanaError(ValueError):
    """A definition cannot be turned into a Grafana panel; the message names its file."""


@dataclass(frozen=True)
class Expression:
    """What replaces one placeholder, and the dashboard variables it reads."""

    sql: str
    variables: tuple[str, ...] = ()


def variable_text(name: str) -> Expression:
    """The value of the dashboard variable ``name`` as a ClickHouse ``String``, injection-free."""
    return Expression(f"decodeURLComponent('${{{name}:percentencode}}')", (name,))


def fixed_list(parameter: Parameter) -> Expression:
    """A list parameter (the metrics of one chart) is the panel's own: its default, written
    from the definition file as a literal (no dashboard variable can change it)."""
    items = parameter.default if isinstance(parameter.default, list) else [parameter.default]
    quoted = ", ".join(_string_literal(str(item)) for item in items)
    return Expression(f"CAST([{quoted}] AS {parameter.type})")


def _string_literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def window_start() -> Expression:
    """The ``window_start`` variable as a time: ISO 8601 text or Unix milliseconds (what a
    Grafana data link's ``${__value.time}`` gives); empty is ``NULL`` (no rows)."""
    text = variable_text("window_start")
    return Expression(f"parseDateTime64BestEffortOrNull({text.sql}, 3, 'UTC')", text.variables)


def window_end() -> Expression:
    """``window_start`` plus the ``window`` variable's size (``1h``)."""
    start, size = window_start(), variable_text("window")
    return Expression(
        f"({start.sql} + toIntervalSecond(toUInt32(parseTimeDelta({size.sql}))))",
        start.variables + size.variables,
    )


def parameter_expression(parameter: Parameter, page: str) -> Expression:
    """What replaces ``{name:Type}`` of ``parameter`` on the dashboard of ``page``."""
    if page == WINDOW_PAGE and parameter.name in ("from", "window_start"):
        return window_start()
    if page == WINDOW_PAGE and parameter.name == "to":
        return window_end()
    if parameter.is_time and parameter.name in ("from", "to"):
        macro = "$__fromTime" if parameter.name == "from" else "$__toTime"
        if parameter.type.startswith("DateTime64"):
            return Expression(macro + "_ms")
        if parameter.type.startswith("Date") and not parameter.type.startswith("DateTime"):
            return Expression(f"toDate({macro})")
        return Expression(macro)
    if parameter.name == "window_start":
        return window_start()
    if parameter.type.startswith("Array(") and parameter.default is not None:
        return fixed_list(parameter)
    text = variable_text(parameter.name)
    if parameter.is_time:
        return Expression(f"parseDateTime64BestEffortOrNull({text.sql}, 3, 'UTC')", text.variables)
    if parameter.type in ("String", "LowCardinality(String)"):
        return text
    return Expression(f"CAST({text.sql} AS {parameter.type})", text.variables)


def bind_placeholders(
    definition: ReportDefinition, expressions: Mapping[str, Expression]
) -> tuple[str, tuple[str, ...]]:
    """``definition``'s SQL with each placeholder replaced, and the variables it now reads."""
    used: dict[str, None] = {}

    def replace(match: re.Match[str]) -> str:
        name = match[1]
        if name not in expressions:
            raise GrafanaError(f"{definition.path}: no Grafana value for {{{name}:{match[2]}}}")
        used.update(dict.fromkeys(expressions[name].variables))
        return expressions[name].sql

    if len(_PLACEHOLDER.findall(definition.sql)) < len(placeholders(definition.sql)):
        raise GrafanaError(f"{definition.path}: a placeholder follows a '$'; put a space between")
    return _PLACEHOLDER.sub(replace, definition.sql), tuple(used)


def query_format(definition: ReportDefinition) -> int:
    """Time series for lines and for bars over time (``series`` role), else a table."""
    if definition.visualization == "timeseries":
        return FORMAT_TIME_SERIES
    if definition.visualization == "bar" and "series" in definition.columns:
        return FORMAT_TIME_SERIES
    return FORMAT_TABLE


def panel_sql(definition: ReportDefinition, page: str) -> tuple[str, tuple[str, ...]]:
    """The panel's ``rawSql`` and the variables it reads.

    A time series query is wrapped to hand the plugin what it converts from long to wide
    frames: the time first (as ``time``), then the ``series`` label, then the one ``value``
    column, sorted by time ascending (the conversion refuses unsorted rows; the definitions
    sort by series first for the web dashboard). The band columns (``low``, ``high``) are
    left out: Grafana would draw each as a line of its own.
    """
    expressions = {p.name: parameter_expression(p, page) for p in definition.parameters}
    sql, variables = bind_placeholders(definition, expressions)
    roles = definition.columns
    if query_format(definition) == FORMAT_TIME_SERIES and "x" in roles and "value" in roles:
        picked = [f"{_identifier(roles['x'])} AS time"]
        if "series" in roles:
            picked.append(f"{_identifier(roles['series'])} AS series")
        picked.append(f"{_identifier(roles['value'])} AS value")
        order = "time, series" if "series" in roles else "time"
        sql = f"SELECT {', '.join(picked)}\nFROM (\n{sql}\n)\nORDER BY {order}"
    header = f"-- inferwatch report {definition.name}: generated, edit its .sql file and regenerate"
    return f"{header}\n{sql}", variables


def _identifier(name: str) -> str:
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"
