"""A real export: configure() in a fresh process sends over OTLP to a receiver in this test.

The OpenTelemetry exporters (gRPC and HTTP/protobuf) send to ``OtlpReceiver``, which decodes
the requests with opentelemetry-proto; the assertions read what arrived.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from otlp_receiver import OtlpReceiver, run_python

from inferwatch import semconv

SEND = """
import json, sys
from opentelemetry import metrics, trace
from inferwatch._config import configure, shutdown
from inferwatch._labels import record_label

configure(**json.loads(sys.argv[1]))
record_label("pred-1", 1, model="fraud", version="3.1")
record_label(["pred-2", "pred-3"], [12.5, 7.0], model="price")
with trace.get_tracer("export-test").start_as_current_span("plain span"):
    pass
metrics.get_meter("export-test").create_counter("export.test.calls").add(1)
shutdown()
"""

DEAD_ENDPOINT = "http://127.0.0.1:9"  # nothing listens: data sent there never arrives


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver(http_paths={"/custom/traces": "traces"}) as receiver:
        yield receiver


def endpoint_of(receiver: OtlpReceiver, protocol: str) -> str:
    return receiver.grpc_endpoint if protocol == "grpc" else receiver.http_endpoint


def assert_everything_arrived(receiver: OtlpReceiver, transport: str, service: str) -> None:
    labels = {
        record.attributes[semconv.ML_PREDICTION_ID]: record for record in receiver.log_records()
    }
    assert sorted(labels) == ["pred-1", "pred-2", "pred-3"]
    assert labels["pred-1"].event_name == semconv.LABEL_EVENT_NAME
    assert labels["pred-1"].attributes == {
        semconv.ML_MODEL_NAME: "fraud",
        semconv.ML_MODEL_VERSION: "3.1",
        semconv.ML_PREDICTION_ID: "pred-1",
        semconv.ML_LABEL: "1",
    }
    assert labels["pred-2"].attributes[semconv.ML_LABEL_VALUE] == 12.5
    assert labels["pred-3"].attributes[semconv.ML_LABEL_VALUE] == 7.0
    assert semconv.ML_LABEL not in labels["pred-2"].attributes
    span = receiver.wait_for_span("plain span", timeout=1)
    assert span.resource["service.name"] == service
    assert "export.test.calls" in [metric.name for metric in receiver.metrics()]
    assert {received.transport for received in receiver.requests} == {transport}


@pytest.mark.parametrize(("protocol", "transport"), [("grpc", "grpc"), ("http/protobuf", "http")])
def test_configure_arguments_export_labels_spans_and_metrics(
    receiver: OtlpReceiver, protocol: str, transport: str
) -> None:
    arguments = {
        "endpoint": endpoint_of(receiver, protocol),
        "protocol": protocol,
        "service_name": "export-test",
        "headers": {"Authorization": "Bearer token-1"},
    }
    # The variables point elsewhere: arguments win over them.
    other = "http/protobuf" if protocol == "grpc" else "grpc"
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": DEAD_ENDPOINT, "OTEL_EXPORTER_OTLP_PROTOCOL": other}
    run_python(SEND, [json.dumps(arguments)], env)
    assert_everything_arrived(receiver, transport, "export-test")
    assert {r.headers.get("authorization") for r in receiver.requests} == {"Bearer token-1"}


@pytest.mark.parametrize(("protocol", "transport"), [("grpc", "grpc"), ("http/protobuf", "http")])
def test_environment_variables_alone_configure_the_export(
    receiver: OtlpReceiver, protocol: str, transport: str
) -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint_of(receiver, protocol),
        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
        "OTEL_SERVICE_NAME": "from-env",
        "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test",
        "OTEL_EXPORTER_OTLP_HEADERS": "X-Tenant=acme%20corp",
    }
    run_python(SEND, ["{}"], env)
    assert_everything_arrived(receiver, transport, "from-env")
    assert receiver.spans()[0].resource["deployment.environment"] == "test"
    assert {r.headers.get("x-tenant") for r in receiver.requests} == {"acme corp"}


def test_signal_specific_http_endpoint_is_used_as_given(receiver: OtlpReceiver) -> None:
    env = {
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.http_endpoint,
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{receiver.http_endpoint}/custom/traces",
    }
    run_python(SEND, ["{}"], env)
    paths = {received.signal: received.path for received in receiver.requests}
    assert paths == {"traces": "/custom/traces", "logs": "/v1/logs", "metrics": "/v1/metrics"}


KEEP_APP_PROVIDER = """
import json, logging, sys
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s %(message)s")
app_spans = InMemorySpanExporter()
app_provider = TracerProvider()
app_provider.add_span_processor(SimpleSpanProcessor(app_spans))
trace.set_tracer_provider(app_provider)

from inferwatch._config import configure, shutdown
from inferwatch._labels import record_label

configure(endpoint=sys.argv[1])
assert trace.get_tracer_provider() is app_provider
with trace.get_tracer("app").start_as_current_span("before shutdown"):
    pass
record_label("pred-1", "cat", model="pets")
shutdown()
with trace.get_tracer("app").start_as_current_span("after shutdown"):
    pass
print(json.dumps([span.name for span in app_spans.get_finished_spans()]))
"""


def test_application_providers_are_kept_and_not_shut_down(receiver: OtlpReceiver) -> None:
    done = run_python(KEEP_APP_PROVIDER, [receiver.http_endpoint])
    # The application's TracerProvider got the spans, and still works after shutdown().
    assert json.loads(done.stdout) == ["before shutdown", "after shutdown"]
    assert receiver.spans() == []
    # The logger provider was unset, so inferwatch installed its own: the label arrived.
    assert [r.attributes[semconv.ML_LABEL] for r in receiver.log_records()] == ["cat"]
    assert "using the application's own TracerProvider" in done.stderr
    assert "MeterProvider" not in done.stderr


FLUSH_HOOK = """
import sys
from opentelemetry import trace
from inferwatch._config import configure, register_flush_hook, shutdown

def flush_buffer():
    trace.get_tracer("buffer").start_span("from flush hook").end()

configure(endpoint=sys.argv[1])
register_flush_hook(flush_buffer)
shutdown()
shutdown()  # a second call is harmless
"""


def test_shutdown_runs_flush_hooks_before_the_last_export(receiver: OtlpReceiver) -> None:
    done = run_python(FLUSH_HOOK, [receiver.http_endpoint])
    assert [span.name for span in receiver.spans()] == ["from flush hook"]
    assert "Traceback" not in done.stderr


AT_EXIT = """
import sys
from opentelemetry import trace
from inferwatch._config import configure

configure(endpoint=sys.argv[1])
trace.get_tracer("t").start_span("never flushed by hand").end()
"""


def test_shutdown_runs_at_interpreter_exit(receiver: OtlpReceiver) -> None:
    run_python(AT_EXIT, [receiver.http_endpoint])
    assert [span.name for span in receiver.spans()] == ["never flushed by hand"]


FORCE_FLUSH = """
import os, sys
from opentelemetry import trace
from inferwatch._config import configure, force_flush

configure(endpoint=sys.argv[1])
trace.get_tracer("t").start_span("flushed").end()
print(force_flush(timeout_millis=5000), flush=True)
os._exit(0)  # skip atexit: only force_flush() can have sent the span
"""


def test_force_flush_exports_without_shutdown(receiver: OtlpReceiver) -> None:
    done = run_python(FORCE_FLUSH, [receiver.http_endpoint])
    assert done.stdout.strip() == "True"
    assert [span.name for span in receiver.spans()] == ["flushed"]
