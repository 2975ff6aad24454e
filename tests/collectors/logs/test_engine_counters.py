"""The log engine's message counters add up: `received` = queued + `dropped` (a full queue), a
message is never counted `received` before it is in the queue, and a stop that gives up (the
alert store refusing) counts as `dropped` exactly the queued messages it loses, so that
received = processed + dropped; not the stop sentinel nor mark-only items, which are no message,
nor file lines, which are read again at the next start."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from nocsoc.collectors.logs.config import LogsConfig
from nocsoc.collectors.logs.pipeline import MARK_ONLY, LogPipeline
from nocsoc.detections.alerts import AlertStore
from nocsoc.detections.config import DetectionsConfig
from tests.servers.base import wait_until

WEB = ('<190>Nov 25 08:12:{s:02d} srv1 nginx: 203.0.113.7 - - [25/Nov/2026:08:12:{s:02d} +0700] '
       '"GET /dichvucong/../../../../etc/passwd?n={n} HTTP/1.1" 404 162 "-" "Mozilla/5.0"')


def _line(n: int) -> str:
    return WEB.format(s=n % 60, n=n)


def _pipeline(tmp_path: Path, queue_size: int, store: AlertStore | None = None,
              max_unstored: int = 100_000) -> LogPipeline:
    logs = LogsConfig(syslog_udp=None, syslog_tcp=None, queue_size=queue_size)
    det = DetectionsConfig(alerts_db=str(tmp_path / "alerts.db"), flush_interval_s=0.02,
                           max_unstored=max_unstored, reorder_window_s=0)
    return LogPipeline(logs, det, None, base_dir=tmp_path, store=store)


def test_received_is_queued_plus_dropped_and_never_ahead_of_the_queue(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = _pipeline(tmp_path, queue_size=3)  # not started: nothing takes from the queue
    q = p._queue
    seen: list[tuple[int, int, int]] = []
    real = q.put_nowait

    def put_nowait(item: object) -> None:  # what a reader sees as the message goes in
        seen.append((p.counters.get("received"), p.counters.get("dropped"), q.qsize()))
        real(item)  # type: ignore[arg-type]
    monkeypatch.setattr(q, "put_nowait", put_nowait)
    assert [p.submit(_line(n), "127.0.0.1", "syslog_udp") for n in range(5)] == [True] * 3 + [False] * 2
    # before each put, the counters say as much as the queue holds: no message counted ahead
    assert seen == [(0, 0, 0), (1, 0, 1), (2, 0, 2), (3, 0, 3), (4, 1, 3)]
    assert (p.counters.get("received"), p.counters.get("dropped"), q.qsize()) == (5, 2, 3)


def test_a_stop_that_gives_up_counts_the_messages_it_loses(tmp_path: Path) -> None:
    db = tmp_path / "alerts.db"
    store = AlertStore(db, busy_timeout_s=0.01)
    p = _pipeline(tmp_path, queue_size=10, store=store, max_unstored=5)
    locker = sqlite3.connect(db, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")  # every commit fails: the engine stops at 5 detections held
    p.start()
    try:
        assert all(p.submit(_line(n), "127.0.0.1", "syslog_udp") for n in range(5))
        wait_until(lambda: p.counters.get("matches") == 5 and p.counters.get("store_errors") >= 1, 30,
                   what="5 detections held, the store refusing")
        # now the queue fills: 7 lines, 2 mark-only items and a file line; then 3 lines dropped
        assert all(p.submit(_line(n), "127.0.0.1", "syslog_udp") for n in range(5, 12))
        assert p.submit_marked("", "", MARK_ONLY, ("bus:logs-p000", 0, 7), 1.0)
        assert p.submit_marked("", "", MARK_ONLY, ("bus:logs-p001", 0, 9), 1.0)
        assert p._submit_file(_line(99), str(tmp_path / "access.log"), 1, 200)
        assert [p.submit(_line(n), "127.0.0.1", "syslog_udp") for n in range(12, 15)] == [False] * 3
        assert p.processed() == 5 and p.status()["queue"] == 10
        p.stop()  # the last commit fails too: the held detections and the queued lines are lost
        c = p.counters.snapshot()
        assert (c["received"], c["dropped"], c["store_dropped"]) == (16, 3 + 7, 5)
        assert c["received"] - 1 == p.processed() + c["dropped"]  # 15 lines (+ the file line, re-read)
    finally:
        locker.close()
        p.stop()
        store.close()
