"""A detector killed at any moment hands its successor correlation state that matches the marks
it stored (nocsoc.bus.windows): each partition's windows and the events it held for reordering
are saved in the transaction of each of its marks, so the successor, restoring them and reading
from the stored mark + 1, gives exactly one machine's alerts. No bus here: the runner's calls
(acquire, handle, release) are made in order by the test, as PartitionRunner makes them, and
the kill is the pipeline's `abandon()` (nothing more committed), at several points of the stream:
just after a commit, while events are held for reordering, and without waiting at all. The
3-node cluster tests (test_windows_cluster.py, test_windows_move.py) do the same through NATS.
"""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest

from nocsoc.bus.config import BusConfig
from nocsoc.bus.envelope import Record
from nocsoc.bus.logs import LogDetectorHandler, detector_logs_config, partition_mark
from nocsoc.bus.partition import partition_of
from nocsoc.bus.publish import group_key
from nocsoc.bus.windows import PartitionWindows
from nocsoc.collectors.logs.config import LogsConfig
from nocsoc.collectors.logs.pipeline import PART, LogPipeline
from nocsoc.component import Counters
from nocsoc.detections.alerts import AlertStore
from nocsoc.detections.config import DetectionsConfig
from nocsoc.schema.selfmetrics import BUS_CONSUME
from nocsoc.sinks.memory import MemorySink
from tests.bus.detection import alert_keys, send_all
from tests.servers.base import free_port, wait_until

PARTITIONS = 4
FAIL = ("<38>Nov 25 04:{m:02d}:{s:02d} {host} sshd[7{i:02d}]: Failed password for invalid user "
        "admin{i} from {ip} port 5{i:04d} ssh2")
SENDERS = [f"127.0.3.{k}" for k in range(1, 5)]


def lines() -> dict[str, list[str]]:
    """Per sender, 15 failed logins from its own attacker, each for another user name, 2 s
    apart: a brute force (10 failures in 5 minutes) and a password spraying (5 user names in
    10 minutes) of 15 each."""
    out = {}
    for j, addr in enumerate(SENDERS):
        out[addr] = [FAIL.format(m=1 + (2 * i) // 60, s=(2 * i) % 60, i=i, host=f"srv{j}",
                                 ip=f"192.0.2.{50 + j}") for i in range(15)]
    return out


def messages(by_sender: dict[str, list[str]]) -> dict[int, list[list[Record]]]:
    """Per partition, its bus messages in stream order: each sender's lines in messages of
    1 to 3 lines (as a receiver batches them), senders interleaved."""
    out: dict[int, list[list[Record]]] = {p: [] for p in range(PARTITIONS)}
    cut = {addr: 0 for addr in by_sender}
    k = 0
    while any(cut[a] < len(ls) for a, ls in by_sender.items()):
        for addr, ls in by_sender.items():
            n = 1 + k % 3
            k += 1
            part = ls[cut[addr]:cut[addr] + n]
            cut[addr] += len(part)
            if part:
                p = partition_of(group_key(addr), PARTITIONS)
                out[p].append([(ln.encode(), addr, 0.0) for ln in part])
    return out


def detections(db: Path) -> DetectionsConfig:
    # events 2 s apart: about the last four of each sender held for reordering, the others in
    # their windows (unless the wall clock releases them first on a slow machine: still exact)
    return DetectionsConfig(alerts_db=str(db), flush_interval_s=0.02, reorder_window_s=8.0)


def one_machine(tmp_path: Path, by_sender: dict[str, list[str]]) -> list[tuple[object, ...]]:
    port = free_port(socket.SOCK_DGRAM)
    p = LogPipeline(LogsConfig(syslog_udp=f"127.0.0.1:{port}", syslog_tcp=None),
                    detections(tmp_path / "one.db"), MemorySink(), base_dir=tmp_path)
    p.start()
    try:
        n = send_all(port, by_sender)
        wait_until(lambda: p.processed() >= n, 30, what="one machine processed")
    finally:
        p.stop()
    with AlertStore(tmp_path / "one.db") as st:
        return alert_keys(st)


class Detector:
    """A bus detector's pipeline and handler, driven as PartitionRunner drives them."""

    def __init__(self, tmp_path: Path, bus: BusConfig, name: str = "d") -> None:
        self.bus = bus
        self.windows = PartitionWindows(PARTITIONS, lambda p: partition_mark(bus, p))
        self.pipeline = LogPipeline(detector_logs_config(LogsConfig(syslog_udp=None, syslog_tcp=None)),
                                    detections(tmp_path / "bus.db"), MemorySink(), base_dir=tmp_path,
                                    window_scope=self.windows)
        self.counters = Counters(BUS_CONSUME, {"kind": "logs"})
        self.handler = LogDetectorHandler(self.pipeline, bus, self.windows, self.counters, member=name)
        self.pipeline.start()
        self.next = {p: asyncio.run(self.handler.acquire(p)) for p in range(PARTITIONS)}

    def hand(self, msgs: dict[int, list[list[Record]]], upto: int) -> None:
        """Hand each partition its messages (1-based stream sequences) up to `upto`."""
        for p, ms in msgs.items():
            while self.next[p] <= min(upto, len(ms)):
                seq = self.next[p]
                assert self.handler.handle(p, seq, ms[seq - 1])
                self.next[p] = seq + 1

    def mark(self, p: int) -> int:
        got = self.pipeline.store.input_offset(partition_mark(self.bus, p))
        return got[1] if got else 0


@pytest.mark.parametrize("kill_at,wait", [(2, True), (4, True), (5, True), (6, False), (3, False)])
def test_a_detector_killed_anywhere_hands_over_exact_windows(tmp_path: Path, kill_at: int,
                                                              wait: bool) -> None:
    by_sender = lines()
    want = one_machine(tmp_path, by_sender)
    titles = ("SSH Brute Force From One Source", "SSH Password Spraying From One Source")
    assert sorted((k[0], k[1], k[2]) for k in want) == sorted(
        (t, 15, f"192.0.2.{50 + j}") for t in titles for j in range(len(SENDERS)))
    msgs = messages(by_sender)
    assert len({p for p, ms in msgs.items() if ms}) >= 2 and all(len(ms) >= 6 for ms in msgs.values() if ms)
    bus = BusConfig(log_partitions=PARTITIONS, move_windows=True)
    a = Detector(tmp_path, bus)
    try:
        for step in range(1, kill_at + 1) if wait else [kill_at]:
            a.hand(msgs, step)
            if wait:  # each step committed (marks and state) before the next is handed
                wait_until(lambda: all(a.mark(p) == min(step, len(ms)) for p, ms in msgs.items()),  # noqa: B023
                           30, what="the marks committed")
    finally:
        a.pipeline.abandon()  # kill -9: nothing more committed
    ssh = [str(c.id) for c in a.pipeline.ruleset.correlations if c.title in titles]
    assert len(ssh) == 2
    for p, ms in msgs.items():  # the state saved holds exactly the events up to the stored mark
        windows, held = a.pipeline.store.partition_state(partition_mark(bus, p))
        lines_upto = sum(len(m) for m in ms[:a.mark(p)])
        for rid in ssh:  # each line feeds both: counted in their windows, or held for reordering
            counted = sum(w[2] for g in windows.get(rid, {"groups": []})["groups"] for w in [g[1], *g[2]])
            assert counted + len(held) == lines_upto, (p, rid, a.mark(p))
    b = Detector(tmp_path, bus)
    try:
        assert all(b.next[p] == b.mark(p) + 1 for p in range(PARTITIONS))
        if wait:  # what a held at its last commit, restored: its windows and held events
            wait_until(lambda: b.counters.get("windows_taken") >= 1, 30, what="the state taken over")
        b.hand(msgs, 1_000)
    finally:
        b.pipeline.stop()  # releases what is held for reordering, commits
    with AlertStore(tmp_path / "bus.db") as st:
        assert [(st.input_offset(partition_mark(bus, p)) or (0, 0))[1] for p in range(PARTITIONS)] == \
            [len(msgs[p]) for p in range(PARTITIONS)]
        assert alert_keys(st) == want


WEB = ('<190>Nov 25 08:12:0{i} srv9 nginx: 203.0.113.9 - - [25/Nov/2026:08:12:0{i} +0700] '
       '"GET /dichvucong/../../../../etc/passwd HTTP/1.1" 404 162 "-" "Mozilla/5.0"')


def test_no_commit_stores_part_of_a_message_without_its_mark(tmp_path: Path) -> None:
    """A bus message's lines are committed with its mark only: a commit between two of its
    lines would store the first line's detection with the previous mark, and after a kill the
    message, read again, would count it twice. Here every loop of the engine is due to commit
    (flush_interval_s 1 us), one detection is enough to (max_unstored 1), and the first line of
    a two-line message, handled, is still not stored until its second line comes."""
    bus = BusConfig(log_partitions=PARTITIONS, move_windows=True)
    det = DetectionsConfig(alerts_db=str(tmp_path / "bus.db"), flush_interval_s=1e-6, max_unstored=1,
                           reorder_window_s=0)
    pipeline = LogPipeline(detector_logs_config(LogsConfig(syslog_udp=None, syslog_tcp=None)), det,
                           MemorySink(), base_dir=tmp_path)
    handler = LogDetectorHandler(pipeline, bus)
    pipeline.start()
    try:
        mark = partition_mark(bus, 2)
        assert handler.handle(2, 1, [(WEB.format(i=1).encode(), "127.0.3.9", 0.0)])
        wait_until(lambda: pipeline.store.input_offset(mark) == (0, 1), 30,
                   what="the first message committed")
        assert len(pipeline.store.list_alerts()) == 1
        # the first line of message 2, then two calls on the engine thread: the loop that
        # handled the line has been through its commit before the second call runs
        assert pipeline.submit_marked(WEB.format(i=2), "127.0.3.9", "syslog_udp", PART, 5)
        for _ in range(2):
            pipeline.run_on_engine(lambda: None, 30)
        assert pipeline.store.input_offset(mark) == (0, 1)
        assert [a.count for a in pipeline.store.list_alerts()] == [1]  # the line's detection waits
        assert pipeline.submit_marked(WEB.format(i=3), "127.0.3.9", "syslog_udp", (mark, 0, 2), 5)
        wait_until(lambda: pipeline.store.input_offset(mark) == (0, 2), 30, what="message 2 committed")
        assert [a.count for a in pipeline.store.list_alerts()] == [3]
    finally:
        pipeline.stop()


def test_a_commit_due_while_a_message_is_open_comes_at_its_end(tmp_path: Path) -> None:
    """A flush interval that ends while a message's lines are being handled makes the commit
    come right after its last line, not a flush interval later (a stream of many-line
    messages would otherwise commit only when an interval happened to end on a last line)."""
    bus = BusConfig(log_partitions=PARTITIONS, move_windows=True)
    det = DetectionsConfig(alerts_db=str(tmp_path / "bus.db"), flush_interval_s=0.5, reorder_window_s=0)
    pipeline = LogPipeline(detector_logs_config(LogsConfig(syslog_udp=None, syslog_tcp=None)), det,
                           MemorySink(), base_dir=tmp_path)
    pipeline.start()
    try:
        mark = partition_mark(bus, 1)
        assert pipeline.submit_marked(WEB.format(i=1), "127.0.3.9", "syslog_udp", PART, 5)
        start = time.monotonic()
        while time.monotonic() < start + 1.2:  # the engine loops (open) past a flush interval's end
            pipeline.run_on_engine(lambda: None, 30)
        assert pipeline.store.input_offset(mark) is None
        assert pipeline.submit_marked(WEB.format(i=2), "127.0.3.9", "syslog_udp", (mark, 0, 1), 5)
        for _ in range(2):  # the loop that handled the last line has been through its commit
            pipeline.run_on_engine(lambda: None, 30)
        assert pipeline.store.input_offset(mark) == (0, 1)
    finally:
        pipeline.stop()


def test_a_detector_whose_partitions_another_took_writes_nothing_of_them(tmp_path: Path) -> None:
    """A detector stalled past its leases while another took its partitions over goes on, when it
    wakes, with what it had been handed: its commits are fenced (the partitions' epochs moved on
    in the store), so it writes no mark, no state and no detection of them, and the alerts are
    still one machine's once the new holder has read everything."""
    by_sender = lines()
    want = one_machine(tmp_path, by_sender)
    msgs = messages(by_sender)
    busy = [p for p, ms in msgs.items() if ms]
    bus = BusConfig(log_partitions=PARTITIONS, move_windows=True)
    a = Detector(tmp_path, bus, "a")
    try:
        a.hand(msgs, 2)
        wait_until(lambda: all(a.mark(p) == 2 for p in busy), 30, what="a committed 2 messages a partition")
        b = Detector(tmp_path, bus, "b")  # takes every partition over: a stalled past its leases
        assert all(b.next[p] == 3 for p in busy)
        a.hand(msgs, 5)  # a wakes and goes on with what it had been handed
        # (every partition a held: each one's epoch moved on)
        wait_until(lambda: a.counters.get("windows_fenced") == PARTITIONS, 30, what="a's commits fenced")
        assert all(a.mark(p) == 2 for p in busy)  # nothing of a's written
    finally:
        a.pipeline.stop()
    try:
        b.hand(msgs, 1_000)
    finally:
        b.pipeline.stop()
    with AlertStore(tmp_path / "bus.db") as st:
        assert [(st.input_offset(partition_mark(bus, p)) or (0, 0))[1] for p in range(PARTITIONS)] == \
            [len(msgs[p]) for p in range(PARTITIONS)]
        assert alert_keys(st) == want
