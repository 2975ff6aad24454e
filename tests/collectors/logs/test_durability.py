"""Nothing lost, nothing counted twice: tail offsets are stored with the alerts of the lines before
them (one transaction), and detections the store refuses are held and retried."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from nocsoc.collectors.logs.config import LogsConfig
from nocsoc.collectors.logs.pipeline import LogPipeline
from nocsoc.detections.alerts import AlertStore
from nocsoc.detections.config import DetectionsConfig
from tests.servers.base import free_port, wait_until

PATH_TRAVERSAL = "Path Traversal Attempt on the Public-Service Portal"
# fixed width: the n-th line ends at byte n * len(line), so a stored offset says how many lines.
# Answered 200: a 4xx would also feed the built-in scanner-behaviour count (100 per 5 min per client)
LINE = ('203.0.113.9 - - [25/Nov/2026:08:{m:02d}:{s:02d} +0700] "GET /dichvucong/../../../../etc/passwd'
        '?n={n:06d} HTTP/1.1" 200 162 "-" "Mozilla/5.0"\n')


def _lines(n: int) -> str:
    return "".join(LINE.format(m=i // 60 % 60, s=i % 60, n=i) for i in range(n))


def _state(db: Path, log: Path) -> tuple[int, int]:
    """(count of the path traversal alert, stored offset of the log) as another process sees them."""
    if not db.exists():
        return 0, 0
    with AlertStore(db) as st:
        alerts = [a for a in st.list_alerts() if a.rule_title == PATH_TRAVERSAL]
        assert len(alerts) <= 1  # one alert, deduplicated, across restarts too
        off = st.input_offset(str(log))
        return (alerts[0].count if alerts else 0), (off[1] if off else 0)


def _await_progress(value: Callable[[], int], target: int, what: str, stall_s: float = 60.0) -> None:
    """Wait until `value()` is `target`, failing only once it has not moved for `stall_s`: a
    loaded machine works through the file slower (90 s were not enough at load 15), a stuck
    one not at all."""
    last, since = value(), time.monotonic()
    while (v := value()) != target:
        if v != last:
            last, since = v, time.monotonic()
        elif time.monotonic() - since > stall_s:
            raise TimeoutError(f"{what}: stuck at {v} of {target} for {stall_s:.0f} s")
        time.sleep(0.2)


# 120k lines through three starts: ~270-300+ s at load 12-15 (the default 300 s cut it off)
@pytest.mark.timeout(900)
def test_kill_9_mid_file_loses_nothing_and_repeats_nothing(tmp_path: Path) -> None:
    n = 120_000  # long enough that even a loaded machine kills it mid-file
    log, db = tmp_path / "access.log", tmp_path / "alerts.db"
    log.write_text(_lines(n))
    width = len(LINE.format(m=0, s=0, n=0))
    assert log.stat().st_size == n * width
    port = free_port(socket.SOCK_DGRAM)
    env = {**os.environ, "NOCSOC_CONFIG": str(tmp_path / "absent.yaml")}
    cmd = [str(Path(sys.executable).parent / "nocsoc"), "logs", "listen", "--bind", f"127.0.0.1:{port}",
           "--file", str(log), "--db", str(db), "--no-sinks", "--stats-every", "0"]
    kills = []
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(2):  # kill -9 twice, each time as soon as some alerts are stored
            seen = _state(db, log)[0]

            def more(seen: int = seen) -> bool:
                return _state(db, log)[0] > seen

            wait_until(more, timeout=120, what="more alerts stored")  # a start takes 26 s at load 15
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            count, offset = _state(db, log)
            kills.append((count, offset))
            # the stored offset is exactly the end of the last line whose alert is stored
            assert offset == count * width
            if count == n:
                break
            proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE)
        assert 0 < kills[0][0] < n, kills  # the first kill hit mid-stream
        _await_progress(lambda: _state(db, log)[1], n * width, "the stored offset of the whole file")
        assert _state(db, log) == (n, n * width)  # every line exactly once
    finally:
        if proc.poll() is None:  # a failure above: never leave it running (nor mask the error)
            proc.kill()
            proc.wait(30)


def test_store_refusals_are_retried_with_back_pressure_and_nothing_lost(tmp_path: Path) -> None:
    n = 300
    log, db = tmp_path / "access.log", tmp_path / "alerts.db"
    log.write_text("")
    logs = LogsConfig(syslog_udp=None, syslog_tcp=None, files=[str(log)], poll_interval_s=0.02, queue_size=50)
    det = DetectionsConfig(alerts_db=str(db), flush_interval_s=0.02, max_unstored=20)
    store = AlertStore(db, busy_timeout_s=0.01)
    p = LogPipeline(logs, det, None, base_dir=tmp_path, store=store)
    locker = sqlite3.connect(db, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")  # another writer holds the database: every commit fails
    p.start()
    try:
        with open(log, "a") as f:
            f.write(_lines(n))
        wait_until(lambda: p.counters.get("store_errors") >= 3, timeout=20, what="refused commits")
        # bounded: 20 detections held, then the engine stops taking lines and the file waits
        wait_until(lambda: p.tailers[0].counters.get("deferred") > 0, timeout=20, what="back pressure")
        st = p.status()
        assert st["unstored"] == 20 and p.counters.get("dropped") == 0
        locker.execute("ROLLBACK")
        wait_until(lambda: p.idle() and _state(db, log)[1] == log.stat().st_size, timeout=30,
                   what="everything stored after the lock is gone")
        assert _state(db, log)[0] == n
        c = p.counters.snapshot()
        assert (c["dropped"], c["store_dropped"], c["matches"], c["parsed"]) == (0, 0, n, n)
        assert p.status()["unstored"] == 0
    finally:
        locker.close()
        p.stop()
        store.close()
