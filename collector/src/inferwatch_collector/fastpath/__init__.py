"""The fast path for trace requests: ClickHouse decodes OTLP protobuf itself.

>>> from inferwatch_collector.fastpath import insert_trace_requests
"""

from __future__ import annotations

from .trace_insert import insert_trace_requests

__all__ = ["insert_trace_requests"]
