"""OTLP trace requests decoded by ClickHouse itself: the statements and the schema they read.

The writer hands the logged requests of a flush to ClickHouse as one length-delimited
``Protobuf`` file; ``insert_traces`` and ``insert_predictions`` decode, flatten and store
them, with exactly the rows of the Python converter, or stop with ``NEEDS_PYTHON`` on what
they leave to it. See docs/storage.md, "How the writer converts".
"""

from __future__ import annotations

from .expressions import NEEDS_PYTHON
from .statements import insert_predictions, insert_traces

__all__ = ["NEEDS_PYTHON", "insert_predictions", "insert_traces"]
