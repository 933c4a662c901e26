"""The collector's own metrics, in the Prometheus text format at ``/metrics``."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

SIGNALS = ("traces", "metrics", "logs")
"""The values of the ``signal`` label (the OTLP signals)."""


class SelfMetrics:
    """Counters and gauges of one collector process, in their own registry.

    >>> metrics = SelfMetrics()
    >>> metrics.received.labels(signal="traces").inc(3)
    >>> b"inferwatch_received_items_total" in metrics.render()[1]
    True
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.received = Counter(
            "inferwatch_received_items",
            "Items received (spans, points, log records)",
            ["signal"],
            registry=registry,
        )
        self.accepted = Counter(
            "inferwatch_accepted_items",
            "Items written to the write-ahead log",
            ["signal"],
            registry=registry,
        )
        self.rejected = Counter(
            "inferwatch_rejected_items",
            "Items refused as invalid (partial success)",
            ["signal"],
            registry=registry,
        )
        self.throttled = Counter(
            "inferwatch_throttled_requests",
            "Requests answered 429/503 (backpressure)",
            ["signal"],
            registry=registry,
        )
        self.wal_bytes = Gauge(
            "inferwatch_wal_pending_bytes",
            "Bytes in the write-ahead log not yet stored",
            registry=registry,
        )
        self.wal_records = Gauge(
            "inferwatch_wal_pending_records",
            "Requests in the write-ahead log not yet stored",
            registry=registry,
        )
        self.insert_rows = Counter(
            "inferwatch_insert_rows", "Rows inserted into ClickHouse", ["table"], registry=registry
        )
        self.insert_seconds = Histogram(
            "inferwatch_insert_duration_seconds",
            "Duration of one flush into ClickHouse",
            registry=registry,
        )
        self.insert_errors = Counter(
            "inferwatch_insert_errors",
            "Failed flushes into ClickHouse (retried)",
            registry=registry,
        )
        self.dead_letters = Counter(
            "inferwatch_dead_letter_records",
            "Logged requests that could not be converted",
            registry=registry,
        )

        for signal in SIGNALS:
            # Every signal's series exists from the start, at 0, so that rates and alerts on
            # them work before the first item of that signal arrives.
            for counter in (self.received, self.accepted, self.rejected, self.throttled):
                counter.labels(signal=signal)

    def render(self) -> tuple[str, bytes]:
        """``(content type, body)`` of the Prometheus text exposition."""
        return CONTENT_TYPE_LATEST, generate_latest(self.registry)
