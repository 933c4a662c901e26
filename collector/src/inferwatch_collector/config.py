"""Collector settings: defaults < config file < environment < command-line flags.

Every setting is one field of ``CollectorSettings`` with one environment variable
(``INFERWATCH_<NAME>``) and one flag (``--name-with-dashes``); ``docs/configuration.md`` is
the reference. Settings are loaded once, validated at start-up, and passed to the
components as this one object — nothing else reads ``os.environ``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from .store.client import default_dsn
from .store.retention import MAX_TTL_DAYS

ENV_PREFIX = "INFERWATCH_"


class ConfigError(ValueError):
    """A setting is wrong; the message names the setting (and the file and line if any)."""


@dataclass(frozen=True)
class CollectorSettings:
    """Everything the collector service is told. Sizes in bytes, times in seconds."""

    dsn: str = ""
    """ClickHouse DSN; empty means embedded chDB under ``data_dir``."""
    data_dir: str = "./.inferwatch"
    host: str = "127.0.0.1"
    otlp_grpc_port: int = 4317
    otlp_http_port: int = 4318
    http_port: int = 8080
    """The web dashboard and its JSON API (``inferwatch serve``; 0 picks a free port)."""
    dashboards_dir: str = ""
    """A folder of extra report definitions (``*.sql``), added to the built-in ones; a file
    named like a built-in one replaces it."""
    max_body_bytes: int = 20 * 1024 * 1024
    retention_days: int = 30
    batch_max_records: int = 1000
    batch_max_bytes: int = 32 * 1024 * 1024
    batch_interval: float = 0.2
    queue_max_bytes: int = 1024 * 1024 * 1024
    wal_fsync: bool = True
    decode_batch_spans: str = "auto"
    """Who converts trace requests holding batch spans, with the embedded chDB (one of
    ``BATCH_SPAN_DECODES``): ``auto``, as ``true`` unless a batch span carries per-prediction
    features (``ml.feature.*`` arrays, which only the Python converter stores), then as
    ``spans``; ``spans``, chDB their spans and the Python converter their predictions, at
    once (record kind 6); ``true``, chDB both (kind 5); ``false``, the Python converter both
    (kind 1). docs/performance.md, "Fourth round" and "Seventh round"."""
    retry_initial: float = 0.5
    retry_max: float = 30.0
    log_level: str = "INFO"

    @property
    def wal_dir(self) -> Path:
        return Path(self.data_dir) / "wal"

    @property
    def store_dsn(self) -> str:
        if self.dsn:
            return self.dsn
        return default_dsn(Path(self.data_dir).resolve())


SETTING_NAMES = tuple(field.name for field in fields(CollectorSettings))


def env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def load_settings(
    flags: Mapping[str, Any] | None = None,
    config_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> CollectorSettings:
    """Resolve every setting: flag, else environment variable, else config file, else default.

    Args:
        flags: values given on the command line (``None`` values mean "not given").
        config_file: a YAML file whose ``collector:`` section holds settings by name.
        environ: the environment (``os.environ`` when omitted).
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    if config_file is not None:
        values.update(read_config_section(config_file, "collector"))
    for name in SETTING_NAMES:
        if env_name(name) in environ:
            values[name] = _Sourced(environ[env_name(name)], env_name(name))
    for name, value in (flags or {}).items():
        if value is not None:
            values[name] = _Sourced(value, flag_name(name))
    return _build(values)


@dataclass(frozen=True)
class _Sourced:
    """A raw value and where it came from, for error messages."""

    value: Any
    source: str


def read_config_section(path: str | os.PathLike[str], section: str) -> dict[str, _Sourced]:
    """The settings of one top-level section of a YAML config file, each with its location."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigError(f"--config: cannot read {path}: {exc.strerror}") from exc
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if root is None:
        return {}
    if not isinstance(root, yaml.MappingNode):
        raise ConfigError(f"{path}: the top level must be a mapping of sections")
    for key_node, value_node in root.value:
        if key_node.value == section:
            return _section_values(path, section, value_node)
    return {}


def _section_values(path: Any, section: str, node: yaml.Node) -> dict[str, _Sourced]:
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
        return {}  # a section whose settings are all commented out
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"{path}:{node.start_mark.line + 1}: '{section}' must be a mapping")
    values = {}
    for key_node, value_node in node.value:
        where = f"{path}:{key_node.start_mark.line + 1}: {section}.{key_node.value}"
        if key_node.value not in SETTING_NAMES:
            raise ConfigError(f"{where}: unknown setting")
        value = yaml.SafeLoader("").construct_object(value_node, deep=True)
        values[key_node.value] = _Sourced(value, where)
    return values


BATCH_SPAN_DECODES = ("auto", "false", "spans", "true")
"""The values of ``decode_batch_spans``."""


def _to_batch_span_decode(raw: Any) -> str:
    text = str(raw).strip().lower()
    if text in ("auto", "spans"):
        return text
    return "true" if _to_bool(raw) else "false"


_CONVERTERS: dict[str, tuple[Callable[[Any], Any], str]] = {
    "decode_batch_spans": (
        _to_batch_span_decode,
        f"{', '.join(BATCH_SPAN_DECODES[:-1])} or {BATCH_SPAN_DECODES[-1]}",
    ),
}
"""Settings read by a converter of their own, and what they expect (for the error)."""


def _build(values: Mapping[str, Any]) -> CollectorSettings:
    converted: dict[str, Any] = {}
    for field in fields(CollectorSettings):
        if field.name in values:
            converted[field.name] = _convert(
                values[field.name], field.type, _CONVERTERS.get(field.name)
            )
    settings = CollectorSettings(**converted)
    _validate(settings, values)
    return settings


def _convert(
    sourced: _Sourced, type_name: Any, own: tuple[Callable[[Any], Any], str] | None = None
) -> Any:
    raw = sourced.value
    expected = type_name if own is None else own[1]
    if raw is None:  # "port:" with nothing after it in the file
        raise ConfigError(f"{sourced.source}: expected {expected}, got no value")
    try:
        if own is not None:
            return own[0](raw)
        if type_name == "bool":
            return _to_bool(raw)
        if type_name == "int":
            return _to_int(raw)
        if type_name == "float":
            return float(raw)
        return str(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{sourced.source}: expected {expected}, got {raw!r}") from exc


def _to_int(raw: Any) -> int:
    if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
        raise ValueError(raw)
    return int(raw)


def _to_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


_POSITIVE = ("max_body_bytes", "batch_max_records", "batch_max_bytes", "queue_max_bytes")
_PORTS = ("otlp_grpc_port", "otlp_http_port", "http_port")
_DURATIONS = ("batch_interval", "retry_initial", "retry_max")


def _validate(settings: CollectorSettings, values: Mapping[str, Any]) -> None:
    def fail(name: str, problem: str) -> None:
        source = values[name].source if name in values else name
        raise ConfigError(f"{source}: {problem}, got {getattr(settings, name)!r}")

    for name in _PORTS:
        if not 0 <= getattr(settings, name) <= 65535:
            fail(name, "expected a port number 0-65535")
    for name in _POSITIVE:
        if getattr(settings, name) <= 0:
            fail(name, "must be positive")
    if not 1 <= settings.retention_days <= MAX_TTL_DAYS:  # what the store's TTL accepts
        fail("retention_days", f"expected 1 to {MAX_TTL_DAYS} days")
    for name in _DURATIONS:
        if not 0 < getattr(settings, name) < math.inf:  # NaN fails too
            fail(name, "expected a positive number of seconds")
    if settings.retry_max < settings.retry_initial:
        fail("retry_max", f"must be at least retry_initial ({settings.retry_initial})")
    if settings.dsn and not settings.dsn.startswith(("chdb://", "http://", "https://")):
        fail("dsn", "expected chdb:///path, http://… or https://…")
    if settings.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        fail("log_level", "expected DEBUG, INFO, WARNING or ERROR")
