"""Where alert notifications go: the log, a webhook, Prometheus Alertmanager.

>>> notifiers = build_notifiers([LogConfig(), WebhookConfig(url="http://hooks/alerts")])
"""

from __future__ import annotations

from collections.abc import Sequence

from inferwatch_collector.alert.notifiers.alertmanager import (
    AlertmanagerConfig,
    AlertmanagerNotifier,
)
from inferwatch_collector.alert.notifiers.http_post import RetryPolicy
from inferwatch_collector.alert.notifiers.log import LogConfig, LogNotifier
from inferwatch_collector.alert.notifiers.notification import (
    Notification,
    Notifier,
    NotifierError,
)
from inferwatch_collector.alert.notifiers.webhook import WebhookConfig, WebhookNotifier

NotifierConfig = LogConfig | WebhookConfig | AlertmanagerConfig

__all__ = [
    "AlertmanagerConfig",
    "AlertmanagerNotifier",
    "LogConfig",
    "LogNotifier",
    "Notification",
    "Notifier",
    "NotifierConfig",
    "NotifierError",
    "RetryPolicy",
    "WebhookConfig",
    "WebhookNotifier",
    "build_notifier",
    "build_notifiers",
]


def build_notifier(config: NotifierConfig) -> Notifier:
    """The notifier a config describes."""
    if isinstance(config, WebhookConfig):
        return WebhookNotifier(config)
    if isinstance(config, AlertmanagerConfig):
        return AlertmanagerNotifier(config)
    return LogNotifier(config)


def build_notifiers(configs: Sequence[NotifierConfig]) -> list[Notifier]:
    return [build_notifier(config) for config in configs]
