"""What the bus detection tests share (logs, Windows, reorder commit): syslog lines from several
senders, one machine's alerts for them as the reference, and the two ways a cluster run ends:
every partition committed with both detectors alive, or a detector killed mid-stream and the
survivor's result compared."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from pathlib import Path

from nocsoc.bus.config import BusConfig
from nocsoc.bus.logs import BusLogDetector
from nocsoc.bus.partition import stream_name
from nocsoc.collectors.logs.config import LogsConfig
from nocsoc.collectors.logs.pipeline import LogPipeline
from nocsoc.detections.alerts import AlertStore
from nocsoc.detections.config import DetectionsConfig
from nocsoc.sinks.memory import MemorySink
from tests.bus.helpers import logs_committed, read_through, stream_last_seqs
from tests.servers.base import free_port, wait_until

SSH_FAIL = ("<38>Nov 25 04:{m:02d}:{s:02d} {host} sshd[5{i}]: Failed password for root from {ip} "
            "port 4{i} ssh2")
WEB = ('<190>Nov 25 08:12:0{i} {host} nginx: {ip} - - [25/Nov/2026:08:12:0{i} +0700] '
       '"GET /dichvucong/../../../../etc/passwd HTTP/1.1" 404 162 "-" "Mozilla/5.0"')

AlertKey = tuple[object, ...]


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
    """Each sender's lines as syslog datagrams to 127.0.0.1:`port`, from the sender's address."""
    n = 0
    for addr, lines in by_sender.items():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((addr, 0))
            for line in lines:
                s.sendto(line.encode(), ("127.0.0.1", port))
                n += 1
    return n


def alert_keys(store: AlertStore) -> list[AlertKey]:
    return sorted((a.rule_title, a.count, a.src_ip, a.host, a.group_key, a.level)
                  for a in store.list_alerts(None, None, None, None, 10_000))


def one_machine(tmp_path: Path, by_sender: dict[str, list[str]], reorder_s: float = 2.0) -> list[AlertKey]:
    """The alerts of one machine for the syslog lines, with the bus run's reorder window."""
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


def crash_busiest(detectors: Sequence[BusLogDetector]) -> list[BusLogDetector]:
    """Once a detector has read some records, kill the one that read most (nothing more
    committed); the survivors."""
    wait_until(lambda: any(d.runner.counters.get("records") for d in detectors), 30,
               what="a detector detecting")
    killed = max(detectors, key=lambda d: d.runner.counters.get("records"))
    killed.crash()
    return [d for d in detectors if d is not killed]


def survivor_equals(survivor: BusLogDetector, urls: list[str], bus: BusConfig, db: Path,
                    want: list[AlertKey]) -> None:
    """After a kill: the survivor reads every partition through, is stopped (which releases
    what it holds for reordering and commits), and then every partition's mark is its stream's
    last sequence and the alerts are one machine's."""
    last = stream_last_seqs(urls, bus.prefix, "logs", bus.log_partitions)
    wait_until(lambda: read_through(survivor.runner, last), 60, what="the survivor read everything")
    survivor.stop()
    with AlertStore(db) as st:
        assert [(st.input_offset(f"bus:{stream_name(bus.prefix, 'logs', p)}") or (0, 0))[1]
                for p in range(bus.log_partitions)] == last
        got = alert_keys(st)
        assert got == want, told(got, want, [survivor])


def committed_equals(live: Sequence[BusLogDetector], urls: list[str], bus: BusConfig, want: list[AlertKey],
                     timeout: float, what: str) -> None:
    """Without a kill: every partition's input committed in the shared store, every event the
    engines hold back for reordering (reorder_window_s) processed, and the alerts one machine's."""
    store = live[0].pipeline.store
    wait_until(lambda: logs_committed(urls, bus.prefix, store, bus.log_partitions), timeout,
               interval=0.5, what=what)
    wait_until(lambda: all(d.pipeline.idle() for d in live), 30, what="detectors idle")
    got = alert_keys(store)
    assert got == want, told(got, want, live)


def settled(detectors: Sequence[BusLogDetector], partitions: int, timeout: float = 90) -> None:
    """Wait until every detector holds partitions and together they hold them all; a failure
    says what each holds and counted."""
    try:
        wait_until(lambda: all(d.runner.held for d in detectors)
                   and sum(len(d.runner.held) for d in detectors) == partitions, timeout,
                   what="the detectors to own every partition between them")
    except TimeoutError as exc:
        raise AssertionError(f"{exc}: " + "; ".join(
            f"{d.runner.member} holds {sorted(d.runner.held)}, error {d.runner.error!r}, ready "
            f"{d.runner.ready}, counted {d.runner.counters.snapshot()}" for d in detectors)) from None


def told(got: list[AlertKey], want: list[AlertKey], detectors: Sequence[BusLogDetector]) -> str:
    """A failure's message: the alerts that differ, and what each detector's runner counted
    (hand-overs, leases lost, drains given up)."""
    names = ("acquired", "released", "lost_leases", "windows_taken", "windows_handed", "windows_not_handed",
             "drain_timeouts", "duplicates", "resyncs")
    return (f"only here: {sorted(set(got) - set(want))}; only one machine's: {sorted(set(want) - set(got))}; "
            f"counters: {[{n: d.runner.counters.get(n) for n in names} for d in detectors]}")
