"""``prediction()``: the context-manager form of ``@monitor``, for code that cannot be decorated."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

from ._config import current_settings
from ._context import last_prediction_id
from ._options import OutputFunction, build_options
from ._recorder import BufferedCall, Recorder, SpanCall

_logger = logging.getLogger("inferwatch")


class Prediction:
    """One prediction (or batch) recorded around a block of code.

    ::

        with prediction(model="fraud", version="3.1", task="binary_classification") as p:
            score = model.predict_proba(rows)[:, 1]
            p.record(score)
        p.prediction_id   # the id(s), also in last_prediction_id()

    An exception leaving the block is recorded (status ERROR, error counter) and re-raised.
    """

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder
        self._call: SpanCall | BufferedCall | None = None
        self._output: Any = None
        self._recorded = False
        self.prediction_id: str | list[str] | None = None

    def record(self, output: Any) -> None:
        """Set the block's output: anything ``@monitor`` understands as a return value."""
        self._output = output
        self._recorded = True

    def __enter__(self) -> Prediction:
        if current_settings().enabled:
            try:
                self._call = self._recorder.begin((), {})
            except Exception as exc:  # noqa: BLE001 - telemetry never breaks the host
                self._recorder.report_failure(exc)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        call = self._call
        if call is None:
            return
        if exc is not None:
            call.fail(exc)
        elif not self._recorded:
            self._recorder.report_failure(
                ValueError("prediction(): the block ended without p.record(output)")
            )
            call.fail(RuntimeError("no output recorded"))
        else:
            call.succeed(self._output)
        self.prediction_id = last_prediction_id()


def prediction(
    model: str,
    *,
    version: str | None = None,
    task: str | None = None,
    classes: Sequence[object] | None = None,
    threshold: float | None = None,
    batch: bool | None = None,
    id: str | Sequence[str] | None = None,  # noqa: A002 - same keyword as monitor(id=...)
    segments: Mapping[str, object] | None = None,
    features: Mapping[str, object] | None = None,
    redact: Sequence[str] = (),
    output: OutputFunction | None = None,
    batched: bool | None = None,
) -> Prediction:
    """Record one prediction (or a batch) made inside a ``with`` block; see ``Prediction``.

    ``id`` is the prediction id (a list for a batch) when the caller has its own business
    key; ``segments`` and ``features`` are plain dicts here.
    """
    given_id = id
    options = build_options(
        model,
        version=version,
        task=task,
        classes=classes,
        threshold=threshold,
        batch=batch,
        id=None if given_id is None else (lambda: given_id),
        segments=segments,
        output=output,
        capture_features=features is not None,
        redact=redact,
        batched=batched,
    )
    captured = dict(features or {})
    return Prediction(Recorder(options, lambda args, kwargs: captured))
