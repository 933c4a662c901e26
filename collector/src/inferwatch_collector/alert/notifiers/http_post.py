"""POST a JSON body with a timeout and retries with exponential backoff (stdlib only).

>>> post_json("http://127.0.0.1:5001/hook", {"state": "firing"},
...           policy=RetryPolicy(timeout=5.0, retries=3, backoff=0.5))

Retried: connection errors, timeouts, HTTP 429 and 5xx (the receiver may recover). Not
retried: other 4xx (the same body would be refused again).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from inferwatch_collector.alert.notifiers.notification import NotifierError

MAX_BACKOFF = 30.0


@dataclass(frozen=True)
class RetryPolicy:
    timeout: float = 5.0
    """Seconds per attempt."""
    retries: int = 3
    """Attempts after the first."""
    backoff: float = 0.5
    """Seconds before the first retry; doubled for each next one (at most 30 s)."""
    headers: Mapping[str, str] = field(default_factory=dict, hash=False)


class _Retryable(Exception):
    pass


def post_json(
    url: str, body: Any, *, policy: RetryPolicy, sleep: Callable[[float], None] = time.sleep
) -> None:
    """POST ``body`` as JSON; return when a 2xx arrives, raise ``NotifierError`` when none did."""
    data = json.dumps(body).encode()
    problem = ""
    for attempt in range(policy.retries + 1):
        if attempt:
            sleep(min(policy.backoff * 2 ** (attempt - 1), MAX_BACKOFF))
        try:
            _post_once(url, data, policy)
            return
        except _Retryable as exc:
            problem = str(exc)
    raise NotifierError(f"POST {url} failed after {policy.retries + 1} attempts: {problem}")


def _post_once(url: str, data: bytes, policy: RetryPolicy) -> None:
    headers = {"Content-Type": "application/json", **policy.headers}
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=policy.timeout) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read(500).decode(errors="replace")
        exc.close()
        if exc.code == 429 or exc.code >= 500:
            raise _Retryable(f"HTTP {exc.code} {detail}") from exc
        raise NotifierError(f"POST {url} refused: HTTP {exc.code} {detail}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
