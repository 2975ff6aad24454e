"""CPU time of another process or thread, for benchmarks that measure a server beside us."""

from __future__ import annotations

import os
from pathlib import Path


def proc_cpu(pid: int, tid: int | None = None) -> float:
    """CPU seconds of a process (all its threads) or of one thread: the scheduler's own count
    (/proc/.../schedstat, nanoseconds, what time.process_time reads for this process) where the
    kernel has it, else utime + stime (/proc/.../stat, whole clock ticks: a thread that runs in
    short bursts between sleeps can be charged far from what it used)."""
    tasks = [Path(f"/proc/{pid}/task/{tid}")] if tid else sorted(Path(f"/proc/{pid}/task").iterdir())
    try:
        return sum(int((t / "schedstat").read_text().split()[0]) for t in tasks) / 1e9
    except (OSError, ValueError, IndexError):
        path = f"/proc/{pid}/task/{tid}/stat" if tid else f"/proc/{pid}/stat"
        parts = Path(path).read_text().rsplit(")", 1)[1].split()
        return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")
