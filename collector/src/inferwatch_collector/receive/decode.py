"""An OTLP/HTTP payload, binary protobuf or JSON, to its Export*ServiceRequest message.

>>> decode_request(Signal.LOGS, Encoding.PROTOBUF, b"").resource_logs
[]
"""

from __future__ import annotations

from google.protobuf.message import DecodeError as ProtobufDecodeError
from google.protobuf.message import Message

from inferwatch_collector.receive.body import Encoding
from inferwatch_collector.receive.ingest import Signal
from inferwatch_collector.receive.messages import REQUEST_TYPES
from inferwatch_collector.receive.otlp_json import DecodeError, decode_json_request


def decode_request(signal: Signal, encoding: Encoding, payload: bytes) -> Message:
    """Decode `payload` into the request message of `signal`.

    Raises:
        DecodeError: the payload is not a valid message of that type.
    """
    if encoding is Encoding.JSON:
        return decode_json_request(signal, payload)
    return decode_protobuf_request(signal, payload)


def decode_protobuf_request(signal: Signal, payload: bytes) -> Message:
    """Parse binary protobuf (upb: about a million spans/s here, so no cleverness needed)."""
    request_type = REQUEST_TYPES[signal]
    try:
        return request_type.FromString(payload)
    except ProtobufDecodeError as error:
        name = request_type.DESCRIPTOR.name
        raise DecodeError(f"body is not a valid protobuf {name}: {error}") from None
