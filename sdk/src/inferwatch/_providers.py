"""The OpenTelemetry providers ``configure()`` builds: OTLP exporters behind batching processors.

::

    export = resolve_export(ExportArguments(endpoint="http://collector:4318"), os.environ)
    installed, kept = install_providers(export)  # kept: kinds the application had set

Only a provider that the application has not set yet is built and installed; one the
application installed is kept as it is. The SDK and exporter modules are imported here,
on first use, so that ``import inferwatch`` stays light; gRPC's only if it is the protocol.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opentelemetry import _logs, metrics, trace

from ._export_settings import GRPC, ExportSettings, SignalExport

_EXPORTER_MODULES = {
    "traces": "trace_exporter",
    "metrics": "metric_exporter",
    "logs": "_log_exporter",
}
_EXPORTER_CLASSES = {
    "traces": "OTLPSpanExporter",
    "metrics": "OTLPMetricExporter",
    "logs": "OTLPLogExporter",
}


def build_exporter(signal: str, export: SignalExport) -> Any:
    """The OTLP exporter for ``signal``, given every setting explicitly.

    Explicit values matter: the HTTP exporters take an ``endpoint`` argument as the full
    URL, and would otherwise read the environment again by their own rules.
    """
    package = "grpc" if export.protocol == GRPC else "http"
    arguments: dict[str, Any] = {
        "endpoint": export.endpoint,
        "headers": dict(export.headers),
        "timeout": export.timeout,
    }
    if export.protocol == GRPC:
        arguments["insecure"] = export.insecure
    if signal == "traces":
        from ._span_exporters import grpc_span_exporter, http_span_exporter

        factory = grpc_span_exporter if package == "grpc" else http_span_exporter
        return factory(**arguments)
    module = importlib.import_module(
        f"opentelemetry.exporter.otlp.proto.{package}.{_EXPORTER_MODULES[signal]}"
    )
    return getattr(module, _EXPORTER_CLASSES[signal])(**arguments)


# shutdown_on_exit=False everywhere: inferwatch's own atexit shutdown() flushes the hot-path
# buffer into these providers first, then shuts them down.
def _tracer_provider(export: ExportSettings, resource: Any) -> Any:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    provider.add_span_processor(BatchSpanProcessor(build_exporter("traces", export.traces)))
    return provider


def _meter_provider(export: ExportSettings, resource: Any) -> Any:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    reader = PeriodicExportingMetricReader(
        build_exporter("metrics", export.metrics),
        export_interval_millis=export.export_interval * 1000,
    )
    return MeterProvider(resource=resource, metric_readers=[reader], shutdown_on_exit=False)


def _logger_provider(export: ExportSettings, resource: Any) -> Any:
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

    provider = LoggerProvider(resource=resource, shutdown_on_exit=False)
    provider.add_log_record_processor(BatchLogRecordProcessor(build_exporter("logs", export.logs)))
    return provider


@dataclass(frozen=True)
class _GlobalSlot:
    """One of the OpenTelemetry API's three global providers."""

    kind: str
    current: Callable[[], Any]
    unset_type: type  # what the API hands out until a provider is set
    set_global: Callable[[Any], None]
    build: Callable[[ExportSettings, Any], Any]


def _global_slots() -> tuple[_GlobalSlot, ...]:
    # The API has no public "was a provider set?"; until one is, it returns its proxy.
    from opentelemetry._logs._internal import ProxyLoggerProvider
    from opentelemetry.metrics._internal import _ProxyMeterProvider

    return (
        _GlobalSlot(
            "TracerProvider",
            trace.get_tracer_provider,
            trace.ProxyTracerProvider,
            trace.set_tracer_provider,
            _tracer_provider,
        ),
        _GlobalSlot(
            "MeterProvider",
            metrics.get_meter_provider,
            _ProxyMeterProvider,
            metrics.set_meter_provider,
            _meter_provider,
        ),
        _GlobalSlot(
            "LoggerProvider",
            _logs.get_logger_provider,
            ProxyLoggerProvider,
            _logs.set_logger_provider,
            _logger_provider,
        ),
    )


def install_providers(export: ExportSettings) -> tuple[list[Any], list[str]]:
    """Install a provider in every global slot still unset.

    Returns the providers installed, and the kinds (``"TracerProvider"``, ...) of those
    the application had installed already and that were kept.
    """
    from opentelemetry.sdk.resources import Resource

    resource = Resource.create(dict(export.resource_attributes))
    installed, kept = [], []
    for slot in _global_slots():
        provider = _install(slot, export, resource)
        if provider is None:
            kept.append(slot.kind)
        else:
            installed.append(provider)
    return installed, kept


def _install(slot: _GlobalSlot, export: ExportSettings, resource: Any) -> Any | None:
    if not isinstance(slot.current(), slot.unset_type):
        return None
    provider = slot.build(export, resource)
    slot.set_global(provider)
    if slot.current() is not provider:  # another thread set one in between: theirs stays
        provider.shutdown()
        return None
    return provider


def global_providers() -> list[Any]:
    """The global providers that can flush (an SDK's, not the API's proxies)."""
    found = (trace.get_tracer_provider(), metrics.get_meter_provider(), _logs.get_logger_provider())
    return [provider for provider in found if callable(getattr(provider, "force_flush", None))]
