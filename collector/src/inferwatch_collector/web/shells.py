"""The HTML of the dashboard's pages: one small shell per page; scripts fetch and draw the data.

A shell is the header, empty slots and the page's configuration as JSON (which page, the
model, the window sizes the evaluator computes, the alert rules for threshold lines), read by
``static/dashboard.js``. The data comes from ``/api/v1/pages/<page>``, one request per load or
refresh, and ``static/charts.js`` draws it. Every asset is served by this service, so the
pages work without network access.

``/models/<model>?window_start=…&window=1h`` (the alerts' ``generatorURL``) is the shell of the
``window`` page: that window's metrics and its misclassified predictions.
"""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import unquote

from inferwatch_collector.monitoring_config import MonitoringConfig
from inferwatch_collector.receive.http_server import HttpRequest
from inferwatch_collector.report.run import ParameterError
from inferwatch_collector.web.answers import Answer, error_answer, html_answer
from inferwatch_collector.web.params import query_values
from inferwatch_collector.web.rules import rules_json

MODELS_PREFIX = "/models/"
DEFAULT_RANGES = {"overview": "1d", "model": "7d", "alerts": "7d", "window": "7d"}
"""The range a page opens with (``from=now-<range>``) when its URL names none."""

_SHELL = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · inferwatch</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/dashboard.css">
<script src="/static/charts.js" defer></script>
<script src="/static/dashboard.js" defer></script>
<script type="application/json" id="iw-config">{config}</script>
</head>
<body class="iw-page-{page}">
<header class="iw-top">
<a class="iw-brand" href="/">inferwatch</a>
<nav class="iw-nav"><a href="/"{models_current}>Models</a>
<a href="/alerts"{alerts_current}>Alerts</a></nav>
</header>
<main id="iw-main">
<div class="iw-heading"><h1 id="iw-title">{heading}</h1>
<div id="iw-subtitle" class="iw-subtitle"></div></div>
<form id="iw-controls" class="iw-controls" autocomplete="off"></form>
<div id="iw-status" class="iw-status" role="status"></div>
<div id="iw-panels" class="iw-panels"></div>
<noscript><p>The dashboard draws its charts with JavaScript. The data is at
<code>/api/v1/pages/{page}</code>.</p></noscript>
</main>
</body>
</html>
"""


class PageShells:
    """Answers ``/``, ``/models/<model>`` and ``/alerts`` with the page's shell."""

    def __init__(self, monitoring: MonitoringConfig | None = None) -> None:
        monitoring = monitoring or MonitoringConfig()
        self.windows = list(monitoring.settings.evaluation.windows)
        self.rules = rules_json(monitoring.rules)

    def overview(self, request: HttpRequest) -> Answer:
        return html_answer(200, self.render("overview", "Models"))

    def alerts(self, request: HttpRequest) -> Answer:
        return html_answer(200, self.render("alerts", "Alerts"))

    def model(self, request: HttpRequest) -> Answer:
        """``/models/<model>``; with ``window_start``: the drill-down into that window."""
        model = unquote(request.path[len(MODELS_PREFIX) :])
        if not model:
            return error_answer(request.headers, 404, "no model named in the path /models/<model>")
        try:
            drill_down = bool(query_values(request.query).get("window_start"))
        except ParameterError as exc:
            return error_answer(request.headers, 400, str(exc))
        if drill_down:
            return html_answer(200, self.render("window", f"{model} · window", model))
        return html_answer(200, self.render("model", model, model))

    def render(self, page: str, title: str, model: str = "") -> str:
        """The shell of ``page``."""
        config = {
            "page": page,
            "model": model,
            "windows": self.windows,
            "defaultWindow": self.windows[0] if self.windows else "1h",
            "defaultRange": DEFAULT_RANGES[page],
            "rules": self.rules,
        }
        current = ' aria-current="page"'
        return _SHELL.format(
            title=html.escape(title),
            heading=html.escape(title),
            page=page,
            config=script_json(config),
            models_current=current if page == "overview" else "",
            alerts_current=current if page == "alerts" else "",
        )


def script_json(value: Any) -> str:
    """JSON safe inside ``<script>``: no ``</script>``, no ``<!--`` can close or open anything."""
    text = json.dumps(value, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
