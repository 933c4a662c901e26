"""The web dashboard's HTTP server: pages, JSON API and assets on their own port (8080).

>>> server = DashboardServer(client, load_definitions(), monitoring, "127.0.0.1", 0)
>>> server.start()                     # doctest: +SKIP
>>> server.url                         # doctest: +SKIP
'http://127.0.0.1:40213'
>>> server.stop()                      # doctest: +SKIP

Routes (``GET`` and ``HEAD``): ``/``, ``/models/<model>`` (``?window_start=…`` for a window's
drill-down), ``/alerts``, ``/static/<file>``, ``/api/v1/reports``, ``/api/v1/reports/<name>``,
``/api/v1/pages/<page>``, ``/api/v1/rules``. ``docs/dashboard.md`` describes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from inferwatch_collector.monitoring_config import MonitoringConfig
from inferwatch_collector.receive.http_server import HttpRequest, HttpServer, Route
from inferwatch_collector.report.definitions import ReportDefinition
from inferwatch_collector.web.answers import Answer, error_answer
from inferwatch_collector.web.api import PAGES_PREFIX, REPORTS_PREFIX, DashboardApi
from inferwatch_collector.web.shells import MODELS_PREFIX, PageShells
from inferwatch_collector.web.static_files import PREFIX as STATIC_PREFIX
from inferwatch_collector.web.static_files import StaticFiles

WILDCARD_HOSTS = ("0.0.0.0", "::", "")


class DashboardServer:
    """Serves the dashboard of the store ``client`` on ``host:port`` (0: a free port)."""

    def __init__(
        self,
        client: Any,
        definitions: Mapping[str, ReportDefinition],
        monitoring: MonitoringConfig | None,
        host: str = "127.0.0.1",
        port: int = 8080,
    ) -> None:
        monitoring = monitoring or MonitoringConfig()
        self.host = host
        self.api = DashboardApi(client, definitions, monitoring.rules)
        shells = PageShells(monitoring)
        static = StaticFiles()
        routes: dict[str, Route] = {
            "/": shells.overview,
            "/alerts": shells.alerts,
            MODELS_PREFIX + "*": shells.model,
            STATIC_PREFIX + "*": static.answer,
            "/favicon.ico": _no_content,
            "/api/v1/reports": self.api.reports,
            REPORTS_PREFIX + "*": self.api.report,
            PAGES_PREFIX + "*": self.api.page,
            "/api/v1/rules": self.api.rules_answer,
        }
        self._server = HttpServer(
            (host, port),
            {path: {"GET": route, "HEAD": route} for path, route in routes.items()},
            error_answer,
            max_body_bytes=64 * 1024,  # GET only: a body is a mistake
            max_concurrent_requests=8,
            thread_name="inferwatch-dashboard",
        )

    def start(self) -> None:
        """Bind and serve in a background thread; ``OSError`` if the port is taken."""
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

    @property
    def port(self) -> int:
        """The bound port (the real one when started with port 0)."""
        return self._server.port

    @property
    def url(self) -> str:
        """Where a browser on this machine opens the dashboard."""
        host = "127.0.0.1" if self.host in WILDCARD_HOSTS else self.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"


def _no_content(request: HttpRequest) -> Answer:
    """``/favicon.ico``: the pages declare no icon; answered so no browser logs a 404."""
    return 204, {}, b""
