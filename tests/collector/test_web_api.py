"""The web dashboard's JSON API, pages and assets, served by a real ``inferwatch serve`` on a
store seeded with known data (``report_seed.py``): the rows equal what was seeded, bad
parameters are 400 naming them, and every page references only the service's own assets."""

from __future__ import annotations

import http.client
import json
import re
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pytest
from report_seed import HOUR, SeededService, seed_data_dir, serve_seeded

from inferwatch_collector.report.definitions import load_definitions
from inferwatch_collector.report.pages import page_definitions
from inferwatch_collector.service_api import running_service

DEFINITIONS = load_definitions()
ASSET = re.compile(r"""(?:src|href)="([^"]+)\"""")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededService]:
    data = seed_data_dir(tmp_path_factory.mktemp("web") / "data", datetime.now(timezone.utc))
    with serve_seeded(data) as running:
        yield running


def fetch(
    service: SeededService, path: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", service.dashboard_port, timeout=30)
    try:
        connection.request(method, path, headers=headers or {})
        answer = connection.getresponse()
        body = answer.read()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, body
    finally:
        connection.close()


def get_json(service: SeededService, path: str, status: int = 200) -> Any:
    got, headers, body = fetch(service, path)
    assert got == status, body
    assert headers["content-type"] == "application/json"
    return json.loads(body)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def api(path: str, **values: str) -> str:
    return f"{path}?{urlencode(values)}" if values else path


def records(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(zip(report["columns"], row, strict=True)) for row in report["rows"]]


# --- the API ----------------------------------------------------------------------------------


def test_the_reports_are_listed_with_their_parameters(service: SeededService) -> None:
    listed = get_json(service, "/api/v1/reports")["reports"]
    assert [r["name"] for r in listed] == list(DEFINITIONS)
    quality = next(r for r in listed if r["name"] == "model_quality")
    assert quality["page"] == "model" and quality["threshold"] == "rules"
    parameters = {p["name"]: p for p in quality["parameters"]}
    assert parameters["model"]["required"] and parameters["from"]["default"] == "now-7d"
    misclassified = next(r for r in listed if r["name"] == "window_misclassified")
    assert misclassified["max_range"] == "1d" and misclassified["reads_raw_rows"]


def test_one_report_answers_the_seeded_confusion_counts(service: SeededService) -> None:
    data = service.data
    path = api(
        "/api/v1/reports/model_confusion_matrix",
        model="fraud", version="2", window="1h", **{"from": iso(data.start), "to": iso(data.end)},
    )  # fmt: skip
    report = get_json(service, path)
    assert report["report"] == "model_confusion_matrix" and report["visualization"] == "heatmap"
    assert report["parameters"]["from"] == data.start.isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )
    counts = {(r["actual"], r["predicted"]): r["count"] for r in records(report)}
    assert counts == data.confusion("fraud", version="2")


def test_the_model_page_answers_every_report_with_one_request(service: SeededService) -> None:
    data = service.data
    values = {"model": "fraud", "window": "1h", "from": iso(data.start), "to": iso(data.end)}
    page = get_json(service, api("/api/v1/pages/model", **values))
    assert list(page) == [d.name for d in page_definitions(DEFINITIONS, "model")]
    nows = {report["parameters"]["to"] for report in page.values() if "to" in report["parameters"]}
    assert len(nows) == 1  # one instant for every report of the page
    volume = Counter[str]()
    for row in records(page["model_volume"]):
        volume[row["time"]] += int(row["value"])
    expected = data.volume("fraud")
    assert volume == Counter({iso(start).replace("Z", ".000Z"): n for start, n in expected.items()})
    series = {row["series"] for row in records(page["model_quality"])}
    assert {"f1 · 1", "f1 · 2", "accuracy · 2"} <= series
    transitions = [(r["previous_state"], r["state"]) for r in records(page["model_alerts"])]
    assert transitions == [(t.previous, t.state) for t in reversed(data.transitions)]
    assert page["model_errors"]["rows"] == []  # a classifier has no regression errors


def test_the_overview_shows_models_status_and_firing_alerts(service: SeededService) -> None:
    data = service.data
    page = get_json(service, "/api/v1/pages/overview?window=1h")
    statuses = [(r["model"], r["version"], r["status"]) for r in records(page["overview_models"])]
    assert statuses == [("fraud", "1", "ok"), ("fraud", "2", "firing"), ("price", "1", "ok")]
    [firing] = records(page["overview_firing_alerts"])
    assert (firing["rule"], firing["version"]) == (data.rule, data.firing_version)
    fired = data.transitions[-1]  # the window that made it fire ended when the pass ran
    assert fired.state == "firing"
    assert firing["window_start"] == iso(fired.at - HOUR).replace("Z", ".000Z")


def test_the_alert_generator_url_opens_that_window_with_its_misclassified_predictions(
    service: SeededService,
) -> None:
    data = service.data
    firing = records(get_json(service, "/api/v1/pages/overview")["overview_firing_alerts"])[0]
    link = urlsplit(firing["generator_url"])  # made by the alert engine: /models/fraud?window_…
    status, headers, body = fetch(service, f"{link.path}?{link.query}")
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    config = json.loads(re.search(rb'id="iw-config">(.*?)</script>', body, re.S)[1])  # type: ignore[index]
    assert (config["page"], config["model"]) == ("window", "fraud")
    start = data.transitions[-1].at - HOUR
    window = get_json(service, f"/api/v1/pages/window?{link.query}&model=fraud")
    assert list(window) == ["window_metrics", "window_misclassified"]
    misclassified = records(window["window_misclassified"])
    expected = data.misclassified("fraud", start)
    assert expected
    assert [(r["prediction_id"], r["trace_id"]) for r in misclassified] == [
        (p.id, p.trace_id) for p in expected
    ]
    assert window["window_misclassified"]["parameters"]["to"] == iso(start + HOUR).replace(
        "Z", ".000Z"
    )  # the window's own bounds
    metrics = {(r["version"], r["metric"]): r["value"] for r in records(window["window_metrics"])}
    right = sum(1 for p in data.select("fraud", "2", start=start, end=start + HOUR)
                if p.actual is not None and p.actual == p.predicted)  # fmt: skip
    labelled = sum(1 for p in data.select("fraud", "2", start=start, end=start + HOUR)
                   if p.actual is not None)  # fmt: skip
    assert metrics[("2", "accuracy")] == pytest.approx(right / labelled)


def test_the_alerts_page_filters_the_history(service: SeededService) -> None:
    data = service.data
    everything = get_json(service, "/api/v1/pages/alerts?from=now-3d")
    assert len(everything["alerts_history"]["rows"]) == len(data.transitions)
    firing = get_json(service, "/api/v1/pages/alerts?from=now-3d&state=firing&model=fraud")
    states = {r["state"] for r in records(firing["alerts_history"])}
    assert states == {"firing"} and len(firing["alerts_history"]["rows"]) == 2
    [by_rule] = records(everything["alerts_by_rule"])
    assert by_rule == {"rule": data.rule, "fired": 2}


def test_the_rules_are_those_of_the_config(service: SeededService) -> None:
    assert get_json(service, "/api/v1/rules") == {
        "rules": [
            {"name": "fraud-f1-low", "model": "fraud", "version": None, "segment": "",
             "metric": "f1", "window": "1h", "op": "<", "threshold": 0.75, "severity": "page"},
        ]
    }  # fmt: skip


@pytest.mark.parametrize(
    ("path", "named"),
    [
        ("/api/v1/reports/model_quality?model=fraud&from=yesterday", "'from'"),
        ("/api/v1/reports/model_quality?model=fraud&modle=x", "'modle'"),
        ("/api/v1/reports/model_quality", "'model'"),
        ("/api/v1/reports/overview_models?from=now&to=now-1d", "'to'"),
        ("/api/v1/reports/window_misclassified?model=fraud&from=now-3d&to=now", "at most"),
        ("/api/v1/reports/window_misclassified?model=fraud&from=now-1h&to=now&limit=-1", "'limit'"),
        ("/api/v1/pages/model?model=fraud&frm=now-1d", "'frm'"),
        ("/api/v1/pages/model?window=1h", "'model'"),
        ("/api/v1/pages/window?model=fraud", "'window_start'"),
        ("/api/v1/pages/window?model=fraud&window_start=now-1h&window=soon", "'window'"),
    ],
)
def test_a_bad_parameter_is_400_naming_it(service: SeededService, path: str, named: str) -> None:
    error = get_json(service, path, status=400)["error"]
    assert named in error


@pytest.mark.parametrize(
    "path", ["/api/v1/reports/nope", "/api/v1/pages/nope", "/api/v1/pages/none", "/nope"]
)
def test_unknown_reports_pages_and_paths_are_404(service: SeededService, path: str) -> None:
    assert "error" in get_json(service, path, status=404)


def test_a_browser_gets_errors_as_html_and_writes_are_refused(service: SeededService) -> None:
    status, headers, body = fetch(service, "/nope", headers={"Accept": "text/html"})
    assert status == 404 and headers["content-type"].startswith("text/html")
    assert b"/nope" in body
    assert fetch(service, "/api/v1/reports", method="POST")[0] == 405
    status, headers, body = fetch(service, "/api/v1/reports", method="HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 100


def test_concurrent_page_requests_share_the_store(service: SeededService) -> None:
    path = "/api/v1/pages/model?model=fraud&from=now-3d&to=now-1h"
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: fetch(service, path), range(12)))
    assert {status for status, _, _ in answers} == {200}
    rows = [
        {name: report["rows"] for name, report in json.loads(body).items()}
        for _, _, body in answers
    ]
    assert all(found == rows[0] for found in rows)


# --- pages and assets -------------------------------------------------------------------------

PAGES = ["/", "/alerts", "/models/fraud", "/models/price?version=1&window=1h",
         f"/models/fraud?window_start={quote('2026-11-27T09:00:00Z')}&window=1h"]  # fmt: skip


@pytest.mark.parametrize("path", PAGES)
def test_pages_use_only_the_service_own_assets(service: SeededService, path: str) -> None:
    status, headers, body = fetch(service, path)
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'self'" in headers["content-security-policy"]
    html = body.decode()
    assets = ASSET.findall(html)
    assert {"/static/dashboard.css", "/static/charts.js", "/static/dashboard.js"} <= set(assets)
    for asset in assets:
        assert asset.startswith(("/", "data:")), asset  # this service, or inline
    for text in [html] + [fetch(service, a)[2].decode() for a in assets if a.startswith("/")]:
        assert "http://" not in text and "https://" not in text


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("charts.js", "text/javascript; charset=utf-8"),
        ("dashboard.js", "text/javascript; charset=utf-8"),
        ("dashboard.css", "text/css; charset=utf-8"),
    ],
)
def test_static_files_have_their_content_type_and_revalidate(
    service: SeededService, name: str, content_type: str
) -> None:
    source = Path(__file__).parents[2] / "collector/src/inferwatch_collector/web/static" / name
    status, headers, body = fetch(service, f"/static/{name}")
    assert (status, headers["content-type"], body) == (200, content_type, source.read_bytes())
    assert headers["x-content-type-options"] == "nosniff"
    again = fetch(service, f"/static/{name}", headers={"If-None-Match": headers["etag"]})
    assert again[0] == 304 and again[2] == b""
    assert fetch(service, "/static/../service.py")[0] == 404
    assert fetch(service, "/favicon.ico")[0] == 204


def test_charts_js_defines_the_render_entry_point(service: SeededService) -> None:
    script = fetch(service, "/static/charts.js")[2].decode()
    assert "root.InferwatchCharts = {" in script and "render: render" in script
    assert "fetch(" not in script and "XMLHttpRequest" not in script  # draws, never loads


def test_the_discovery_file_names_the_dashboard(service: SeededService) -> None:
    assert service.data.data_dir is not None
    found = running_service(str(service.data.data_dir))
    assert found is not None and found.dashboard_port == service.dashboard_port
    assert found.dashboard_url == f"http://127.0.0.1:{service.dashboard_port}"
    assert service.process.dashboard_port == service.dashboard_port  # from the ready line
