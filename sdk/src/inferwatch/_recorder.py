"""The one recording core behind ``@monitor`` and ``prediction()``.

A ``Recorder`` belongs to one decorated function (or one ``prediction()`` block) and turns
each call into telemetry: ``begin()`` returns a fresh per-call object whose ``succeed``,
``succeed_items`` and ``fail`` finish it. Per-call state lives in that object, never in the
recorder, so concurrent calls from threads and tasks cannot mix.

Two modes: one span per call (the default), or ``batched=True``, which appends the call to
the hot-path buffer (``_buffer.py``) and exports many calls as one batch span.

Nothing here raises into the user's code: a failure inside inferwatch is logged once per
recorder and the call's result is returned unchanged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from time import time_ns
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode, get_current_span

from . import _buffer as buffer_module
from . import semconv
from ._buffer import prediction_buffer
from ._config import Settings, current_settings
from ._context import set_last_prediction_id
from ._features import feature_attributes, sampled
from ._ids import new_prediction_id, new_prediction_ids
from ._instruments import instruments, record_finite_scores
from ._options import MonitorOptions
from ._outputs import Outputs, interpret_items, interpret_output, read_scalar

_logger = logging.getLogger("inferwatch")
_STATUS_OK = {semconv.METRIC_ATTR_STATUS: semconv.STATUS_OK}
_STATUS_ERROR = {semconv.METRIC_ATTR_STATUS: semconv.STATUS_ERROR}
_NO_OUTPUT = Outputs(labels=None, scores=None, values=None, count=1, batch=False)

FeatureSource = Callable[[tuple[Any, ...], dict[str, Any]], Mapping[str, Any]]


class Recorder:
    """Turns the calls of one monitored function into spans, metrics and buffered entries."""

    def __init__(self, options: MonitorOptions, feature_source: FeatureSource | None) -> None:
        self.options = options
        self.feature_source = feature_source
        self.tracer = trace.get_tracer(semconv.INSTRUMENTATION_NAME)
        self._ok_attributes = {**options.metric_attributes, **_STATUS_OK}
        self._error_attributes = {**options.metric_attributes, **_STATUS_ERROR}
        self._failure_logged = False
        self._plain = (
            options.output is None
            and options.id is None
            and options.segments is None
            and not options.capture_features
        )

    def begin(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], settings: Settings | None = None
    ) -> SpanCall | BufferedCall:
        """Start recording one call; the returned object is finished exactly once."""
        settings = settings or current_settings()
        if self.is_buffered(settings):
            return BufferedCall(self, settings, args, kwargs)
        return SpanCall(self, settings, args, kwargs)

    def is_buffered(self, settings: Settings) -> bool:
        """Whether calls go to the hot-path buffer (``batched=True``, or the global default)."""
        batched = self.options.batched
        return settings.batched if batched is None else batched

    def call_buffered(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        settings: Settings,
    ) -> Any:
        """Run a plain function and append the call to the hot-path buffer.

        The hot path of ``batched=True`` (bench/sdk_overhead.py): no span, no metric record,
        no per-call object — two clock reads, the output as a tuple, an id, and one buffer
        append of a tuple.
        """
        parent = get_current_span()
        start = time_ns()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            self.buffer_call(args, kwargs, settings, parent, start, None, False, exc)
            raise
        if not self._plain:
            self.buffer_call(args, kwargs, settings, parent, start, result, False, None)
            return result
        # No output=, id=, segments= or feature capture: buffer_call's steps, inlined, and a
        # scalar output read as a tuple, without the lists of an Outputs.
        end = time_ns()
        try:
            options = self.options
            threshold = settings.threshold if options.threshold is None else options.threshold
            prediction = None
            if not options.batch:
                prediction = read_scalar(result, options.task, options.classes, threshold)
            if prediction is not None:
                prediction_id = new_prediction_id(start)
                set_last_prediction_id(prediction_id)
                entry = (self, (), start, end, prediction_id, prediction, None, parent, None)
                (buffer_module._buffer or prediction_buffer(settings)).add(entry)
                return result
            outputs = interpret_output(
                result,
                task=options.task,
                classes=options.classes,
                threshold=threshold,
                batch=options.batch,
            )
            ids = self.prediction_ids(args, kwargs, outputs, start)
            set_last_prediction_id(ids if outputs.batch else ids[0])
            self._add_entry(settings, (), start, end, ids, outputs, None, parent, None)
        except Exception as internal:  # noqa: BLE001 - never raise into the user's code
            self.report_failure(internal)
        return result

    def buffer_call(
        self,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        settings: Settings,
        parent: Any,
        start_ns: int,
        result: Any,
        items: bool,
        error: BaseException | None,
    ) -> None:
        """Append one finished call to the hot-path buffer; never raises."""
        end_ns = time_ns()
        try:
            outputs = _NO_OUTPUT
            try:
                if error is None:
                    outputs = self.interpret(result, settings, items)
            finally:
                ids = self.prediction_ids(args, kwargs, outputs, start_ns)
                set_last_prediction_id(ids if outputs.batch else ids[0])
            options = self.options
            segments = () if options.segments is None else self._segments_key(args, kwargs)
            features = (
                self.feature_attributes(args, kwargs, settings)
                if options.capture_features
                else None
            )
            error_name = None if error is None else type(error).__qualname__
            self._add_entry(
                settings, segments, start_ns, end_ns, ids, outputs, error_name, parent, features
            )
        except Exception as internal:  # noqa: BLE001 - never raise into the user's code
            self.report_failure(internal)

    def _add_entry(
        self,
        settings: Settings,
        segments: tuple[tuple[str, str], ...],
        start_ns: int,
        end_ns: int,
        ids: list[str],
        outputs: Outputs,
        error: str | None,
        parent: Any,
        features: dict[str, Any] | None,
    ) -> None:
        """Append a call to the buffer; one prediction in its compact form (``BufferEntry``)."""
        entry_ids: str | list[str] = ids
        entry_outputs: object = outputs
        if len(ids) == 1:
            entry_ids, entry_outputs = ids[0], _one_prediction(outputs)
        entry = (
            self,
            segments,
            start_ns,
            end_ns,
            entry_ids,
            entry_outputs,
            error,
            parent,
            features,
        )
        (buffer_module._buffer or prediction_buffer(settings)).add(entry, len(ids))

    def _segments_key(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple:
        return tuple(sorted(self.segment_attributes(args, kwargs).items()))

    # --- pieces shared by both call kinds --------------------------------------------------

    def interpret(self, result: Any, settings: Settings, items: bool = False) -> Outputs:
        options = self.options
        if options.output is not None:
            result = options.output(result)
        threshold = settings.threshold if options.threshold is None else options.threshold
        if items:
            return interpret_items(
                result, task=options.task, classes=options.classes, threshold=threshold
            )
        return interpret_output(
            result,
            task=options.task,
            classes=options.classes,
            threshold=threshold,
            batch=options.batch,
        )

    def prediction_ids(
        self,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        outputs: Outputs,
        now_ns: int | None = None,
    ) -> list[str]:
        """The call's ids: the user's ``id=`` keys, or fresh UUIDv7s (of time ``now_ns``)."""
        if self.options.id is not None:
            given = self.options.id(*args, **kwargs)
            ids = [str(given)] if isinstance(given, (str, int)) else [str(i) for i in given]
            if len(ids) == outputs.count:
                return ids
            raise ValueError(f"id= returned {len(ids)} ids for {outputs.count} predictions")
        if outputs.count == 1:
            return [new_prediction_id(now_ns)]
        return new_prediction_ids(outputs.count, now_ns)

    def segment_attributes(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, str]:
        segments = self.options.segments
        if segments is None:
            return {}
        if callable(segments):
            segments = segments(*args, **kwargs)
        prefix = semconv.ML_SEGMENT_PREFIX
        return {prefix + str(key): str(value) for key, value in segments.items()}

    def feature_attributes(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], settings: Settings
    ) -> dict[str, Any]:
        options = self.options
        if not options.capture_features or self.feature_source is None:
            return {}
        rate = options.feature_sample_rate
        if not sampled(settings.feature_sample_rate if rate is None else rate):
            return {}
        names = None if options.capture_features is True else options.capture_features
        return feature_attributes(
            self.feature_source(args, kwargs),
            names=names,  # type: ignore[arg-type]
            redact=options.redact,
            max_attributes=settings.max_feature_attributes,
            max_length=settings.max_attribute_length,
        )

    def report_failure(self, exc: BaseException) -> None:
        """Log an inferwatch-internal failure: in full the first time, then at debug level."""
        if not self._failure_logged:
            self._failure_logged = True
            _logger.warning(
                "inferwatch could not record a prediction of model %r (the call's result is "
                "unaffected; further failures of this model are logged at DEBUG): %s",
                self.options.model,
                exc,
                exc_info=exc,
            )
        else:
            _logger.debug("inferwatch recording failed: %s", exc)


def prediction_attributes(ids: list[str], outputs: Outputs) -> dict[str, Any]:
    """The ``ml.prediction.*`` attributes of one call: scalars, or parallel arrays for a batch."""
    attributes: dict[str, Any] = {semconv.ML_PREDICTION_COUNT: outputs.count}
    if outputs.batch:
        attributes[semconv.ML_PREDICTION_ID] = ids
        if outputs.labels is not None:
            attributes[semconv.ML_PREDICTION_LABEL] = outputs.labels
        if outputs.scores is not None:
            attributes[semconv.ML_PREDICTION_SCORE] = outputs.scores
        if outputs.values is not None:
            attributes[semconv.ML_PREDICTION_VALUE] = outputs.values
        return attributes
    attributes[semconv.ML_PREDICTION_ID] = ids[0]
    if outputs.labels:
        attributes[semconv.ML_PREDICTION_LABEL] = outputs.labels[0]
    if outputs.scores:
        attributes[semconv.ML_PREDICTION_SCORE] = outputs.scores[0]
    if outputs.values:
        attributes[semconv.ML_PREDICTION_VALUE] = outputs.values[0]
    return attributes


def _one_prediction(outputs: Outputs) -> tuple[str | None, float | None, float | None]:
    """``(label, score, value)`` of an output holding one prediction."""
    return (
        outputs.labels[0] if outputs.labels else None,
        outputs.scores[0] if outputs.scores else None,
        outputs.values[0] if outputs.values else None,
    )


def _publish_ids(ids: list[str], outputs: Outputs) -> None:
    set_last_prediction_id(ids if outputs.batch else ids[0])


class SpanCall:
    """One call recorded as one span (the default mode)."""

    __slots__ = ("recorder", "settings", "args", "kwargs", "span", "token", "started")

    def __init__(
        self, recorder: Recorder, settings: Settings, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        self.recorder = recorder
        self.settings = settings
        self.args = args
        self.kwargs = kwargs
        self.started = time.perf_counter()
        options = recorder.options
        self.span = recorder.tracer.start_span(
            options.span_name, attributes=options.static_attributes
        )
        self.token: object | None = otel_context.attach(trace.set_span_in_context(self.span))

    def suspend(self) -> None:
        """Detach the span from the current context (a generator is about to yield)."""
        if self.token is not None:
            otel_context.detach(self.token)  # type: ignore[arg-type]
            self.token = None

    def resume(self) -> None:
        """Make the span current again (a generator is resumed)."""
        if self.token is None:
            self.token = otel_context.attach(trace.set_span_in_context(self.span))

    def succeed(self, result: Any) -> None:
        self._finish(result, items=False)

    def succeed_items(self, items: Sequence[Any]) -> None:
        self._finish(items, items=True)

    def fail(self, exc: BaseException) -> None:
        recorder = self.recorder
        duration = time.perf_counter() - self.started
        try:
            self.span.record_exception(exc)
            self.span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
            ids = [new_prediction_id()]
            attributes = prediction_attributes(ids, _NO_OUTPUT)
            attributes.update(recorder.segment_attributes(self.args, self.kwargs))
            self.span.set_attributes(attributes)
            set_last_prediction_id(ids[0])
            tools = instruments()
            error_attributes = {
                **recorder._error_attributes,
                semconv.METRIC_ATTR_ERROR_TYPE: type(exc).__qualname__,
            }
            tools.errors.add(1, error_attributes)
            tools.predictions.add(1, recorder._error_attributes)
            tools.duration.record(duration, recorder._error_attributes)
        except Exception as internal:  # noqa: BLE001 - never raise into the user's code
            recorder.report_failure(internal)
        finally:
            self._end()

    def _finish(self, result: Any, items: bool) -> None:
        recorder = self.recorder
        duration = time.perf_counter() - self.started
        try:
            outputs = _NO_OUTPUT
            try:
                outputs = recorder.interpret(result, self.settings, items)
            finally:
                ids = recorder.prediction_ids(self.args, self.kwargs, outputs)
                attributes = prediction_attributes(ids, outputs)
                attributes.update(recorder.segment_attributes(self.args, self.kwargs))
                attributes.update(
                    recorder.feature_attributes(self.args, self.kwargs, self.settings)
                )
                self.span.set_attributes(attributes)
                _publish_ids(ids, outputs)
            tools = instruments()
            ok = recorder._ok_attributes
            tools.predictions.add(outputs.count, ok)
            tools.duration.record(duration, ok)
            if outputs.scores:
                record_finite_scores(tools.score, outputs.scores, ok)
        except Exception as internal:  # noqa: BLE001 - never raise into the user's code
            recorder.report_failure(internal)
        finally:
            self._end()

    def _end(self) -> None:
        self.suspend()
        self.span.end()


class BufferedCall:
    """One call of an async function, generator or ``prediction()`` block, for the buffer."""

    __slots__ = ("recorder", "settings", "args", "kwargs", "start_ns", "parent")

    def __init__(
        self, recorder: Recorder, settings: Settings, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        self.recorder = recorder
        self.settings = settings
        self.args = args
        self.kwargs = kwargs
        self.parent = get_current_span()
        self.start_ns = time_ns()

    def suspend(self) -> None:
        """Nothing to detach: a buffered call has no span of its own."""

    def resume(self) -> None:
        """Nothing to attach: a buffered call has no span of its own."""

    def succeed(self, result: Any) -> None:
        self._finish(result, items=False, error=None)

    def succeed_items(self, items: Sequence[Any]) -> None:
        self._finish(items, items=True, error=None)

    def fail(self, exc: BaseException) -> None:
        self._finish(None, items=False, error=exc)

    def _finish(self, result: Any, items: bool, error: BaseException | None) -> None:
        self.recorder.buffer_call(
            self.args, self.kwargs, self.settings, self.parent, self.start_ns, result, items, error
        )
