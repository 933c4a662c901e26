"""Report definitions: the ``dashboards/*.sql`` files, each one query with a YAML header.

A definition is a SQL file whose leading ``--`` comment lines are a YAML header::

    -- title: F1 over time
    -- description: The model's F1 per window, with its confidence interval.
    -- page: model
    -- visualization: timeseries
    -- x: WindowStart
    -- value: Value
    -- series: Metric
    -- threshold: rules
    -- params:
    --   model: {type: String}
    --   from: {type: "DateTime64(3, 'UTC')", default: now-7d}
    --   to: {type: "DateTime64(3, 'UTC')", default: now}
    SELECT WindowStart, Metric, Value FROM ml_evaluations FINAL
    WHERE ModelName = {model:String} AND WindowStart >= {from:DateTime64(3, 'UTC')} ...

Parameters are ``{name:Type}`` placeholders bound by the storage client, never pasted into
the text; every placeholder must be declared in ``params`` with the same type, and every
declared parameter used. ``docs/reports.md`` is the reference of the header keys.

>>> definitions = load_definitions()            # the built-in ones (and --dashboards-dir)
>>> definitions["model_metrics"].visualization
'timeseries'

Anything wrong is a ``DefinitionError`` whose message starts with the file's path.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from inferwatch_collector.evaluate.durations import parse_duration

VISUALIZATIONS = ("timeseries", "table", "stat", "bar", "heatmap")
PAGES = ("overview", "model", "alerts", "window", "none")

# Raw tables: a report reading one of them must bound its time range (``max_range``), so that
# no page scans raw rows over a long range; the others are small (evaluations, alerts).
RAW_TABLES = ("ml_predictions", "ml_labels", "ml_outcomes", "otel_traces", "otel_logs")
DEFAULT_RAW_RANGE = timedelta(days=1)

_PLACEHOLDER = re.compile(r"\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([^{}]+?)\s*\}")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_TABLE_REF = re.compile(r"\b(?:FROM|JOIN)\s+(?:\w+\.)?(\w+)", re.IGNORECASE)
_HEADER_KEYS = {
    "query",
    "title",
    "description",
    "page",
    "order",
    "visualization",
    "params",
    "x",
    "y",
    "value",
    "series",
    "low",
    "high",
    "threshold",
    "unit",
    "max_range",
    "link",
}
_PARAM_KEYS = {"type", "default", "description"}
_COLUMN_KEYS = ("x", "y", "value", "series", "low", "high")


class DefinitionError(ValueError):
    """A report definition is wrong; the message starts with its file's path."""


@dataclass(frozen=True)
class Parameter:
    """One typed parameter: ``{name:Type}`` in the SQL, with a default."""

    name: str
    type: str
    """The ClickHouse type, exactly as written in the placeholders."""
    default: Any = None
    """``None``: required. Times may be relative: ``now``, ``now-7d``."""
    description: str = ""

    @property
    def is_time(self) -> bool:
        return self.type.startswith(("DateTime", "Date"))


@dataclass(frozen=True)
class ReportDefinition:
    """One report: its query, parameters and how to show its rows."""

    name: str
    """The file's stem: ``model_metrics`` for ``model_metrics.sql``."""
    path: str
    title: str
    sql: str
    visualization: str
    parameters: tuple[Parameter, ...]
    description: str = ""
    page: str = "none"
    """Where the web dashboard shows it: ``overview``, ``model``, ``alerts``, ``window``."""
    order: int = 100
    columns: Mapping[str, str] = field(default_factory=dict)
    """Which result column plays which part: ``x``, ``y``, ``value``, ``series``, ``low``,
    ``high`` (defaults in ``docs/reports.md``)."""
    threshold: str | float | None = None
    """Overlay: a number, a parameter's name, or ``rules`` (the alert rules' thresholds)."""
    unit: str = ""
    link: str = ""
    """A column whose rows link to a window's report (``window_start``)."""
    tables: tuple[str, ...] = ()
    max_range: timedelta | None = None
    """Longest ``to - from`` accepted (reports on raw tables: 1 day unless set)."""

    def parameter(self, name: str) -> Parameter:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        known = ", ".join(p.name for p in self.parameters) or "none"
        raise KeyError(f"report {self.name!r} has no parameter {name!r} (it has: {known})")

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    @property
    def reads_raw_rows(self) -> bool:
        return any(table in RAW_TABLES for table in self.tables)


def builtin_folder() -> Path:
    """The definitions shipped with the package: ``inferwatch_collector/dashboards`` is a link
    to the repository's ``dashboards/``, copied into the wheel as package data."""
    return (Path(__file__).parent.parent / "dashboards").resolve()


def load_definitions(
    extra_folder: str | os.PathLike[str] | None = None,
) -> dict[str, ReportDefinition]:
    """The built-in definitions, then those of ``extra_folder`` (same name: replaced).

    Ordered by page, ``order``, then name.
    """
    found = {d.name: d for d in load_folder(builtin_folder())}
    if extra_folder:
        folder = Path(extra_folder)
        if not folder.is_dir():
            raise DefinitionError(f"{folder}: not a folder of report definitions")
        found.update((d.name, d) for d in load_folder(folder))
    ordered = sorted(found.values(), key=lambda d: (PAGES.index(d.page), d.order, d.name))
    return {d.name: d for d in ordered}


def load_folder(folder: str | os.PathLike[str]) -> list[ReportDefinition]:
    """Every ``*.sql`` definition of ``folder``, in name order."""
    return [load_definition(path) for path in sorted(Path(folder).glob("*.sql"))]


def load_definition(path: str | os.PathLike[str]) -> ReportDefinition:
    """Read and check one definition file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError(f"{path}: cannot read: {exc}") from exc
    return parse_definition(text, str(path))


def parse_definition(text: str, path: str) -> ReportDefinition:
    """Check ``text`` (the content of ``path``) and return its definition."""
    header_text, sql = _split_header(text)
    name = Path(path).stem
    if not _NAME.match(name):
        raise DefinitionError(f"{path}: the file name must be lower_snake_case.sql")
    header = _load_header(header_text, path)
    sql = sql.strip().rstrip(";").strip()
    if "query" in header:
        if sql:
            raise DefinitionError(f"{path}: 'query' reuses another file's SQL: remove this SQL")
        header, sql = _inherit(header, path)
    if not sql:
        raise DefinitionError(f"{path}: no SQL after the header")
    parameters = _parameters(header.get("params") or {}, path)
    _check_placeholders(sql, parameters, path)
    tables = tuple(dict.fromkeys(m.lower() for m in _TABLE_REF.findall(_strip_comments(sql))))
    definition = ReportDefinition(
        name=name,
        path=path,
        title=_text(header, "title", path, required=True),
        description=_text(header, "description", path),
        sql=sql,
        visualization=_choice(header, "visualization", VISUALIZATIONS, path),
        parameters=parameters,
        page=_choice(header, "page", PAGES, path, default="none"),
        order=_integer(header, "order", path),
        columns={k: _text(header, k, path) for k in _COLUMN_KEYS if k in header},
        threshold=_threshold(header, parameters, path),
        unit=_text(header, "unit", path),
        link=_text(header, "link", path),
        tables=tables,
        max_range=_max_range(header, tables, path),
    )
    if definition.max_range is not None:
        for bound in ("from", "to"):
            if bound not in definition.parameter_names:
                raise DefinitionError(
                    f"{path}: reads raw rows ({', '.join(tables)}), so it needs "
                    f"'from' and 'to' parameters to bound its range"
                )
    return definition


# --- header ---------------------------------------------------------------------------------


def _split_header(text: str) -> tuple[str, str]:
    lines = text.splitlines()
    header: list[str] = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped.startswith("--"):
            return "\n".join(header), "\n".join(lines[index:])
        body = stripped[2:]
        header.append(body[1:] if body.startswith(" ") else body)
    return "\n".join(header), ""


def _load_header(text: str, path: str) -> dict[str, Any]:
    try:
        header = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError as exc:
        raise DefinitionError(f"{path}: the header is not valid YAML: {exc}") from exc
    if not isinstance(header, dict):
        raise DefinitionError(f"{path}: no header: start the file with '-- title: …' lines")
    unknown = sorted(set(header) - _HEADER_KEYS, key=str)
    if unknown:
        raise DefinitionError(
            f"{path}: unknown header key {unknown[0]!r} (known: {', '.join(sorted(_HEADER_KEYS))})"
        )
    return header


def _inherit(header: dict[str, Any], path: str) -> tuple[dict[str, Any], str]:
    """The header and SQL of a file that says ``query: <name>``: ``<name>.sql`` (beside it,
    else built in) gives the SQL and every header key this file does not set; a parameter this
    file names takes its keys over the base's (``metrics: {default: [psi]}``)."""
    base_name = header["query"]
    if not isinstance(base_name, str) or not _NAME.match(base_name):
        raise DefinitionError(f"{path}: 'query' must name another definition, got {base_name!r}")
    candidates = (Path(path).parent / f"{base_name}.sql", builtin_folder() / f"{base_name}.sql")
    base_path = next((c for c in candidates if c.is_file()), None)
    if base_path is None:
        raise DefinitionError(f"{path}: 'query: {base_name}' names no definition file")
    base_header_text, base_sql = _split_header(base_path.read_text(encoding="utf-8"))
    base = _load_header(base_header_text, str(base_path))
    if "query" in base:
        raise DefinitionError(f"{path}: {base_path.name} reuses a query itself: name its base")
    merged_params = dict(base.get("params") or {})
    for name, spec in (header.get("params") or {}).items():
        known = merged_params.get(name)
        if isinstance(known, str):
            known = {"type": known}
        merged_params[name] = {**(known or {}), **spec} if isinstance(spec, dict) else spec
    own = {k: v for k, v in header.items() if k not in ("query", "params")}
    return {**base, **own, "params": merged_params}, base_sql.strip().rstrip(";").strip()


def _text(header: Mapping[str, Any], key: str, path: str, required: bool = False) -> str:
    value = header.get(key)
    if value is None:
        if required:
            raise DefinitionError(f"{path}: the header needs '{key}'")
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise DefinitionError(f"{path}: '{key}' must be text, got {value!r}")
    return value.strip()


def _choice(
    header: Mapping[str, Any], key: str, choices: Iterable[str], path: str, default: str = ""
) -> str:
    value = header.get(key, default or None)
    if value not in tuple(choices):
        raise DefinitionError(f"{path}: '{key}' must be one of {', '.join(choices)}, got {value!r}")
    return str(value)


def _integer(header: Mapping[str, Any], key: str, path: str) -> int:
    value = header.get(key, 100)
    if not isinstance(value, int) or isinstance(value, bool):
        raise DefinitionError(f"{path}: '{key}' must be a whole number, got {value!r}")
    return value


def _parameters(raw: Any, path: str) -> tuple[Parameter, ...]:
    if not isinstance(raw, dict):
        raise DefinitionError(f"{path}: 'params' must map names to {{type: …, default: …}}")
    parameters = []
    for name, spec in raw.items():
        where = f"{path}: params.{name}"
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise DefinitionError(f"{where}: not a parameter name")
        if isinstance(spec, str):
            spec = {"type": spec}
        if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
            raise DefinitionError(f"{where}: expected {{type: ClickHouse type, default: …}}")
        unknown = sorted(set(spec) - _PARAM_KEYS)
        if unknown:
            raise DefinitionError(f"{where}: unknown key {unknown[0]!r}")
        parameters.append(
            Parameter(
                name,
                _normal_type(spec["type"]),
                spec.get("default"),
                str(spec.get("description") or ""),
            )
        )
    return tuple(parameters)


def _threshold(
    header: Mapping[str, Any], parameters: tuple[Parameter, ...], path: str
) -> str | float | None:
    value = header.get("threshold")
    if value is None or value == "rules":
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and value in {p.name for p in parameters}:
        return value
    raise DefinitionError(
        f"{path}: 'threshold' must be a number, 'rules' or a parameter's name, got {value!r}"
    )


def _max_range(header: Mapping[str, Any], tables: tuple[str, ...], path: str) -> timedelta | None:
    value = header.get("max_range")
    if value is None:
        return DEFAULT_RAW_RANGE if any(t in RAW_TABLES for t in tables) else None
    try:
        return parse_duration(str(value))
    except ValueError as exc:
        raise DefinitionError(f"{path}: max_range: {exc}") from exc


# --- placeholders ---------------------------------------------------------------------------


def _normal_type(text: str) -> str:
    """``DateTime64(3,'UTC')`` and ``DateTime64(3, 'UTC')`` are one type."""
    return re.sub(r"\s*,\s*", ", ", text.strip())


def _strip_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", sql)


def placeholders(sql: str) -> list[tuple[str, str]]:
    """The ``(name, type)`` of every ``{name:Type}`` placeholder of ``sql``, in order."""
    return [(m[1], _normal_type(m[2])) for m in _PLACEHOLDER.finditer(_strip_comments(sql))]


def _check_placeholders(sql: str, parameters: tuple[Parameter, ...], path: str) -> None:
    declared = {p.name: p.type for p in parameters}
    used = set()
    for name, type_ in placeholders(sql):
        if name not in declared:
            raise DefinitionError(
                f"{path}: the SQL uses {{{name}:{type_}}} but 'params' does not declare "
                f"{name!r} (declared: {', '.join(declared) or 'none'})"
            )
        if declared[name] != type_:
            raise DefinitionError(
                f"{path}: {{{name}:{type_}}} does not match the declared type {declared[name]}"
            )
        used.add(name)
    unused = [name for name in declared if name not in used]
    if unused:
        raise DefinitionError(f"{path}: parameter {unused[0]!r} is declared but not used")
