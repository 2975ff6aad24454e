"""Syslog through receiver -> NATS JetStream (3-node cluster) -> 2 detectors sharing one alert
store gives exactly the alerts one machine gives for the same lines from the same senders,
also when a detector dies mid-stream (nothing lost, nothing counted twice)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from nocsoc.bus.config import BusConfig
from nocsoc.bus.logs import BusLogDetector
from nocsoc.bus.partition import stream_name
from nocsoc.bus.receiver import BusReceiver
from nocsoc.collectors.logs.config import LogsConfig
from nocsoc.collectors.logs.pipeline import LogPipeline
from nocsoc.detections.alerts import AlertStore
from nocsoc.detections.config import DetectionsConfig
from nocsoc.sinks.memory import MemorySink
from tests.bus.helpers import CRASH_REORDER_S, logs_committed, read_through, stream_last_seqs
from tests.servers.base import free_port, wait_until
from tests.servers.nats import NatsCluster, nats_cluster  # noqa: F401

SSH_FAIL = ("<38>Nov 25 04:{m:02d}:{s:02d} {host} sshd[5{i}]: Failed password for root from {ip} "
            "port 4{i} ssh2")
WEB = ('<190>Nov 25 08:12:0{i} {host} nginx: {ip} - - [25/Nov/2026:08:12:0{i} +0700] '
       '"GET /dichvucong/../../../../etc/passwd HTTP/1.1" 404 162 "-" "Mozilla/5.0"')


def lines_by_sender(senders: int = 8) -> dict[str, list[str]]:
    """Per sender (a loopback address = one host): a brute force of 12 + k failures from its own
    attacker and k path-traversal requests."""
    out = {}
    for k in range(senders):
        host, ip = f"srv{k}", f"192.0.2.{10 + k}"
        lines = [SSH_FAIL.format(m=1, s=i * 2, i=i, host=host, ip=ip) for i in range(10, 22 + k)]
        lines += [WEB.format(i=i, host=host, ip=f"203.0.113.{k}") for i in range(1, 2 + k % 3)]
        out[f"127.0.3.{k + 1}"] = lines
    return out


def send_all(port: int, by_sender: dict[str, list[str]]) -> int:
    n = 0
    for addr, lines in by_sender.items():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((addr, 0))
            for line in lines:
                s.sendto(line.encode(), ("127.0.0.1", port))
                n += 1
    return n


def alert_keys(store: AlertStore) -> list[tuple[object, ...]]:
    return sorted((a.rule_title, a.count, a.src_ip, a.host, a.group_key, a.level)
                  for a in store.list_alerts())


def one_machine(tmp_path: Path, by_sender: dict[str, list[str]],
                reorder_s: float = 2.0) -> list[tuple[object, ...]]:
    """The alerts of one machine, with the bus run's reorder window."""
    port = free_port(socket.SOCK_DGRAM)
    p = LogPipeline(LogsConfig(syslog_udp=f"127.0.0.1:{port}", syslog_tcp=None),
                    DetectionsConfig(alerts_db=str(tmp_path / "one.db"), flush_interval_s=0.05,
                                     reorder_window_s=reorder_s),
                    MemorySink(), base_dir=tmp_path)
    p.start()
    try:
        n = send_all(port, by_sender)
        wait_until(lambda: p.processed() >= n, 30, what="one machine processed")
    finally:
        p.stop()  # releases what is held for reordering, commits
    with AlertStore(tmp_path / "one.db") as st:
        return alert_keys(st)


def _run(tmp_path: Path, cluster: NatsCluster, crash: bool) -> None:
    by_sender = lines_by_sender()
    reorder_s = CRASH_REORDER_S if crash else 2.0
    want = one_machine(tmp_path, by_sender, reorder_s)
    assert len(want) == 16  # 8 brute forces, 8 path traversals
    bus = BusConfig(url=cluster.url, replicas=3, log_partitions=4, lease_ttl_s=2.0, ack_wait_s=5.0,
                    stream_max_bytes=16 << 20)
    port = free_port(socket.SOCK_DGRAM)
    logs = LogsConfig(syslog_udp=f"127.0.0.1:{port}", syslog_tcp=None)
    det = DetectionsConfig(alerts_db=str(tmp_path / "bus.db"), flush_interval_s=0.05,
                           reorder_window_s=reorder_s)
    receiver = BusReceiver(bus, None, logs, tmp_path / "buffer", "r1")
    detectors = [BusLogDetector(logs, det, bus, MemorySink(), tmp_path, f"t{i}") for i in range(2)]
    receiver.start()
    for d in detectors:
        d.start()
    try:
        wait_until(lambda: all(d.runner.held for d in detectors)
                   and sum(len(d.runner.held) for d in detectors) == bus.log_partitions, 30,
                   what="both detectors own partitions")
        senders = list(by_sender)
        half = {a: by_sender[a] for a in senders[:4]}
        rest = {a: by_sender[a] for a in senders[4:]}
        n = send_all(port, half)
        live = detectors
        if crash:  # the detector that has read some lines dies
            wait_until(lambda: any(d.runner.counters.get("records") for d in detectors), 30,
                       what="a detector detecting")
            killed = max(detectors, key=lambda d: d.runner.counters.get("records"))
            killed.crash()
            live = [d for d in detectors if d is not killed]
        n += send_all(port, rest)
        # idle() is "published or in the disk buffer": a connect that timed out under load put
        # everything in the buffer, the streams stayed empty and committed() below held at once
        wait_until(lambda: receiver.publisher.counters["logs"].get("records") == n
                   and not receiver.publisher.buffer and receiver.publisher.idle(), 60,
                   what="receiver published every line")
        urls = [nd.url for nd in cluster.nodes if nd.alive()]
        if crash:
            last = stream_last_seqs(urls, bus.prefix, "logs", bus.log_partitions)
            wait_until(lambda: read_through(live[0].runner, last), 60, what="the survivor read everything")
            live[0].stop()  # releases what it holds for reordering, commits
            with AlertStore(tmp_path / "bus.db") as st:
                assert [(st.input_offset(f"bus:{stream_name(bus.prefix, 'logs', p)}") or (0, 0))[1]
                        for p in range(bus.log_partitions)] == last
                assert alert_keys(st) == want
            return
        store = live[0].pipeline.store

        wait_until(lambda: logs_committed(urls, bus.prefix, store, bus.log_partitions), 60,
                   interval=0.5, what="every partition's lines committed in the store")
        # and every event the engines hold back for reordering (reorder_window_s) processed
        wait_until(lambda: all(d.pipeline.idle() for d in live), 30, what="detectors idle")
        assert alert_keys(store) == want
    finally:
        receiver.stop()
        for d in detectors:
            d.stop()


def test_two_detectors_equal_one_machine(tmp_path: Path, nats_cluster: NatsCluster) -> None:  # noqa: F811
    _run(tmp_path, nats_cluster, crash=False)


def test_detector_killed_mid_stream(tmp_path: Path, nats_cluster: NatsCluster) -> None:  # noqa: F811
    _run(tmp_path, nats_cluster, crash=True)


pytestmark = pytest.mark.timeout(240)
