"""Append throughput of the write-ahead log: group commit against an fsync per record.

    .venv/bin/python bench/wal.py [--seconds 1.5] [--threads 16] [--dir DISK_FOLDER]

For small (1 KiB) and large (1 MiB) records, in one run on the same disk:

* ``fsync per record`` — the baseline: appenders take a lock, write, fdatasync, release;
* ``group commit``     — WriteAheadLog(fsync=True): appenders share one fdatasync per group;
* ``no fsync``         — WriteAheadLog(fsync=False): the ceiling set by framing and write().

Prints records/s, MB/s, the mean latency of one acknowledged append and the speed-up of group
commit over the baseline.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from inferwatch_collector.wal import WriteAheadLog

Append = Callable[[bytes], object]


@dataclass(frozen=True, slots=True)
class Result:
    records: int
    seconds: float
    payload_bytes: int

    def row(self, name: str, size_label: str, threads: int) -> str:
        rate = self.records / self.seconds
        mbps = self.records * self.payload_bytes / self.seconds / 1e6
        latency_ms = threads / rate * 1000
        return f"{size_label:>6} {name:<17} {rate:>12,.0f} {mbps:>9,.1f} {latency_ms:>10.2f}"


def run_appenders(append: Append, payload: bytes, threads: int, seconds: float) -> Result:
    """Run ``threads`` appenders for ``seconds``; count the acknowledged appends."""
    counts = [0] * threads
    stop = threading.Event()

    def appender(index: int) -> None:
        while not stop.is_set():
            append(payload)
            counts[index] += 1

    workers = [threading.Thread(target=appender, args=(i,)) for i in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    time.sleep(seconds)
    stop.set()
    for worker in workers:
        worker.join()
    return Result(sum(counts), time.perf_counter() - started, len(payload))


def fsync_per_record(directory: Path, payload: bytes, threads: int, seconds: float) -> Result:
    fd = os.open(directory / "baseline.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    lock = threading.Lock()

    def append(data: bytes) -> None:
        with lock:
            os.write(fd, data)
            os.fdatasync(fd)

    try:
        return run_appenders(append, payload, threads, seconds)
    finally:
        os.close(fd)


def write_ahead_log(
    directory: Path, payload: bytes, threads: int, seconds: float, *, fsync: bool
) -> Result:
    # Large bounds: the benchmark measures appending, nobody drains the log.
    with WriteAheadLog(directory, fsync=fsync, max_bytes=1 << 40) as log:
        return run_appenders(lambda data: log.append(1, data), payload, threads, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="per measurement")
    parser.add_argument("--threads", type=int, default=16, help="concurrent appenders")
    parser.add_argument("--dir", default=None, help="where to write (default: the temp folder)")
    args = parser.parse_args()
    print(f"{args.threads} appender threads, {args.seconds} s per row")
    print(f"{'record':>6} {'mode':<17} {'records/s':>12} {'MB/s':>9} {'ack ms':>10}")
    for size_label, size in [("1 KiB", 1 << 10), ("1 MiB", 1 << 20)]:
        payload = os.urandom(size)
        with tempfile.TemporaryDirectory(dir=args.dir) as scratch:
            base = Path(scratch)
            baseline = fsync_per_record(base, payload, args.threads, args.seconds)
            group = write_ahead_log(base / "g", payload, args.threads, args.seconds, fsync=True)
            ceiling = write_ahead_log(base / "n", payload, args.threads, args.seconds, fsync=False)
        print(baseline.row("fsync per record", size_label, args.threads))
        print(group.row("group commit", size_label, args.threads))
        print(ceiling.row("no fsync", size_label, args.threads))
        speedup = (group.records / group.seconds) / (baseline.records / baseline.seconds)
        print(f"{'':>6} group commit / fsync per record: {speedup:.1f}x")


if __name__ == "__main__":
    main()
