"""The supervisor behind `nocsoc run`: one worker process per service, so the CPU-bound SNMP
and flow decoding use both cores.

It restarts a worker that dies (with backoff, counted), forwards SIGHUP (reload) to every worker,
and on SIGTERM/SIGINT stops them all within a bounded time: each worker flushes its sinks and
persists its state; one that overruns the budget is killed, and its spool still holds its data.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from nocsoc.service.signals import SignalFlags

log = logging.getLogger("nocsoc.supervisor")

STABLE_AFTER_S = 60.0  # a worker up this long is healthy: its next restart waits the first delay
EXIT_CONFIG = 2  # a worker that exits with this failed for a configuration reason: no restart


@dataclass
class ChildWorker:
    name: str
    argv: list[str]
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    streak: int = 0  # restarts since it last ran for a while: the backoff exponent
    started_at: float = 0.0
    next_start: float = 0.0
    exit_codes: list[int] = field(default_factory=list)
    failed: bool = False  # stopped for a configuration reason: not restarted


class Supervisor(SignalFlags):
    def __init__(self, workers: dict[str, list[str]], *, stop_timeout_s: float = 15.0,
                 restart_backoff_s: float = 2.0, duration_s: float | None = None) -> None:
        """`workers` maps a worker name to the argv that runs it (`python -m nocsoc ... run --worker`)."""
        self.children = {name: ChildWorker(name, argv) for name, argv in workers.items()}
        self.stop_timeout_s = stop_timeout_s
        self.restart_backoff_s = restart_backoff_s
        self.duration_s = duration_s
        super().__init__()

    def _start(self, child: ChildWorker) -> None:
        child.proc = subprocess.Popen(child.argv, stdin=subprocess.DEVNULL)
        child.started_at = time.monotonic()
        log.info("worker %s started (pid %d)", child.name, child.proc.pid)

    def run(self) -> int:
        for child in self.children.values():
            self._start(child)
        deadline = time.monotonic() + self.duration_s if self.duration_s else None
        while not self._stop.is_set():
            self._stop.wait(0.2)
            if deadline is not None and time.monotonic() >= deadline:
                break
            if self._reload.is_set():
                self._reload.clear()
                for child in self.children.values():
                    if child.proc and child.proc.poll() is None:
                        child.proc.send_signal(signal.SIGHUP)
            now = time.monotonic()
            for child in self.children.values():
                if child.failed:
                    continue
                if child.proc is None:
                    if now >= child.next_start:
                        self._start(child)
                    continue
                code = child.proc.poll()
                if code is None:
                    continue
                child.exit_codes.append(code)
                if code == EXIT_CONFIG:
                    # a restart cannot fix a port in use or an unset secret: the worker's status
                    # file names the reason, and `nocsoc status` shows it
                    log.error("worker %s stopped for a configuration reason (see `nocsoc status`); "
                              "not restarting it", child.name)
                    child.failed, child.proc = True, None
                    if all(c.failed for c in self.children.values()):
                        self.stop_all()
                        return EXIT_CONFIG
                    continue
                child.restarts += 1
                # a worker that ran for a while before dying starts the backoff afresh: one crash
                # a day must not wait the minute that a crash loop earned
                child.streak = 1 if now - child.started_at >= STABLE_AFTER_S else child.streak + 1
                delay = min(60.0, self.restart_backoff_s * 2 ** min(child.streak - 1, 5))
                log.error("worker %s exited with %d; restart %d in %.0fs", child.name, code,
                          child.restarts, delay)
                child.proc = None
                child.next_start = now + delay
        return self.stop_all()

    def stop_all(self) -> int:
        running = [c for c in self.children.values() if c.proc and c.proc.poll() is None]
        for child in running:
            assert child.proc is not None
            child.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout_s
        worst = 0
        for child in running:
            assert child.proc is not None
            try:
                code = child.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("worker %s did not stop within %.0fs: killed (its spool keeps unsent data)",
                          child.name, self.stop_timeout_s)
                child.proc.kill()
                child.proc.wait()
                code = 1
            worst = max(worst, code if code > 0 else 0)
        if any(c.failed for c in self.children.values()):
            worst = max(worst, EXIT_CONFIG)
        return 0 if worst == 0 else worst


def worker_argv(config_path: Path, worker: str, services: list[str]) -> list[str]:
    return [sys.executable, "-m", "nocsoc", "--config", str(config_path), "run",
            "--worker", worker, "--services", ",".join(services)]
