"""Reading an HTTP request body within a size limit, and telling what it is encoded in.

Errors, each with the HTTP status it maps to::

    BodyError
    ├── MalformedBody (400)         chunked framing or gzip stream broken
    ├── BodyTooLarge (413)          past the limit, declared, sent or inflated
    └── UnsupportedMediaType (415)  a Content-Type or Content-Encoding we do not speak

    >>> media_encoding("application/json; charset=utf-8")
    <Encoding.JSON: 'application/json'>
    >>> import gzip
    >>> try:
    ...     inflate(gzip.compress(b"x" * 100), "gzip", limit=10)
    ... except BodyError as error:
    ...     print(error.status, error)
    413 gzip body inflates past the limit of 10 bytes
"""

from __future__ import annotations

import enum
import zlib
from typing import Protocol


class Encoding(enum.Enum):
    """The two OTLP/HTTP payload encodings; the value is the media type answered with."""

    PROTOBUF = "application/x-protobuf"
    JSON = "application/json"


class BodyError(Exception):
    """A request body that cannot be taken; `status` is the HTTP status to answer."""

    status = 400


class MalformedBody(BodyError):
    status = 400


class BodyTooLarge(BodyError):
    status = 413


class UnsupportedMediaType(BodyError):
    status = 415


_MEDIA_TYPES = {encoding.value: encoding for encoding in Encoding}
_GZIP_WBITS = 16 + zlib.MAX_WBITS


def media_encoding(content_type: str | None) -> Encoding:
    """The payload encoding named by a Content-Type header; parameters such as charset pass."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    encoding = _MEDIA_TYPES.get(media_type)
    if encoding is None:
        shown = media_type or "none"
        raise UnsupportedMediaType(
            f"unsupported content type {shown!r}: use application/x-protobuf or application/json"
        )
    return encoding


class Readable(Protocol):
    """What a body is read from: the buffered socket file of a request handler."""

    def read(self, size: int = -1, /) -> bytes: ...

    def readline(self, size: int = -1, /) -> bytes: ...


def read_body(stream: Readable, headers: dict[str, str], limit: int) -> bytes:
    """Read the body framed by Content-Length or chunked transfer coding, refusing past `limit`.

    A declared Content-Length over the limit is refused before anything is read. Without
    either header a request has no body (RFC 9112, section 6.3). `headers` has lower-case names.
    """
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return _read_chunked(stream, limit)
    length = _parse_length(headers.get("content-length", "0"))
    if length > limit:
        raise BodyTooLarge(f"body of {length} bytes is past the limit of {limit} bytes")
    body = stream.read(length)
    if len(body) < length:
        raise MalformedBody(f"body ended after {len(body)} of {length} bytes")
    return body


def inflate(body: bytes, content_encoding: str | None, limit: int) -> bytes:
    """Undo the Content-Encoding (`gzip` or `identity`), never producing more than `limit` bytes.

    A gzip bomb is refused while inflating: at most `limit + 1` bytes are ever produced.
    """
    coding = (content_encoding or "identity").strip().lower()
    if coding == "identity":
        return body
    if coding != "gzip":
        raise UnsupportedMediaType(f"unsupported content encoding {coding!r}: use gzip or identity")
    return _gunzip(body, limit)


def _gunzip(body: bytes, limit: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    pending = body
    while pending:  # a gzip file may hold several members, one after another
        inflater = zlib.decompressobj(_GZIP_WBITS)
        try:
            part = inflater.decompress(pending, limit + 1 - size)
        except zlib.error as error:
            raise MalformedBody(f"gzip body cannot be inflated: {error}") from None
        size += len(part)
        if size > limit or inflater.unconsumed_tail:
            raise BodyTooLarge(f"gzip body inflates past the limit of {limit} bytes")
        if not inflater.eof:
            raise MalformedBody("gzip body is truncated")
        parts.append(part)
        pending = inflater.unused_data
    return b"".join(parts)


def _parse_length(declared: str) -> int:
    if not declared.strip().isdigit():
        raise MalformedBody(f"invalid Content-Length {declared!r}")
    return int(declared)


def _read_chunked(stream: Readable, limit: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    while True:
        chunk_size = _read_chunk_size(stream)
        if chunk_size == 0:
            break
        size += chunk_size
        if size > limit:
            raise BodyTooLarge(f"chunked body is past the limit of {limit} bytes")
        chunk = stream.read(chunk_size)
        if len(chunk) < chunk_size or stream.readline(3) not in (b"\r\n", b"\n"):
            raise MalformedBody("chunked body ended inside a chunk")
        parts.append(chunk)
    _skip_trailers(stream)
    return b"".join(parts)


def _read_chunk_size(stream: Readable) -> int:
    line = stream.readline(1024)
    text = line.split(b";", 1)[0].strip()  # chunk extensions are ignored
    try:
        return int(text, 16)
    except ValueError:
        raise MalformedBody(f"invalid chunk size line {line[:40]!r}") from None


def _skip_trailers(stream: Readable) -> None:
    for _ in range(100):
        line = stream.readline(8192)
        if line in (b"\r\n", b"\n", b""):
            return
    raise MalformedBody("too many trailer fields after the chunked body")
