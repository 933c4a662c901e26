"""What the demo asks the running service: is it there, and what does it say about the model.

Both go to the service's OTLP/HTTP port, the one the demo sends to: ``/healthz`` before the
first prediction, and ``/metrics`` (the latest evaluations and alert states, see
``report/prometheus_export.py``) for the status line the demo prints every few seconds.

>>> service_problem("http://127.0.0.1:4318")            # doctest: +SKIP
>>> read_status("http://127.0.0.1:4318", "demo-classifier")  # doctest: +SKIP
ServiceStatus(f1=0.94, window='1m', window_end=1764234000.0, alerts={'demo-f1-low': 'inactive'})
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

from .evaluate.durations import parse_duration

TIMEOUT = 3.0


def service_problem(endpoint: str) -> str | None:
    """``None`` if something answers HTTP at ``endpoint``, else why not (one line)."""
    try:
        with urllib.request.urlopen(f"{endpoint.rstrip('/')}/healthz", timeout=TIMEOUT):
            return None
    except urllib.error.HTTPError:
        return None  # an answer all the same: an OTLP receiver without /healthz
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"no service answers at {endpoint} ({reason})"


@dataclass(frozen=True)
class ServiceStatus:
    """The service's view of the demo model: latest overall F1 and every alert's state."""

    f1: float | None = None
    """F1 of the newest complete window of the smallest window size, all traffic."""
    window: str | None = None
    window_end: float | None = None
    """End of that window, Unix seconds."""
    alerts: dict[str, str] = field(default_factory=dict)
    """Rule name (with the segment when it has one, ``rule[region=eu]``) → current state."""


def read_status(endpoint: str, model: str) -> ServiceStatus | None:
    """The service's ``/metrics`` digested for ``model``; ``None`` if it cannot be read."""
    try:
        url = f"{endpoint.rstrip('/')}/metrics"
        with urllib.request.urlopen(url, timeout=TIMEOUT) as answer:
            text = answer.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError, ValueError):
        return None
    return parse_status(text, model)


def parse_status(exposition: str, model: str) -> ServiceStatus:
    """``ServiceStatus`` from a Prometheus text exposition of the service."""
    f1: dict[str, float] = {}
    ends: dict[str, float] = {}
    alerts: dict[str, str] = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            labels = sample.labels
            if labels.get("model") != model:
                continue
            overall_f1 = labels.get("metric") == "f1" and labels.get("segment") == ""
            if sample.name == "inferwatch_model_metric" and overall_f1:
                f1[labels["window"]] = sample.value
            elif sample.name == "inferwatch_model_metric_window_end_seconds" and overall_f1:
                ends[labels["window"]] = sample.value
            elif sample.name == "inferwatch_alert_state" and sample.value == 1:
                segment = labels.get("segment", "")
                name = f"{labels['rule']}[{segment}]" if segment else labels["rule"]
                alerts[name] = labels["state"]
    if not f1:
        return ServiceStatus(alerts=alerts)
    window = min(f1, key=lambda size: parse_duration(size))
    return ServiceStatus(f1[window], window, ends.get(window), alerts)
