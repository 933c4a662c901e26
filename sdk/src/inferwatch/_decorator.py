"""``@monitor``: wraps plain, async, generator and async-generator functions and methods.

Every wrapper does the same four things around the user's call — check the kill switch,
``begin`` a call on the function's ``Recorder``, run the function, finish the call — and
keeps the function's name, docstring and signature (``functools.wraps``). Exceptions of the
function are recorded and re-raised unchanged; failures of inferwatch itself never escape.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ._config import Settings, current_settings
from ._features import feature_source
from ._options import IdFunction, OutputFunction, SegmentsOption, build_options
from ._recorder import BufferedCall, Recorder, SpanCall

F = TypeVar("F", bound=Callable[..., Any])
Call = SpanCall | BufferedCall


def monitor(
    model: str,
    *,
    version: str | None = None,
    task: str | None = None,
    classes: Sequence[object] | None = None,
    threshold: float | None = None,
    batch: bool | None = None,
    id: IdFunction | None = None,  # noqa: A002 - documented public keyword
    segments: SegmentsOption = None,
    output: OutputFunction | None = None,
    capture_features: bool | Sequence[str] = False,
    feature_sample_rate: float | None = None,
    redact: Sequence[str] = (),
    batched: bool | None = None,
) -> Callable[[F], F]:
    """Instrument an inference function: every call becomes a prediction span and metrics.

    ::

        @monitor(model="fraud", version="3.1", task="binary_classification")
        def predict(features: dict) -> float: ...

    Args:
        model: the model's name (``ml.model.name``); the only required keyword.
        version: ``ml.model.version``.
        task: ``binary_classification``, ``multiclass_classification`` or ``regression``.
        classes: class labels of probability outputs (index → label).
        threshold: binary decision threshold for probability outputs (default 0.5).
        batch: settles whether an ambiguous 1-D output is a batch (see docs/outputs.md).
        id: called with the function's arguments, returns the prediction id (list for a batch).
        segments: a dict, or a callable of the function's arguments returning one.
        output: maps the function's return value to something inferwatch understands.
        capture_features: ``True`` or a list of input names to record as ``ml.feature.*``.
        feature_sample_rate: fraction of calls whose features are recorded.
        redact: input names that are never recorded.
        batched: record into the hot-path buffer instead of one span per call.
    """
    options = build_options(
        model,
        version=version,
        task=task,
        classes=classes,
        threshold=threshold,
        batch=batch,
        id=id,
        segments=segments,
        output=output,
        capture_features=capture_features,
        feature_sample_rate=feature_sample_rate,
        redact=redact,
        batched=batched,
    )

    def decorate(fn: F) -> F:
        if isinstance(fn, (classmethod, staticmethod)):
            return type(fn)(decorate(fn.__func__))  # type: ignore[return-value]
        sources = feature_source(fn) if options.capture_features else None
        recorder = Recorder(options, sources)
        return functools.wraps(fn)(_wrapper_for(fn, recorder))  # type: ignore[return-value]

    return decorate


def _wrapper_for(fn: Callable[..., Any], recorder: Recorder) -> Callable[..., Any]:
    if inspect.isasyncgenfunction(fn):
        return _async_generator_wrapper(fn, recorder)
    if inspect.iscoroutinefunction(fn):
        return _async_wrapper(fn, recorder)
    if inspect.isgeneratorfunction(fn):
        return _generator_wrapper(fn, recorder)
    return _sync_wrapper(fn, recorder)


def _begin(recorder: Recorder, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Call | None:
    settings = current_settings()
    if not settings.enabled:
        return None
    return _start(recorder, args, kwargs, settings)


def _start(
    recorder: Recorder, args: tuple[Any, ...], kwargs: dict[str, Any], settings: Settings
) -> Call | None:
    try:
        return recorder.begin(args, kwargs, settings)
    except Exception as exc:  # noqa: BLE001 - telemetry never breaks the host
        recorder.report_failure(exc)
        return None


def _sync_wrapper(fn: Callable[..., Any], recorder: Recorder) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        settings = current_settings()
        if not settings.enabled:
            return fn(*args, **kwargs)
        if recorder.is_buffered(settings):
            return recorder.call_buffered(fn, args, kwargs, settings)
        call = _start(recorder, args, kwargs, settings)
        if call is None:
            return fn(*args, **kwargs)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            call.fail(exc)
            raise
        call.succeed(result)
        return result

    return wrapper


def _async_wrapper(fn: Callable[..., Any], recorder: Recorder) -> Callable[..., Any]:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        call = _begin(recorder, args, kwargs)
        if call is None:
            return await fn(*args, **kwargs)
        try:
            result = await fn(*args, **kwargs)
        except BaseException as exc:
            call.fail(exc)
            raise
        call.succeed(result)
        return result

    return wrapper


def _generator_wrapper(fn: Callable[..., Any], recorder: Recorder) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        call = _begin(recorder, args, kwargs)
        if call is None:
            return (yield from fn(*args, **kwargs))
        items: list[Any] = []
        generator = fn(*args, **kwargs)
        step, value = generator.send, None
        while True:
            try:
                item = step(value)
            except StopIteration as stop:
                call.succeed_items(items)
                return stop.value
            except BaseException as exc:
                call.fail(exc)
                raise
            items.append(item)
            call.suspend()
            try:
                step, value = generator.send, (yield item)
            except GeneratorExit:
                generator.close()
                call.succeed_items(items)
                raise
            except BaseException as exc:
                step, value = generator.throw, exc
            call.resume()

    return wrapper


def _async_generator_wrapper(fn: Callable[..., Any], recorder: Recorder) -> Callable[..., Any]:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        call = _begin(recorder, args, kwargs)
        generator = fn(*args, **kwargs)
        if call is None:
            async for item in generator:
                yield item
            return
        items: list[Any] = []
        step, value = generator.asend, None
        while True:
            try:
                item = await step(value)
            except StopAsyncIteration:
                call.succeed_items(items)
                return
            except BaseException as exc:
                call.fail(exc)
                raise
            items.append(item)
            call.suspend()
            try:
                step, value = generator.asend, (yield item)
            except GeneratorExit:
                await generator.aclose()
                call.succeed_items(items)
                raise
            except BaseException as exc:
                step, value = generator.athrow, exc
            call.resume()

    return wrapper
