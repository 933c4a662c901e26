"""Receive: the OTLP/gRPC and OTLP/HTTP endpoints, and the `Ingestor` seam behind them.

from inferwatch_collector.receive import GrpcReceiver, HttpReceiver

http = HttpReceiver(ingestor, port=4318)
grpc = GrpcReceiver(ingestor, port=4317)
http.start(); grpc.start()
"""

from __future__ import annotations

from inferwatch_collector.receive.grpc import GrpcReceiver
from inferwatch_collector.receive.http import HttpReceiver
from inferwatch_collector.receive.http_server import HttpRequest
from inferwatch_collector.receive.ingest import Backpressure, Ingestor, IngestResult, Signal
from inferwatch_collector.receive.otlp_json import DecodeError, decode_json_request

__all__ = [
    "Backpressure",
    "DecodeError",
    "GrpcReceiver",
    "HttpReceiver",
    "HttpRequest",
    "IngestResult",
    "Ingestor",
    "Signal",
    "decode_json_request",
]
