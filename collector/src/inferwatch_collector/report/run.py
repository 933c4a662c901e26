"""Running a report definition: its parameters bound by the client, read-only.

>>> definition = load_definitions()["model_quality"]
>>> result = run_report(client, definition, {"model": "fraud", "from": "now-1d"})
>>> result.columns[:3], len(result.rows)
(['time', 'series', 'value'], 24)

Values come as text (a URL's query, a command's flags) or typed; ``bind`` turns them into the
parameter's type (``now-7d`` for a time), and the storage client sends them apart from the SQL
(``{name:Type}``). Queries run with ``readonly=1``: a report can read, never change, the store.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

from inferwatch_collector.evaluate.durations import format_duration, parse_duration
from inferwatch_collector.report.definitions import Parameter, ReportDefinition

READ_ONLY = {"readonly": 1}
_RELATIVE = re.compile(r"^now\s*(?:-\s*(\d+[smhdw]))?$")


class ParameterError(ValueError):
    """A parameter value is missing, unknown or of the wrong type; the message names it."""


@dataclass(frozen=True)
class ReportResult:
    """The rows of one report, ready for JSON (times as ISO 8601 text, NaN as ``None``)."""

    definition: ReportDefinition
    parameters: Mapping[str, Any]
    columns: list[str]
    types: list[str]
    rows: list[list[Any]]
    elapsed_ms: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "report": self.definition.name,
            "title": self.definition.title,
            "description": self.definition.description,
            "visualization": self.definition.visualization,
            "roles": dict(self.definition.columns),
            "threshold": self.definition.threshold,
            "unit": self.definition.unit,
            "link": self.definition.link,
            "parameters": {k: json_value(v) for k, v in self.parameters.items()},
            "columns": self.columns,
            "types": self.types,
            "rows": self.rows,
            "elapsed_ms": round(self.elapsed_ms, 3),
        }

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def bind(
    definition: ReportDefinition,
    values: Mapping[str, Any],
    *,
    now: datetime | None = None,
    strict: bool = True,
) -> dict[str, Any]:
    """Every parameter of ``definition`` with its value: given, else the default.

    Args:
        values: by name; text is converted to the parameter's type.
        now: what ``now`` means in relative times (default: the current time).
        strict: a name the definition does not declare is an error (else ignored: a page
            passes the same values to all its reports).
    """
    now = now or datetime.now(timezone.utc)
    unknown = [name for name in values if name not in definition.parameter_names]
    if strict and unknown:
        _unknown(definition, unknown[0])
    bound = {}
    for parameter in definition.parameters:
        raw = values.get(parameter.name)
        if raw is None or (raw == "" and parameter.is_time):
            raw = parameter.default
        if raw is None:
            raise ParameterError(
                f"report {definition.name!r}: parameter {parameter.name!r} "
                f"({parameter.type}) is required"
            )
        bound[parameter.name] = convert(definition, parameter, raw, now)
    _check_range(definition, bound)
    return bound


def convert(definition: ReportDefinition, parameter: Parameter, raw: Any, now: datetime) -> Any:
    """``raw`` as a value of the parameter's type (``ParameterError`` naming it if not)."""
    kind = parameter.type
    try:
        if parameter.is_time:
            return parse_time_value(raw, now)
        if kind.startswith(("UInt", "Int")):
            value = int(raw)
            if kind.startswith("UInt") and value < 0:
                raise ValueError("negative")
            return value
        if kind.startswith("Float"):
            return float(raw)
        if kind.startswith("Array("):
            return list(raw) if isinstance(raw, (list, tuple)) else str(raw).split(",")
        return str(raw)
    except (TypeError, ValueError) as exc:
        raise ParameterError(
            f"report {definition.name!r}: parameter {parameter.name!r} expects {kind}, got {raw!r}"
        ) from exc


def parse_time_value(raw: Any, now: datetime) -> datetime:
    """A time: a ``datetime``, ISO 8601 text, ``now`` or ``now-7d``; always UTC-aware."""
    if isinstance(raw, datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=timezone.utc)
    text = str(raw).strip()
    relative = _RELATIVE.match(text)
    if relative:
        return now - (parse_duration(relative[1]) if relative[1] else timedelta())
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _unknown(definition: ReportDefinition, name: str) -> None:
    known = ", ".join(definition.parameter_names) or "none"
    raise ParameterError(f"report {definition.name!r} has no parameter {name!r} (it has: {known})")


def _check_range(definition: ReportDefinition, bound: Mapping[str, Any]) -> None:
    start, end = bound.get("from"), bound.get("to")
    if not isinstance(start, datetime) or not isinstance(end, datetime):
        return
    if end < start:
        raise ParameterError(f"report {definition.name!r}: 'to' ({end}) is before 'from' ({start})")
    if definition.max_range is not None and end - start > definition.max_range:
        raise ParameterError(
            f"report {definition.name!r} reads raw rows: its range is at most "
            f"{format_duration(definition.max_range)}, got {end - start}"
        )


def run_report(
    client: Any,
    definition: ReportDefinition,
    values: Mapping[str, Any],
    *,
    now: datetime | None = None,
    strict: bool = True,
) -> ReportResult:
    """Bind ``values``, run the query read-only through ``client``, return its rows."""
    bound = bind(definition, values, now=now, strict=strict)
    result = client.query(definition.sql, parameters=_wire(bound), settings=READ_ONLY)
    summary = result.summary or {}
    columns, types = list(result.column_names), [t.name for t in result.column_types]
    if not columns:  # an empty answer may carry no header: ask for the columns
        described = client.query(
            f"DESCRIBE ({definition.sql})", parameters=_wire(bound), settings=READ_ONLY
        )
        columns = [row[0] for row in described.result_rows]
        types = [row[1] for row in described.result_rows]
    return ReportResult(
        definition=definition,
        parameters=bound,
        columns=columns,
        types=types,
        rows=json_rows(result.result_rows, types),
        elapsed_ms=int(summary.get("elapsed_ns", 0)) / 1e6,
    )


def check_syntax(client: Any, definition: ReportDefinition) -> None:
    """Have the store parse the query (``EXPLAIN AST``) with the defaults bound.

    Raises ``DefinitionError`` naming the file if it does not parse.
    """
    from clickhouse_connect.driver.exceptions import ClickHouseError

    from inferwatch_collector.report.definitions import DefinitionError

    values = {
        p.name: p.default if p.default is not None else _sample(p) for p in definition.parameters
    }
    bound = bind(definition, values, strict=False) if definition.parameters else {}
    try:
        client.query(f"EXPLAIN AST {definition.sql}", parameters=_wire(bound), settings=READ_ONLY)
    except ClickHouseError as exc:
        message = str(exc).strip().splitlines()[0]
        raise DefinitionError(f"{definition.path}: the SQL does not parse: {message}") from exc


def _sample(parameter: Parameter) -> Any:
    if parameter.is_time:
        return "now"
    if parameter.type.startswith(("UInt", "Int", "Float")):
        return 0
    return ""


def _wire(bound: Mapping[str, Any]) -> dict[str, Any]:
    """Times as UTC text with milliseconds: what ``DateTime64(3, 'UTC')`` parses exactly."""
    return {
        name: value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        if isinstance(value, datetime)
        else value
        for name, value in bound.items()
    }


def json_rows(rows: Sequence[Sequence[Any]], types: Sequence[str]) -> list[list[Any]]:
    """``rows`` ready for JSON, converted column by column with one function per type (a
    30-day page has tens of thousands of values: ``bench/dashboard.py``)."""
    if not rows:
        return []
    converters = [_converter(t) for t in types]
    columns = [
        list(column) if convert is None else [convert(v) for v in column]
        for convert, column in zip(converters, zip(*rows, strict=True), strict=True)
    ]
    return [list(row) for row in zip(*columns, strict=True)]


def _finite(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None


def _converter(type_name: str) -> Callable[[Any], Any] | None:
    """``None`` where the driver's values already are JSON's (text, whole numbers)."""
    bare = re.sub(r"^(?:Nullable|LowCardinality)\((.*)\)$", r"\1", type_name)
    bare = re.sub(r"^(?:Nullable|LowCardinality)\((.*)\)$", r"\1", bare)
    if bare.startswith("Float"):
        return _finite
    if bare == "String" or re.fullmatch(r"U?Int(8|16|32|64)|Bool", bare):
        return None
    return json_value


def json_value(value: Any) -> Any:
    """``value`` as JSON can carry it: ISO 8601 UTC times, ``None`` for NaN and infinities."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return (
            aware.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (UUID, bytes)):
        return value.hex() if isinstance(value, bytes) else str(value)
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    return value
