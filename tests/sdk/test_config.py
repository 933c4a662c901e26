"""Configuration: resolution order, junk values named by key, and configure() in a fresh process."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from otlp_receiver import OtlpReceiver, run_python

from inferwatch._config import configure
from inferwatch._export_settings import (
    DEFAULT_EXPORT_INTERVAL,
    DEFAULT_TIMEOUT,
    ExportArguments,
    resolve_export,
)
from inferwatch._settings import SETTING_VARIABLES, Settings, load_settings

# --- recording settings ----------------------------------------------------------------------


def test_defaults_without_arguments_or_variables() -> None:
    assert load_settings({}) == Settings()


def test_variables_set_every_field() -> None:
    env = {
        "INFERWATCH_DISABLED": "1",
        "INFERWATCH_BATCHED": "TRUE",
        "INFERWATCH_BATCH_INTERVAL": "0.25",
        "INFERWATCH_BATCH_MAX_PREDICTIONS": "50",
        "INFERWATCH_BUFFER_SIZE": "200",
        "INFERWATCH_THRESHOLD": "0.7",
        "INFERWATCH_FEATURE_SAMPLE_RATE": "0.1",
        "INFERWATCH_MAX_FEATURE_ATTRIBUTES": "0",
        "INFERWATCH_MAX_ATTRIBUTE_LENGTH": "16",
    }
    assert set(env) == set(SETTING_VARIABLES.values())
    assert load_settings(env) == Settings(
        enabled=False,
        batched=True,
        batch_interval=0.25,
        batch_max_predictions=50,
        buffer_size=200,
        threshold=0.7,
        feature_sample_rate=0.1,
        max_feature_attributes=0,
        max_attribute_length=16,
    )


def test_arguments_win_over_variables() -> None:
    env = {"INFERWATCH_THRESHOLD": "0.7", "INFERWATCH_DISABLED": "1"}
    settings = load_settings(env, {"threshold": 0.9, "enabled": True})
    assert (settings.threshold, settings.enabled) == (0.9, True)


def test_empty_variables_count_as_unset() -> None:
    assert load_settings({"INFERWATCH_THRESHOLD": "", "INFERWATCH_DISABLED": " "}) == Settings()


@pytest.mark.parametrize(
    ("variable", "junk"),
    [
        ("INFERWATCH_DISABLED", "maybe"),
        ("INFERWATCH_BATCHED", "2"),
        ("INFERWATCH_BATCH_INTERVAL", "0"),
        ("INFERWATCH_BATCH_INTERVAL", "soon"),
        ("INFERWATCH_BATCH_MAX_PREDICTIONS", "0"),
        ("INFERWATCH_BUFFER_SIZE", "1.5"),
        ("INFERWATCH_THRESHOLD", "1.5"),
        ("INFERWATCH_THRESHOLD", "nan"),
        ("INFERWATCH_FEATURE_SAMPLE_RATE", "-0.1"),
        ("INFERWATCH_MAX_FEATURE_ATTRIBUTES", "-1"),
        ("INFERWATCH_MAX_ATTRIBUTE_LENGTH", "many"),
    ],
)
def test_junk_variable_is_named_in_the_error(variable: str, junk: str) -> None:
    with pytest.raises(ValueError, match=f"^{variable}: expected .*got '{junk}'"):
        load_settings({variable: junk})


@pytest.mark.parametrize(
    ("argument", "junk"),
    [
        ("enabled", "yes please"),
        ("batched", 1.5),
        ("batch_interval", -1),
        ("batch_max_predictions", True),
        ("buffer_size", 0),
        ("threshold", 2),
        ("feature_sample_rate", float("inf")),
        ("max_attribute_length", 3.0),
    ],
)
def test_junk_argument_is_named_in_the_error(argument: str, junk: object) -> None:
    with pytest.raises(ValueError, match=f"^{argument}: expected "):
        configure(**{argument: junk})  # type: ignore[arg-type]


def test_lenient_load_logs_junk_and_keeps_the_rest(caplog: pytest.LogCaptureFixture) -> None:
    env = {"INFERWATCH_BUFFER_SIZE": "lots", "INFERWATCH_THRESHOLD": "0.8"}
    with caplog.at_level(logging.ERROR, logger="inferwatch"):
        settings = load_settings(env, strict=False)
    assert (settings.buffer_size, settings.threshold) == (Settings().buffer_size, 0.8)
    assert "INFERWATCH_BUFFER_SIZE: expected a whole number" in caplog.text


# --- export settings ---------------------------------------------------------------------------


def test_export_defaults_follow_the_otlp_specification() -> None:
    export = resolve_export(ExportArguments(), {})
    assert export.traces.protocol == "http/protobuf"
    assert export.traces.endpoint == "http://localhost:4318/v1/traces"
    assert export.logs.endpoint == "http://localhost:4318/v1/logs"
    assert (export.traces.timeout, export.export_interval) == (
        DEFAULT_TIMEOUT,
        DEFAULT_EXPORT_INTERVAL,
    )
    grpc = resolve_export(ExportArguments(protocol="grpc"), {})
    assert grpc.metrics.endpoint == "http://localhost:4317"


def test_http_gets_the_signal_path_appended_to_a_base_endpoint() -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "https://collector.example/otlp/"}
    export = resolve_export(ExportArguments(), env)
    assert export.metrics.endpoint == "https://collector.example/otlp/v1/metrics"
    export = resolve_export(ExportArguments(endpoint="http://c:4318"), env)
    assert export.logs.endpoint == "http://c:4318/v1/logs"


def test_signal_specific_endpoint_wins_and_is_used_as_given() -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://generic:4318",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://traces:9999/ingest",
    }
    export = resolve_export(ExportArguments(), env)
    assert export.traces.endpoint == "http://traces:9999/ingest"
    assert export.logs.endpoint == "http://generic:4318/v1/logs"


def test_grpc_endpoint_gets_no_path() -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}
    export = resolve_export(ExportArguments(protocol="grpc"), env)
    assert export.traces.endpoint == "http://collector:4317"


def test_protocol_argument_then_signal_variable_then_generic_variable() -> None:
    env = {
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "http/protobuf",
    }
    export = resolve_export(ExportArguments(), env)
    assert (export.traces.protocol, export.logs.protocol) == ("grpc", "http/protobuf")
    export = resolve_export(ExportArguments(protocol="grpc"), env)
    assert export.logs.protocol == "grpc"


def test_headers_merge_variable_then_argument_with_lowercase_names() -> None:
    env = {"OTEL_EXPORTER_OTLP_HEADERS": "Api-Key=secret%3D1, X-Team = ml"}
    export = resolve_export(ExportArguments(headers={"X-TEAM": "risk"}), env)
    assert export.traces.headers == {"api-key": "secret=1", "x-team": "risk"}
    env["OTEL_EXPORTER_OTLP_METRICS_HEADERS"] = "only=metrics"
    assert resolve_export(ExportArguments(), env).metrics.headers == {"only": "metrics"}


def test_insecure_follows_the_scheme_unless_set() -> None:
    plain = resolve_export(ExportArguments(protocol="grpc", endpoint="http://c:4317"), {})
    tls = resolve_export(ExportArguments(protocol="grpc", endpoint="https://c:4317"), {})
    assert (plain.traces.insecure, tls.traces.insecure) == (True, False)
    env = {"OTEL_EXPORTER_OTLP_INSECURE": "true"}
    assert resolve_export(ExportArguments(endpoint="https://c:4317"), env).traces.insecure


def test_timeouts_are_seconds_as_arguments_and_milliseconds_as_variables() -> None:
    env = {"OTEL_EXPORTER_OTLP_TIMEOUT": "2500", "OTEL_METRIC_EXPORT_INTERVAL": "15000"}
    export = resolve_export(ExportArguments(), env)
    assert (export.traces.timeout, export.export_interval) == (2.5, 15.0)
    export = resolve_export(ExportArguments(timeout=3, export_interval=5), env)
    assert (export.traces.timeout, export.export_interval) == (3.0, 5.0)


def test_service_name_argument_joins_the_resource_attributes() -> None:
    arguments = ExportArguments(service_name="fraud-api", resource_attributes={"team": "risk"})
    attributes = resolve_export(arguments, {}).resource_attributes
    assert attributes == {"team": "risk", "service.name": "fraud-api"}


@pytest.mark.parametrize(
    ("variable", "junk"),
    [
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "udp"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpcs"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317"),
        ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "ftp://collector"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "no-equals-sign"),
        ("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "=value"),
        ("OTEL_EXPORTER_OTLP_INSECURE", "sometimes"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "fast"),
        ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "-5"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "0"),
    ],
)
def test_junk_otel_variable_is_named_in_the_error(variable: str, junk: str) -> None:
    with pytest.raises(ValueError, match=f"^{variable}: expected "):
        resolve_export(ExportArguments(), {variable: junk})


def test_header_errors_do_not_echo_secrets() -> None:
    env = {"OTEL_EXPORTER_OTLP_HEADERS": "Authorization Bearer s3cret"}
    with pytest.raises(ValueError) as raised:
        resolve_export(ExportArguments(), env)
    assert "OTEL_EXPORTER_OTLP_HEADERS" in str(raised.value)
    assert "s3cret" not in str(raised.value)


def test_protocol_error_reads_as_documented() -> None:
    with pytest.raises(ValueError) as raised:
        resolve_export(ExportArguments(), {"OTEL_EXPORTER_OTLP_PROTOCOL": "udp"})
    assert str(raised.value) == (
        "OTEL_EXPORTER_OTLP_PROTOCOL: expected 'grpc' or 'http/protobuf', got 'udp'"
    )


@pytest.mark.parametrize(
    ("argument", "junk"),
    [
        ("protocol", "udp"),
        ("endpoint", "localhost:4318"),
        ("headers", {"x-key": 5}),
        ("insecure", "perhaps"),
        ("timeout", 0),
        ("export_interval", -1),
        ("service_name", ""),
        ("resource_attributes", {3: "x"}),
    ],
)
def test_junk_export_argument_is_named_in_the_error(argument: str, junk: object) -> None:
    with pytest.raises(ValueError, match=f"^{argument}: expected "):
        configure(**{argument: junk})  # type: ignore[arg-type]


# --- configure() in a fresh process ----------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as receiver:
        yield receiver


CONFIGURE_TWICE = """
import dataclasses, json, logging, sys
from opentelemetry import _logs, metrics, trace
from inferwatch._config import configure, current_settings

logging.basicConfig(format="%(levelname)s %(message)s")

def providers():
    return (trace.get_tracer_provider(), metrics.get_meter_provider(), _logs.get_logger_provider())

configure(endpoint=sys.argv[1], threshold=0.7)
first = providers()
configure(endpoint="http://127.0.0.1:9", batched=True)
configure(enabled=False)
print(json.dumps({
    "same_providers": all(a is b for a, b in zip(first, providers())),
    "kinds": [type(p).__module__ + "." + type(p).__name__ for p in first],
    "settings": dataclasses.asdict(current_settings()),
}))
"""


def test_second_configure_updates_settings_but_keeps_providers(receiver: OtlpReceiver) -> None:
    done = run_python(CONFIGURE_TWICE, [receiver.http_endpoint])
    result = json.loads(done.stdout)
    assert result["same_providers"]
    assert result["kinds"] == [
        "opentelemetry.sdk.trace.TracerProvider",
        "opentelemetry.sdk.metrics._internal.MeterProvider",
        "opentelemetry.sdk._logs._internal.LoggerProvider",
    ]
    settings = result["settings"]
    assert (settings["threshold"], settings["batched"], settings["enabled"]) == (0.7, True, False)
    assert "configure() was called again" in done.stderr


SETTINGS_FROM_ENV = """
import dataclasses, json, logging
from inferwatch._config import current_settings

logging.basicConfig(format="%(levelname)s %(message)s")
print(json.dumps(dataclasses.asdict(current_settings())))
"""


def test_without_configure_settings_come_from_the_environment_leniently() -> None:
    env = {
        "INFERWATCH_THRESHOLD": "0.8",
        "INFERWATCH_BATCHED": "yes",
        "INFERWATCH_BUFFER_SIZE": "lots",
    }
    done = run_python(SETTINGS_FROM_ENV, env=env)
    settings = json.loads(done.stdout)
    assert (settings["threshold"], settings["batched"]) == (0.8, True)
    assert settings["buffer_size"] == Settings().buffer_size
    assert (
        "INFERWATCH_BUFFER_SIZE: expected a whole number of at least 1, got 'lots'" in done.stderr
    )


CONFIGURE_WITH_JUNK_ENV = """
from inferwatch._config import configure
try:
    configure()
except ValueError as error:
    print(error)
"""


def test_configure_reads_the_environment_strictly() -> None:
    done = run_python(CONFIGURE_WITH_JUNK_ENV, env={"INFERWATCH_THRESHOLD": "high"})
    assert (
        done.stdout.strip() == "INFERWATCH_THRESHOLD: expected a number between 0 and 1, got 'high'"
    )
