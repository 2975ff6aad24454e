"""Worker status files: how `nocsoc status` and `nocsoc top` learn what a running nocsoc does.

Each worker rewrites `<state_dir>/status/<worker>.json` atomically every few seconds, so a
reader never sees half a file and a dead worker is recognisable by its stale `updated` time.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class WorkerStatus:
    worker: str
    pid: int
    started: float
    updated: float
    state: str = "running"  # running | stopping | stopped | failed
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    sinks: dict[str, dict[str, int]] = field(default_factory=dict)
    interval_s: float = 5.0
    error: str = ""
    config_error: bool = False  # failed for a configuration reason: not restarted in a loop
    reload: dict[str, Any] = field(default_factory=dict)  # last SIGHUP: time, ok, message

    def stale(self, now: float | None = None) -> bool:
        """No update for three intervals while it claims to run: the worker is gone or hung."""
        now = time.time() if now is None else now
        return self.state == "running" and now - self.updated > 3 * self.interval_s


def status_dir(state_dir: Path) -> Path:
    return state_dir / "status"


def write_status(state_dir: Path, status: WorkerStatus) -> None:
    d = status_dir(state_dir)
    d.mkdir(parents=True, exist_ok=True)
    tmp = d / f".{status.worker}.json.tmp"
    tmp.write_text(json.dumps(asdict(status), ensure_ascii=False, sort_keys=True))
    os.replace(tmp, d / f"{status.worker}.json")


def read_statuses(state_dir: Path) -> list[WorkerStatus]:
    out: list[WorkerStatus] = []
    d = status_dir(state_dir)
    if not d.is_dir():
        return out
    for p in sorted(d.glob("*.json")):
        try:
            out.append(WorkerStatus(**json.loads(p.read_text())))
        except (OSError, ValueError, TypeError):
            continue  # a file being replaced or from another version: skip, the next read has it
    return out
