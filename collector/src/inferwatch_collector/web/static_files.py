"""The dashboard's own assets (``web/static``: scripts, styles), served at ``/static/<name>``.

The files are read once at start-up, so a request never touches the file system with a name
taken from a URL. Each carries an ETag: a browser revalidates (``Cache-Control: no-cache``)
and gets ``304 Not Modified`` until the service is upgraded.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from inferwatch_collector.receive.http_server import HttpRequest
from inferwatch_collector.web.answers import COMMON_HEADERS, Answer, error_answer

STATIC_FOLDER = Path(__file__).parent / "static"
PREFIX = "/static/"
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


class StaticFiles:
    """The files of one folder, answered by name.

    >>> files = StaticFiles()
    >>> files.names()[:2]
    ['charts.js', 'dashboard.css']
    """

    def __init__(self, folder: Path = STATIC_FOLDER) -> None:
        self._files: dict[str, tuple[str, bytes, str]] = {}
        for path in sorted(folder.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                body = path.read_bytes()
                etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
                content_type = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
                self._files[path.name] = (content_type, body, etag)

    def names(self) -> list[str]:
        return sorted(self._files)

    def answer(self, request: HttpRequest) -> Answer:
        """``GET /static/<name>``: the file, ``304`` if the browser's copy is current."""
        name = request.path[len(PREFIX) :]
        found = self._files.get(name)
        if found is None:
            return error_answer(request.headers, 404, f"no static file {name!r}")
        content_type, body, etag = found
        headers = {
            **COMMON_HEADERS,
            "Content-Type": content_type,
            "Cache-Control": "no-cache",
            "ETag": etag,
        }
        if request.headers.get("if-none-match") == etag:
            return 304, headers, b""
        return 200, headers, body
