"""Export settings: where telemetry goes, resolved from arguments and ``OTEL_*`` variables.

Each value comes from the ``configure()`` argument, else the signal-specific variable
(``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``), else the generic one
(``OTEL_EXPORTER_OTLP_ENDPOINT``), else the default::

    >>> env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}
    >>> resolve_export(ExportArguments(), env).traces.endpoint
    'http://collector:4318/v1/traces'
    >>> resolve_export(ExportArguments(protocol="udp"), env)
    Traceback (most recent call last):
    ...
    ValueError: protocol: expected 'grpc' or 'http/protobuf', got 'udp'

Durations follow the OpenTelemetry specification: arguments in seconds, variables in
milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from ._settings import check_flag, check_positive

OTEL_SERVICE_NAME = "OTEL_SERVICE_NAME"
"""``service.name`` of the resource (read by the SDK's ``Resource.create``)."""
OTEL_RESOURCE_ATTRIBUTES = "OTEL_RESOURCE_ATTRIBUTES"
"""``key=value,...`` resource attributes (read by the SDK's ``Resource.create``)."""
OTEL_EXPORTER_OTLP_PROTOCOL = "OTEL_EXPORTER_OTLP_PROTOCOL"
"""``grpc`` or ``http/protobuf``."""
OTEL_EXPORTER_OTLP_ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
"""Base URL; for HTTP ``/v1/<signal>`` is appended (never to the signal-specific forms)."""
OTEL_EXPORTER_OTLP_HEADERS = "OTEL_EXPORTER_OTLP_HEADERS"
"""``key=value,...`` request headers, URL-encoded."""
OTEL_EXPORTER_OTLP_INSECURE = "OTEL_EXPORTER_OTLP_INSECURE"
"""gRPC only: ``true`` for plaintext; by default the endpoint's scheme decides."""
OTEL_EXPORTER_OTLP_TIMEOUT = "OTEL_EXPORTER_OTLP_TIMEOUT"
"""Milliseconds per export request (default 10000)."""
OTEL_METRIC_EXPORT_INTERVAL = "OTEL_METRIC_EXPORT_INTERVAL"
"""Milliseconds between metric exports (default 60000)."""
EXPORTER_VARIABLES = (
    OTEL_EXPORTER_OTLP_PROTOCOL,
    OTEL_EXPORTER_OTLP_ENDPOINT,
    OTEL_EXPORTER_OTLP_HEADERS,
    OTEL_EXPORTER_OTLP_INSECURE,
    OTEL_EXPORTER_OTLP_TIMEOUT,
)
"""The generic exporter variables; each has a form per signal, see ``signal_variable``."""

SIGNALS = ("traces", "metrics", "logs")
GRPC = "grpc"
HTTP_PROTOBUF = "http/protobuf"
DEFAULT_PROTOCOL = HTTP_PROTOBUF  # the OTLP exporter specification's default
DEFAULT_ENDPOINTS = {GRPC: "http://localhost:4317", HTTP_PROTOBUF: "http://localhost:4318"}
DEFAULT_TIMEOUT = 10.0
DEFAULT_EXPORT_INTERVAL = 60.0


def signal_variable(generic: str, signal: str) -> str:
    """The signal-specific form of a generic exporter variable.

    >>> signal_variable(OTEL_EXPORTER_OTLP_ENDPOINT, "traces")
    'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'
    """
    return generic.replace("OTEL_EXPORTER_OTLP_", f"OTEL_EXPORTER_OTLP_{signal.upper()}_", 1)


@dataclass(frozen=True)
class ExportArguments:
    """The export arguments of ``configure()``; ``None`` means "not given"."""

    service_name: str | None = None
    endpoint: str | None = None
    protocol: str | None = None
    headers: Mapping[str, str] | None = None
    resource_attributes: Mapping[str, str] | None = None
    insecure: bool | None = None
    timeout: float | None = None
    export_interval: float | None = None


@dataclass(frozen=True)
class SignalExport:
    """Where and how one signal (traces, metrics or logs) is exported."""

    protocol: str
    endpoint: str  # full URL; for HTTP including the signal path (/v1/traces)
    headers: Mapping[str, str]
    insecure: bool  # gRPC only: plaintext instead of TLS
    timeout: float  # seconds per export request


@dataclass(frozen=True)
class ExportSettings:
    """The OTLP pipeline ``configure()`` builds."""

    traces: SignalExport
    metrics: SignalExport
    logs: SignalExport
    # From the arguments; Resource.create adds OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
    resource_attributes: Mapping[str, str]
    export_interval: float  # seconds between metric exports


def resolve_export(arguments: ExportArguments, environ: Mapping[str, str]) -> ExportSettings:
    """Export settings from ``configure()``'s arguments, else ``environ``, else defaults."""
    return ExportSettings(
        traces=_resolve_signal("traces", arguments, environ),
        metrics=_resolve_signal("metrics", arguments, environ),
        logs=_resolve_signal("logs", arguments, environ),
        resource_attributes=_resource_attributes(arguments),
        export_interval=_export_interval(arguments, environ),
    )


Found = tuple[str, object]  # (the key a value came from, the value)


def _pick(
    argument: object, name: str, generic: str, signal: str, env: Mapping[str, str]
) -> Found | None:
    """The first given of: argument, signal-specific variable, generic variable."""
    if argument is not None:
        return name, argument
    for variable in (signal_variable(generic, signal), generic):
        raw = env.get(variable, "").strip()
        if raw:  # an empty variable counts as unset
            return variable, raw
    return None


def _resolve_signal(
    signal: str, arguments: ExportArguments, env: Mapping[str, str]
) -> SignalExport:
    found = _pick(arguments.protocol, "protocol", OTEL_EXPORTER_OTLP_PROTOCOL, signal, env)
    protocol = _check_protocol(*found) if found else DEFAULT_PROTOCOL
    found = _pick(arguments.endpoint, "endpoint", OTEL_EXPORTER_OTLP_ENDPOINT, signal, env)
    endpoint = _endpoint(signal, protocol, found)
    # Headers merge: the variable's, then the argument's on top (as the exporters do).
    found = _pick(None, "headers", OTEL_EXPORTER_OTLP_HEADERS, signal, env)
    headers = {**(_check_headers(*found) if found else {}), **_argument_headers(arguments)}
    found = _pick(arguments.insecure, "insecure", OTEL_EXPORTER_OTLP_INSECURE, signal, env)
    insecure = check_flag(*found) if found else urlsplit(endpoint).scheme == "http"
    found = _pick(arguments.timeout, "timeout", OTEL_EXPORTER_OTLP_TIMEOUT, signal, env)
    timeout = _seconds(*found) if found else DEFAULT_TIMEOUT
    return SignalExport(protocol, endpoint, headers, insecure, timeout)


def _endpoint(signal: str, protocol: str, found: Found | None) -> str:
    key, value = found or ("default endpoint", DEFAULT_ENDPOINTS[protocol])
    url = _check_url(key, value)
    if protocol == HTTP_PROTOBUF and key != signal_variable(OTEL_EXPORTER_OTLP_ENDPOINT, signal):
        # A base URL gets the signal's path; a signal-specific variable is used as it is.
        return f"{url.rstrip('/')}/v1/{signal}"
    return url


def _seconds(key: str, value: object) -> float:
    """A duration in seconds: an argument is in seconds, an ``OTEL_*`` variable in milliseconds."""
    number = check_positive(key, value)
    return number / 1000 if key.startswith("OTEL_") else number


def _export_interval(arguments: ExportArguments, env: Mapping[str, str]) -> float:
    if arguments.export_interval is not None:
        return _seconds("export_interval", arguments.export_interval)
    raw = env.get(OTEL_METRIC_EXPORT_INTERVAL, "").strip()
    return _seconds(OTEL_METRIC_EXPORT_INTERVAL, raw) if raw else DEFAULT_EXPORT_INTERVAL


def _resource_attributes(arguments: ExportArguments) -> dict[str, str]:
    attributes = dict(arguments.resource_attributes or {})
    if not all(isinstance(key, str) and key for key in attributes):
        raise ValueError("resource_attributes: expected a mapping with non-empty string keys")
    name = arguments.service_name
    if name is not None:
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"service_name: expected a non-empty string, got {name!r}")
        attributes["service.name"] = name
    return attributes


def _argument_headers(arguments: ExportArguments) -> dict[str, str]:
    return {} if arguments.headers is None else _check_headers("headers", arguments.headers)


# --- value checks ---------------------------------------------------------------------------
def _check_protocol(key: str, value: object) -> str:
    if value in (GRPC, HTTP_PROTOBUF):
        return str(value)
    raise ValueError(f"{key}: expected {GRPC!r} or {HTTP_PROTOBUF!r}, got {value!r}")


def _check_url(key: str, value: object) -> str:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{key}: expected an http:// or https:// URL, got {value!r}")
    return str(value)


def _check_headers(key: str, value: object) -> dict[str, str]:
    """Headers from a mapping or from ``k1=v1,k2=v2`` text; names lowercased."""
    if isinstance(value, str):
        value = _parse_headers(key, value)
    if isinstance(value, Mapping) and all(
        isinstance(name, str) and name.strip() and isinstance(text, str)
        for name, text in value.items()
    ):
        # gRPC metadata keys must be lowercase; HTTP header names do not care.
        return {name.strip().lower(): text for name, text in value.items()}
    # Header values are often secrets: the message names the key, never the value.
    raise ValueError(f"{key}: expected a mapping of header names to string values")


def _parse_headers(key: str, text: str) -> dict[str, str]:
    """``k1=v1,k2=v2`` with URL-encoded names and values (W3C baggage format)."""
    headers = {}
    for item in filter(str.strip, text.split(",")):
        name, equals, value = item.partition("=")
        if not equals or not name.strip():
            raise ValueError(f"{key}: expected name=value pairs separated by commas")
        headers[unquote(name).strip()] = unquote(value).strip()
    return headers
