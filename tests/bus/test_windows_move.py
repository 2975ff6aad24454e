"""Correlation windows move with their partition (nocsoc.bus.windows), on a 3-node nats-server
JetStream cluster: an SSH brute force whose failures straddle a detector joining and then leaving
fires exactly once, with its exact count, as one machine gives for the same lines. Before, the
windows stayed behind: the joining detector started the window empty (5 failures, below 10)
and the old one, getting the partition back, fired at its phase-1 + phase-3 count (10, not 15)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from nocsoc.bus.config import BusConfig
from nocsoc.bus.consume import rendezvous_owner
from nocsoc.bus.logs import BusLogDetector
from nocsoc.bus.partition import partition_of
from nocsoc.bus.receiver import BusReceiver
from nocsoc.collectors.logs.config import LogsConfig
from nocsoc.collectors.logs.pipeline import LogPipeline
from nocsoc.detections.alerts import AlertStore
from nocsoc.detections.config import DetectionsConfig
from nocsoc.sinks.memory import MemorySink
from tests.bus.detection import send_all
from tests.bus.helpers import logs_committed
from tests.servers.base import free_port, wait_until
from tests.servers.nats import NatsCluster, nats_cluster  # noqa: F401

PARTITIONS = 4
FAIL = ("<38>Nov 25 04:{m:02d}:{s:02d} {host} sshd[7{i:02d}]: Failed password for invalid user "
        "admin{i} from {ip} port 5{i:04d} ssh2")
MOVING = "127.0.3.1"  # the sender whose partition moves to the joining detector and back
ALPHA = "d1"


def _staying() -> str:
    """A sender in another partition (its windows stay on the first detector throughout)."""
    p = partition_of(MOVING, PARTITIONS)
    return next(f"127.0.3.{k}" for k in range(2, 250) if partition_of(f"127.0.3.{k}", PARTITIONS) != p)


def _joiner() -> str:
    """A member name that takes MOVING's partition when it joins ALPHA (rendezvous hashing)."""
    p = partition_of(MOVING, PARTITIONS)
    return next(n for n in (f"d{k}" for k in range(2, 100)) if rendezvous_owner(p, [ALPHA, n]) == n)


def phase(k: int, senders: list[str]) -> dict[str, list[str]]:
    """Five failures a sender in phase k (0-2), each sender's from its own attacker, each for
    another user name: over the phases a brute force (10 failures in 5 minutes) and a password
    spraying (5 user names in 10 minutes) of 15 each, the failures 2 s apart."""
    out = {}
    for j, addr in enumerate(senders):
        lines = []
        for i in range(5 * k, 5 * k + 5):
            s = 2 * i
            lines.append(FAIL.format(m=1 + s // 60, s=s % 60, i=i, host=f"srv{j}", ip=f"192.0.2.{50 + j}"))
        out[addr] = lines
    return out


def alert_keys(store: AlertStore) -> list[tuple[object, ...]]:
    return sorted((a.rule_title, a.count, a.src_ip, a.host, a.group_key, a.level, a.first_seen, a.last_seen)
                  for a in store.list_alerts())


def detections(db: Path) -> DetectionsConfig:
    return DetectionsConfig(alerts_db=str(db), flush_interval_s=0.05, reorder_window_s=2.0)


def one_machine(tmp_path: Path, phases: list[dict[str, list[str]]]) -> list[tuple[object, ...]]:
    port = free_port(socket.SOCK_DGRAM)
    p = LogPipeline(LogsConfig(syslog_udp=f"127.0.0.1:{port}", syslog_tcp=None),
                    detections(tmp_path / "one.db"), MemorySink(), base_dir=tmp_path)
    p.start()
    try:
        sent = 0
        for ph in phases:  # each phase processed before the next is sent, as the bus run does
            sent += send_all(port, ph)
            want = sent
            wait_until(lambda: p.processed() >= want, 30, what="one machine processed")  # noqa: B023
    finally:
        p.stop()
    with AlertStore(tmp_path / "one.db") as st:
        return alert_keys(st)


def test_a_brute_force_straddling_a_join_and_a_leave_fires_once(tmp_path: Path,
                                                                nats_cluster: NatsCluster) -> None:  # noqa: F811
    senders = [MOVING, _staying()]
    phases = [phase(k, senders) for k in range(3)]
    want = one_machine(tmp_path, phases)
    # an event_count (10 failures) and a value_count (5 user names) correlation, per attacker
    titles = ("SSH Brute Force From One Source", "SSH Password Spraying From One Source")
    assert [(k[0], k[1], k[2]) for k in want] == [
        (title, 15, ip) for title in titles for ip in ("192.0.2.50", "192.0.2.51")]

    bus = BusConfig(url=nats_cluster.url, replicas=3, log_partitions=PARTITIONS, lease_ttl_s=2.0,
                    move_windows=True, ack_wait_s=5.0, stream_max_bytes=16 << 20)
    port = free_port(socket.SOCK_DGRAM)
    logs = LogsConfig(syslog_udp=f"127.0.0.1:{port}", syslog_tcp=None)
    det = detections(tmp_path / "bus.db")
    moving = partition_of(MOVING, PARTITIONS)
    b_name = _joiner()
    moved = {p for p in range(PARTITIONS) if rendezvous_owner(p, [ALPHA, b_name]) == b_name}
    assert moving in moved and partition_of(senders[1], PARTITIONS) not in moved

    receiver = BusReceiver(bus, None, logs, tmp_path / "buffer", "r1")
    a = BusLogDetector(logs, det, bus, MemorySink(), tmp_path, ALPHA)
    b = BusLogDetector(logs, det, bus, MemorySink(), tmp_path, b_name)
    receiver.start()
    a.start()
    sent = 0
    urls = nats_cluster.urls

    def through(ph: dict[str, list[str]], live: list[BusLogDetector]) -> None:
        """Send a phase and wait until every line is detected and committed."""
        nonlocal sent
        sent += send_all(port, ph)
        wait_until(lambda: receiver.publisher.counters["logs"].get("records") == sent
                   and not receiver.publisher.buffer and receiver.publisher.idle(), 60,
                   what="receiver published every line")
        wait_until(lambda: logs_committed(urls, bus.prefix, a.pipeline.store, PARTITIONS), 60,
                   interval=0.3, what="every partition's lines committed")
        wait_until(lambda: all(d.pipeline.idle() for d in live), 30, what="detectors idle")

    def held(d: BusLogDetector) -> set[int]:
        return set(d.runner.held)

    try:
        wait_until(lambda: held(a) == set(range(PARTITIONS)), 30, what="the first detector holds all")
        through(phases[0], [a])
        b.start()  # joins: the moving partition goes to it, with its windows
        wait_until(lambda: held(b) == moved and held(a) == set(range(PARTITIONS)) - moved, 60,
                   what="the joining detector holds its partitions")
        through(phases[1], [a, b])
        b.stop()  # leaves: its partitions come back to the first, with their windows
        wait_until(lambda: held(a) == set(range(PARTITIONS)), 60, what="the first detector holds all again")
        through(phases[2], [a])
        assert alert_keys(a.pipeline.store) == want
        ca, cb = a.runner.counters, b.runner.counters
        # each moved partition went to b and back with its windows (a lease lost to a stall on a
        # loaded machine, 2 s leases, also hands a partition's windows over, to its next holder:
        # here the same detector, or one fenced if the other took it meanwhile)
        assert cb.get("windows_taken") >= len(moved) and ca.get("windows_taken") >= len(moved)
        assert cb.get("windows_handed") >= len(moved) and ca.get("windows_handed") >= len(moved)
        assert ca.get("windows_not_handed") == cb.get("windows_not_handed") == 0
        assert ca.get("drain_timeouts") == cb.get("drain_timeouts") == 0
    finally:
        receiver.stop()
        a.stop()
        b.stop()


pytestmark = pytest.mark.timeout(240)
