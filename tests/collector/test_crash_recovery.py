"""Nothing acknowledged is lost by a crash: `kill -9` mid-stream, restart, every prediction once."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest
from clickhouse_connect.driver import Client
from service_process import (
    ServeProcess,
    open_store,
    post_traces,
    prediction_request,
    stored_prediction_ids,
)

from inferwatch_collector.selfmetrics import SelfMetrics
from inferwatch_collector.store import insert_tables, open_client, run_migrations
from inferwatch_collector.store_writer import (
    StoreHealth,
    StoreWriter,
    WriterSettings,
    log_identity,
    records_to_tables,
)
from inferwatch_collector.wal import WriteAheadLog

CLIENT_THREADS = 4
PREDICTIONS_PER_REQUEST = 20
ACKS_BEFORE_KILL = 40


class Sender:
    """Client threads posting prediction requests until told to stop; what was sent, what acked."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sent: set[str] = set()
        self.acknowledged: set[str] = set()
        self.acknowledged_requests = 0
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._send, args=(n,)) for n in range(CLIENT_THREADS)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def join(self) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(30)

    def _send(self, thread: int) -> None:
        number = 0
        while not self.stop.is_set():
            ids = [f"t{thread}-r{number}-p{p}" for p in range(PREDICTIONS_PER_REQUEST)]
            number += 1
            with self._lock:
                self.sent.update(ids)
            try:
                status, _ = post_traces(self.port, prediction_request(ids), timeout=5)
            except OSError:  # the server died under us: this request is not acknowledged
                continue
            if status == 200:
                with self._lock:
                    self.acknowledged.update(ids)
                    self.acknowledged_requests += 1


def wait_for(condition: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def count_and_unique(client: Client, ids: set[str]) -> tuple[int, int]:
    query = (
        "SELECT count(), uniqExact(PredictionId) FROM ml_predictions "
        "WHERE PredictionId IN {ids:Array(String)}"
    )
    count, unique = client.query(query, parameters={"ids": sorted(ids)}).result_rows[0]
    return count, unique


@pytest.mark.slow
def test_kill_9_mid_stream_loses_no_acknowledged_prediction_and_stores_none_twice(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    server = ServeProcess.start(data_dir, "--batch-interval", "0.05")
    sender = Sender(server.http_port)
    sender.start()
    try:
        wait_for(lambda: sender.acknowledged_requests >= ACKS_BEFORE_KILL, timeout=60)
        time.sleep(random.uniform(0.0, 0.2))  # land the kill anywhere in the stream
        server.kill()
    finally:
        sender.join()
    assert server.process.returncode == -9

    assert ServeProcess.start(data_dir).stop() == 0

    with open_store(data_dir) as client:
        stored = stored_prediction_ids(client)
        count, unique = count_and_unique(client, sender.acknowledged)
        spans = client.query("SELECT count(), uniqExact(SpanId) FROM otel_traces").result_rows
    assert len(sender.acknowledged) >= ACKS_BEFORE_KILL * PREDICTIONS_PER_REQUEST
    assert count == unique == len(sender.acknowledged)  # every acknowledged id, exactly once
    assert len(stored) == len(set(stored))  # no duplicates among the unacknowledged either
    assert set(stored) <= sender.sent  # and nothing that was never sent
    assert spans[0][0] == spans[0][1] == len(stored)


@pytest.mark.parametrize(
    "stored_before_crash",
    [("otel_traces", "ml_predictions"), ("otel_traces",), ()],
    ids=["whole-batch-inserted", "half-inserted", "nothing-inserted"],
)
def test_a_claimed_batch_left_unfinished_is_stored_exactly_once_by_the_replay(
    tmp_path: Path, stored_before_crash: tuple[str, ...]
) -> None:
    client = open_client(f"chdb://{tmp_path / 'store'}")
    try:
        run_migrations(client, ttl_days=30)
        wal_dir = tmp_path / "wal"
        crash_after_inserting(client, wal_dir, stored_before_crash)
        replay_and_add_one_more_request(client, wal_dir)
        count, unique = count_and_unique(client, {f"r{r}-p{p}" for r in range(4) for p in range(5)})
        traces = client.query("SELECT count() FROM otel_traces").result_rows[0][0]
    finally:
        client.close()
    assert count == unique == 20
    assert traces == 20


def crash_after_inserting(client: Client, wal_dir: Path, tables_stored: tuple[str, ...]) -> None:
    """Log three requests, claim them as one batch, insert some of its tables, never complete."""
    identity = log_identity(wal_dir)
    wal = WriteAheadLog(wal_dir, fsync=False)
    for r in range(3):
        request = prediction_request([f"r{r}-p{p}" for p in range(5)])
        wal.append(1, request.SerializeToString())
    batch = wal.read_batch(max_records=1000, max_bytes=1 << 20)
    wal.claim(batch[0].seq, batch[-1].seq)
    tables = records_to_tables(batch)
    token = f"{identity}-{batch[0].seq}-{batch[-1].seq}"  # the writer's token for this batch
    insert_tables(client, {name: tables[name] for name in tables_stored}, token)
    wal.close()  # the crash: the batch stays claimed, not completed


def replay_and_add_one_more_request(client: Client, wal_dir: Path) -> None:
    wal = WriteAheadLog(wal_dir, fsync=False)
    try:
        assert wal.pending_claim() == (1, 3)
        wal.append(1, prediction_request([f"r3-p{p}" for p in range(5)]).SerializeToString())
        settings = WriterSettings(batch_interval=0.01)
        writer = StoreWriter(
            wal, client, settings, SelfMetrics(), StoreHealth(), log_identity(wal_dir)
        )
        writer.start()
        assert writer.stop(drain_timeout=30)
    finally:
        wal.close()
