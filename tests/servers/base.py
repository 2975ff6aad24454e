"""Shared mechanics for real-server fixtures: free ports, awaiting readiness, missing binaries.

A missing binary skips the test with the reason; under CI=true it fails instead, because CI
installs every server (.ci/run) and a skip there would hide a broken install step.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

LOOPBACK = "127.0.0.1"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require_binary(name: str, package: str) -> str:
    """Path of `name`, or skip (fail under CI=true) naming the Debian package to install."""
    path = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)), None
    )
    if path is None:
        reason = f"{name} not installed (apt-get install {package})"
        if in_ci():
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)
    return path


_HANDED_OUT: set[int] = set()
_RNG = random.Random()  # its own: tests that seed `random` keep their sequences


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port free on 127.0.0.1 for TCP (or UDP with kind=SOCK_DGRAM), below the kernel's
    ephemeral range: a port the kernel picked for us (bind to 0) is released before the server
    binds it, and any outgoing connection may take it in between (CI saw nats-server fail to
    listen that way). Ports below 32768 are never given out for outgoing connections."""
    low, high = 20000, _ephemeral_low() - 1
    if high - low < 1000:  # an odd kernel range: let the kernel pick
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind((LOOPBACK, 0))
            return int(s.getsockname()[1])
    lane, lanes = _xdist_lane()
    for _ in range(500):
        port = _RNG.randint(low, high)
        port -= (port - lane) % lanes  # each xdist worker its own residue: never the same port
        if port < low or port in _HANDED_OUT:
            continue
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind((LOOPBACK, port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    raise RuntimeError(f"no free port on {LOOPBACK} in {low}-{high}")


def _xdist_lane() -> tuple[int, int]:
    """(this worker's index, number of workers) under pytest-xdist, else (0, 1): `make test`
    runs tests in two worker processes at once, which must not hand out the same port."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    try:
        lanes = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
        lane = int(worker[2:]) if worker.startswith("gw") else 0
    except ValueError:
        return 0, 1
    return (lane % lanes, lanes) if lanes > 1 else (0, 1)


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0, interval: float = 0.05,
               what: str = "condition") -> None:
    """Poll `predicate` until true; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception:  # the server may not be up yet: keep polling
            pass
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


def tcp_open(port: int, host: str = LOOPBACK) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class ServerProcess:
    """A started server: its process, log file and a stop that never leaves it running."""

    def __init__(self, name: str, argv: list[str], log_path: Path, env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> None:
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT,
                                     env={**os.environ, **(env or {})}, cwd=cwd,
                                     start_new_session=True)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
