"""One `nocsoc run` per state directory: an exclusive lock on a pidfile.

The lock is `flock(2)` on `<state_dir>/nocsoc.pid`, held for the life of the process: the
kernel releases it when the process ends, however it ends (kill -9 included), so a stale
pidfile never blocks a restart. The file holds the PID, which `nocsoc reload` signals and a
refused second `run` names.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

PIDFILE = "nocsoc.pid"


class AlreadyRunning(Exception):
    def __init__(self, pidfile: Path, pid: int | None) -> None:
        who = f"pid {pid}" if pid else "another process"
        super().__init__(f"another `nocsoc run` ({who}) is using {pidfile.parent}: stop it first, "
                         f"or use `nocsoc reload` to apply inventory changes")
        self.pid = pid


def pidfile_path(state_dir: Path) -> Path:
    return state_dir / PIDFILE


def read_pid(state_dir: Path) -> int | None:
    try:
        text = pidfile_path(state_dir).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


class RunLock:
    """Held while `nocsoc run` runs; `acquire()` raises AlreadyRunning naming the holder."""

    def __init__(self, state_dir: Path) -> None:
        self.path = pidfile_path(state_dir)
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise AlreadyRunning(self.path, read_pid(self.path.parent)) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        os.fsync(fd)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None


def running_pid(state_dir: Path) -> int | None:
    """The PID of the `nocsoc run` holding the lock on `state_dir`, or None if none runs."""
    path = pidfile_path(state_dir)
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return read_pid(state_dir)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
