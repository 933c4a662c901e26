"""The ids of the caller's last prediction, isolated per thread and per asyncio task."""

from __future__ import annotations

from contextvars import ContextVar

_last_ids: ContextVar[str | list[str] | None] = ContextVar(
    "inferwatch_last_prediction_id", default=None
)


def last_prediction_id() -> str | list[str] | None:
    """Return the prediction id(s) of the last monitored call made in this thread or task.

    A single call gives a string, a batch call a list of strings, and ``None`` before any call::

        score = predict(features)
        pid = last_prediction_id()
        record_label(pid, actual=1, model="fraud")
    """
    return _last_ids.get()


set_last_prediction_id = _last_ids.set
"""Record the id(s) of the call that just ended, for ``last_prediction_id()``.

The bound ``ContextVar.set`` itself: it runs on every buffered call (bench/sdk_overhead.py).
"""
