"""The collector service: receivers → durable ingest → write-ahead log → writer → ClickHouse.

``CollectorService(settings).start()`` brings the parts up in dependency order (store and
schema, log, writer, then the receivers that acknowledge); ``stop()`` takes them down in
reverse, draining what was acknowledged into the store first. With a monitoring config
(``inferwatch serve``) it also serves the web dashboard and runs the evaluation on schedule.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from pathlib import Path
from typing import Any

from .config import CollectorSettings
from .durable_ingest import DurableIngestor
from .evaluate.job import EvaluationJob, EvaluationSchedule
from .monitoring_config import MonitoringConfig
from .receive import GrpcReceiver, HttpReceiver, HttpRequest
from .report.prometheus_export import EvaluationsExport
from .selfmetrics import SelfMetrics
from .service_api import evaluate_route, suggest_route, write_discovery
from .store.client import open_client, redact_dsn
from .store.migrations import run_migrations
from .store_writer import StoreHealth, StoreWriter, WriterSettings, log_identity
from .wal import WriteAheadLog
from .web import DashboardServer, checked_definitions

_logger = logging.getLogger("inferwatch.collector")


class CollectorService:
    """One collector process.

    >>> service = CollectorService(CollectorSettings(data_dir="/tmp/iw", otlp_http_port=0))
    >>> service.start()      # doctest: +SKIP
    >>> service.stop()       # doctest: +SKIP
    """

    def __init__(
        self,
        settings: CollectorSettings,
        client: Any = None,
        monitoring: MonitoringConfig | None = None,
    ) -> None:
        """A service not started yet.

        Args:
            settings: the resolved settings (``load_settings``).
            client: an open store client to use instead of opening ``settings.store_dsn``
                (a test wraps one to inject store faults); ``stop()`` closes it either way.
        """
        self.settings = settings
        self.metrics = SelfMetrics()
        self.health = StoreHealth()
        self.client: Any = client
        self.monitoring = monitoring
        """With a monitoring config the service also evaluates on schedule (``serve``)."""
        self.schedule: EvaluationSchedule | None = None
        self.dashboard: DashboardServer | None = None
        self._discovery: Path | None = None
        self.wal: WriteAheadLog | None = None
        self.writer: StoreWriter | None = None
        self.http: HttpReceiver | None = None
        self.grpc: GrpcReceiver | None = None
        self._stopped: bool | None = None  # stop()'s answer, once stopped
        self._scrape_client: Any = None

    def start(self) -> None:
        settings = self.settings
        scrape_client = self.client
        if self.client is None:
            self.client = open_client(settings.store_dsn)
            # Scrapes query the store on a connection of their own: on the writer's, a scrape
            # waits behind a flush's statements and the next flush waits behind the scrape.
            self._scrape_client = scrape_client = open_client(settings.store_dsn)
        applied = run_migrations(self.client, ttl_days=settings.retention_days)
        _logger.info(
            "store %s ready (%d migrations applied now)",
            redact_dsn(settings.store_dsn),
            len(applied),
        )
        rules = None if self.monitoring is None else [rule.name for rule in self.monitoring.rules]
        self.metrics.registry.register(EvaluationsExport(scrape_client, rules=rules))
        if self.monitoring is not None:
            try:
                self._start_dashboard(self.monitoring)
            except BaseException:  # a bad definition or a taken port: nothing else started yet
                self.stop()
                raise
        self.wal = WriteAheadLog(
            settings.wal_dir, max_bytes=settings.queue_max_bytes, fsync=settings.wal_fsync
        )
        self.writer = StoreWriter(
            self.wal,
            self.client,
            WriterSettings(
                batch_max_records=settings.batch_max_records,
                batch_max_bytes=settings.batch_max_bytes,
                batch_interval=settings.batch_interval,
                retry_initial=settings.retry_initial,
                retry_max=settings.retry_max,
            ),
            self.metrics,
            self.health,
            log_identity(settings.wal_dir),
        )
        self.writer.start()
        self._start_receivers()
        if self.monitoring is not None:
            self._start_evaluation(self.monitoring)

    def _start_dashboard(self, monitoring: MonitoringConfig) -> None:
        """Check every report definition against the store, then serve the dashboard.

        Raises ``DefinitionError`` (naming the file) or ``OSError`` (the port is taken).
        """
        settings = self.settings
        definitions = checked_definitions(self.client, settings.dashboards_dir or None)
        dashboard = DashboardServer(
            self.client, definitions, monitoring, settings.host, settings.http_port
        )
        try:
            dashboard.start()
        except OSError as exc:
            raise OSError(
                f"--http-port {settings.http_port}: cannot serve the dashboard on "
                f"{settings.host}: {exc.strerror or exc}"
            ) from exc
        self.dashboard = dashboard
        _logger.info("dashboard at %s (%d reports)", dashboard.url, len(definitions))

    def _start_evaluation(self, monitoring: MonitoringConfig) -> None:
        assert self.http is not None
        job = EvaluationJob(self.client, monitoring)
        self.http.add_route("POST", "/api/v1/evaluate", evaluate_route(job))
        self.http.add_route("POST", "/api/v1/thresholds/suggest", suggest_route(job))
        self.schedule = EvaluationSchedule(job)
        self.schedule.start()
        self._discovery = write_discovery(
            self.settings.data_dir,
            self.settings.host,
            self.http.port,
            dashboard_port=None if self.dashboard is None else self.dashboard.port,
        )

    def _start_receivers(self) -> None:
        settings = self.settings
        assert self.wal is not None
        ingestor = DurableIngestor(
            self.wal,
            self.metrics,
            self.health,
            settings.queue_max_bytes,
            decode_batch_spans=settings.decode_batch_spans,
        )
        self.http = HttpReceiver(
            ingestor, settings.host, settings.otlp_http_port, settings.max_body_bytes
        )
        self.http.add_route("GET", "/healthz", self._healthz)
        self.http.add_route("GET", "/readyz", self._readyz)
        self.http.add_route("GET", "/metrics", self._metrics)
        self.http.start()
        self.grpc = GrpcReceiver(
            ingestor, settings.host, settings.otlp_grpc_port, settings.max_body_bytes
        )
        self.grpc.start()
        _logger.info(
            "receiving OTLP on %s: gRPC :%d, HTTP :%d",
            settings.host,
            self.grpc.port,
            self.http.port,
        )

    def stop(self, drain_timeout: float = 30.0) -> bool:
        """Stop receiving, store what was acknowledged, close; True if nothing was left.

        Calling it again does nothing more and returns the first answer.
        """
        if self._stopped is not None:
            return self._stopped
        if self._discovery is not None:
            self._discovery.unlink(missing_ok=True)
        if self.dashboard is not None:
            self.dashboard.stop()
        if self.schedule is not None:
            self.schedule.stop()
        for receiver in (self.grpc, self.http):
            if receiver is not None:
                receiver.stop()
        drained = True
        if self.writer is not None:
            drained = self.writer.stop(drain_timeout)
        if self.wal is not None:
            self.wal.close()
        for client in (self._scrape_client, self.client):
            if client is not None:
                client.close()
        _logger.info("stopped (%s)", "all stored" if drained else "backlog kept in the log")
        self._stopped = drained
        return drained

    def run_until_signalled(self) -> int:
        """Start, serve until SIGTERM or SIGINT, then stop cleanly; the process exit code."""
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        self.start()
        assert self.grpc is not None and self.http is not None
        ports = {"otlp_grpc_port": self.grpc.port, "otlp_http_port": self.http.port}
        if self.dashboard is not None:
            ports["http_port"] = self.dashboard.port
        print(json.dumps({"event": "ready", **ports}), flush=True)
        stop.wait()
        return 0 if self.stop() else 1

    # --- operational endpoints --------------------------------------------------------------

    def _healthz(self, request: HttpRequest) -> tuple[int, dict[str, str], bytes]:
        return 200, {"Content-Type": "text/plain"}, b"ok\n"

    def _readyz(self, request: HttpRequest) -> tuple[int, dict[str, str], bytes]:
        problems = []
        if not self.health.ok:
            problems.append(f"store unreachable: {self.health.last_error}")
        wal = self.wal
        if wal is not None and wal.pending_bytes >= 0.9 * self.settings.queue_max_bytes:
            problems.append(f"write-ahead log nearly full ({wal.pending_bytes} bytes)")
        if problems:
            return 503, {"Content-Type": "text/plain"}, ("\n".join(problems) + "\n").encode()
        return 200, {"Content-Type": "text/plain"}, b"ready\n"

    def _metrics(self, request: HttpRequest) -> tuple[int, dict[str, str], bytes]:
        if self.wal is not None:
            self.metrics.wal_bytes.set(self.wal.pending_bytes)
            self.metrics.wal_records.set(self.wal.pending_records)
        content_type, body = self.metrics.render()
        return 200, {"Content-Type": content_type}, body
