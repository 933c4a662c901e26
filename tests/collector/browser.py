"""A real browser for the dashboard tests: Debian's ``chromium``, headless, driven over the
Chrome DevTools Protocol.

::

    with Browser.launch(tmp_path / "chromium") as browser:
        visit = browser.open_page("http://127.0.0.1:8080/", wait_for="window.ready === true",
                                  screenshot=tmp_path / "overview.png")
        assert visit.console_errors == []
        assert visit.undrawn_charts(".chart") == []
        visit.evaluate("document.title")

``chromium()`` installs the package when it is missing (``DEBIAN_FRONTEND=noninteractive
apt-get install -y chromium``, after ``apt-get update`` if that fails; the tests run as root)
and fails — never skips — if it cannot.

The protocol runs over a pipe (``--remote-debugging-pipe``: file descriptors 3 and 4 of the
browser, JSON messages ended by a NUL byte), so no debugging port is opened. The browser
resolves no host name but ``localhost`` and ``127.0.0.1`` (``--host-resolver-rules``), with
its background services off: it reaches nothing beyond this machine's loopback.

Every page is watched from before it navigates: console errors (``console.error``,
``console.assert``), uncaught exceptions and rejected promises, the browser's own error log
(a resource that failed to load, a blocked request), and every request with its outcome.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_TIMEOUT = 30.0
COMMAND_TIMEOUT = 30.0
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:", "chrome:", "devtools:")

FLAGS = (
    "--headless",
    "--no-sandbox",  # the tests run as root, where Chromium's sandbox cannot start
    "--remote-debugging-pipe",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-sync",
    "--disable-extensions",
    "--disable-client-side-phishing-detection",
    "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
    "--metrics-recording-only",
    "--mute-audio",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
    "--window-size=1280,900",
)


def chromium() -> Path:
    """Debian's ``chromium``, installed with apt-get when missing."""
    if not CHROMIUM.exists():
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-o", "DPkg::Lock::Timeout=600", "chromium"]
        if subprocess.run(install, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update"], env=env, capture_output=True)
            result = subprocess.run(install, env=env, capture_output=True, text=True)
            if result.returncode != 0:
                pytest.fail(f"cannot install chromium: {result.stderr[-2000:]}")
    if not shutil.which(str(CHROMIUM)):
        pytest.fail("chromium is not installed")
    return CHROMIUM


class ProtocolError(RuntimeError):
    """The browser answered a command with an error, or not in time."""


# --- the protocol over the pipe -------------------------------------------------------------


class _Connection:
    """Commands and their answers, and events, over the browser's debugging pipe."""

    def __init__(self, to_browser: int, from_browser: int) -> None:
        self._out = os.fdopen(to_browser, "wb", buffering=0)
        self._in = os.fdopen(from_browser, "rb", buffering=0)
        self._next_id = 0
        self._lock = threading.Lock()
        self._answers: dict[int, queue.Queue[dict[str, Any]]] = {}
        self._listeners: dict[str, list[queue.Queue[dict[str, Any]]]] = {}
        self._reader = threading.Thread(target=self._read, name="chromium-cdp", daemon=True)
        self._reader.start()

    def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str | None = None,
        timeout: float = COMMAND_TIMEOUT,
    ) -> dict[str, Any]:
        """Send one command; its result (``ProtocolError`` if it failed)."""
        answer: queue.Queue[dict[str, Any]] = queue.Queue(1)
        with self._lock:
            self._next_id += 1
            message: dict[str, Any] = {"id": self._next_id, "method": method}
            message["params"] = params or {}
            if session:
                message["sessionId"] = session
            self._answers[self._next_id] = answer
            self._out.write(json.dumps(message).encode() + b"\0")
        try:
            reply = answer.get(timeout=timeout)
        except queue.Empty:
            raise ProtocolError(f"{method}: no answer in {timeout}s") from None
        if "error" in reply:
            raise ProtocolError(f"{method}: {reply['error'].get('message')}")
        result: dict[str, Any] = reply.get("result", {})
        return result

    def listen(self, session: str) -> queue.Queue[dict[str, Any]]:
        """A queue that receives every event of ``session`` from now on."""
        events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._listeners.setdefault(session, []).append(events)
        return events

    def close(self) -> None:
        self._out.close()

    def _read(self) -> None:
        buffer = b""
        while chunk := self._in.read(1 << 16):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for raw in messages:
                self._dispatch(json.loads(raw))
        self._in.close()
        # The browser is gone: whoever still waits for an answer hears it now, not at a timeout.
        for message_id in list(self._answers):
            self._dispatch({"id": message_id, "error": {"message": "the browser exited"}})

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "id" in message:
            answer = self._answers.pop(message["id"], None)
            if answer is not None:
                answer.put(message)
        else:
            for events in self._listeners.get(message.get("sessionId", ""), []):
                events.put(message)


# --- a visited page -------------------------------------------------------------------------


@dataclass
class Request:
    """One request the page made, and how it ended."""

    url: str
    method: str
    type: str
    status: int | None = None
    failure: str = ""

    @property
    def is_network(self) -> bool:
        """Whether it left the page: anything but ``file:``, ``data:``, ``about:``, …"""
        return not self.url.startswith(LOCAL_SCHEMES)

    @property
    def failed(self) -> bool:
        return bool(self.failure) or (self.status is not None and self.status >= 400)


@dataclass
class Chart:
    """What one chart container of the page holds."""

    id: str
    svgs: int
    shapes: int
    """Drawn SVG shapes (path, rect, circle, line, polyline, polygon, ellipse) of some size."""
    painted_canvases: int

    @property
    def drawn(self) -> bool:
        return (self.svgs > 0 and self.shapes > 0) or self.painted_canvases > 0


_CHARTS_JS = """
(selector) => [...document.querySelectorAll(selector)].map((el, i) => {
  const shapes = [...el.querySelectorAll(
      'svg path, svg rect, svg circle, svg line, svg polyline, svg polygon, svg ellipse')]
    .filter((s) => { const b = s.getBBox(); return b.width > 0 || b.height > 0; });
  const painted = [...el.querySelectorAll('canvas')].filter((c) => {
    if (!c.width || !c.height) return false;
    try {
      const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      for (let k = 3; k < data.length; k += 4) if (data[k]) return true;
    } catch (e) { return true; }  // a WebGL canvas: it exists and has a size
    return false;
  });
  return {id: el.id || el.getAttribute('data-report') || el.getAttribute('data-chart')
              || `${selector}[${i}]`,
          svgs: el.querySelectorAll('svg').length, shapes: shapes.length,
          painted_canvases: painted.length};
})
"""


@dataclass
class PageVisit:
    """One open tab: what happened while it loaded, and a handle to ask it more."""

    url: str
    _connection: _Connection = field(repr=False)
    _session: str = field(repr=False)
    _target: str = field(repr=False)
    _events: queue.Queue[dict[str, Any]] = field(repr=False)
    console_errors: list[str] = field(default_factory=list)
    """Console errors, uncaught exceptions and the browser's error log, as text."""
    console_messages: list[str] = field(default_factory=list)
    """Every console message, ``"<type>: <text>"`` (errors too)."""
    requests: list[Request] = field(default_factory=list)
    screenshot_path: Path | None = None
    _by_id: dict[str, Request] = field(default_factory=dict, repr=False)

    @property
    def network_requests(self) -> list[Request]:
        """Requests that left the page (``http:``, ``https:``, ``ws:``, …)."""
        return [r for r in self.requests if r.is_network]

    @property
    def failed_requests(self) -> list[Request]:
        return [r for r in self.requests if r.failed]

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """One DevTools command to this tab."""
        return self._connection.send(method, params, self._session)

    def evaluate(self, expression: str, timeout: float = COMMAND_TIMEOUT) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self._connection.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            self._session,
            timeout,
        )
        if "exceptionDetails" in result:
            raise ProtocolError(f"{expression!r} threw: {_exception_text(result)}")
        return result["result"].get("value")

    def charts(self, selector: str) -> list[Chart]:
        """Every element matching ``selector`` with what it has drawn."""
        found = self.evaluate(f"({_CHARTS_JS})({json.dumps(selector)})")
        return [Chart(**chart) for chart in found]

    def undrawn_charts(self, selector: str) -> list[Chart]:
        """The charts of ``selector`` with no drawn SVG shape and no painted canvas."""
        return [chart for chart in self.charts(selector) if not chart.drawn]

    def wait_for(self, expression: str, timeout: float) -> None:
        """Until ``expression`` is truthy in the page (``AssertionError`` after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while True:
            self.collect()
            try:
                if self.evaluate(expression, timeout=max(1.0, deadline - time.monotonic())):
                    return
            except ProtocolError:
                pass  # not there yet: a navigation replaced the context, a name is undefined
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.url}: {expression!r} still false after {timeout}s; "
                    f"console errors: {self.console_errors}"
                )
            time.sleep(0.05)

    def screenshot(self, path: Path) -> Path:
        """A PNG of the whole page (beyond the window's height) at ``path``."""
        size = self.send("Page.getLayoutMetrics")["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        shot = self.send(
            "Page.captureScreenshot",
            {"format": "png", "clip": clip, "captureBeyondViewport": True},
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        self.screenshot_path = path
        return path

    def collect(self) -> None:
        """Take in the events that arrived so far."""
        while True:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                return
            self._record(event["method"], event.get("params", {}))

    def close(self) -> None:
        self._connection.send("Target.closeTarget", {"targetId": self._target})

    def _record(self, method: str, params: dict[str, Any]) -> None:
        if method == "Runtime.consoleAPICalled":
            text = " ".join(_remote_text(arg) for arg in params.get("args", []))
            self.console_messages.append(f"{params['type']}: {text}")
            if params["type"] in ("error", "assert"):
                self.console_errors.append(f"console.{params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            self.console_errors.append(f"uncaught: {_exception_text(params)}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            self.console_errors.append(f"{entry['source']}: {entry['text']} {entry.get('url', '')}")
        elif method == "Network.requestWillBeSent":
            request = params["request"]
            seen = Request(request["url"], request["method"], params.get("type", ""))
            self._by_id[params["requestId"]] = seen
            self.requests.append(seen)
        elif method == "Network.webSocketCreated":
            self.requests.append(Request(params["url"], "GET", "WebSocket"))
        elif method == "Network.responseReceived":
            if (seen_request := self._by_id.get(params["requestId"])) is not None:
                seen_request.status = int(params["response"]["status"])
        elif method == "Network.loadingFailed":
            if (seen_request := self._by_id.get(params["requestId"])) is not None:
                seen_request.failure = params.get("errorText") or "failed"


def _remote_text(value: dict[str, Any]) -> str:
    if "value" in value:
        return str(value["value"])
    return str(value.get("description") or value.get("type", ""))


def _exception_text(params: dict[str, Any]) -> str:
    details = params.get("exceptionDetails", {})
    thrown = details.get("exception", {})
    return str(thrown.get("description") or details.get("text", "exception"))


# --- the browser ----------------------------------------------------------------------------


class Browser:
    """One headless Chromium process; ``open_page`` opens a watched tab."""

    def __init__(self, process: subprocess.Popen[bytes], connection: _Connection, log: Path):
        self.process = process
        self._connection = connection
        self.log_path = log

    @classmethod
    @contextmanager
    def launch(cls, folder: Path) -> Iterator[Browser]:
        """Start Chromium with its profile and log in ``folder``; stopped on exit."""
        binary = chromium()
        folder.mkdir(parents=True, exist_ok=True)
        # The pipe's ends become the browser's descriptors 3 (commands) and 4 (answers).
        commands_read, commands_write = os.pipe()
        answers_read, answers_write = os.pipe()
        redirect = f'exec "$0" "$@" 3<&{commands_read} 4>&{answers_write}'
        argv = ["/bin/bash", "-c", redirect, str(binary), *FLAGS]
        argv += [f"--user-data-dir={folder / 'profile'}", "about:blank"]
        log = folder / "chromium.log"
        with log.open("wb") as err:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
                pass_fds=(commands_read, answers_write),
                start_new_session=True,
            )
        os.close(commands_read)
        os.close(answers_write)
        connection = _Connection(commands_write, answers_read)
        browser = cls(process, connection, log)
        try:
            connection.send("Browser.getVersion", timeout=LAUNCH_TIMEOUT)
            yield browser
        finally:
            browser.close()

    @property
    def version(self) -> str:
        return str(self._connection.send("Browser.getVersion")["product"])

    def open_page(
        self,
        url: str,
        *,
        wait_for: str = "document.readyState === 'complete'",
        timeout: float = 30.0,
        settle: float = 0.3,
        screenshot: Path | None = None,
    ) -> PageVisit:
        """Open ``url`` in a new tab and wait until it loaded and ``wait_for`` is true.

        Args:
            wait_for: a JavaScript expression (e.g. that the charts are drawn).
            settle: then wait this long for late errors and requests.
            screenshot: where to save a PNG of the whole page.
        """
        target = self._connection.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self._connection.send(
            "Target.attachToTarget", {"targetId": target, "flatten": True}
        )["sessionId"]
        events = self._connection.listen(session)
        visit = PageVisit(url, self._connection, session, target, events)
        for domain in ("Runtime", "Log", "Network", "Page"):
            visit.send(f"{domain}.enable")
        navigated = visit.send("Page.navigate", {"url": url})
        if navigated.get("errorText"):
            raise AssertionError(f"{url}: {navigated['errorText']}")
        visit.wait_for("document.readyState === 'complete'", timeout)
        visit.wait_for(wait_for, timeout)
        time.sleep(settle)
        visit.collect()
        if screenshot is not None:
            visit.screenshot(screenshot)
        return visit

    def close(self) -> None:
        """Ask the browser to quit; kill it if it does not."""
        try:
            self._connection.send("Browser.close", timeout=5)
        except (ProtocolError, OSError):
            pass
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        try:
            self._connection.close()
        except OSError:
            pass
