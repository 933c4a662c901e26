"""Group commit: one flusher thread, one fdatasync for every append that arrived meanwhile.

Appenders call ``enter`` when they start, write under the log's lock, call ``note_write`` and
``leave``, then wait for the log to publish their seq as durable. The flusher wakes on the
first write, waits (at most ``window`` seconds) for the appenders already under way to write
too, syncs the files and the directory once, and calls ``publish(mark)`` (lock held) for the
last write it covered. Acknowledging costs one fsync per group, not per request; appends that
arrive during an fsync form the next group. The flusher never sleeps on the chance that an
appender might come: a lone appender is synced at once.

Descriptors of segments that were rolled over are handed to ``retire``: the flusher syncs
them with the next group and only then closes them, so no descriptor is closed while in use.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from inferwatch_collector.wal.disk import sync_directory, sync_file

Mark = TypeVar("Mark")


class GroupCommit(Generic[Mark]):
    """The flusher of one log; every method but ``close`` is called with the log's lock held."""

    def __init__(
        self,
        lock: threading.Lock,
        changed: threading.Condition,
        directory: Path,
        window: float,
        publish: Callable[[Mark], None],
    ) -> None:
        self._changed = changed  # the log's condition on ``lock``: notified on failure
        self._work = threading.Condition(lock)
        self._directory, self._window, self._publish = directory, window, publish
        self._fd = -1
        self._target: Mark | None = None
        self._retired: list[int] = []
        self._directory_changed = False
        self._stopping = False
        self._appending = 0  # appenders between enter() and leave()
        self.failure: OSError | None = None  # once set, nothing is durable any more
        self._thread = threading.Thread(target=self._run, name="wal-group-commit", daemon=True)
        self._thread.start()

    def enter(self) -> None:
        self._appending += 1

    def leave(self) -> None:
        self._appending -= 1
        self._work.notify()

    def note_write(self, fd: int, mark: Mark) -> None:
        self._fd, self._target = fd, mark

    def retire(self, fd: int) -> None:
        self._retired.append(fd)

    def note_new_file(self) -> None:
        self._directory_changed = True

    def close(self) -> None:
        """Sync what was written, then stop the flusher (call without the lock)."""
        with self._work:
            self._stopping = True
            self._work.notify()
        self._thread.join()

    def _has_work(self) -> bool:
        return self._target is not None or bool(self._retired) or self._directory_changed

    def _run(self) -> None:
        while self._wait_for_work():
            self._wait_for_followers()
            if not self._sync_round():
                return

    def _wait_for_work(self) -> bool:
        with self._work:
            self._work.wait_for(lambda: self._stopping or self._has_work())
            return self._has_work()

    def _wait_for_followers(self) -> None:
        deadline = time.monotonic() + self._window
        with self._work:
            while self._appending and not self._stopping:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._work.wait(remaining)

    def _sync_round(self) -> bool:
        with self._work:
            mark, fd, retired = self._target, self._fd, self._retired
            sync_dir = self._directory_changed
            self._target, self._retired, self._directory_changed = None, [], False
        try:
            for each in [*retired, fd] if mark is not None else retired:
                sync_file(each)
            if sync_dir:
                sync_directory(self._directory)
        except OSError as exc:
            return self._fail(exc)
        for each in retired:
            os.close(each)
        if mark is not None:
            with self._work:
                self._publish(mark)
        return True

    def _fail(self, exc: OSError) -> bool:
        # After a failed fsync the kernel may have dropped the dirty pages: retrying could
        # report success for lost data, so the log stops acknowledging for good.
        with self._work:
            self.failure = exc
            self._changed.notify_all()
        return False
