"""The alert engine on a real chDB: streams of evaluated windows with known answers."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy
import pytest
from alert_receivers import WebhookReceiver
from clickhouse_connect.driver import Client

from inferwatch_collector.alert import (
    AlertState,
    AlertTransition,
    Rule,
    dashboard_link,
    process_evaluations,
    transition_history,
)
from inferwatch_collector.alert.notifiers import (
    LogConfig,
    LogNotifier,
    Notifier,
    RetryPolicy,
    WebhookConfig,
    WebhookNotifier,
)
from inferwatch_collector.alert.rules import interval_at, judge_series
from inferwatch_collector.alert.thresholds import backtest, derive_threshold, quantile
from inferwatch_collector.evaluate.store import EvaluationRow
from inferwatch_collector.store import default_dsn, open_client, run_migrations

START = datetime(2026, 11, 27, 0, 0, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)
LINK = dashboard_link("http://dash.example:8080")
F = AlertState


Window = EvaluationRow  # the evaluator's rows, as the alert engine reads them


def window(
    hour: int, value: float, *, support: int = 500, coverage: float = 1.0, segment: str = ""
) -> Window:
    start = START + hour * HOUR
    return Window(
        "fraud", "3.1", segment, "1h", start, start + HOUR, "f1", value, support, coverage,
        value - 0.02, value + 0.02, start + HOUR,
    )  # fmt: skip


ANNOTATION = "F1 of {model} fell to {value:.3f} (threshold {threshold})"


def rule(**changes: object) -> Rule:
    base = Rule(
        name="fraud-f1", model="fraud", metric="f1", window="1h", op="<", threshold=0.8,
        for_windows=3, min_samples=100, min_label_coverage=0.5, severity="critical",
        labels={"team": "risk"}, annotation=ANNOTATION,
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def run_stream(
    client: Client,
    rules: Sequence[Rule],
    values: Sequence[float],
    notifiers: Sequence[Notifier] = (),
    **window_args: object,
) -> list[AlertTransition]:
    """One pass per hour: each pass sees every window so far (re-evaluated) plus the current,
    incomplete one — which is given a breaching value the engine must ignore."""
    transitions = []
    for hour in range(len(values)):
        rows = [window(h, v, **window_args) for h, v in enumerate(values[: hour + 1])]  # type: ignore[arg-type]
        rows.append(window(hour + 1, 0.0))  # not complete at `now`
        now = START + (hour + 1) * HOUR
        transitions += process_evaluations(
            client, rules, notifiers, rows, now=now, generator_url=LINK
        )
    return transitions


def moves(transitions: Sequence[AlertTransition]) -> list[tuple[AlertState, AlertState]]:
    return [(t.previous, t.state) for t in transitions]


DRIFT = [0.9, 0.9, 0.7, 0.7, 0.7, 0.7, 0.9, 0.9]


def test_a_drifting_model_fires_once_then_resolves_once(
    store: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="inferwatch.alerts")
    transitions = run_stream(store, [rule()], DRIFT, [LogNotifier(LogConfig())])
    assert moves(transitions) == [
        (F.INACTIVE, F.PENDING),
        (F.PENDING, F.FIRING),
        (F.FIRING, F.RESOLVED),
    ]
    pending, fired, resolved = transitions
    assert pending.at == START + 3 * HOUR  # the first breaching window closed
    assert fired.at == START + 5 * HOUR  # the third in a row
    assert resolved.at == START + 7 * HOUR
    assert fired.firing_since == resolved.firing_since == fired.at
    assert fired.window_start == START + 4 * HOUR and math.isclose(fired.value, 0.7)
    assert fired.annotation == "F1 of fraud fell to 0.700 (threshold 0.8)"
    assert fired.generator_url == (
        "http://dash.example:8080/models/fraud?window_start=2026-11-27T04%3A00%3A00Z&window=1h"
    )
    assert transition_history(store, ["fraud-f1"]) == transitions
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("alert ")]
    assert len(logged) == 3  # each transition told once
    assert [line.split()[2] for line in logged] == ["pending", "firing", "resolved"]


def test_for_counts_consecutive_windows_only(store: Client) -> None:
    transitions = run_stream(store, [rule()], [0.7, 0.7, 0.9, 0.7, 0.7, 0.9])
    assert F.FIRING not in [t.state for t in transitions]


def test_too_little_data_is_no_data_not_an_alert(store: Client) -> None:
    transitions = run_stream(store, [rule(for_windows=1)], [0.1, 0.1, 0.1], support=20)
    assert moves(transitions) == [(F.INACTIVE, F.NO_DATA)]
    coverage = run_stream(store, [rule(name="cov", for_windows=1)], [0.1, 0.1], coverage=0.2)
    assert moves(coverage) == [(F.INACTIVE, F.NO_DATA)]


def test_no_data_ends_a_firing_alert(store: Client) -> None:
    rules = [rule(for_windows=1)]
    fired = run_stream(store, rules, [0.7])
    rows = [window(0, 0.7), window(1, 0.7, support=5)]
    later = process_evaluations(store, rules, [], rows, now=START + 2 * HOUR, generator_url=LINK)
    assert moves(fired + later) == [(F.INACTIVE, F.FIRING), (F.FIRING, F.NO_DATA)]
    assert later[0].ends_firing and later[0].firing_since == fired[0].at


def test_each_segment_is_its_own_series(store: Client) -> None:
    rules = [rule(for_windows=1, segment="region=*")]
    rows = [window(0, 0.7, segment="region=eu"), window(0, 0.95, segment="region=us")]
    rows.append(window(0, 0.1, segment=""))  # all traffic: not selected by this rule
    transitions = process_evaluations(store, rules, [], rows, now=START + HOUR, generator_url=LINK)
    assert [(t.series.segment, t.state) for t in transitions] == [("region=eu", F.FIRING)]


def test_firing_alert_is_repeated_every_repeat_interval(
    store: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="inferwatch.alerts")
    notifier = LogNotifier(LogConfig(repeat_interval=2 * HOUR))
    run_stream(store, [rule(for_windows=1)], [0.7] * 6, [notifier])
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("alert ")]
    assert [("(repeat)" in line) for line in lines] == [False, True, True]  # hours 1, 3, 5


def test_a_restarted_engine_does_not_notify_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="inferwatch.alerts")
    notifiers = [LogNotifier(LogConfig(repeat_interval=10 * HOUR))]
    rules = [rule(for_windows=1)]
    rows = [window(0, 0.7)]
    for _ in range(2):  # the same pass before and after a restart (a retried cron job)
        client = open_client(default_dsn(tmp_path))
        run_migrations(client, ttl_days=30)
        now = START + HOUR
        process_evaluations(client, rules, notifiers, rows, now=now, generator_url=LINK)
        later = [*rows, window(1, 0.6)]
        process_evaluations(client, rules, notifiers, later, now=now + HOUR, generator_url=LINK)
        history = transition_history(client, ["fraud-f1"])
        client.close()
    assert moves(history) == [(F.INACTIVE, F.FIRING)]
    assert len([r for r in caplog.records if r.getMessage().startswith("alert ")]) == 1


def test_a_failing_notifier_sends_later_exactly_once(store: Client) -> None:
    rules = [rule(for_windows=1)]
    policy = RetryPolicy(timeout=1.0, retries=0, backoff=0.0)
    with WebhookReceiver() as closed:
        down_url = closed.url
    down = WebhookNotifier(WebhookConfig(url=down_url, name="hook", policy=policy))
    fired = process_evaluations(
        store, rules, [down], [window(0, 0.7)], now=START + HOUR, generator_url=LINK
    )
    assert moves(fired) == [(F.INACTIVE, F.FIRING)]  # evaluation went on
    with WebhookReceiver() as receiver:
        up = WebhookNotifier(WebhookConfig(url=receiver.url, name="hook", policy=policy))
        rows = [window(0, 0.7), window(1, 0.7)]
        for hour in (2, 3):
            now = START + hour * HOUR
            process_evaluations(store, rules, [up], rows, now=now, generator_url=LINK)
    assert [(b["id"], b["kind"], b["state"]) for b in receiver.bodies] == [
        (fired[0].id, "transition", "firing")
    ]


def test_a_rule_whose_window_the_pass_did_not_evaluate_is_left_alone(store: Client) -> None:
    rules = [rule(for_windows=1)]
    run_stream(store, rules, [0.7])
    five_minutes = [replace(window(0, 0.9), window="5m")]
    later = process_evaluations(
        store, rules, [], five_minutes, now=START + 2 * HOUR, generator_url=LINK
    )
    assert later == []


def test_confidence_fires_only_when_the_whole_interval_is_beyond() -> None:
    strict = rule(for_windows=1, confidence=0.95)
    unsure = replace(window(0, 0.78), ci_low=0.70, ci_high=0.86)
    sure = replace(window(0, 0.72), ci_low=0.68, ci_high=0.76)
    assert judge_series(strict, [unsure], 0.8).condition == "ok"
    assert judge_series(rule(for_windows=1), [unsure], 0.8).condition == "firing"
    assert judge_series(strict, [sure], 0.8).condition == "firing"


def test_an_interval_at_another_level_is_rescaled() -> None:
    row = replace(window(0, 0.5), ci_low=0.4, ci_high=0.7)
    assert interval_at(row, 0.95, 0.95) == (0.4, 0.7)
    low, high = interval_at(row, 0.99, 0.95)  # z 2.576 / 1.960
    assert math.isclose(low, 0.5 - 0.1 * 1.31426, rel_tol=1e-4)
    assert math.isclose(high, 0.5 + 0.2 * 1.31426, rel_tol=1e-4)


def test_auto_threshold_from_history() -> None:
    history = [window(h, v) for h, v in enumerate([0.80, 0.82, 0.84, 0.86, 0.88] * 6)]
    sigma = rule(threshold="auto")
    values = [w.value for w in history]
    mean = sum(values) / len(values)
    stdev = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    assert math.isclose(derive_threshold(sigma, history), mean - 3 * stdev)
    above = replace(sigma, op=">")
    assert math.isclose(derive_threshold(above, history), mean + 3 * stdev)
    q = replace(sigma, auto=replace(sigma.auto, method="quantile", quantile=0.1))
    assert math.isclose(derive_threshold(q, history), quantile(values, 0.1))
    assert derive_threshold(sigma, history[:10]) is None  # fewer than min_windows (24)


def test_quantile_matches_numpy() -> None:
    values = [3.0, 1.0, 4.0, 1.5, 9.0, 2.6, 5.0]
    for q in (0.0, 0.01, 0.1, 0.5, 0.9, 1.0):
        assert math.isclose(quantile(values, q), float(numpy.quantile(values, q)))


def test_backtest_counts_the_times_a_threshold_would_have_fired() -> None:
    values = [0.9, 0.7, 0.7, 0.9, 0.7, 0.9, 0.6, 0.6, 0.6]
    series = [[window(h, v) for h, v in enumerate(values)]]
    assert backtest(rule(for_windows=1), series, 0.8) == 3
    assert backtest(rule(for_windows=2), series, 0.8) == 2
    assert backtest(rule(for_windows=1), series, 0.65) == 1
    assert backtest(rule(for_windows=1), series, None) == 0
