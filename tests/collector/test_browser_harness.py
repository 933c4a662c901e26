"""The browser harness itself (``browser.py``) on small local pages: what it reports must be
what the page did, so that the dashboard tests' "no console error" and "no network request"
mean something."""

from __future__ import annotations

import http.server
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import Browser, PageVisit, ProtocolError

pytestmark = pytest.mark.browser


class _Files(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A folder of pages, and its address on a loopback HTTP server."""
    folder = tmp_path_factory.mktemp("site")
    (folder / "data.json").write_text('{"answer": 42}')

    def handler(*args: object) -> _Files:
        return _Files(*args, directory=str(folder))  # type: ignore[arg-type]

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    with Browser.launch(tmp_path_factory.mktemp("chromium")) as running:
        yield running


def page(folder: Path, name: str, body: str) -> str:
    # An icon in the page: else the browser asks for /favicon.ico, and a 404 is a console error.
    head = f"<title>{name}</title><link rel='icon' href='data:,'>"
    (folder / name).write_text(
        f"<!doctype html><html><head>{head}</head><body>{body}</body></html>"
    )
    return name


def visit(browser: Browser, site: tuple[Path, str], body: str, **options: object) -> PageVisit:
    folder, base = site
    name = page(folder, f"page{abs(hash(body))}.html", body)
    return browser.open_page(f"{base}/{name}", **options)  # type: ignore[arg-type]


def test_a_quiet_page_has_no_console_error(browser: Browser, site: tuple[Path, str]) -> None:
    seen = visit(browser, site, "<p>hello</p><script>console.log('fine')</script>")
    assert seen.console_errors == []
    assert seen.console_messages == ["log: fine"]
    assert seen.evaluate("document.querySelector('p').textContent") == "hello"


def test_console_errors_and_uncaught_exceptions_are_reported(
    browser: Browser, site: tuple[Path, str]
) -> None:
    seen = visit(
        browser,
        site,
        "<script>console.error('chart failed', 3)</script>"
        "<script>null.draw()</script>"
        "<script>Promise.reject(new Error('no data'))</script>",
    )
    assert seen.console_errors[0] == "console.error: chart failed 3"
    assert any(e.startswith("uncaught: TypeError") for e in seen.console_errors)
    assert any("no data" in e for e in seen.console_errors)


def test_every_request_is_listed_with_its_outcome(browser: Browser, site: tuple[Path, str]) -> None:
    folder, base = site
    seen = visit(
        browser,
        site,
        "<img src='missing.png'><script>fetch('data.json').then((r) => r.json())"
        ".then((d) => { window.answer = d.answer; })</script>",
        wait_for="window.answer === 42",
    )
    urls = {r.url.removeprefix(base): r for r in seen.requests}
    assert urls["/data.json"].status == 200 and urls["/data.json"].type == "Fetch"
    assert urls["/missing.png"].status == 404
    assert [r.url for r in seen.failed_requests] == [f"{base}/missing.png"]
    assert all(r.is_network for r in seen.requests)
    assert any("404" in e for e in seen.console_errors)  # the browser logs the failed load


def test_a_file_page_that_fetches_shows_its_network_request(
    browser: Browser, site: tuple[Path, str], tmp_path: Path
) -> None:
    _, base = site
    offline = tmp_path / "offline.html"
    offline.write_text("<!doctype html><p>self-contained</p><img src='data:image/gif;base64,"
                       "R0lGODlhAQABAAAAACw='>")  # fmt: skip
    quiet = browser.open_page(offline.as_uri())
    assert quiet.network_requests == []
    assert [r.url for r in quiet.requests][0] == offline.as_uri()  # the file itself: local
    fetching = tmp_path / "fetching.html"
    fetching.write_text(f"<script>fetch('{base}/data.json').catch(() => null)</script>")
    seen = browser.open_page(fetching.as_uri())
    assert [r.url for r in seen.network_requests] == [f"{base}/data.json"]


def test_wait_for_waits_until_the_page_says_so(browser: Browser, site: tuple[Path, str]) -> None:
    later = "<script>setTimeout(() => { window.ready = true; }, 300)</script>"
    assert visit(browser, site, later, wait_for="window.ready === true").evaluate("window.ready")
    with pytest.raises(AssertionError, match="still false"):
        visit(browser, site, "<p>never</p>", wait_for="window.ready === true", timeout=1)


def test_charts_are_drawn_only_with_a_visible_shape_or_painted_canvas(
    browser: Browser, site: tuple[Path, str]
) -> None:
    seen = visit(
        browser,
        site,
        "<div class='chart' id='bars'><svg width='100' height='50'>"
        "<rect x='0' y='0' width='40' height='30' fill='steelblue'/></svg></div>"
        "<div class='chart' id='empty'><svg width='100' height='50'>"
        "<text x='10' y='20'>no data</text></svg></div>"
        "<div class='chart' id='flat'><svg><rect width='0' height='0'/></svg></div>"
        "<div class='chart' id='blank-canvas'><canvas width='50' height='50'></canvas></div>"
        "<div class='chart' id='canvas'><canvas width='50' height='50'></canvas></div>"
        "<div class='chart' id='nothing'></div>"
        "<script>document.querySelector('#canvas canvas').getContext('2d')"
        ".fillRect(5, 5, 10, 10)</script>",
    )
    drawn = {chart.id: chart.drawn for chart in seen.charts(".chart")}
    assert drawn == {"bars": True, "empty": False, "flat": False, "blank-canvas": False,
                     "canvas": True, "nothing": False}  # fmt: skip
    assert [c.id for c in seen.undrawn_charts(".chart")] == [
        "empty", "flat", "blank-canvas", "nothing",
    ]  # fmt: skip


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_screenshot_covers_the_whole_page(
    browser: Browser, site: tuple[Path, str], tmp_path: Path
) -> None:
    shot = tmp_path / "shots" / "tall.png"
    seen = visit(browser, site, "<div style='height: 2400px; background: #cde'>tall</div>",
                 screenshot=shot)  # fmt: skip
    assert seen.screenshot_path == shot
    width, height = png_size(shot)
    assert width == 1280 and height >= 2400


def test_an_expression_that_throws_is_an_error(browser: Browser, site: tuple[Path, str]) -> None:
    seen = visit(browser, site, "<p>x</p>")
    with pytest.raises(ProtocolError, match="nope"):
        seen.evaluate("(() => { throw new Error('nope') })()")
    seen.close()
