"""The write-ahead log on real files, with real threads and a real kill -9."""

from __future__ import annotations

import errno
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from inferwatch_collector.wal import WalError, WalFull, WalLocked, WalRecord, WriteAheadLog
from inferwatch_collector.wal.frame import HEADER_SIZE, encode_header


def segment_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.wal"))


def payload_for(seq_hint: int, size: int = 100) -> bytes:
    return (f"request-{seq_hint}-".encode() * size)[:size]


def fill(log: WriteAheadLog, count: int, size: int = 100) -> list[int]:
    return [log.append(count_kind(i), payload_for(i, size)) for i in range(count)]


def count_kind(index: int) -> int:
    return index % 3


def test_records_round_trip_through_read_claim_complete(tmp_path: Path) -> None:
    with WriteAheadLog(tmp_path, fsync=False) as log:
        seqs = fill(log, 5)
        batch = log.read_batch(max_records=10, max_bytes=1 << 20)
        assert batch == [WalRecord(s, count_kind(i), payload_for(i)) for i, s in enumerate(seqs)]
        assert log.read_batch(10, 1 << 20) == batch  # reading alone moves nothing
        log.claim(batch[0].seq, batch[-1].seq)
        assert log.read_batch(10, 1 << 20) == []  # the claimed batch is not handed out again
        log.complete(batch[-1].seq)
        assert (log.pending_records, log.pending_bytes, log.pending_claim()) == (0, 0, None)


def test_read_batch_stops_at_limits_but_returns_one_big_record(tmp_path: Path) -> None:
    with WriteAheadLog(tmp_path, fsync=False) as log:
        log.append(0, b"x" * 5000)
        fill(log, 4)
        assert [r.seq for r in log.read_batch(max_records=10, max_bytes=100)] == [1]
        log.claim(1, 1)
        assert [r.seq for r in log.read_batch(max_records=2, max_bytes=1 << 20)] == [2, 3]
        assert [r.seq for r in log.read_batch(max_records=10, max_bytes=250)] == [2, 3]


def test_seqs_keep_increasing_across_reopen_even_when_all_is_done(tmp_path: Path) -> None:
    with WriteAheadLog(tmp_path, fsync=False, segment_bytes=300) as log:
        fill(log, 6)
        log.complete(6)  # every segment but the one being appended to is deleted
    with WriteAheadLog(tmp_path, fsync=False) as log:
        assert log.append(0, b"after") == 7
        assert [r.seq for r in log.read_batch(10, 1 << 20)] == [7]
        log.complete(7)
    for path in segment_files(tmp_path):
        path.unlink()  # even with no segment left, the state file remembers
    with WriteAheadLog(tmp_path, fsync=False) as log:
        assert log.append(0, b"later") == 8


def test_segments_wholly_done_are_deleted(tmp_path: Path) -> None:
    record = HEADER_SIZE + 100
    with WriteAheadLog(tmp_path, fsync=False, segment_bytes=2 * record) as log:
        fill(log, 6)  # three segments of two records
        assert len(segment_files(tmp_path)) == 3
        log.complete(3)  # the first segment is done, the second only half
        assert [p.name for p in segment_files(tmp_path)] == [
            "00000000000000000003.wal",
            "00000000000000000005.wal",
        ]
        assert [r.seq for r in log.read_batch(10, 1 << 20)] == [4, 5, 6]


def test_record_larger_than_a_segment_gets_a_segment_of_its_own(tmp_path: Path) -> None:
    with WriteAheadLog(tmp_path, fsync=False, segment_bytes=1000) as log:
        log.append(0, b"a" * 10)
        log.append(1, b"b" * 5000)
        log.append(2, b"c" * 10)
        assert len(segment_files(tmp_path)) == 3
    with WriteAheadLog(tmp_path, fsync=False) as log:
        assert [len(r.payload) for r in log.read_batch(10, 1 << 20)] == [10, 5000, 10]


def test_append_past_the_byte_bound_raises_wal_full_until_completed(tmp_path: Path) -> None:
    record = HEADER_SIZE + 100
    with WriteAheadLog(tmp_path, fsync=False, max_bytes=3 * record) as log:
        fill(log, 3)
        assert log.pending_bytes == 3 * record
        with pytest.raises(WalFull, match="max_bytes"):
            log.append(0, payload_for(9))
        assert log.pending_records == 3  # the refused record took nothing
        log.complete(2)
        assert log.pending_bytes == record
        assert log.append(0, payload_for(9)) == 4


def test_pending_bytes_count_headers_and_payloads_and_survive_reopen(tmp_path: Path) -> None:
    with WriteAheadLog(tmp_path, fsync=False, segment_bytes=500) as log:
        sizes = [10, 400, 3000, 0, 77]
        for size in sizes:
            log.append(0, b"z" * size)
        log.complete(2)
        expected = sum(HEADER_SIZE + size for size in sizes[2:])
        assert (log.pending_bytes, log.pending_records) == (expected, 3)
    with WriteAheadLog(tmp_path, fsync=False) as log:
        assert (log.pending_bytes, log.pending_records) == (expected, 3)


def test_claimed_batch_is_reformed_exactly_after_a_crash(tmp_path: Path) -> None:
    script = f"""
        from inferwatch_collector.wal import WriteAheadLog
        log = WriteAheadLog({str(tmp_path)!r}, segment_bytes=400)
        for i in range(12):
            log.append(i % 4, bytes([i]) * (50 + i))
        batch = log.read_batch(max_records=5, max_bytes=1 << 20)
        log.complete(batch[1].seq)
        batch = log.read_batch(max_records=6, max_bytes=1 << 20)
        log.claim(batch[0].seq, batch[-1].seq)
        for i in range(12, 15):
            log.append(0, b"after the claim")
        print(*[r.seq for r in batch], flush=True)
        import os; os._exit(0)  # no close: the insert never finished
    """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], capture_output=True, check=True
    )
    claimed = [int(seq) for seq in result.stdout.split()]
    assert claimed == [3, 4, 5, 6, 7, 8]
    with WriteAheadLog(tmp_path) as log:
        assert log.pending_claim() == (3, 8)
        again = log.read_range(3, 8)
        assert again == [WalRecord(i + 1, i % 4, bytes([i]) * (50 + i)) for i in range(2, 8)]
        assert [r.seq for r in log.read_batch(100, 1 << 20)] == list(range(9, 16))
        log.complete(8)
        assert log.pending_claim() is None
    with WriteAheadLog(tmp_path) as log:
        assert log.pending_claim() is None
        assert log.pending_records == 7


def test_read_range_finds_records_deep_inside_a_segment(tmp_path: Path) -> None:
    big = [bytes([i]) * (300 << 10) for i in range(10)]  # 3 MiB: several index checkpoints
    with WriteAheadLog(tmp_path, fsync=False) as log:
        for payload in big:
            log.append(1, payload)
    with WriteAheadLog(tmp_path, fsync=False) as log:
        assert [r.payload for r in log.read_range(7, 8)] == big[6:8]
        log.complete(4)
        assert [r.seq for r in log.read_range(1, 6)] == [5, 6]  # done ones are not handed out
        assert log.read_range(11, 20) == []


def test_only_one_batch_is_claimed_at_a_time(tmp_path: Path) -> None:
    with WriteAheadLog(tmp_path, fsync=False) as log:
        fill(log, 6)
        log.claim(1, 3)
        log.claim(1, 3)  # the same claim again (a retry) is fine
        with pytest.raises(WalError, match="1..3 is claimed"):
            log.claim(4, 6)
        with pytest.raises(ValueError, match="split"):
            log.complete(2)
        with pytest.raises(ValueError, match="durable up to 6"):
            log.complete(7)
        log.complete(3)
        with pytest.raises(ValueError, match="pending durable seqs are 4..6"):
            log.claim(2, 5)


def test_wait_for_records_wakes_on_append_and_times_out_when_idle(tmp_path: Path) -> None:
    with WriteAheadLog(tmp_path) as log:
        started = time.monotonic()
        assert log.wait_for_records(0.05) is False
        assert time.monotonic() - started >= 0.05
        timer = threading.Timer(0.05, log.append, args=(0, b"late"))
        timer.start()
        assert log.wait_for_records(5.0) is True
        timer.join()
        log.claim(1, 1)
        assert log.wait_for_records(0.01) is False  # the claimed record is not news


def test_concurrent_appends_share_fsyncs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    syncs = []
    real_fdatasync = os.fdatasync

    def counting_fdatasync(fd: int) -> None:
        syncs.append(fd)
        # This VM's virtual disk flushes in ~0.2 ms, faster than threads wake up; a real
        # disk takes milliseconds, and appends arriving meanwhile must share the next flush.
        time.sleep(0.002)
        real_fdatasync(fd)

    monkeypatch.setattr(os, "fdatasync", counting_fdatasync)
    threads, per_thread = 8, 25
    acked: dict[int, bytes] = {}

    def appender(name: int) -> None:
        for i in range(per_thread):
            payload = f"{name}/{i}".encode()
            acked[log.append(name, payload)] = payload

    with WriteAheadLog(tmp_path) as log:
        workers = [threading.Thread(target=appender, args=(n,)) for n in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    assert sorted(acked) == list(range(1, threads * per_thread + 1))
    assert len(syncs) <= threads * per_thread // 3, f"{len(syncs)} fsyncs for 200 appends"
    with WriteAheadLog(tmp_path) as log:
        assert {r.seq: r.payload for r in log.read_batch(1000, 1 << 20)} == acked


def test_append_returns_only_after_the_fsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    may_sync = threading.Event()
    real_fdatasync = os.fdatasync

    def slow_fdatasync(fd: int) -> None:
        may_sync.wait(5)
        real_fdatasync(fd)

    with WriteAheadLog(tmp_path) as log:
        monkeypatch.setattr(os, "fdatasync", slow_fdatasync)
        appender = threading.Thread(target=log.append, args=(0, b"waits for the disk"))
        appender.start()
        appender.join(0.2)
        assert appender.is_alive()
        assert log.read_batch(10, 1 << 20) == []  # not durable: the writer cannot see it
        may_sync.set()
        appender.join(5)
        assert not appender.is_alive()
        assert [r.payload for r in log.read_batch(10, 1 << 20)] == [b"waits for the disk"]


def test_failed_fsync_stops_acknowledging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_fdatasync(fd: int) -> None:  # a dying disk cannot be caused for real here
        raise OSError(errno.EIO, "Input/output error")

    with WriteAheadLog(tmp_path) as log:
        log.append(0, b"stored")
        monkeypatch.setattr(os, "fdatasync", failing_fdatasync)
        with pytest.raises(WalError, match="reopen it"):
            log.append(0, b"not acknowledged")
        monkeypatch.undo()
        with pytest.raises(WalError, match="reopen it"):
            log.append(0, b"refused")
        assert [r.payload for r in log.read_batch(10, 1 << 20)] == [b"stored"]


CRASH_CHILD = """
import os, sys, threading
from inferwatch_collector.wal import WriteAheadLog

syncs = 0
real_fdatasync = os.fdatasync
def counting_fdatasync(fd):
    global syncs
    syncs += 1
    real_fdatasync(fd)
os.fdatasync = counting_fdatasync

log = WriteAheadLog(sys.argv[1], segment_bytes=256 << 10)
printing = threading.Lock()

def appender(name):
    for i in range(1_000_000):
        payload = (f"{name}:{i}:".encode() * (1 + i % 700))
        seq = log.append(name, payload)
        with printing:
            print(seq, name, i, syncs, flush=True)

for name in range(6):
    threading.Thread(target=appender, args=(name,), daemon=True).start()
threading.Event().wait()
"""


def test_every_acknowledged_record_survives_kill_9(tmp_path: Path) -> None:
    command = [sys.executable, "-c", CRASH_CHILD, str(tmp_path)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        acked = [child.stdout.readline().split() for _ in range(600)]
        child.send_signal(signal.SIGKILL)  # mid-stream: appends are in flight in six threads
    seqs = {int(seq): (int(name), int(i)) for seq, name, i, _ in acked}
    with WriteAheadLog(tmp_path) as log:
        found = {r.seq: r for r in log.read_range(1, max(seqs) + 10_000)}
        for seq, (name, i) in seqs.items():
            assert found[seq] == WalRecord(seq, name, f"{name}:{i}:".encode() * (1 + i % 700))
        assert sorted(found) == list(range(1, len(found) + 1))  # no holes, no duplicates
        assert log.append(0, b"after the crash") == len(found) + 1
    assert int(acked[-1][3]) < len(acked) // 2  # and acknowledging shared fsyncs


def test_torn_tail_is_truncated_and_its_seq_reused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with WriteAheadLog(tmp_path) as log:
        fill(log, 3)
    (segment,) = segment_files(tmp_path)
    intact = segment.stat().st_size
    torn = encode_header(4, 0, b"p" * 1000) + b"p" * 300  # a write cut short by the crash
    with segment.open("ab") as file:
        file.write(torn)
    with caplog.at_level(logging.WARNING, logger="inferwatch_collector.wal"):
        log = WriteAheadLog(tmp_path)
    with log:
        assert "torn write" in caplog.text
        assert segment.stat().st_size == intact
        assert log.append(1, b"next") == 4
        assert [r.seq for r in log.read_batch(10, 1 << 20)] == [1, 2, 3, 4]


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("where", ["payload", "header"])
def test_damage_in_an_older_segment_is_logged_and_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, where: str
) -> None:
    record = HEADER_SIZE + 100
    with WriteAheadLog(tmp_path, segment_bytes=4 * record) as log:
        fill(log, 8)  # seqs 1-4 in the first segment, 5-8 in the second
    first = segment_files(tmp_path)[0]
    flip_byte(first, record + (HEADER_SIZE + 50 if where == "payload" else 6))  # record 2
    with caplog.at_level(logging.ERROR, logger="inferwatch_collector.wal"):
        log = WriteAheadLog(tmp_path)
    with log:
        assert f"{first}" in caplog.text and "damaged" in caplog.text
        assert [r.seq for r in log.read_batch(10, 1 << 20)] == [1, 3, 4, 5, 6, 7, 8]
        assert log.append(0, b"still works") == 9


def test_damage_in_the_last_segment_keeps_the_records_after_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with WriteAheadLog(tmp_path) as log:
        fill(log, 5)
    (segment,) = segment_files(tmp_path)
    size = segment.stat().st_size
    flip_byte(segment, 2 * (HEADER_SIZE + 100) + HEADER_SIZE + 1)  # record 3's payload
    with caplog.at_level(logging.ERROR, logger="inferwatch_collector.wal"):
        log = WriteAheadLog(tmp_path)
    with log:
        assert "damaged" in caplog.text
        assert segment.stat().st_size == size  # damage is not a torn tail: nothing cut
        assert [r.seq for r in log.read_batch(10, 1 << 20)] == [1, 2, 4, 5]


def test_record_shaped_payload_is_not_mistaken_for_a_record(tmp_path: Path) -> None:
    fake = encode_header(999, 7, b"fake") + b"fake"
    with WriteAheadLog(tmp_path) as log:
        log.append(0, b"one")
        log.append(0, b"x" * 40 + fake + b"x" * 40)
    (segment,) = segment_files(tmp_path)
    flip_byte(segment, HEADER_SIZE + 3 + 6)  # the length field of record 2
    with WriteAheadLog(tmp_path) as log:
        assert [r.seq for r in log.read_batch(10, 1 << 20)] == [1]
        assert log.append(0, b"two again") == 2


def test_a_second_log_on_the_same_directory_is_refused(tmp_path: Path) -> None:
    with WriteAheadLog(tmp_path, fsync=False):
        with pytest.raises(WalLocked):
            WriteAheadLog(tmp_path, fsync=False)
    WriteAheadLog(tmp_path, fsync=False).close()  # free again once closed


def test_unreadable_state_file_stops_opening(tmp_path: Path) -> None:
    WriteAheadLog(tmp_path, fsync=False).close()
    (tmp_path / "state.json").write_text(json.dumps({"version": 1, "done_seq": "seven"}))
    with pytest.raises(WalError, match="state.json: unreadable"):
        WriteAheadLog(tmp_path, fsync=False)


def test_closed_log_refuses_work(tmp_path: Path) -> None:
    log = WriteAheadLog(tmp_path, fsync=False)
    log.close()
    log.close()  # closing twice is harmless
    with pytest.raises(WalError, match="closed"):
        log.append(0, b"late")
    with pytest.raises(WalError, match="closed"):
        log.read_batch(1, 1)


@pytest.mark.parametrize(
    ("setting", "value"),
    [("max_bytes", 0), ("segment_bytes", -1), ("group_commit_window", -0.1)],
)
def test_bad_settings_are_refused(tmp_path: Path, setting: str, value: float) -> None:
    with pytest.raises(ValueError, match=setting):
        WriteAheadLog(tmp_path, **{setting: value})  # type: ignore[arg-type]
