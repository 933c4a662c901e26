"""Setting up inferwatch: ``configure()``, ``shutdown()``, ``force_flush()``, settings in force.

::

    import inferwatch

    inferwatch.configure(service_name="fraud-api", endpoint="http://collector:4318")
    ...
    inferwatch.shutdown()   # also runs at interpreter exit

The settings themselves are data: ``_settings.Settings`` (how the SDK records) and
``_export_settings.ExportSettings`` (where telemetry goes), each resolved once from the
arguments, then the environment variables, then the defaults. ``docs/configuration-sdk.md``
lists every argument and variable.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from ._export_settings import ExportArguments, ExportSettings, resolve_export
from ._providers import global_providers, install_providers
from ._settings import Settings, load_settings
from .semconv import INSTRUMENTATION_NAME

__all__ = [
    "Settings",
    "configure",
    "current_settings",
    "force_flush",
    "register_flush_hook",
    "shutdown",
]

_logger = logging.getLogger(INSTRUMENTATION_NAME)

_lock = threading.RLock()
_settings: Settings | None = None
_arguments: dict[str, object] = {}  # recording arguments of every configure() call so far
_export: ExportSettings | None = None  # what the providers were built with
_installed: list[Any] = []  # providers inferwatch built and made global
_flush_hooks: list[Callable[[], None]] = []
_installed_shut_down = False
_atexit_registered = False


def current_settings() -> Settings:
    """The settings in force: a global read, cheap enough for every decorated call.

    Before any ``configure()`` they come from the environment, read on first use.
    """
    settings = _settings
    return settings if settings is not None else _settings_from_environment()


def _settings_from_environment() -> Settings:
    global _settings
    with _lock:
        if _settings is None:
            # Lenient: this runs inside a decorated call, which a bad variable must not
            # break (it is logged). configure() reads the same variables strictly.
            _settings = load_settings(os.environ, strict=False)
        return _settings


def configure(
    *,
    service_name: str | None = None,
    endpoint: str | None = None,
    protocol: str | None = None,
    headers: Mapping[str, str] | None = None,
    resource_attributes: Mapping[str, str] | None = None,
    insecure: bool | None = None,
    timeout: float | None = None,
    export_interval: float | None = None,
    enabled: bool | None = None,
    batched: bool | None = None,
    batch_interval: float | None = None,
    batch_max_predictions: int | None = None,
    buffer_size: int | None = None,
    threshold: float | None = None,
    feature_sample_rate: float | None = None,
    max_feature_attributes: int | None = None,
    max_attribute_length: int | None = None,
) -> None:
    """Set up OTLP export and the recording settings; every argument is optional.

    Installs a tracer, a meter and a logger provider with OTLP exporters (``protocol``
    ``"grpc"`` or ``"http/protobuf"``) behind batching processors, except where the
    application installed its own provider already: that one is used, nothing replaces it.
    An argument left out falls back to its environment variable, then its default.

    A later call changes the recording settings (``enabled``, ``threshold``, ...) and keeps
    those of earlier calls it does not repeat; it never builds providers again.

    Raises:
        ValueError: a value is junk; the message names the argument or variable.
    """
    export = resolve_export(
        ExportArguments(
            service_name=service_name,
            endpoint=endpoint,
            protocol=protocol,
            headers=headers,
            resource_attributes=resource_attributes,
            insecure=insecure,
            timeout=timeout,
            export_interval=export_interval,
        ),
        os.environ,
    )
    recording = {
        "enabled": enabled,
        "batched": batched,
        "batch_interval": batch_interval,
        "batch_max_predictions": batch_max_predictions,
        "buffer_size": buffer_size,
        "threshold": threshold,
        "feature_sample_rate": feature_sample_rate,
        "max_feature_attributes": max_feature_attributes,
        "max_attribute_length": max_attribute_length,
    }
    _apply(export, {name: value for name, value in recording.items() if value is not None})


def _apply(export: ExportSettings, recording: dict[str, object]) -> None:
    global _settings
    with _lock:
        settings = load_settings(os.environ, {**_arguments, **recording})  # may raise
        _arguments.update(recording)
        _settings = settings
        _install_once(export)
    _register_atexit()


def _install_once(export: ExportSettings) -> None:
    global _export
    if _export is not None:
        if export != _export:
            _logger.warning(
                "inferwatch: configure() was called again; the OpenTelemetry providers are "
                "set up already, so only the recording settings changed"
            )
        return
    _export = export
    installed, kept = install_providers(export)
    _installed.extend(installed)
    if kept:
        _logger.info("inferwatch: using the application's own %s, unchanged", ", ".join(kept))


def register_flush_hook(hook: Callable[[], None]) -> None:
    """Have ``shutdown()`` and ``force_flush()`` call ``hook`` before flushing providers.

    The hot-path buffer registers its flush here, so that what it holds reaches the
    providers before their last export.
    """
    with _lock:
        _flush_hooks.append(hook)
    _register_atexit()


def _register_atexit() -> None:
    # Registered on first need, not at import: atexit runs last-in first-out, so shutdown()
    # then runs before the exit handlers of providers the application built earlier, and
    # the hot-path buffer still reaches them.
    global _atexit_registered
    with _lock:
        if not _atexit_registered:
            atexit.register(shutdown)
            _atexit_registered = True


def force_flush(timeout_millis: int = 30_000) -> bool:
    """Export now what inferwatch recorded; True if every provider flushed in time.

    Runs the flush hooks (the hot-path buffer), then flushes the global providers: those
    inferwatch installed and the application's own.
    """
    deadline = time.monotonic() + timeout_millis / 1000
    _run_flush_hooks()
    flushed = True
    for provider in _flushable_providers():
        remaining = max(0, int((deadline - time.monotonic()) * 1000))
        flushed = _call_safely(provider.force_flush, remaining) and flushed
    return flushed


def shutdown() -> None:
    """Flush everything, then shut down the providers inferwatch installed (only those).

    Safe to call more than once; also runs at interpreter exit. The application's own
    providers are flushed, never shut down: they are the application's.
    """
    global _installed_shut_down
    _run_flush_hooks()
    with _lock:
        first, _installed_shut_down = not _installed_shut_down, True
    for provider in _application_providers():
        _call_safely(provider.force_flush)
    for provider in _installed if first else []:
        _call_safely(provider.shutdown)  # which exports what the provider still holds


def _run_flush_hooks() -> None:
    for hook in list(_flush_hooks):
        try:
            hook()
        except Exception:  # telemetry never breaks the host, least of all at exit
            _logger.warning("inferwatch: a flush hook failed", exc_info=True)


def _flushable_providers() -> list[Any]:
    # Flushing a provider that was shut down would only log warnings.
    return _application_providers() if _installed_shut_down else global_providers()


def _application_providers() -> list[Any]:
    """The global providers that the application installed, not inferwatch."""
    return [p for p in global_providers() if not any(p is mine for mine in _installed)]


def _call_safely(method: Callable[..., Any], *args: Any) -> bool:
    try:
        return method(*args) is not False
    except Exception:
        _logger.warning("inferwatch: %s failed", method.__qualname__, exc_info=True)
        return False
