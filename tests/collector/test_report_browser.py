"""The static HTML report (``inferwatch report --format html``) opened from a ``file://`` URL
in headless Chromium: its charts are drawn, it makes no network request and logs no error."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from browser import Browser
from report_seed import NOT_APPLICABLE, SeededData, seed_data_dir
from service_process import INFERWATCH, clean_environ

from inferwatch_collector.report.definitions import load_definitions
from inferwatch_collector.report.pages import page_definitions
from inferwatch_collector.report.static_html import CHARTED

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DEFINITIONS = load_definitions()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> SeededData:
    return seed_data_dir(tmp_path_factory.mktemp("static") / "data", datetime.now(timezone.utc))


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    with Browser.launch(tmp_path_factory.mktemp("chromium")) as running:
        yield running


def html_report(data: SeededData, model: str, output: Path) -> Path:
    """``inferwatch report`` on the seeded store, the period being the seeded hours."""
    assert data.data_dir is not None and data.config_path is not None
    command = [str(INFERWATCH), "report", "--data-dir", str(data.data_dir),
               "--config", str(data.config_path), "--model", model,
               "--from", data.start.isoformat(), "--to", data.end.isoformat(),
               "--format", "html", "-o", str(output)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env=clean_environ(), timeout=120)
    assert done.returncode == 0, done.stderr
    return output


@pytest.mark.parametrize("model", ["fraud", "price"])
def test_the_html_report_draws_its_charts_offline(
    seeded: SeededData, browser: Browser, tmp_path: Path, model: str
) -> None:
    report = html_report(seeded, model, tmp_path / f"{model}.html")
    visit = browser.open_page(report.as_uri(), screenshot=tmp_path / f"{model}-report.png")
    assert visit.console_errors == []
    assert visit.network_requests == []
    assert [r.url for r in visit.requests] == [report.as_uri()]  # the file, nothing else
    charts = {chart.id: chart for chart in visit.charts("[data-report]")}
    empty = set(
        visit.evaluate(
            "[...document.querySelectorAll('[data-report][data-empty=true]')]"
            ".map((e) => e.getAttribute('data-report'))"
        )
    )
    # Every chart of the model page with rows is drawn; the reports that cannot have rows for
    # this kind of model (no regression errors for a classifier) are left out or say so.
    charted = {d.name for d in page_definitions(DEFINITIONS, "model") if d.visualization in CHARTED}
    assert set(charts) - empty == charted - NOT_APPLICABLE[model]
    assert empty <= NOT_APPLICABLE[model]
    assert [c.id for c in charts.values() if not c.drawn and c.id not in empty] == []
    assert visit.screenshot_path is not None and visit.screenshot_path.stat().st_size > 10_000
    text = visit.evaluate("document.body.innerText")
    assert model in text
    if model == seeded.classifier:
        assert seeded.rule in text  # the alerts of the period are in the report
