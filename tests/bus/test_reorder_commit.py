"""A detector killed while its engine holds events for reordering (detections.reorder_window_s)
loses none of them. With `bus.move_windows: false` their messages' marks are not stored until
the events are released, so the partition's next owner reads those messages again, and counts
each event once; with it (the default) the marks are stored at once, with each partition's
windows and held events, which the next owner restores (nocsoc.bus.windows).

Real 3-node JetStream cluster; syslog from two senders (a brute force of 12 + k failed ssh
logins and k path-traversal requests each). Detector A takes every line, commits the path
traversals, holds the brute forces' events (a 20 s window), and dies (kill -9: nothing more
committed); detector B, started after, takes the partitions over. The alerts then equal one
machine's exactly: the brute force counts (correlation) and the path traversals (plain rule),
neither short nor doubled.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from nocsoc.bus.config import BusConfig
from nocsoc.bus.logs import BusLogDetector
from nocsoc.bus.partition import stream_name
from nocsoc.bus.receiver import BusReceiver
from nocsoc.collectors.logs.config import LogsConfig
from nocsoc.detections.alerts import AlertStore
from nocsoc.detections.config import DetectionsConfig
from nocsoc.sinks.memory import MemorySink
from tests.bus.detection import alert_keys, lines_by_sender, one_machine, send_all
from tests.bus.helpers import read_through, stream_last_seqs
from tests.servers.base import free_port, wait_until
from tests.servers.nats import NatsCluster, nats_cluster  # noqa: F401

PARTITIONS = 4
WINDOW_S = 20.0  # longer than the test needs to kill A while it holds the events


def detections(db: Path) -> DetectionsConfig:
    return DetectionsConfig(alerts_db=str(db), flush_interval_s=0.05, reorder_window_s=WINDOW_S)


@pytest.mark.parametrize("move_windows", [False, True])
def test_detector_killed_with_events_held_for_reordering(tmp_path: Path, nats_cluster: NatsCluster,  # noqa: F811
                                                         move_windows: bool) -> None:
    by_sender = lines_by_sender(2)
    want = one_machine(tmp_path, by_sender, WINDOW_S)
    assert len(want) == 4  # 2 brute forces, 2 path traversals
    # leases of 5 s: what this test is about is a kill with events held, not a lease lost to a
    # stall of a loaded machine (tests/bus/test_lease_loss.py)
    bus = BusConfig(url=nats_cluster.url, replicas=3, log_partitions=PARTITIONS, lease_ttl_s=5.0,
                    ack_wait_s=5.0, stream_max_bytes=16 << 20, move_windows=move_windows)
    port = free_port(socket.SOCK_DGRAM)
    logs = LogsConfig(syslog_udp=f"127.0.0.1:{port}", syslog_tcp=None)
    det = detections(tmp_path / "bus.db")
    receiver = BusReceiver(bus, None, logs, tmp_path / "buffer", "r1")
    a = BusLogDetector(logs, det, bus, MemorySink(), tmp_path, "a")
    b = BusLogDetector(logs, det, bus, MemorySink(), tmp_path, "b")
    receiver.start()
    a.start()
    try:
        wait_until(lambda: len(a.runner.held) == PARTITIONS, 30, what="A owns every partition")
        # the path traversals first, in messages of their own: nothing of them is held, so A
        # commits them (alerts and marks); then the brute forces, whose events A holds
        web = {s: [ln for ln in lines if "nginx" in ln] for s, lines in by_sender.items()}
        ssh = {s: [ln for ln in lines if "nginx" not in ln] for s, lines in by_sender.items()}
        n = send_all(port, web)
        wait_until(lambda: receiver.publisher.counters["logs"].get("records") == n
                   and receiver.publisher.idle(), 30, what="receiver published the path traversals")
        wait_until(lambda: a.pipeline.counters.get("alerts") == 2, 30, what="A stored the path traversals")
        n += send_all(port, ssh)
        wait_until(lambda: receiver.publisher.counters["logs"].get("records") == n
                   and receiver.publisher.idle(), 30, what="receiver published every line")
        wait_until(lambda: a.pipeline.processed() == n, 30, what="A processed every line")
        urls = [nd.url for nd in nats_cluster.nodes if nd.alive()]
        last = stream_last_seqs(urls, bus.prefix, "logs", PARTITIONS)
        assert a.pipeline.engine.held() > 0  # the brute forces' events, held for reordering
        store = a.pipeline.store

        def mark(p: int) -> int:
            got = store.input_offset(f"bus:{stream_name(bus.prefix, 'logs', p)}")
            return got[1] if got else 0
        busy = [p for p in range(PARTITIONS) if last[p]]
        if move_windows:  # every mark stored at once, with the events held, saved per partition
            wait_until(lambda: all(mark(p) == last[p] for p in range(PARTITIONS)), 30, what="marks stored")
            assert all(store.partition_state(f"bus:{stream_name(bus.prefix, 'logs', p)}")[1] for p in busy)
        else:  # while held, no mark reaches the messages of those events (before the fix: all
            # stored within a flush interval); the path traversals' marks are stored
            assert busy and all(0 < mark(p) < last[p] for p in busy)
        a.crash()
        b.start()
        wait_until(lambda: len(b.runner.held) == PARTITIONS, 30, what="B took every partition over")
        if move_windows:  # nothing to read again: the windows and held events restored
            wait_until(lambda: read_through(b.runner, last)
                       and b.runner.counters.get("windows_taken") >= len(busy), 30,
                       what="B restored A's state")
        else:
            wait_until(lambda: b.pipeline.processed() > 0, 30, what="B read A's messages again")
        b.stop()  # releases what B holds for reordering, commits, releases the partitions
        with AlertStore(tmp_path / "bus.db") as st:
            assert all((st.input_offset(f"bus:{stream_name(bus.prefix, 'logs', p)}") or (0, 0))[1] == last[p]
                       for p in range(PARTITIONS))
            assert alert_keys(st) == want
    finally:
        receiver.stop()
        a.stop()
        b.stop()


pytestmark = pytest.mark.timeout(240)
