"""In-memory OpenTelemetry providers, installed once as the global ones for the SDK tests.

OpenTelemetry lets a process set each global provider once, so the tests share these and
tell their telemetry apart by a unique model name per test (the ``model`` fixture).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from opentelemetry import _logs, metrics, trace
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from sdk_telemetry import LOGS, METRICS, SPANS, Telemetry

from inferwatch._buffer import flush_buffer

_tracer_provider = TracerProvider()
_tracer_provider.add_span_processor(SimpleSpanProcessor(SPANS))
trace.set_tracer_provider(_tracer_provider)
metrics.set_meter_provider(MeterProvider(metric_readers=[METRICS]))
_logger_provider = LoggerProvider()
_logger_provider.add_log_record_processor(SimpleLogRecordProcessor(LOGS))
_logs.set_logger_provider(_logger_provider)


@pytest.fixture
def model() -> str:
    """A model name unique to the test, so its telemetry is its own."""
    return f"model-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def telemetry(model: str) -> Iterator[Telemetry]:
    flush_buffer()
    yield Telemetry(model)


@pytest.fixture(autouse=True)
def clean_environ() -> Iterator[None]:
    """Tests start without inferwatch or OpenTelemetry variables in the environment."""
    saved = dict(os.environ)
    for key in list(os.environ):
        if key.startswith(("INFERWATCH_", "OTEL_")):
            del os.environ[key]
    yield
    os.environ.clear()
    os.environ.update(saved)
