"""The on-disk frame of one record: a 26-byte header, then the payload.

Header, little-endian::

    magic    4s  b"IWR1"  (lets recovery find the next record after damaged bytes)
    length   u32 payload bytes
    seq      u64
    kind     u16
    crc      u32 crc32 of the payload
    head_crc u32 crc32 of the 22 bytes above (a damaged length must not be trusted)

>>> header = encode_header(7, 2, b"abc")
>>> decode_header(header)
FrameHeader(length=3, seq=7, kind=2, payload_crc=891568578)
>>> payload_matches(decode_header(header), b"abc")
True
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

MAGIC = b"IWR1"
_FIELDS = struct.Struct("<4sIQHI")
_HEAD_CRC = struct.Struct("<I")
HEADER_SIZE = _FIELDS.size + _HEAD_CRC.size
MAX_KIND = 0xFFFF
MAX_PAYLOAD = 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class WalRecord:
    """One record as the log hands it back."""

    seq: int  # monotonically increasing, never reused once acknowledged, survives restarts
    kind: int  # small int tag chosen by the caller (e.g. signal + encoding)
    payload: bytes


@dataclass(frozen=True, slots=True)
class FrameHeader:
    length: int
    seq: int
    kind: int
    payload_crc: int

    @property
    def frame_size(self) -> int:
        """Bytes the whole record takes on disk."""
        return HEADER_SIZE + self.length


def encode_header(seq: int, kind: int, payload: bytes, payload_crc: int | None = None) -> bytes:
    """The header for ``payload``; pass ``payload_crc`` when it was computed earlier."""
    crc = zlib.crc32(payload) if payload_crc is None else payload_crc
    fields = _FIELDS.pack(MAGIC, len(payload), seq, kind, crc)
    return fields + _HEAD_CRC.pack(zlib.crc32(fields))


def decode_header(data: bytes) -> FrameHeader | None:
    """The header at the start of ``data``, or None when it is short, foreign or damaged."""
    if len(data) < HEADER_SIZE:
        return None
    fields = data[: _FIELDS.size]
    magic, length, seq, kind, crc = _FIELDS.unpack(fields)
    (head_crc,) = _HEAD_CRC.unpack_from(data, _FIELDS.size)
    if magic != MAGIC or zlib.crc32(fields) != head_crc:
        return None
    return FrameHeader(length, seq, kind, crc)


def payload_matches(header: FrameHeader, payload: bytes) -> bool:
    """Whether ``payload`` is complete and has the checksum the header promises."""
    return len(payload) == header.length and zlib.crc32(payload) == header.payload_crc
