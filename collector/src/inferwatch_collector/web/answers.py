"""The answers of the dashboard's routes: JSON, HTML and errors, with the headers they share.

Every answer forbids content sniffing and carries a Content-Security-Policy that lets a page
load only what this service serves: the dashboard works offline, and an asset fetched from
anywhere else would be refused by the browser rather than loaded silently.
"""

from __future__ import annotations

import html
import json
from typing import Any

Answer = tuple[int, dict[str, str], bytes]

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "same-origin",
}
JSON_TYPE = "application/json"
HTML_TYPE = "text/html; charset=utf-8"


def json_answer(status: int, body: Any) -> Answer:
    """``body`` as JSON, never cached (the data changes with every evaluation)."""
    headers = {**COMMON_HEADERS, "Content-Type": JSON_TYPE, "Cache-Control": "no-store"}
    return status, headers, json.dumps(body, allow_nan=False).encode()


def html_answer(status: int, text: str) -> Answer:
    headers = {**COMMON_HEADERS, "Content-Type": HTML_TYPE, "Cache-Control": "no-cache"}
    return status, headers, text.encode()


def error_answer(headers: dict[str, str], status: int, message: str) -> Answer:
    """``{"error": message}``; a small HTML page instead for a browser asking for HTML."""
    if "text/html" in headers.get("accept", ""):
        text = html.escape(message)
        return html_answer(
            status,
            f"<!doctype html><html lang=en><head><meta charset=utf-8>"
            f'<link rel="icon" href="data:,"><title>{status} · inferwatch</title></head>'
            f'<body><h1>{status}</h1><p>{text}</p><p><a href="/">Models</a></p></body></html>',
        )
    return json_answer(status, {"error": message})
