"""Segment files: each holds a run of records and is named by the first seq it may hold.

    <directory>/00000000000000000001.wal
    <directory>/00000000000000004097.wal   (a new one starts when the last passes segment_bytes)

A ``Segment`` is the in-memory summary of one file (seqs, size, a sparse offset index, damaged
ranges to step over); ``SegmentReader`` reads its records back by offset.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from inferwatch_collector.wal.errors import WalCorrupt
from inferwatch_collector.wal.frame import HEADER_SIZE, FrameHeader, decode_header, payload_matches

SUFFIX = ".wal"
# One index entry per MiB keeps locate() to a short walk without an entry per record.
CHECKPOINT_BYTES = 1 << 20


def segment_path(directory: Path, first_seq: int) -> Path:
    """Where the segment starting at ``first_seq`` lives (zero-padded: names sort by seq)."""
    return directory / f"{first_seq:020d}{SUFFIX}"


def list_segment_files(directory: Path) -> list[tuple[int, Path]]:
    """``(first_seq, path)`` of every segment file, oldest first; other files are ignored."""
    found = []
    for path in directory.iterdir():
        if path.suffix == SUFFIX and path.stem.isdigit():
            found.append((int(path.stem), path))
    return sorted(found)


@dataclass(eq=False)
class Segment:
    """What the log knows about one segment file (identity matters: eq is off)."""

    path: Path
    first_seq: int
    last_seq: int  # first_seq - 1 while empty
    size: int = 0  # end of the last good record; later bytes are ignored
    gaps: dict[int, int] = field(default_factory=dict)  # damaged start -> next good record
    _checkpoints: list[tuple[int, int]] = field(default_factory=list)  # (seq, offset)

    @classmethod
    def empty(cls, path: Path, first_seq: int) -> Segment:
        return cls(path, first_seq, first_seq - 1)

    def note(self, seq: int, offset: int, frame_size: int) -> None:
        """Account for a good record at ``offset``."""
        if not self._checkpoints or offset - self._checkpoints[-1][1] >= CHECKPOINT_BYTES:
            self._checkpoints.append((seq, offset))
        self.last_seq = seq
        self.size = offset + frame_size

    def start_for(self, seq: int) -> int:
        """An offset at or before the record ``seq`` from which to walk."""
        index = bisect.bisect_right(self._checkpoints, seq, key=lambda point: point[0])
        return self._checkpoints[index - 1][1] if index else 0


@dataclass(frozen=True, slots=True)
class Position:
    """A place in the log: a record's offset in a segment, or a segment's end."""

    segment: Segment
    offset: int


class SegmentReader:
    """Reads records of one segment; raises WalCorrupt when bytes changed since they were checked.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> segment = Segment.empty(segment_path(folder, 1), 1)
    >>> segment.path.write_bytes(b"")
    0
    >>> with SegmentReader(segment) as reader:
    ...     list(reader.walk(0, segment.size))
    []
    """

    def __init__(self, segment: Segment) -> None:
        self._segment = segment
        self._fd = os.open(segment.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))

    def __enter__(self) -> SegmentReader:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        os.close(self._fd)

    def header_at(self, offset: int) -> FrameHeader:
        header = decode_header(os.pread(self._fd, HEADER_SIZE, offset))
        if header is None:
            raise WalCorrupt(f"{self._segment.path}: damaged record header at offset {offset}")
        return header

    def payload_at(self, offset: int, header: FrameHeader) -> bytes:
        payload = os.pread(self._fd, header.length, offset + HEADER_SIZE)
        if not payload_matches(header, payload):
            where = f"{self._segment.path}: record {header.seq} at offset {offset}"
            raise WalCorrupt(f"{where} is damaged")
        return payload

    def walk(self, start: int, stop: int) -> Iterator[tuple[int, FrameHeader]]:
        """``(offset, header)`` of each record from ``start`` to ``stop``, stepping over gaps."""
        offset = start
        while offset < stop:
            offset = self._segment.gaps.get(offset, offset)
            if offset >= stop:
                return
            header = self.header_at(offset)
            yield offset, header
            offset += header.frame_size

    def find(self, seq: int, stop: int) -> int | None:
        """Offset of the first record whose seq is ``seq`` or more, None if it is not here."""
        for offset, header in self.walk(self._segment.start_for(seq), stop):
            if header.seq >= seq:
                return offset
        return None
