"""The web dashboard of ``inferwatch serve`` in headless Chromium, on a store seeded with
known data (``report_seed.py``): every page loads without a console error, draws every chart,
asks nothing of any host but the service, and is saved as a screenshot in the test's folder."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import pytest
from browser import Browser, PageVisit
from report_seed import HOUR, NOT_APPLICABLE, SeededService, seed_data_dir, serve_seeded

from inferwatch_collector.report.definitions import load_definitions
from inferwatch_collector.report.pages import page_definitions

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DEFINITIONS = load_definitions()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededService]:
    data = seed_data_dir(tmp_path_factory.mktemp("dashboard") / "data", datetime.now(timezone.utc))
    with serve_seeded(data) as running:
        yield running


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    with Browser.launch(tmp_path_factory.mktemp("chromium")) as running:
        yield running


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def open_dashboard(
    browser: Browser, service: SeededService, path: str, page: str, screenshot: Path
) -> PageVisit:
    """Open ``path`` and wait until every report of ``page`` is drawn."""
    reports = len(page_definitions(DEFINITIONS, page))
    drawn = f"document.querySelectorAll('[data-report][data-visualization]').length === {reports}"
    visit = browser.open_page(service.url + path, wait_for=drawn, screenshot=screenshot)
    assert visit.console_errors == []
    assert visit.failed_requests == []
    elsewhere = [r.url for r in visit.network_requests if not r.url.startswith(service.url + "/")]
    assert elsewhere == []  # every asset and every answer from the service itself
    assert screenshot.stat().st_size > 10_000
    return visit


def reports(visit: PageVisit, condition: str = "") -> set[str]:
    """The names of the page's drawn reports (``[data-report]`` boxes) matching ``condition``."""
    found = visit.evaluate(
        f"[...document.querySelectorAll('[data-report][data-visualization]{condition}')]"
        ".map((e) => e.getAttribute('data-report'))"
    )
    return set(found)


def table_text(visit: PageVisit, report: str) -> list[str]:
    """The text of each body row of a report drawn as a table."""
    rows = visit.evaluate(
        f"[...document.querySelectorAll('[data-report={report}] tbody tr')]"
        ".map((tr) => tr.innerText)"
    )
    return list(rows)


def table_records(visit: PageVisit, report: str) -> list[dict[str, str]]:
    """The body rows of a report drawn as a table, by column heading."""
    headings = visit.evaluate(
        f"[...document.querySelectorAll('[data-report={report}] thead th')]"
        ".map((th) => th.innerText.trim())"
    )
    names = [heading.replace(" ", "_") for heading in headings]  # "previous state": a column
    return [dict(zip(names, row.split("\t"), strict=True)) for row in table_text(visit, report)]


def test_overview_lists_the_models_and_the_firing_alert(
    browser: Browser, service: SeededService, tmp_path: Path
) -> None:
    data = service.data
    visit = open_dashboard(browser, service, "/", "overview", tmp_path / "overview.png")
    assert reports(visit) == {d.name for d in page_definitions(DEFINITIONS, "overview")}
    assert reports(visit, "[data-empty=true]") == set()
    models = table_text(visit, "overview_models")
    assert [row.split("\t")[:3] for row in models] == [
        ["fraud", "1", "ok"], ["fraud", "2", "firing"], ["price", "1", "ok"],
    ]  # fmt: skip
    [firing] = table_text(visit, "overview_firing_alerts")
    assert firing.startswith(f"{data.rule}\tfraud\t{data.firing_version}")
    links = visit.evaluate("[...document.querySelectorAll('a')].map((a) => a.pathname)")
    assert "/models/fraud" in links and "/models/price" in links


@pytest.mark.parametrize("model", ["fraud", "price"])
def test_a_model_page_draws_every_chart(
    browser: Browser, service: SeededService, tmp_path: Path, model: str
) -> None:
    visit = open_dashboard(browser, service, f"/models/{model}", "model", tmp_path / f"{model}.png")
    everything = reports(visit)
    assert everything == {d.name for d in page_definitions(DEFINITIONS, "model")}
    empty = reports(visit, "[data-empty=true]")
    assert empty == NOT_APPLICABLE[model] | ({"model_alerts"} if model == "price" else set())
    charts = visit.charts("[data-report]:not([data-visualization=table])")
    assert len(charts) >= 8
    undrawn = {chart.id for chart in charts if not chart.drawn}
    assert undrawn == NOT_APPLICABLE[model]  # the rest is drawn: SVG shapes of some size
    if model == "fraud":  # its rule's threshold line and alert markers on the quality chart
        quality = "[data-report=model_quality]"
        assert visit.evaluate(f"document.querySelectorAll('{quality} .iw-threshold').length") > 0
        markers = visit.evaluate(f"document.querySelectorAll('{quality} .iw-marker').length")
        assert markers == len(service.data.transitions)
        assert len(table_text(visit, "model_alerts")) == len(service.data.transitions)


def test_the_alert_link_opens_the_window_with_its_misclassified_predictions(
    browser: Browser, service: SeededService, tmp_path: Path
) -> None:
    data = service.data
    start = data.drop_windows[-1]
    path = f"/models/fraud?window_start={quote(iso(start))}&window=1h"  # an alert's generatorURL
    visit = open_dashboard(browser, service, path, "window", tmp_path / "window.png")
    assert reports(visit, "[data-empty=true]") == set()
    shown = "\n".join(table_text(visit, "window_misclassified"))
    expected = data.misclassified("fraud", start)
    assert expected and all(p.id in shown and p.trace_id in shown for p in expected)
    outside = data.misclassified("fraud", start - HOUR)
    assert not any(p.id in shown for p in outside)
    metrics = "\n".join(table_text(visit, "window_metrics"))
    assert "f1" in metrics and "prediction_count" in metrics


def test_the_alerts_page_shows_the_history(
    browser: Browser, service: SeededService, tmp_path: Path
) -> None:
    visit = open_dashboard(browser, service, "/alerts", "alerts", tmp_path / "alerts.png")
    history = table_records(visit, "alerts_history")
    assert [(r["version"], r["previous_state"], r["state"]) for r in history] == [
        (t.version, t.previous, t.state) for t in reversed(service.data.transitions)
    ]
    assert {c.id for c in visit.charts("[data-visualization=bar]") if c.drawn} == {"alerts_by_rule"}
