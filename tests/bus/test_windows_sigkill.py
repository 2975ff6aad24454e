"""Two `nocsoc run --role detector` processes on a real 3-node JetStream cluster, sharing one
SQLite alert store; the one holding the attackers' partitions is killed with SIGKILL while an SSH
brute force and a password spraying are under way (failures before, around and after the kill).
Each fires exactly once, with the exact count one machine gives for the same lines: the killed
detector saved each partition's windows and held events with each of its marks
(nocsoc.bus.windows), and the survivor restored them before reading from the stored mark + 1.
Before, the survivor restored windows older than the marks and counted short.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nocsoc.bus.config import BusConfig
from nocsoc.bus.consume import rendezvous_owner
from nocsoc.bus.partition import partition_of, stream_name
from nocsoc.bus.publish import group_key
from nocsoc.bus.receiver import BusReceiver
from nocsoc.collectors.logs.config import LogsConfig
from nocsoc.detections.alerts import AlertStore
from tests.bus.detection import send_all
from tests.bus.helpers import ROOT, logs_committed, stream_last_seqs
from tests.bus.test_windows_move import alert_keys, one_machine, phase
from tests.servers.base import free_port, wait_until
from tests.servers.nats import NatsCluster, nats_cluster  # noqa: F401

PARTITIONS = 4
NAMES = ("d1", "d2")


def _config(root: Path, name: str, url: str, db: Path) -> Path:
    path = root / f"{name}.yaml"
    path.write_text(
        f"inventory: inventory.yaml\n"
        f"sinks:\n  - type: stdout\n"
        f"run:\n  state_dir: ./var-{name}\n  status_interval_s: 0.3\n  self_metrics_interval_s: 3600\n"
        f"flows:\n  enabled: false\n"
        f"logs:\n  syslog_udp: null\n  syslog_tcp: null\n"
        f"snmp:\n  enabled: false\n"
        f"detections:\n  alerts_db: {db}\n  flush_interval_s: 0.05\n  reorder_window_s: 2\n"
        f"bus:\n  url: {url}\n  log_partitions: {PARTITIONS}\n  replicas: 3\n  lease_ttl_s: 2\n"
        f"  ack_wait_s: 5\n  stream_max_bytes: 16777216\n  move_windows: true\n"
        f"  buffer_dir: ./var-{name}/bus-buffer\n",
        encoding="utf-8")
    return path


def _start(root: Path, config: Path, name: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    out = open(root / f"{name}.out", "wb")  # noqa: SIM115 - the child owns it
    err = open(root / f"{name}.err", "wb")  # noqa: SIM115
    return subprocess.Popen([sys.executable, "-m", "nocsoc", "-c", str(config), "run", "--role", "detector"],
                            cwd=root, stdout=out, stderr=err, env=env, start_new_session=True)


def _logs(root: Path, name: str) -> dict[str, Any]:
    try:
        doc = json.loads((root / f"var-{name}" / "status" / "main.json").read_text())
    except (OSError, ValueError):
        return {}
    return dict(doc.get("services", {}).get("bus_logs", {}))


def _member(proc: subprocess.Popen[bytes]) -> str:
    """The process's name among the detectors (nocsoc.service.registry._member)."""
    return f"detector-{socket.gethostname().split('.')[0]}-{proc.pid}".replace(".", "_")


@pytest.mark.timeout(300)
def test_a_detector_killed_with_sigkill_mid_attack_loses_no_count(tmp_path: Path,
                                                                   nats_cluster: NatsCluster) -> None:  # noqa: F811
    (tmp_path / "inventory.yaml").write_text("devices: []\n", encoding="utf-8")
    db = tmp_path / "alerts.db"
    url = nats_cluster.url
    procs = {n: _start(tmp_path, _config(tmp_path, n, url, db), n) for n in NAMES}
    bus = BusConfig(url=url, replicas=3, log_partitions=PARTITIONS, lease_ttl_s=2.0, ack_wait_s=5.0,
                    move_windows=True, stream_max_bytes=16 << 20)
    port = free_port(socket.SOCK_DGRAM)
    receiver = BusReceiver(bus, None, LogsConfig(syslog_udp=f"127.0.0.1:{port}", syslog_tcp=None),
                           tmp_path / "buffer", "r1")
    try:
        members = {n: _member(p) for n, p in procs.items()}
        owner = {p: rendezvous_owner(p, list(members.values())) for p in range(PARTITIONS)}
        try:
            wait_until(lambda: all(_logs(tmp_path, n).get("partitions") == list(owner.values()).count(m)
                                   for n, m in members.items()), 90,
                       what="each detector holds its partitions")
        except TimeoutError as exc:
            raise AssertionError(f"{exc}: {[(n, _logs(tmp_path, n)) for n in NAMES]}; "
                                 f"{[(tmp_path / f'{n}.err').read_text()[-2000:] for n in NAMES]}") from None
        # the attackers: two senders whose partitions the victim holds (two partitions if it has them)
        cands = [f"127.0.3.{k}" for k in range(1, 250)]
        victim_m = owner[partition_of(group_key(cands[0]), PARTITIONS)]
        victim = next(n for n, m in members.items() if m == victim_m)
        mine = [s for s in cands if owner[partition_of(group_key(s), PARTITIONS)] == victim_m]
        second = next((s for s in mine if partition_of(group_key(s), PARTITIONS)
                       != partition_of(group_key(mine[0]), PARTITIONS)), mine[1])
        senders = [mine[0], second]
        phases = [phase(k, senders) for k in range(3)]
        want = one_machine(tmp_path, phases)
        titles = ("SSH Brute Force From One Source", "SSH Password Spraying From One Source")
        assert [(k[0], k[1], k[2]) for k in want] == [
            (title, 15, ip) for title in titles for ip in ("192.0.2.50", "192.0.2.51")]

        receiver.start()
        store = AlertStore(db, owner="test")
        urls = nats_cluster.urls
        sent = 0

        def publish(ph: dict[str, list[str]]) -> None:
            nonlocal sent
            sent += send_all(port, ph)
            wait_until(lambda: receiver.publisher.counters["logs"].get("records") == sent
                       and not receiver.publisher.buffer and receiver.publisher.idle(), 60,
                       what="receiver published every line")

        publish(phases[0])  # 5 failures each, counted and committed by the victim
        wait_until(lambda: logs_committed(urls, bus.prefix, store, PARTITIONS), 60, interval=0.3,
                   what="phase 0 committed")
        before = _logs(tmp_path, victim).get("records", 0)
        sent += send_all(port, phases[1])  # 5 more each: the kill comes while they flow
        wait_until(lambda: _logs(tmp_path, victim).get("records", 0) > before
                   or receiver.publisher.counters["logs"].get("records") == sent, 60,
                   what="the victim reading phase 1, or phase 1 published")
        procs[victim].send_signal(signal.SIGKILL)
        procs[victim].wait(10)
        publish({})
        publish(phases[2])  # the last 5 each: on the survivor
        survivor = next(n for n in NAMES if n != victim)

        def waited(predicate: Callable[[], bool], what: str) -> None:
            """wait_until, a failure saying what the survivor says."""
            try:
                wait_until(predicate, 90, interval=0.3, what=what)
            except TimeoutError as exc:
                raise AssertionError(f"{exc}; survivor's status {_logs(tmp_path, survivor)}; its log: "
                                     f"{(tmp_path / f'{survivor}.err').read_text()[-3000:]}") from None
        waited(lambda: _logs(tmp_path, survivor).get("partitions") == PARTITIONS,
               "the survivor holding every partition")
        waited(lambda: logs_committed(urls, bus.prefix, store, PARTITIONS), "every line committed")
        status = _logs(tmp_path, survivor)
        attacked = {partition_of(group_key(s), PARTITIONS) for s in senders}
        assert status.get("windows_taken", 0) >= len(attacked)
        assert status.get("windows_not_handed", 0) == 0
        procs[survivor].send_signal(signal.SIGTERM)  # releases what it holds for reordering, commits
        assert procs[survivor].wait(60) == 0
        last = stream_last_seqs(urls, bus.prefix, "logs", PARTITIONS)
        assert [(store.input_offset(f"bus:{stream_name(bus.prefix, 'logs', p)}") or (0, 0))[1]
                for p in range(PARTITIONS)] == last
        assert alert_keys(store) == want, (tmp_path / f"{survivor}.err").read_text()[-3000:]
        store.close()
    finally:
        receiver.stop()
        for p in procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs.values():
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
