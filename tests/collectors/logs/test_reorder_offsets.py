"""Events the engine holds for reordering (detections.reorder_window_s) are not behind a stored
offset: a tailed file's offset, like a bus partition's mark, is stored only once every event of
the lines before it has been released to the correlations. A kill -9 while events are held then
reads those lines again and counts each once: the brute force's alert has exactly the count an
uninterrupted run gives."""

from __future__ import annotations

import socket
from pathlib import Path

from nocsoc.collectors.logs.config import FileInputConfig, LogsConfig
from nocsoc.collectors.logs.pipeline import LogPipeline
from nocsoc.detections.alerts import AlertStore
from nocsoc.detections.config import DetectionsConfig
from nocsoc.detections.reorder import ReorderBuffer
from nocsoc.sinks.memory import MemorySink
from tests.servers.base import free_port, wait_until

WINDOW_S = 30.0  # longer than the test: the held events stay held until the kill
FAIL = "Nov 25 04:01:{s:02d} srv0 sshd[5{i}]: Failed password for root from 192.0.2.10 port 4{i} ssh2\n"
# answered 200: a 4xx would also feed a correlation (the scanner-behaviour count)
WEB = ('Nov 25 04:00:59 srv0 nginx: 203.0.113.5 - - [25/Nov/2026:04:00:59 +0000] '
       '"GET /dichvucong/../../../../etc/passwd HTTP/1.1" 200 162 "-" "Mozilla/5.0"\n')


def pipeline(tmp_path: Path, log: Path) -> LogPipeline:
    logs = LogsConfig(syslog_udp=f"127.0.0.1:{free_port(socket.SOCK_DGRAM)}", syslog_tcp=None,
                      files=[FileInputConfig(path=str(log), start_at="beginning")])
    det = DetectionsConfig(alerts_db=str(tmp_path / "alerts.db"), flush_interval_s=0.05,
                           reorder_window_s=WINDOW_S)
    return LogPipeline(logs, det, MemorySink(), base_dir=tmp_path)


def alerts(db: Path) -> list[tuple[str, int]]:
    with AlertStore(db) as st:
        return sorted((a.rule_title, a.count) for a in st.list_alerts())


def test_arrival_marks_follow_releases() -> None:
    rb: ReorderBuffer[str] = ReorderBuffer(10.0, 100, clock=lambda: 0.0)
    assert (rb.pushed, rb.oldest_held()) == (0, 1)
    rb.push(100.0, "a")
    rb.push(95.0, "b")  # out of order: held before "a"
    assert (rb.pushed, rb.oldest_held()) == (2, 1)
    assert [x for _t, x in rb.push(106.0, "c")] == ["b"]  # 96 passed: "b" (arrival 2) goes
    assert rb.oldest_held() == 1  # "a" (arrival 1) is still held
    assert [x for _t, x in rb.push(111.0, "d")] == ["a"]
    assert (rb.pushed, rb.oldest_held()) == (4, 3)
    assert [x for _t, x in rb.drain()] == ["c", "d"]
    assert rb.oldest_held() == 5


def test_release_arrivals_bounds_the_wait() -> None:
    """Fresh items dated just above the released ones keep the tick (event-time order, stopping
    at the first item not held a window) from releasing an older arrival; release_arrivals does,
    with what is dated before it."""
    now = [0.0]
    rb: ReorderBuffer[str] = ReorderBuffer(2.0, 100, clock=lambda: now[0])
    rb.push(10.0, "old")  # arrival 1
    now[0] = 1.5
    rb.push(9.0, "fresh")  # arrival 2, dated before it: at the front
    now[0] = 2.5  # "old" has been held a window, "fresh" not: the tick stops at "fresh"
    assert list(rb.tick()) == [] and rb.oldest_held() == 1
    assert [x for _t, x in rb.release_arrivals(1)] == ["fresh", "old"]
    assert (len(rb), rb.oldest_held()) == (0, 3)


def test_kill_9_with_events_held_reads_them_again(tmp_path: Path) -> None:
    lines = [WEB] + [FAIL.format(s=i * 2, i=i) for i in range(12)]
    log = tmp_path / "auth.log"
    log.write_text("".join(lines))
    # uninterrupted, for the expected alerts
    ref = tmp_path / "ref"
    ref.mkdir()
    (ref / "auth.log").write_text("".join(lines))
    one = pipeline(ref, ref / "auth.log")
    one.start()
    wait_until(lambda: one.processed() == len(lines), 30, what="reference processed the file")
    one.stop()  # releases the held events and commits
    want = alerts(ref / "alerts.db")
    assert [t for t, _n in want] == ["Path Traversal Attempt on the Public-Service Portal",
                                     "SSH Brute Force From One Source"]

    first = pipeline(tmp_path, log)
    first.start()
    wait_until(lambda: first.processed() == len(lines), 30, what="every line processed")
    # the path traversal (no correlation event held) is stored with its line's offset
    wait_until(lambda: first.counters.get("alerts") == 1, 30, what="the path traversal stored")
    assert first.engine.held() > 0
    stored = first.store.input_offset(str(log))
    assert stored is not None and stored[1] == len(WEB)  # not past the held ssh failures
    first.abandon()  # kill -9: nothing more committed
    first.stop()
    assert alerts(tmp_path / "alerts.db") == [("Path Traversal Attempt on the Public-Service Portal", 1)]

    second = pipeline(tmp_path, log)
    second.start()
    wait_until(lambda: second.processed() == len(lines) - 1, 30, what="the ssh failures read again")
    second.stop()
    assert alerts(tmp_path / "alerts.db") == want
