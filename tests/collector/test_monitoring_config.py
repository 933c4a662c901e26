"""The monitoring sections of the config file: a full example, and junk named by file:line:key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from inferwatch_collector.alert.notifiers import AlertmanagerConfig, LogConfig, WebhookConfig
from inferwatch_collector.config import ConfigError, load_settings
from inferwatch_collector.evaluate.settings import ModelSettings
from inferwatch_collector.monitoring_config import load_monitoring_config

EXAMPLE = """\
collector:
  otlp_http_port: 4318
evaluation:
  windows: [5m, 1h]
  label_horizon: 7d
  schedule: 1m
  confidence: 0.9
models:
  fraud:
    task: binary_classification
    positive_label: 1
  churn:
    task: multiclass_classification
    classes: [stay, leave, pause]
alerting:
  dashboard_url: http://dash.example:8080
  repeat_interval: 2h
rules:
  - name: fraud-f1-low
    model: fraud
    version: 3.10
    segment: region=eu
    metric: f1
    window: 1h
    op: "<"
    threshold: 0.8
    for: 3
    min_samples: 200
    min_label_coverage: 0.5
    severity: critical
    labels: {team: risk}
    annotation: "F1 of {model} fell to {value:.3f} (threshold {threshold})"
    confidence: 0.95
  - name: churn-accuracy-auto
    model: churn
    metric: accuracy
    window: 1h
    op: "<="
    threshold: auto
    auto: {method: quantile, quantile: 0.05, reference: 14d, min_windows: 48}
notifiers:
  - type: log
  - type: webhook
    name: ops
    url: https://hooks.example/alerts
    timeout: 2.5
    retries: 4
    backoff: 1
    headers: {Authorization: Bearer s3cret}
    states: [firing, resolved, no_data]
  - type: alertmanager
    url: http://127.0.0.1:9093
    expire_after: 30m
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "inferwatch.yaml"
    path.write_text(text)
    return path


def test_the_documented_example_loads(tmp_path: Path) -> None:
    config = load_monitoring_config(write(tmp_path, EXAMPLE))
    evaluation = config.settings.evaluation
    assert (evaluation.windows, evaluation.label_horizon, evaluation.confidence) == (
        ("5m", "1h"), "7d", 0.9,
    )  # fmt: skip
    assert config.settings.model("fraud").positive_label == "1"
    assert config.settings.model("churn") == ModelSettings(
        "churn", "multiclass_classification", "1", ("stay", "leave", "pause")
    )
    assert config.alerting.repeat_interval == timedelta(hours=2)
    f1 = config.rule("fraud-f1-low")
    assert (f1.version, f1.segment, f1.op, f1.threshold, f1.for_windows) == (
        "3.10", "region=eu", "<", 0.8, 3,
    )  # fmt: skip
    assert (f1.min_samples, f1.min_label_coverage, f1.confidence) == (200, 0.5, 0.95)
    assert dict(f1.labels) == {"team": "risk"}
    auto = config.rule("churn-accuracy-auto")
    assert auto.threshold == "auto" and auto.version is None and auto.segment == ""
    assert (auto.auto.method, auto.auto.quantile, auto.auto.min_windows) == ("quantile", 0.05, 48)
    log, hook, am = config.notifiers
    assert log == LogConfig()
    assert isinstance(hook, WebhookConfig) and hook.name == "ops"
    assert (hook.policy.timeout, hook.policy.retries, hook.policy.backoff) == (2.5, 4, 1.0)
    assert hook.policy.headers == {"Authorization": "Bearer s3cret"}
    assert hook.states == ("firing", "resolved", "no_data")
    assert hook.repeat_interval == timedelta(hours=2)  # from alerting
    assert isinstance(am, AlertmanagerConfig) and am.expire_after == timedelta(minutes=30)


def test_the_collector_section_stays_with_the_collector_loader(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE)
    assert load_settings(config_file=path, environ={}).otlp_http_port == 4318


def test_no_file_and_no_sections_give_the_defaults(tmp_path: Path) -> None:
    assert load_monitoring_config(None).notifiers == (LogConfig(),)
    empty = load_monitoring_config(write(tmp_path, "collector:\n  log_level: INFO\n"))
    assert empty.rules == () and empty.settings.evaluation.windows == ("1h",)


def replace_line(old: str, new: str) -> str:
    assert old in EXAMPLE
    return EXAMPLE.replace(old, new, 1)


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    ("old", "new", "key", "problem"),
    [
        ("    for: 3", "    for: three", "rules[0].for", "whole number ≥ 1, got 'three'"),
        ("    for: 3", "    fro: 3", "rules[0].fro", "unknown key"),
        ("    op: \"<\"", "    op: \"<>\"", "rules[0].op", "expected one of <, <=, >, >="),
        ("    threshold: 0.8", "    threshold: high", "rules[0].threshold", "number or 'auto'"),
        ("    for: 3", "    for: 500", "rules[0].for", "exceeds the label horizon (7d)"),
        ("    window: 1h\n    op: \"<\"", "    window: 1d\n    op: \"<\"", "rules[0].window",
         "not one of the evaluated windows"),
        ("    min_label_coverage: 0.5", "    min_label_coverage: 2", "rules[0].min_label_coverage",
         "expected a number in [0, 1]"),
        ("{value:.3f}", "{valeu:.3f}", "rules[0].annotation", "unknown field {valeu}"),
        ("  schedule: 1m", "  schedule: often", "evaluation.schedule", "expected a duration"),
        ("  confidence: 0.9", "  confidence: yes", "evaluation.confidence", "expected a number"),
        ("    positive_label: 1", "    positive: 1", "models.fraud.positive", "unknown key"),
        ("    task: binary_classification", "    task: ranking", "models.fraud.task",
         "expected one of"),
        ("    retries: 4", "    retries: -1", "notifiers[1].retries", "whole number ≥ 0"),
        ("    url: https://hooks.example/alerts", "    url: hooks.example", "notifiers[1].url",
         "expected an http:// or https:// URL"),
        ("    expire_after: 30m", "    resolve: 30m", "notifiers[2].resolve", "unknown key"),
        ("alerting:", "alerts:", "alerts", "unknown section"),
    ],
)  # fmt: skip
def test_junk_is_named_by_file_line_and_key(
    tmp_path: Path, old: str, new: str, key: str, problem: str
) -> None:
    text = replace_line(old, new)
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_monitoring_config(path)
    line = line_of(text, new.splitlines()[0])
    assert str(error.value).startswith(f"{path}:{line}: {key}: ")
    assert problem in str(error.value)


def test_missing_keys_are_named(tmp_path: Path) -> None:
    path = write(tmp_path, "rules:\n  - name: r\n    model: m\n")
    with pytest.raises(ConfigError, match=r"inferwatch.yaml:2: rules\[0\]: missing key 'metric'"):
        load_monitoring_config(path)
    path = write(tmp_path, "notifiers:\n  - type: webhook\n")
    with pytest.raises(ConfigError, match=r":2: notifiers\[0\]: missing key 'url'"):
        load_monitoring_config(path)


def test_two_notifiers_need_two_names(tmp_path: Path) -> None:
    text = "notifiers:\n  - type: log\n  - type: log\n"
    with pytest.raises(ConfigError, match=r":3: notifiers\[1\]: a second notifier named 'log'"):
        load_monitoring_config(write(tmp_path, text))


def test_a_wrong_shape_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r":1: rules: expected a list"):
        load_monitoring_config(write(tmp_path, "rules:\n  name: r\n"))
