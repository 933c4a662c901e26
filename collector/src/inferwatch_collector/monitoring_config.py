"""The monitoring sections of the YAML config file: ``evaluation``, ``models``, ``alerting``,
``rules`` and ``notifiers`` (``collector`` is read by ``config.py``). ``docs/alerts.md`` is
the reference, with a complete example.

>>> config = load_monitoring_config("inferwatch.yaml")
>>> config.settings.evaluation.windows, [rule.name for rule in config.rules]
(('1h',), ['fraud-f1-low'])

Everything is checked when the file is loaded: an unknown key, a wrong type or a bad value is a
``ConfigError`` naming the file, the line and the key, e.g.
``inferwatch.yaml:14: rules[0].for: expected a whole number ≥ 1, got 'three'``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from inferwatch_collector.alert.notifiers import (
    AlertmanagerConfig,
    LogConfig,
    NotifierConfig,
    RetryPolicy,
    WebhookConfig,
)
from inferwatch_collector.alert.rules import OPS, AutoThreshold, Rule, annotation_problem
from inferwatch_collector.alert.states import AlertState
from inferwatch_collector.config import ConfigError
from inferwatch_collector.evaluate.durations import parse_duration
from inferwatch_collector.evaluate.settings import (
    EvaluationSettings,
    ModelSettings,
    MonitoringSettings,
)

SECTIONS = ("collector", "evaluation", "models", "alerting", "rules", "notifiers")
TASKS = ("binary_classification", "multiclass_classification", "regression")


@dataclass(frozen=True)
class AlertingSettings:
    """The ``alerting:`` section."""

    dashboard_url: str = "http://127.0.0.1:8080"
    """Base of the links to a window's report (Alertmanager's ``generatorURL``)."""
    repeat_interval: timedelta = timedelta(hours=4)
    """Default for notifiers: a firing alert is sent again this often."""


@dataclass(frozen=True)
class MonitoringConfig:
    """Everything the evaluator and the alerting read from the config file."""

    settings: MonitoringSettings = field(default_factory=MonitoringSettings)
    alerting: AlertingSettings = field(default_factory=AlertingSettings)
    rules: tuple[Rule, ...] = ()
    notifiers: tuple[NotifierConfig, ...] = (LogConfig(),)
    """Without a ``notifiers:`` section, alerts go to the log."""

    def rule(self, name: str) -> Rule:
        """The rule called ``name`` (``KeyError`` listing the known names)."""
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise KeyError(f"no rule {name!r}; the rules are: {[r.name for r in self.rules]}")


def load_monitoring_config(path: str | os.PathLike[str] | None) -> MonitoringConfig:
    """Load and check the monitoring sections of ``path`` (``None``: the defaults)."""
    if path is None:
        return MonitoringConfig()
    sections = _File(path).sections()
    evaluation = _evaluation(sections.get("evaluation"))
    models = _models(sections.get("models"))
    alerting = _alerting(sections.get("alerting"))
    rules = _rules(sections.get("rules"), evaluation)
    notifiers = _notifiers(sections.get("notifiers"), alerting)
    settings = MonitoringSettings(evaluation=evaluation, models=models)
    return MonitoringConfig(settings, alerting, rules, notifiers or (LogConfig(),))


# --- reading nodes -------------------------------------------------------------------------

Convert = Callable[["_At"], Any]


@dataclass(frozen=True)
class _At:
    """One value node and its place: ``file:line: dotted.key`` (the line of the key)."""

    node: yaml.Node
    path: str
    key: str
    line: int

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}: {self.key}"

    def fail(self, problem: str) -> ConfigError:
        return ConfigError(f"{self.where}: {problem}")

    def value(self) -> Any:
        return yaml.SafeLoader("").construct_object(self.node, deep=True)

    def child(self, node: yaml.Node, key: str, at: yaml.Node | None = None) -> _At:
        return _At(node, self.path, key, (at or node).start_mark.line + 1)


class _File:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)

    def sections(self) -> dict[str, _At]:
        try:
            root = yaml.compose(Path(self.path).read_text())
        except OSError as exc:
            raise ConfigError(f"--config: cannot read {self.path}: {exc.strerror}") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"{self.path}: not valid YAML: {exc}") from exc
        if root is None:
            return {}
        items = _items(_At(root, self.path, "(top level)", 1), "")
        for name, at in items.items():
            if name not in SECTIONS:
                raise at.fail(f"unknown section (expected one of: {', '.join(SECTIONS)})")
        return {name: at for name, at in items.items() if not _is_null(at.node)}


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null")


def _items(at: _At, prefix: str) -> dict[str, _At]:
    """The entries of a mapping node, each located; keys must be unique strings."""
    if not isinstance(at.node, yaml.MappingNode):
        raise at.fail("expected a mapping")
    items: dict[str, _At] = {}
    for key_node, value_node in at.node.value:
        key = str(key_node.value)
        child = at.child(value_node, f"{prefix}{key}", at=key_node)
        if key in items:
            raise child.fail("duplicate key")
        items[key] = child
    return items


def _fields(at: _At, prefix: str, schema: Mapping[str, Convert]) -> dict[str, Any]:
    """Convert each entry of a mapping with its schema; an unknown key is an error."""
    values = {}
    for key, child in _items(at, prefix).items():
        if key not in schema:
            raise child.fail(f"unknown key (expected one of: {', '.join(schema)})")
        values[key] = schema[key](child)
    return values


def _require(at: _At, values: Mapping[str, Any], *keys: str) -> None:
    for key in keys:
        if key not in values:
            raise at.fail(f"missing key '{key}'")


def _sequence(at: _At) -> list[_At]:
    if not isinstance(at.node, yaml.SequenceNode):
        raise at.fail("expected a list")
    return [at.child(node, f"{at.key}[{index}]") for index, node in enumerate(at.node.value)]


# --- converters ----------------------------------------------------------------------------


def _text(at: _At) -> str:
    # The text as written: `version: 3.10` is "3.10", not the float 3.1.
    if not isinstance(at.node, yaml.ScalarNode) or _is_null(at.node):
        raise at.fail("expected a text value")
    return str(at.node.value)


def _int(minimum: int) -> Convert:
    def convert(at: _At) -> int:
        value = at.value()
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise at.fail(f"expected a whole number ≥ {minimum}, got {value!r}")
        return value

    return convert


def _number(low: float, high: float, *, open_low: bool = False) -> Convert:
    def convert(at: _At) -> float:
        value = at.value()
        valid = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not valid or not (low < value if open_low else low <= value) or not value <= high:
            bounds = f"{'(' if open_low else '['}{low:g}, {high:g}]"
            raise at.fail(f"expected a number in {bounds}, got {value!r}")
        return float(value)

    return convert


def _duration(at: _At) -> str:
    text = _text(at)
    try:
        parse_duration(text)
    except ValueError as exc:
        raise at.fail(f"expected a duration such as 5m, 1h or 7d, got {text!r}") from exc
    return text


def _timedelta(at: _At) -> timedelta:
    duration: timedelta = parse_duration(_duration(at))
    return duration


def _choice(*choices: str) -> Convert:
    def convert(at: _At) -> str:
        text = _text(at)
        if text not in choices:
            raise at.fail(f"expected one of {', '.join(choices)}, got {text!r}")
        return text

    return convert


def _list_of(convert: Convert) -> Convert:
    return lambda at: tuple(convert(item) for item in _sequence(at))


def _text_map(at: _At) -> dict[str, str]:
    return {key: _text(child) for key, child in _items(at, f"{at.key}.").items()}


def _url(at: _At) -> str:
    text = _text(at)
    if not text.startswith(("http://", "https://")):
        raise at.fail(f"expected an http:// or https:// URL, got {text!r}")
    return text


# --- sections ------------------------------------------------------------------------------

_POSITIVE = _int(1)
_COUNT = _int(0)
_EVALUATION: dict[str, Convert] = {
    "windows": _list_of(_duration),
    "label_horizon": _duration,
    "schedule": _duration,
    "drift_reference": _duration,
    "drift_bins": _int(2),
    "segment_top_k": _COUNT,
    "segment_min_support": _COUNT,
    "confidence": _number(0, 1, open_low=True),
    "bootstrap_samples": _POSITIVE,
}


def _evaluation(at: _At | None) -> EvaluationSettings:
    if at is None:
        return EvaluationSettings()
    values = _fields(at, "evaluation.", _EVALUATION)
    if "windows" in values and not values["windows"]:
        raise at.fail("evaluation.windows: expected at least one window size")
    return EvaluationSettings(**values)


_MODEL: dict[str, Convert] = {
    "task": _choice(*TASKS),
    "positive_label": _text,
    "classes": _list_of(_text),
}


def _models(at: _At | None) -> tuple[ModelSettings, ...]:
    if at is None:
        return ()
    models = []
    for name, child in _items(at, "models.").items():
        fields = {} if _is_null(child.node) else _fields(child, f"{child.key}.", _MODEL)
        models.append(ModelSettings(name=name, **fields))
    return tuple(models)


def _alerting(at: _At | None) -> AlertingSettings:
    if at is None:
        return AlertingSettings()
    schema = {"dashboard_url": _url, "repeat_interval": _timedelta}
    return AlertingSettings(**_fields(at, "alerting.", schema))


def _threshold(at: _At) -> float | str:
    value = at.value()
    if value == "auto":
        return "auto"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise at.fail(f"expected a number or 'auto', got {value!r}")
    return float(value)


def _annotation(at: _At) -> str:
    text = _text(at)
    problem = annotation_problem(text)
    if problem:
        raise at.fail(problem)
    return text


def _auto(at: _At) -> AutoThreshold:
    schema = {
        "method": _choice("sigma", "quantile"),
        "k": _number(0, 100),
        "quantile": _number(0, 0.5),
        "reference": _duration,
        "min_windows": _int(2),
    }
    return AutoThreshold(**_fields(at, f"{at.key}.", schema))


_RULE: dict[str, Convert] = {
    "name": _text,
    "model": _text,
    "version": _text,
    "segment": _text,
    "metric": _text,
    "window": _duration,
    "op": _choice(*OPS),
    "threshold": _threshold,
    "for": _POSITIVE,
    "min_samples": _COUNT,
    "min_label_coverage": _number(0, 1),
    "severity": _text,
    "labels": _text_map,
    "annotation": _annotation,
    "confidence": _number(0, 1, open_low=True),
    "auto": _auto,
}


def _rules(at: _At | None, evaluation: EvaluationSettings) -> tuple[Rule, ...]:
    if at is None:
        return ()
    rules: dict[str, Rule] = {}
    for item in _sequence(at):
        rule = _rule(item, evaluation)
        if rule.name in rules:
            raise item.fail(f"a second rule named {rule.name!r}")
        rules[rule.name] = rule
    return tuple(rules.values())


def _rule(at: _At, evaluation: EvaluationSettings) -> Rule:
    values = _fields(at, f"{at.key}.", _RULE)
    _require(at, values, "name", "model", "metric", "window", "op", "threshold")
    items = _items(at, f"{at.key}.")
    if values["window"] not in evaluation.windows:
        known = ", ".join(evaluation.windows)
        raise items["window"].fail(
            f"not one of the evaluated windows (evaluation.windows: {known})"
        )
    values["for_windows"] = values.pop("for", 1)
    span = parse_duration(values["window"]) * values["for_windows"]
    if span > parse_duration(evaluation.label_horizon):
        problem = f"{values['for_windows']} × {values['window']} exceeds the label horizon"
        raise items.get("for", at).fail(f"{problem} ({evaluation.label_horizon})")
    return Rule(**values)


def _policy(values: dict[str, Any]) -> RetryPolicy:
    keys = ("timeout", "retries", "backoff", "headers")
    return RetryPolicy(**{key: values.pop(key) for key in keys if key in values})


_HTTP: dict[str, Convert] = {
    "type": _text,
    "name": _text,
    "url": _url,
    "timeout": _number(0, 600, open_low=True),
    "retries": _COUNT,
    "backoff": _number(0, 60),
    "headers": _text_map,
}
_NOTIFIERS: dict[str, dict[str, Convert]] = {
    "log": {"type": _text, "name": _text, "repeat_interval": _timedelta},
    "webhook": {
        **_HTTP,
        "states": _list_of(_choice(*(state.value for state in AlertState))),
        "repeat_interval": _timedelta,
    },
    "alertmanager": {**_HTTP, "expire_after": _timedelta},
}


def _notifiers(at: _At | None, alerting: AlertingSettings) -> tuple[NotifierConfig, ...]:
    if at is None:
        return ()
    configs: dict[str, NotifierConfig] = {}
    for item in _sequence(at):
        config = _notifier(item, alerting)
        if config.name in configs:
            raise item.fail(f"a second notifier named {config.name!r}: give each a 'name'")
        configs[config.name] = config
    return tuple(configs.values())


def _notifier(at: _At, alerting: AlertingSettings) -> NotifierConfig:
    items = _items(at, f"{at.key}.")
    if "type" not in items:
        raise at.fail("missing key 'type' (log, webhook or alertmanager)")
    kind = _choice(*_NOTIFIERS)(items["type"])
    values = _fields(at, f"{at.key}.", _NOTIFIERS[kind])
    values.pop("type")
    if kind == "log":
        return LogConfig(**values)
    _require(at, values, "url")
    policy = _policy(values)
    if kind == "webhook":
        values.setdefault("repeat_interval", alerting.repeat_interval)
        return WebhookConfig(policy=policy, **values)
    return AlertmanagerConfig(policy=policy, **values)
