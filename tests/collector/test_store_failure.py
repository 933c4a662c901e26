"""A store that fails for a while loses nothing: the log absorbs, then 503, then it drains.

The outage is injected around a real chDB client (``faults.FaultyClient``); everything else —
receivers, write-ahead log, writer, the store itself — is the real service in this process.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from faults import FaultyClient
from google.rpc import error_details_pb2, status_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from service_process import (
    get,
    metric_value,
    open_store,
    post_traces,
    prediction_request,
    stored_prediction_ids,
)

from inferwatch_collector.config import CollectorSettings
from inferwatch_collector.service import CollectorService
from inferwatch_collector.store import open_client

QUEUE_MAX_BYTES = 32 * 1024  # a few dozen requests of ten predictions


@pytest.fixture
def outage(tmp_path: Path) -> Iterator[tuple[CollectorService, FaultyClient]]:
    """The service on a store that starts failing once the service is up."""
    settings = CollectorSettings(
        data_dir=str(tmp_path),
        otlp_grpc_port=0,
        otlp_http_port=0,
        queue_max_bytes=QUEUE_MAX_BYTES,
        wal_fsync=False,
        batch_interval=0.02,
        retry_initial=0.05,
        retry_max=0.2,
    )
    store = FaultyClient(open_client(settings.store_dsn))
    service = CollectorService(settings, client=store)
    service.start()
    store.failing = True
    try:
        yield service, store
    finally:
        service.stop(drain_timeout=5)


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def ids_of(number: int) -> list[str]:
    return [f"r{number}-p{p}" for p in range(10)]


def fill_the_log(port: int) -> tuple[set[str], tuple[int, dict[str, str]]]:
    """Post until refused; the ids acknowledged and the first refusal."""
    acknowledged: set[str] = set()
    for number in range(10_000):
        answer = post_traces(port, prediction_request(ids_of(number)))
        if answer[0] != 200:
            return acknowledged, answer
        acknowledged.update(ids_of(number))
    raise AssertionError("the log never filled")


def grpc_refusal(port: int) -> grpc.RpcError:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            # Twice the size of the HTTP request just refused: it cannot fit either.
            request = prediction_request([f"grpc-refused-{p}" for p in range(20)])
            stub.Export(request, timeout=10)
    return refused.value


def retry_delay(error: grpc.RpcError) -> float:
    metadata = dict(error.trailing_metadata())  # type: ignore[attr-defined]
    status = status_pb2.Status.FromString(metadata["grpc-status-details-bin"])
    info = error_details_pb2.RetryInfo()
    assert status.details[0].Unpack(info)
    return info.retry_delay.ToTimedelta().total_seconds()


@pytest.mark.slow
def test_an_outage_is_absorbed_by_the_log_refused_past_its_bound_and_drained_after(
    outage: tuple[CollectorService, FaultyClient], tmp_path: Path
) -> None:
    service, store = outage
    assert service.http is not None and service.grpc is not None
    port = service.http.port
    assert post_traces(port, prediction_request(["before-the-bound"]))[0] == 200
    wait_until(lambda: get(port, "/readyz")[0] == 503)
    assert "store unreachable" in get(port, "/readyz")[1]

    acknowledged, (status, headers) = fill_the_log(port)
    acknowledged.add("before-the-bound")
    assert len(acknowledged) > 100  # taken while the store was down, up to the bound
    assert status == 503  # the store is down: unavailable rather than merely behind
    assert int(headers["retry-after"]) >= 1
    refused = grpc_refusal(service.grpc.port)
    assert refused.code() == grpc.StatusCode.UNAVAILABLE  # type: ignore[attr-defined]
    assert retry_delay(refused) >= 1.0
    metrics = get(port, "/metrics")[1]
    assert metric_value(metrics, "inferwatch_insert_errors_total") > 0
    assert metric_value(metrics, "inferwatch_throttled_requests_total", signal="traces") == 2
    assert metric_value(metrics, "inferwatch_wal_pending_bytes") > 0.9 * QUEUE_MAX_BYTES
    accepted = metric_value(metrics, "inferwatch_accepted_items_total", signal="traces")
    received = metric_value(metrics, "inferwatch_received_items_total", signal="traces")
    assert accepted == len(acknowledged)
    # gRPC hands over decoded requests, so its refused spans are counted as received; HTTP
    # refuses before decoding (cheap under overload), so its refused request is not.
    assert received == accepted + 20

    store.failing = False
    assert service.wal is not None
    wait_until(lambda: service.wal.pending_records == 0)  # type: ignore[union-attr]
    assert get(port, "/readyz") == (200, "ready\n")
    assert post_traces(port, prediction_request(["after-recovery"]))[0] == 200
    acknowledged.add("after-recovery")
    assert service.stop(drain_timeout=10)

    with open_store(tmp_path) as client:
        stored = stored_prediction_ids(client)
    assert len(stored) == len(set(stored))  # none twice
    assert set(stored) == acknowledged  # every acknowledged one, and none of the refused
