"""Opening a log after a clean stop or a crash: scan every segment, check every record.

Two kinds of bad bytes, told apart by whether a good record follows them:

* **Torn tail** — the last segment ends in an incomplete or mismatching record and nothing good
  follows: a write cut short by a crash. It was never acknowledged (acks wait for the write and
  the fsync), so it is truncated and the next append reuses its seq.
* **Damage** — bad bytes followed by good records (or at the end of an older segment): the disk
  changed data that may have been acknowledged. It is logged as an error naming the file, the
  offset and the size, the records in it are lost, and reading resumes at the next good record.

Payload checksums are verified for pending records only; records already done are walked by
their (checksummed) headers, since nothing will read their payloads again.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from inferwatch_collector.wal.disk import sync_file
from inferwatch_collector.wal.frame import (
    HEADER_SIZE,
    MAGIC,
    FrameHeader,
    decode_header,
    payload_matches,
)
from inferwatch_collector.wal.segment import Segment, list_segment_files

logger = logging.getLogger("inferwatch_collector.wal")

_SEARCH_CHUNK = 1 << 20


def recover_segments(directory: Path, done_seq: int, *, fsync: bool) -> list[Segment]:
    """Every segment of ``directory``, checked, with a torn tail of the last one truncated."""
    files = list_segment_files(directory)
    segments: list[Segment] = []
    after_seq = 0
    for index, (first_seq, path) in enumerate(files):
        is_last = index == len(files) - 1
        segment = _recover_segment(path, first_seq, after_seq, done_seq, is_last, fsync)
        segments.append(segment)
        after_seq = max(after_seq, segment.last_seq)
    return segments


def _recover_segment(
    path: Path, first_seq: int, after_seq: int, done_seq: int, is_last: bool, fsync: bool
) -> Segment:
    segment = Segment.empty(path, first_seq)
    file_size = path.stat().st_size
    with open(path, "rb") as file:
        fd, offset = file.fileno(), 0
        while offset < file_size:
            floor = max(after_seq, segment.last_seq, first_seq - 1)
            header = _good_record(fd, offset, file_size, floor, verify_after=done_seq)
            if header is not None:
                segment.note(header.seq, offset, header.frame_size)
                offset += header.frame_size
                continue
            resume = _next_good_record(fd, offset + 1, file_size, floor)
            if resume is None:
                _drop_tail(segment, offset, file_size, is_last, fsync)
                break
            logger.error(
                "write-ahead log damaged: %s bytes %d..%d skipped, records in them are lost",
                path,
                offset,
                resume,
            )
            segment.gaps[offset] = resume
            offset = resume
    return segment


def _good_record(
    fd: int, offset: int, file_size: int, after_seq: int, *, verify_after: int
) -> FrameHeader | None:
    """The header at ``offset`` if a whole, well-ordered record (checksum-verified) is there."""
    header = decode_header(os.pread(fd, HEADER_SIZE, offset))
    if header is None or header.seq <= after_seq or offset + header.frame_size > file_size:
        return None
    if header.seq > verify_after:
        payload = os.pread(fd, header.length, offset + HEADER_SIZE)
        if not payload_matches(header, payload):
            return None
    return header


def _next_good_record(fd: int, start: int, file_size: int, after_seq: int) -> int | None:
    """Offset of the next whole record after damaged bytes, found by its magic, or None."""
    chunk_start = start
    while chunk_start < file_size:
        chunk = os.pread(fd, _SEARCH_CHUNK + len(MAGIC) - 1, chunk_start)
        hit = chunk.find(MAGIC)
        while hit != -1:
            if _plausible_resume(fd, chunk_start + hit, start - 1, file_size, after_seq):
                return chunk_start + hit
            hit = chunk.find(MAGIC, hit + 1)
        chunk_start += _SEARCH_CHUNK
    return None


def _plausible_resume(fd: int, offset: int, bad_start: int, file_size: int, after: int) -> bool:
    header = _good_record(fd, offset, file_size, after, verify_after=-1)
    # The damaged bytes can have held at most one record per header size: a seq further ahead
    # is a record-shaped payload (e.g. a client's bytes), not the next record of this log.
    return header is not None and header.seq <= after + 1 + (offset - bad_start) // HEADER_SIZE


def _drop_tail(segment: Segment, offset: int, file_size: int, is_last: bool, fsync: bool) -> None:
    if not is_last:
        logger.error(
            "write-ahead log damaged: %s bytes %d..%d (end of an older segment) skipped, "
            "records in them are lost",
            segment.path,
            offset,
            file_size,
        )
        return
    logger.warning(
        "write-ahead log: %s ends in %d bytes of a torn write (never acknowledged), truncated",
        segment.path,
        file_size - offset,
    )
    with open(segment.path, "r+b") as file:
        file.truncate(offset)
        if fsync:
            sync_file(file.fileno())
