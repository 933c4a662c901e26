"""The few system calls the log makes durable, each with its reason in one place."""

from __future__ import annotations

import os
from pathlib import Path


def sync_file(fd: int) -> None:
    """Flush a file's data and size (fdatasync skips timestamps, which recovery ignores)."""
    if hasattr(os, "fdatasync"):
        os.fdatasync(fd)
    else:  # pragma: no cover - macOS, Windows
        os.fsync(fd)


def sync_directory(directory: Path) -> None:
    """Flush a directory so that files created, renamed or truncated in it survive a crash."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def open_for_append(path: Path, *, create: bool) -> int:
    """A write-only descriptor that appends; ``create`` refuses to reuse an existing file."""
    flags = os.O_WRONLY | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
    if create:
        flags |= os.O_CREAT | os.O_EXCL
    return os.open(path, flags, 0o644)


def write_frame(fd: int, header: bytes, payload: bytes) -> None:
    """Append header and payload without joining them (payloads reach 20 MiB)."""
    written = os.writev(fd, [header, payload])
    rest = memoryview(header + payload)[written:] if written < len(header) + len(payload) else b""
    while rest:  # a short write happens only on a signal or a full disk
        rest = rest[os.write(fd, rest) :]


def write_file_atomically(path: Path, data: bytes, *, fsync: bool) -> None:
    """Replace ``path`` by ``data`` so that a crash leaves either the old or the new file."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    if fsync:
        sync_directory(path.parent)
