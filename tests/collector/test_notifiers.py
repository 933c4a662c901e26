"""Notifiers against real receivers: webhook body, retries on 5xx, timeout, no retry on 4xx."""

from __future__ import annotations

import logging
import math
import time
from datetime import datetime, timedelta, timezone

import pytest
from alert_receivers import WebhookReceiver

from inferwatch_collector.alert.notifiers import (
    LogConfig,
    LogNotifier,
    Notification,
    NotifierError,
    RetryPolicy,
    WebhookConfig,
    WebhookNotifier,
)
from inferwatch_collector.alert.notifiers.alertmanager import alert_labels, alertmanager_alert
from inferwatch_collector.alert.states import AlertState, AlertTransition, SeriesKey

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
FAST = RetryPolicy(timeout=2.0, retries=2, backoff=0.01)


def firing(state: AlertState = AlertState.FIRING, **changes: object) -> AlertTransition:
    values: dict[str, object] = dict(
        id="t1", series=SeriesKey("fraud-f1", "fraud", "3.1", ""), metric="f1", window="1h",
        previous=AlertState.PENDING, state=state, at=NOW, firing_since=NOW - timedelta(hours=1),
        window_start=NOW - timedelta(hours=1), window_end=NOW, value=0.71, threshold=0.8,
        ci_low=0.66, ci_high=math.nan, support=812, label_coverage=0.93, severity="critical",
        labels={"team": "risk"}, annotation="F1 of fraud fell to 0.710 (threshold 0.8)",
        generator_url="http://dash/models/fraud?window_start=2026-11-27T11%3A00%3A00Z&window=1h",
    )  # fmt: skip
    values.update(changes)
    return AlertTransition(**values)  # type: ignore[arg-type]


def test_webhook_posts_one_json_body_per_notification() -> None:
    with WebhookReceiver() as receiver:
        notifier = WebhookNotifier(WebhookConfig(url=receiver.url, policy=FAST))
        notifier.send(Notification(firing(), "transition", NOW))
    (body,) = receiver.bodies
    assert body["id"] == "t1" and body["kind"] == "transition"
    assert (body["rule"], body["state"], body["previous_state"]) == (
        "fraud-f1",
        "firing",
        "pending",
    )
    assert (body["model"], body["version"], body["segment"]) == ("fraud", "3.1", "")
    assert (body["value"], body["threshold"], body["ci_low"]) == (0.71, 0.8, 0.66)
    assert body["ci_high"] is None  # NaN is not JSON
    assert body["window_start"] == "2026-11-27T11:00:00+00:00"
    assert body["labels"] == {"team": "risk"}
    assert body["annotation"] == "F1 of fraud fell to 0.710 (threshold 0.8)"
    assert body["generator_url"].startswith("http://dash/models/fraud?")


def test_webhook_retries_on_server_errors_then_succeeds() -> None:
    with WebhookReceiver(statuses=[500, 503]) as receiver:
        notifier = WebhookNotifier(WebhookConfig(url=receiver.url, policy=FAST))
        notifier.send(Notification(firing(), "transition", NOW))
    assert len(receiver.bodies) == 3


def test_webhook_gives_up_after_its_retries() -> None:
    with WebhookReceiver(statuses=[500, 500, 500, 500]) as receiver:
        notifier = WebhookNotifier(WebhookConfig(url=receiver.url, policy=FAST))
        with pytest.raises(NotifierError, match="after 3 attempts: HTTP 500"):
            notifier.send(Notification(firing(), "transition", NOW))
    assert len(receiver.bodies) == 3


def test_webhook_does_not_retry_a_refused_body() -> None:
    with WebhookReceiver(statuses=[400]) as receiver:
        notifier = WebhookNotifier(WebhookConfig(url=receiver.url, policy=FAST))
        with pytest.raises(NotifierError, match="refused: HTTP 400"):
            notifier.send(Notification(firing(), "transition", NOW))
    assert len(receiver.bodies) == 1


def test_webhook_times_out_on_a_slow_receiver() -> None:
    policy = RetryPolicy(timeout=0.2, retries=1, backoff=0.01)
    with WebhookReceiver(delay=1.0) as receiver:
        notifier = WebhookNotifier(WebhookConfig(url=receiver.url, policy=policy))
        started = time.monotonic()
        with pytest.raises(NotifierError, match="timed out"):
            notifier.send(Notification(firing(), "transition", NOW))
        elapsed = time.monotonic() - started
    assert len(receiver.bodies) == 2
    assert elapsed < 0.9  # two attempts of 0.2 s, not the receiver's 1 s each


def test_webhook_backs_off_exponentially() -> None:
    policy = RetryPolicy(timeout=2.0, retries=3, backoff=0.1)
    with WebhookReceiver(statuses=[500, 500, 500]) as receiver:
        started = time.monotonic()
        WebhookNotifier(WebhookConfig(url=receiver.url, policy=policy)).send(
            Notification(firing(), "transition", NOW)
        )
        elapsed = time.monotonic() - started
    assert len(receiver.bodies) == 4
    assert 0.7 <= elapsed < 2.0  # 0.1 + 0.2 + 0.4 s of backoff


def test_webhook_unreachable_is_a_notifier_error() -> None:
    with WebhookReceiver() as receiver:
        url = receiver.url
    notifier = WebhookNotifier(WebhookConfig(url=url, policy=FAST))
    with pytest.raises(NotifierError, match="after 3 attempts"):
        notifier.send(Notification(firing(), "transition", NOW))


def test_webhook_sends_only_the_configured_states() -> None:
    notifier = WebhookNotifier(WebhookConfig(url="http://127.0.0.1:9/hook"))
    assert notifier.wants(firing())
    assert notifier.wants(firing(AlertState.RESOLVED))
    assert not notifier.wants(firing(AlertState.PENDING))


def test_log_notifier_logs_a_line_naming_the_alert(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="inferwatch.alerts")
    LogNotifier(LogConfig()).send(Notification(firing(), "repeat", NOW))
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert "alert fraud-f1 firing (repeat) (was pending)" in message
    assert "model=fraud version=3.1 segment=- f1=0.71 threshold=0.8" in message
    assert message.endswith("F1 of fraud fell to 0.710 (threshold 0.8)")


def test_alertmanager_alert_while_firing_and_after() -> None:
    expire = timedelta(minutes=15)
    alert = alertmanager_alert(Notification(firing(), "repeat", NOW), expire)
    assert alert["labels"] == {
        "alertname": "fraud-f1", "team": "risk", "model": "fraud", "version": "3.1",
        "metric": "f1", "window": "1h", "severity": "critical",
    }  # fmt: skip
    assert alert["startsAt"] == "2026-11-27T11:00:00Z"
    assert alert["endsAt"] == "2026-11-27T12:15:00Z"
    assert alert["annotations"]["summary"] == "F1 of fraud fell to 0.710 (threshold 0.8)"
    ended_at = NOW + timedelta(hours=2)
    resolved = firing(AlertState.RESOLVED, previous=AlertState.FIRING, at=ended_at)
    after = alertmanager_alert(Notification(resolved, "transition", ended_at), expire)
    assert after["labels"] == alert["labels"] == alert_labels(resolved)
    assert after["endsAt"] == "2026-11-27T14:00:00Z"
    assert after["startsAt"] == alert["startsAt"]
