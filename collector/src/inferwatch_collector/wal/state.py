"""The log's small state file: what is done and which batch is being inserted.

It is replaced atomically (write a temporary file, fsync, rename, fsync the directory), so a
crash leaves the old state or the new one, never a mix.

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> save_state(folder, LogState(done_seq=41, claim=(42, 50)), fsync=False)
>>> load_state(folder)
LogState(done_seq=41, claim=(42, 50))
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from inferwatch_collector.wal.disk import write_file_atomically
from inferwatch_collector.wal.errors import WalError

STATE_FILE = "state.json"
_VERSION = 1


@dataclass(frozen=True, slots=True)
class LogState:
    done_seq: int = 0
    claim: tuple[int, int] | None = None


def load_state(directory: Path) -> LogState:
    """The saved state, or a fresh one when the log is new."""
    path = directory / STATE_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return LogState()
    try:
        return _parse(json.loads(text))
    except (ValueError, KeyError, TypeError) as exc:
        # Guessing here could replay or drop acknowledged data: stop and let a person look.
        raise WalError(f"{path}: unreadable write-ahead log state ({exc})") from exc


def save_state(directory: Path, state: LogState, *, fsync: bool) -> None:
    """Replace the state file; durable on return when ``fsync``."""
    data = {"version": _VERSION, "done_seq": state.done_seq, "claim": state.claim}
    write_file_atomically(directory / STATE_FILE, json.dumps(data).encode(), fsync=fsync)


def _parse(data: dict[str, object]) -> LogState:
    if data["version"] != _VERSION:
        raise ValueError(f"version {data['version']!r} is not {_VERSION}")
    done_seq, claim = data["done_seq"], data["claim"]
    if not isinstance(done_seq, int) or done_seq < 0:
        raise ValueError(f"done_seq {done_seq!r} is not a seq")
    if claim is None:
        return LogState(done_seq)
    if not (isinstance(claim, list) and len(claim) == 2 and all(type(x) is int for x in claim)):
        raise ValueError(f"claim {claim!r} is not a pair of seqs")
    first, last = claim
    if not done_seq < first <= last:
        raise ValueError(f"claim {claim!r} is not a batch after done_seq {done_seq}")
    return LogState(done_seq, (first, last))
