"""Collector settings: flag > environment > file > default, and one clear line per mistake."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from service_process import INFERWATCH, clean_environ

from inferwatch_collector.config import (
    SETTING_NAMES,
    CollectorSettings,
    ConfigError,
    env_name,
    flag_name,
    load_settings,
)


@pytest.fixture(autouse=True)
def no_machine_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No INFERWATCH_* variable of the machine leaks into a test."""
    for name in [name for name in os.environ if name.startswith("INFERWATCH_")]:
        monkeypatch.delenv(name)
    yield


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "inferwatch.yaml"
    path.write_text(text)
    return path


# One value per setting, as text (flag, environment) and as YAML, and what it becomes.
EXAMPLES: dict[str, tuple[str, Any]] = {
    "dsn": ("http://writer@clickhouse:8123/iw", "http://writer@clickhouse:8123/iw"),
    "data_dir": ("/var/lib/inferwatch", "/var/lib/inferwatch"),
    "host": ("0.0.0.0", "0.0.0.0"),
    "otlp_grpc_port": ("14317", 14317),
    "otlp_http_port": ("14318", 14318),
    "http_port": ("18080", 18080),
    "dashboards_dir": ("/srv/reports", "/srv/reports"),
    "max_body_bytes": ("1048576", 1048576),
    "retention_days": ("90", 90),
    "batch_max_records": ("5000", 5000),
    "batch_max_bytes": ("1000000", 1000000),
    "batch_interval": ("0.5", 0.5),
    "queue_max_bytes": ("2000000", 2000000),
    "wal_fsync": ("false", False),
    "decode_batch_spans": ("true", "true"),
    "retry_initial": ("0.25", 0.25),
    "retry_max": ("60", 60.0),
    "log_level": ("DEBUG", "DEBUG"),
}


def test_every_setting_has_an_example() -> None:
    assert set(EXAMPLES) == set(SETTING_NAMES)


def test_nothing_given_means_the_documented_defaults() -> None:
    settings = load_settings({}, None, {})
    assert settings == CollectorSettings()
    assert (settings.otlp_grpc_port, settings.otlp_http_port) == (4317, 4318)
    assert (settings.host, settings.data_dir) == ("127.0.0.1", "./.inferwatch")
    assert settings.store_dsn == f"chdb://{(Path('.inferwatch') / 'store').resolve()}"


@pytest.mark.parametrize("name", SETTING_NAMES)
def test_each_setting_is_read_from_flag_environment_and_file(name: str, tmp_path: Path) -> None:
    text, expected = EXAMPLES[name]
    from_file = config_file(tmp_path, f"collector:\n  {name}: {text}\n")
    assert getattr(load_settings({name: text}, None, {}), name) == expected
    assert getattr(load_settings({}, None, {env_name(name): text}), name) == expected
    assert getattr(load_settings({}, from_file, {}), name) == expected


@pytest.mark.parametrize(
    ("flag", "env", "in_file", "expected"),
    [
        ("3000", "2000", True, 3000),
        (None, "2000", True, 2000),
        (None, None, True, 1000),
        (None, None, False, 4318),
        ("3000", None, True, 3000),
    ],
    ids=["flag-wins", "env-beats-file", "file-beats-default", "default", "flag-beats-file"],
)
def test_flag_beats_environment_beats_file_beats_default(
    tmp_path: Path, flag: str | None, env: str | None, in_file: bool, expected: int
) -> None:
    path = config_file(tmp_path, "collector:\n  otlp_http_port: 1000\n") if in_file else None
    environ = {"INFERWATCH_OTLP_HTTP_PORT": env} if env is not None else {}
    settings = load_settings({"otlp_http_port": flag}, path, environ)
    assert settings.otlp_http_port == expected


def test_sources_mix_setting_by_setting(tmp_path: Path) -> None:
    path = config_file(tmp_path, "collector:\n  host: 0.0.0.0\n  otlp_grpc_port: 1\n")
    settings = load_settings({"otlp_grpc_port": "2"}, path, {"INFERWATCH_LOG_LEVEL": "ERROR"})
    assert (settings.host, settings.otlp_grpc_port, settings.log_level) == ("0.0.0.0", 2, "ERROR")


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("otlp_http_port", "banana"),
        ("otlp_grpc_port", "70000"),
        ("http_port", "-1"),
        ("queue_max_bytes", "0"),
        ("batch_max_records", "1.5"),
        ("batch_interval", "nan"),
        ("retry_initial", "-1"),
        ("retention_days", "0"),
        ("wal_fsync", "maybe"),
        ("log_level", "LOUD"),
        ("dsn", "mysql://db/iw"),
        ("decode_batch_spans", "predictions"),
    ],
)
def test_a_bad_value_names_the_setting_where_it_was_given(
    tmp_path: Path, name: str, bad: str
) -> None:
    with pytest.raises(ConfigError, match=f"^{flag_name(name)}: "):
        load_settings({name: bad}, None, {})
    with pytest.raises(ConfigError, match=f"^{env_name(name)}: "):
        load_settings({}, None, {env_name(name): bad})
    path = config_file(tmp_path, f"# settings\ncollector:\n  host: localhost\n  {name}: {bad}\n")
    with pytest.raises(ConfigError, match=f"^{path}:4: collector.{name}: "):
        load_settings({}, path, {})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("auto", "auto"),
        ("Auto", "auto"),
        ("spans", "spans"),
        ("SPANS", "spans"),
        ("yes", "true"),
        ("off", "false"),
        ("false", "false"),
    ],
)
def test_decode_batch_spans_takes_auto_spans_or_a_boolean(
    tmp_path: Path, text: str, expected: str
) -> None:
    assert CollectorSettings().decode_batch_spans == "auto"
    assert load_settings({"decode_batch_spans": text}, None, {}).decode_batch_spans == expected
    path = config_file(tmp_path, f"collector:\n  decode_batch_spans: {text}\n")
    assert load_settings({}, path, {}).decode_batch_spans == expected  # YAML booleans too


def test_a_bad_decode_batch_spans_names_the_values_it_takes() -> None:
    expected = "^--decode-batch-spans: expected auto, false, spans or true, got 'all'$"
    with pytest.raises(ConfigError, match=expected):
        load_settings({"decode_batch_spans": "all"}, None, {})


def test_a_retry_max_below_retry_initial_is_refused() -> None:
    with pytest.raises(ConfigError, match="^--retry-max: must be at least retry_initial"):
        load_settings({"retry_initial": "5", "retry_max": "1"}, None, {})


def test_an_unknown_key_in_the_file_is_an_error_with_file_and_line(tmp_path: Path) -> None:
    path = config_file(tmp_path, "collector:\n  host: localhost\n  otlp_port: 4318\n")
    with pytest.raises(ConfigError, match=f"^{path}:3: collector.otlp_port: unknown setting$"):
        load_settings({}, path, {})


def test_a_key_without_a_value_is_an_error_with_file_and_line(tmp_path: Path) -> None:
    path = config_file(tmp_path, "collector:\n  otlp_http_port:\n")
    with pytest.raises(ConfigError, match=f"^{path}:2: collector.otlp_http_port: .*no value"):
        load_settings({}, path, {})


def test_a_collector_section_left_empty_means_defaults(tmp_path: Path) -> None:
    path = config_file(tmp_path, "collector:\n  # otlp_http_port: 4318\nevaluator: {}\n")
    assert load_settings({}, path, {}) == CollectorSettings()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("collector: [1, 2]\n", ":1: 'collector' must be a mapping"),
        ("- just\n- a list\n", ": the top level must be a mapping"),
        ("collector:\n  host: [unclosed\n", ": not valid YAML"),
    ],
)
def test_a_malformed_file_is_an_error_naming_it(tmp_path: Path, text: str, message: str) -> None:
    path = config_file(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_settings({}, path, {})
    assert str(error.value).startswith(str(path))
    assert message in str(error.value)


def test_a_missing_file_is_an_error_naming_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="^--config: cannot read .*missing.yaml"):
        load_settings({}, tmp_path / "missing.yaml", {})


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(INFERWATCH), *args],
        env={**clean_environ(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_with_a_bad_flag_exits_2_with_one_line_naming_it() -> None:
    done = run_cli("serve", "--otlp-http-port", "banana")
    assert done.returncode == 2
    assert done.stderr == "inferwatch: --otlp-http-port: expected int, got 'banana'\n"
    assert done.stdout == ""


def test_serve_with_a_bad_environment_variable_exits_2_naming_it() -> None:
    done = run_cli("serve", env={"INFERWATCH_QUEUE_MAX_BYTES": "-5"})
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "inferwatch: INFERWATCH_QUEUE_MAX_BYTES: must be positive, got -5"
    ]


def test_collector_with_a_bad_file_value_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    path = config_file(tmp_path, "collector:\n  batch_interval: soon\n")
    done = run_cli("collector", "--config", str(path))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"inferwatch: {path}:2: collector.batch_interval: expected float, got 'soon'"
    ]


def test_an_unusable_dsn_exits_2_with_one_line_naming_dsn(tmp_path: Path) -> None:
    done = run_cli("migrate", "--dsn", "chdb://relative/folder", "--data-dir", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "inferwatch: --dsn: invalid DSN 'chdb://relative/folder': "
        "an embedded store is chdb:///absolute/path/to/folder"
    ]
