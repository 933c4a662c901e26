"""The write-ahead log: receivers append and acknowledge, one writer drains into ClickHouse."""

from __future__ import annotations

import fcntl
import os
import threading
import zlib
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from inferwatch_collector.wal.disk import open_for_append, sync_directory, write_frame
from inferwatch_collector.wal.errors import WalClosed, WalError, WalFull, WalLocked
from inferwatch_collector.wal.frame import (
    HEADER_SIZE,
    MAX_KIND,
    MAX_PAYLOAD,
    WalRecord,
    encode_header,
)
from inferwatch_collector.wal.group_commit import GroupCommit
from inferwatch_collector.wal.reading import ReadLimits, locate, read_records
from inferwatch_collector.wal.recovery import recover_segments
from inferwatch_collector.wal.segment import Position, Segment, segment_path
from inferwatch_collector.wal.state import LogState, load_state, save_state

LOCK_FILE = "LOCK"

_Mark = tuple[int, Position]  # (seq, end of its record): how far the log is written/durable


class WriteAheadLog:
    """A durable queue on disk: acknowledge a request once it is here, store it later.

    Receivers call ``append`` from any number of threads; it returns once the record is on
    disk, and concurrent appends share one fsync (group commit). One writer thread drains:

    >>> import tempfile
    >>> log = WriteAheadLog(tempfile.mkdtemp(), fsync=False)
    >>> log.append(1, b"request bytes")
    1
    >>> batch = log.read_batch(max_records=1000, max_bytes=8 << 20)
    >>> log.claim(batch[0].seq, batch[-1].seq)  # durable before the insert
    >>> # insert batch with insert_deduplication_token=f"wal-{first}-{last}", then:
    >>> log.complete(batch[-1].seq)
    >>> log.pending_records, log.pending_bytes
    (0, 0)
    >>> log.close()

    After a crash, reopening finds the batch that was claimed and not completed; insert it
    again with the same token (ClickHouse drops the duplicate), then carry on as above::

        claim = log.pending_claim()
        if claim is not None:
            insert(log.read_range(*claim), token=f"wal-{claim[0]}-{claim[1]}")
            log.complete(claim[1])

    Args:
        directory: created if missing; one open log per directory (else ``WalLocked``).
        max_bytes: bound on pending bytes (header and payload of every record not completed);
            ``append`` raises ``WalFull`` past it.
        segment_bytes: a new segment file starts when the current one would pass this.
        fsync: False skips every fsync (tests, benchmarks): a process crash loses nothing,
            a power cut may.
        group_commit_window: the longest a flush waits for appenders already under way to
            join it; a lone appender is never delayed.

    ``read_batch``, ``claim``, ``read_range`` and ``complete`` are for one writer thread; they
    are serialized if called from several. See docs/durability.md for the guarantees and the
    disk layout.
    """

    # Set by _open from what is on disk; all guarded by _lock.
    _done_seq: int  # every seq up to this one is stored
    _claim: tuple[int, int] | None  # the batch being inserted
    _cursor_seq: int  # read_batch starts after this seq (the claim's end, else done)
    _cursor: Position  # ... at this place
    _done_pos: Position  # where the first pending record is
    _written_seq: int
    _durable_seq: int
    _durable_end: Position  # readers stop here: nothing later is known to be on disk
    _next_seq: int
    _pending_bytes: int
    _segments: list[Segment]  # oldest first; the last one is appended to
    _active_fd: int

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        max_bytes: int = 1 << 30,
        segment_bytes: int = 64 << 20,
        fsync: bool = True,
        group_commit_window: float = 0.002,
    ) -> None:
        _check_settings(max_bytes, segment_bytes, group_commit_window)
        self._dir = Path(directory)
        self._dir.mkdir(parents=True, exist_ok=True)
        self._max_bytes, self._segment_bytes, self._fsync = max_bytes, segment_bytes, fsync
        self._lock = threading.Lock()  # appenders, the flusher and the writer's bookkeeping
        self._changed = threading.Condition(self._lock)  # durable seq moved, or closed
        self._reader_lock = threading.Lock()  # one writer-side call at a time
        self._closed = False
        self._broken: OSError | None = None
        self._last_read: _Mark | None = None  # end of the last read_batch, to claim cheaply
        self._lock_fd = _lock_directory(self._dir)
        try:
            self._open(load_state(self._dir))
        except BaseException:
            os.close(self._lock_fd)
            raise
        self._group: GroupCommit[_Mark] | None = None
        if fsync:
            self._group = GroupCommit(
                self._lock, self._changed, self._dir, group_commit_window, self._publish
            )

    # -- receivers ---------------------------------------------------------------------

    def append(self, kind: int, payload: bytes) -> int:
        """Store ``payload``; returns its seq once it is on disk (with ``fsync``).

        Raises:
            WalFull: pending bytes plus this record would pass ``max_bytes``.
            WalClosed: the log was closed.
        """
        if not 0 <= kind <= MAX_KIND or len(payload) > MAX_PAYLOAD:
            raise ValueError(f"kind must be 0..{MAX_KIND} and payload at most {MAX_PAYLOAD} bytes")
        group = self._group
        if group is not None:
            with self._lock:
                group.enter()  # the flusher waits for this append to join its group
        crc = zlib.crc32(payload)  # outside the lock: the costly part of framing
        with self._lock:
            try:
                seq = self._write(kind, payload, crc)
            finally:
                if group is not None:
                    group.leave()
        if group is not None:
            self._wait_durable(seq)
        return seq

    @property
    def pending_bytes(self) -> int:
        """Bytes on disk (headers included) of records not yet completed."""
        with self._lock:
            return self._pending_bytes

    @property
    def pending_records(self) -> int:
        """Records appended and not yet completed (exact unless damage on disk lost some)."""
        with self._lock:
            return self._written_seq - self._done_seq

    # -- the writer --------------------------------------------------------------------

    def read_batch(
        self, max_records: int, max_bytes: int, weights: Mapping[int, int] | None = None
    ) -> list[WalRecord]:
        """The oldest durable records after the last claimed batch; [] if none (never blocks).

        Stops before ``max_records`` records or ``max_bytes`` payload bytes — a record of a
        kind in ``weights`` counting that many times its size — but returns at least one
        record however large. Calling it again without ``claim`` returns the same.
        """
        with self._reader_lock:
            with self._lock:
                self._check_open()
                segments, start, end = list(self._segments), self._cursor, self._durable_end
            limits = ReadLimits(max_records, max_bytes, weights=weights or {})
            records, after = read_records(segments, start, end, limits)
            self._last_read = (records[-1].seq, after) if records else None
            return records

    def wait_for_records(self, timeout: float) -> bool:
        """Block until records past the claimed batch are durable (True) or ``timeout``."""
        with self._changed:
            self._changed.wait_for(lambda: self._closed or self._has_unread(), timeout)
            return not self._closed and self._has_unread()

    def claim(self, first_seq: int, last_seq: int) -> None:
        """Record durably that ``first_seq..last_seq`` is being inserted; call before inserting.

        A restart then returns it from ``pending_claim``, so the batch is re-formed exactly.
        Only one batch is claimed at a time; claiming the current one again does nothing.
        """
        with self._reader_lock:
            with self._lock:
                self._check_open()
                if self._claim == (first_seq, last_seq):
                    return
                self._check_claim(first_seq, last_seq)
            after = self._position_after(last_seq)
            claim = (first_seq, last_seq)
            save_state(self._dir, LogState(self._done_seq, claim), fsync=self._fsync)
            with self._lock:
                self._claim, self._cursor_seq, self._cursor = claim, last_seq, after

    def pending_claim(self) -> tuple[int, int] | None:
        """The batch claimed and not completed (after a restart: the one to insert again)."""
        with self._lock:
            return self._claim

    def read_range(self, first_seq: int, last_seq: int) -> list[WalRecord]:
        """Durable, not completed records with ``first_seq <= seq <= last_seq``."""
        with self._reader_lock:
            with self._lock:
                self._check_open()
                segments, end = list(self._segments), self._durable_end
            start = locate(segments, end, max(first_seq, self._done_seq + 1))
            return read_records(segments, start, end, ReadLimits(last_seq=last_seq))[0]

    def complete(self, last_seq: int) -> None:
        """Mark every record up to ``last_seq`` done, durably; delete segments wholly done."""
        with self._reader_lock:
            with self._lock:
                self._check_open()
                if last_seq <= self._done_seq:
                    return
                claim = self._claim_after_complete(last_seq)
            after = self._position_after(last_seq)
            save_state(self._dir, LogState(last_seq, claim), fsync=self._fsync)
            with self._lock:
                done_segments = self._mark_done(last_seq, claim, after)
            for segment in done_segments:
                segment.path.unlink(missing_ok=True)  # a leftover is harmless: all done

    # -- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        """Make every appended record durable, then release the directory."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._changed.notify_all()
        if self._group is not None:
            self._group.close()
        os.close(self._active_fd)
        os.close(self._lock_fd)

    def __enter__(self) -> WriteAheadLog:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- internals (names ending in "_locked" expect self._lock held) -------------------

    def _open(self, state: LogState) -> None:
        self._done_seq, self._claim = state.done_seq, state.claim
        self._segments = recover_segments(self._dir, state.done_seq, fsync=self._fsync)
        self._next_seq = _next_seq(self._segments, state)
        if self._segments:
            self._active_fd = open_for_append(self._segments[-1].path, create=False)
        else:
            self._segments.append(self._create_segment())
            if self._fsync:
                sync_directory(self._dir)
        active = self._segments[-1]
        self._written_seq = self._durable_seq = self._next_seq - 1
        self._durable_end = Position(active, active.size)
        self._cursor_seq = max(state.done_seq, state.claim[1] if state.claim else 0)
        self._done_pos = locate(self._segments, self._durable_end, state.done_seq + 1)
        self._cursor = locate(self._segments, self._durable_end, self._cursor_seq + 1)
        for segment in self._forget_done_segments_locked():
            segment.path.unlink(missing_ok=True)

    def _create_segment(self) -> Segment:
        segment = Segment.empty(segment_path(self._dir, self._next_seq), self._next_seq)
        self._active_fd = open_for_append(segment.path, create=True)
        return segment

    def _write(self, kind: int, payload: bytes, crc: int) -> int:
        self._check_writable_locked()
        size = HEADER_SIZE + len(payload)
        if self._pending_bytes + size > self._max_bytes:
            raise WalFull(
                f"write-ahead log holds {self._pending_bytes} pending bytes; {size} more "
                f"would pass max_bytes={self._max_bytes}"
            )
        active, seq = self._active_for_locked(size), self._next_seq
        offset = active.size
        try:
            write_frame(self._active_fd, encode_header(seq, kind, payload, crc), payload)
        except OSError:
            self._undo_write_locked(offset)
            raise
        active.note(seq, offset, size)
        self._next_seq, self._written_seq = seq + 1, seq
        self._pending_bytes += size
        self._wrote_locked((seq, Position(active, active.size)))
        return seq

    def _active_for_locked(self, size: int) -> Segment:
        active = self._segments[-1]
        if active.size == 0 or active.size + size <= self._segment_bytes:
            return active  # a record larger than segment_bytes gets a segment of its own
        old_fd = self._active_fd
        self._segments.append(self._create_segment())
        if self._group is None:
            os.close(old_fd)
        else:
            self._group.retire(old_fd)  # synced with the next group, then closed
            self._group.note_new_file()
        return self._segments[-1]

    def _undo_write_locked(self, offset: int) -> None:
        # A short write (full disk) leaves part of a record: cut it off, or nothing after it
        # could be read back. If even that fails, refuse further appends.
        try:
            os.ftruncate(self._active_fd, offset)
        except OSError as exc:
            self._broken = exc

    def _wrote_locked(self, mark: _Mark) -> None:
        if self._group is None:
            self._publish(mark)
        else:
            self._group.note_write(self._active_fd, mark)

    def _publish(self, mark: _Mark) -> None:
        self._durable_seq, self._durable_end = mark
        self._changed.notify_all()

    def _wait_durable(self, seq: int) -> None:
        assert self._group is not None
        with self._changed:
            while self._durable_seq < seq:
                self._raise_if_failed_locked()
                self._changed.wait()

    def _has_unread(self) -> bool:
        return self._durable_seq > self._cursor_seq

    def _check_open(self) -> None:
        if self._closed:
            raise WalClosed(f"write-ahead log {self._dir} is closed")

    def _check_writable_locked(self) -> None:
        self._check_open()
        self._raise_if_failed_locked()

    def _raise_if_failed_locked(self) -> None:
        failure = self._broken or (self._group.failure if self._group else None)
        if failure is not None:
            raise WalError(f"write-ahead log {self._dir} failed, reopen it: {failure}") from failure

    def _check_claim(self, first_seq: int, last_seq: int) -> None:
        if self._claim is not None:
            first, last = self._claim
            raise WalError(f"batch {first}..{last} is claimed; complete it before claiming more")
        if not self._done_seq < first_seq <= last_seq <= self._durable_seq:
            raise ValueError(
                f"cannot claim {first_seq}..{last_seq}: pending durable seqs are "
                f"{self._done_seq + 1}..{self._durable_seq}"
            )

    def _claim_after_complete(self, last_seq: int) -> tuple[int, int] | None:
        if last_seq > self._durable_seq:
            raise ValueError(f"cannot complete {last_seq}: durable up to {self._durable_seq}")
        if self._claim is None or last_seq >= self._claim[1]:
            return None
        if last_seq >= self._claim[0]:
            raise ValueError(f"complete({last_seq}) would split claimed batch {self._claim}")
        return self._claim

    def _position_after(self, seq: int) -> Position:
        if self._last_read is not None and self._last_read[0] == seq:
            return self._last_read[1]  # the usual case: claiming what read_batch returned
        with self._lock:
            segments, end = list(self._segments), self._durable_end
        return locate(segments, end, seq + 1)

    def _mark_done(
        self, last_seq: int, claim: tuple[int, int] | None, after: Position
    ) -> list[Segment]:
        self._done_seq, self._claim, self._done_pos = last_seq, claim, after
        if self._last_read is not None and self._last_read[0] <= last_seq:
            self._last_read = None  # stale: it may point into a segment about to be deleted
        if last_seq > self._cursor_seq:
            self._cursor_seq, self._cursor = last_seq, after
        return self._forget_done_segments_locked()

    def _forget_done_segments_locked(self) -> list[Segment]:
        """Drop (and return) the segments before the first pending record; recount bytes."""
        self._done_pos = self._normalized(self._done_pos)
        self._cursor = self._normalized(self._cursor)
        self._durable_end = self._normalized(self._durable_end)
        if self._last_read is not None:
            self._last_read = (self._last_read[0], self._normalized(self._last_read[1]))
        index = self._segments.index(self._done_pos.segment)
        done, self._segments = self._segments[:index], self._segments[index:]
        self._pending_bytes = sum(each.size for each in self._segments) - self._done_pos.offset
        return done

    def _normalized(self, position: Position) -> Position:
        """The same place, moved from the end of a full segment to the start of the next."""
        segment, offset = position.segment, position.offset
        while offset >= segment.size and segment is not self._segments[-1]:
            segment, offset = self._segments[self._segments.index(segment) + 1], 0
        return Position(segment, offset)


def _check_settings(max_bytes: int, segment_bytes: int, group_commit_window: float) -> None:
    if max_bytes <= 0 or segment_bytes <= 0:
        raise ValueError(f"max_bytes ({max_bytes}) and segment_bytes ({segment_bytes}) must be > 0")
    if group_commit_window < 0:
        raise ValueError(f"group_commit_window must be >= 0, got {group_commit_window}")


def _next_seq(segments: list[Segment], state: LogState) -> int:
    """One past every seq ever handed out: seqs are never reused once anyone saw them."""
    seen = [state.done_seq, state.claim[1] if state.claim else 0]
    seen += [each.last_seq for each in segments] + [each.first_seq - 1 for each in segments]
    return max(seen) + 1


def _lock_directory(directory: Path) -> int:
    fd = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        os.close(fd)
        raise WalLocked(f"{directory} is in use by another write-ahead log") from exc
    return fd
