"""SNMP traps through receiver -> NATS JetStream (3-node cluster) -> 2 decoders sharing one alert
store give exactly what one machine gives for the same datagrams (the `snmp_trap` and
`interface` points, the alerts), also when a decoder dies mid-stream (nothing lost, nothing
counted twice).

The traps are sent by Debian's real `snmptrap` (package snmp) from eight loopback addresses (eight
devices): v2c linkDown/linkUp with and without ifName, v1 coldStart, v3 authPriv; plus a trap
from an address the inventory does not know and a datagram that is no SNMP message. The
single-machine result is the trap receiver of `nocsoc run` fed the very records the receiver
published (datagram, sender, receive time), in order.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from nocsoc.bus.config import BusConfig
from nocsoc.bus.envelope import Record
from nocsoc.bus.partition import stream_name
from nocsoc.bus.receiver import BusReceiver
from nocsoc.bus.traps import BusTrapDecoder
from nocsoc.collectors.traps.receiver import TrapReceiver
from nocsoc.detections.alerts import AlertStore
from nocsoc.inventory.model import Inventory
from nocsoc.schema import INTERFACE, SNMP_TRAP
from nocsoc.sinks.memory import MemorySink
from tests.bus.helpers import point_keys, stream_last_seqs
from tests.collectors.traps.conftest import (
    AUTH,
    COMMUNITY,
    ENGINE_ID,
    ENV,
    PRIV,
    inventory_data,
    traps_config,
)
from tests.servers.base import require_binary, wait_until
from tests.servers.nats import NatsCluster, nats_cluster  # noqa: F401

PARTITIONS = 4
DEVICES = [f"127.0.4.{k}" for k in range(1, 9)]
STRANGER = "127.0.5.9"
LINK_DOWN, LINK_UP, COLD_START = "1.3.6.1.6.3.1.1.5.3", "1.3.6.1.6.3.1.1.5.4", "1.3.6.1.6.3.1.1.5.1"
IF_INDEX, IF_ADMIN, IF_OPER, IF_NAME = ("1.3.6.1.2.1.2.2.1.1", "1.3.6.1.2.1.2.2.1.7", "1.3.6.1.2.1.2.2.1.8",
                                        "1.3.6.1.2.1.31.1.1.1.1")


@pytest.fixture
def trap_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)


def inventory() -> Inventory:
    devices = [{"name": f"sw-{k:02d}", "address": a, "role": "access", "site": "dc1", "profile": "v2",
                "vendor": "cisco"} for k, a in enumerate(DEVICES, start=1)]
    data = inventory_data(devices)
    data["devices"] = devices
    data["links"] = [{"name": "sw-01--sw-02", "a": {"device": "sw-01", "interface": "Gi0/3"},
                      "b": {"device": "sw-02", "interface": "Gi0/3"}}]
    return Inventory.model_validate(data)


def link(oid: str, ifindex: int, oper: int, name: str | None) -> list[str]:
    args = ["4200", oid, f"{IF_INDEX}.{ifindex}", "i", str(ifindex), f"{IF_ADMIN}.{ifindex}", "i", "1",
            f"{IF_OPER}.{ifindex}", "i", str(oper)]
    return args + ([f"{IF_NAME}.{ifindex}", "s", name] if name else [])


def traps_of(k: int, target: str) -> list[list[str]]:
    """What device k sends: its own mix, so devices differ."""
    v2c = ["-v", "2c", "-c", COMMUNITY, target]
    v3 = ["-v", "3", "-e", f"0x{ENGINE_ID}", "-u", "trapuser", "-l", "authPriv", "-a", "SHA", "-A", AUTH,
          "-x", "AES", "-X", PRIV, target]
    out = [v2c + link(LINK_DOWN, 3, 2, "Gi0/3"), v2c + link(LINK_DOWN, 3, 2, "Gi0/3")]
    if k % 2:
        out.append(v2c + link(LINK_UP, 3, 1, "Gi0/3"))
    if k % 3 == 0:
        out.append(["-v", "1", "-c", COMMUNITY, target, "1.3.6.1.4.1.9.1.1", DEVICES[k - 1], "0", "0", "777"])
    out.append(v3 + link(LINK_DOWN, 10 + k, 2, f"Gi0/{10 + k}"))
    return out


def snmptrap(args: list[str], source: str, snmp_dir: Path) -> None:
    tool = require_binary("snmptrap", "snmp")
    subprocess.run([tool, f"--clientaddr={source}", *args], check=True, capture_output=True, timeout=30,
                   env={**os.environ, "MIBS": "", "SNMPCONFPATH": str(snmp_dir),
                        "SNMP_PERSISTENT_DIR": str(snmp_dir)})


class Recorder:
    """The trap records the receiver handed to the bus, in order (the single machine's input)."""

    def __init__(self, receiver: BusReceiver) -> None:
        self.records: list[Record] = []
        self._lock = threading.Lock()
        submit = receiver.publisher.submit

        def record(kind: str, records: list[Record]) -> bool:
            with self._lock:
                self.records.extend(records)
            return submit(kind, records)
        receiver.publisher.submit = record  # type: ignore[method-assign,assignment]


def one_machine(tmp_path: Path, records: list[Record]) -> tuple[list, list]:
    sink = MemorySink()
    with AlertStore(tmp_path / "one.db") as store:
        rec = TrapReceiver(traps_config(), inventory(), sink, base_dir=tmp_path, store=store)
        for payload, source, received in records:
            if rec.admitted(source):
                rec.handle(payload, (source, 0), received=received)
        rec.flush()
        return trap_points(sink), alert_keys(store)


def trap_points(sink: MemorySink) -> list:
    return point_keys(p for p in sink.points if p.measurement in (SNMP_TRAP.name, INTERFACE.name))


def alert_keys(store: AlertStore) -> list[tuple[object, ...]]:
    return sorted((a.rule_id, a.level, a.host, a.group_key, a.count, a.state, a.kind)
                  for a in store.list_alerts(None, None, None, None, 1000))


def _run(tmp_path: Path, cluster: NatsCluster, crash: bool) -> None:
    bus = BusConfig(url=cluster.url, replicas=3, trap_partitions=PARTITIONS, lease_ttl_s=2.0, ack_wait_s=5.0,
                    stream_max_bytes=16 << 20)
    snmp_dir = tmp_path / "snmp"
    snmp_dir.mkdir()
    cfg = traps_config(resolve_ifname=False)
    receiver = BusReceiver(bus, None, None, tmp_path / "buffer", "r1", traps=cfg)
    rec = Recorder(receiver)
    sinks = [MemorySink("d1"), MemorySink("d2")]
    decoders = [BusTrapDecoder(cfg, bus, inventory(), sinks[i], f"d{i + 1}", base_dir=tmp_path,
                               open_store=lambda: AlertStore(tmp_path / "bus.db")) for i in range(2)]
    receiver.start()
    for d in decoders:
        d.start()
    try:
        wait_until(lambda: sum(len(d.runner.held) for d in decoders) == PARTITIONS, 30,
                   what="both decoders own every partition")
        host, port = receiver.addresses()["traps"]
        target = f"{host}:{port}"
        sent = 0
        killed = None
        for k, source in enumerate(DEVICES, start=1):
            if k == 5 and crash:  # the decoder that has decoded some traps dies
                wait_until(lambda: any(d.runner.counters.get("records") for d in decoders), 30,
                           what="a decoder decoding")
                killed = max(decoders, key=lambda d: d.runner.counters.get("records"))
                killed.crash()
            for args in traps_of(k, target):
                snmptrap(args, source, snmp_dir)
                sent += 1
        snmptrap(["-v", "2c", "-c", COMMUNITY, target, *link(LINK_DOWN, 1, 2, "Gi0/1")], STRANGER, snmp_dir)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((DEVICES[0], 0))
            s.sendto(b"\x30\x03\x02\x01", (host, port))  # a truncated BER sequence
        sent += 2
        wait_until(lambda: len(rec.records) == sent and receiver.publisher.idle(), 30,
                   what="the receiver published every trap")
        store = AlertStore(tmp_path / "bus.db")
        urls = [nd.url for nd in cluster.nodes if nd.alive()]

        def committed() -> bool:
            last = stream_last_seqs(urls, bus.prefix, "traps", PARTITIONS)
            marks = [store.input_offset(f"bus:{stream_name(bus.prefix, 'traps', p)}")
                     for p in range(PARTITIONS)]
            return sum(last) > 0 and all((m[1] if m else 0) == n for m, n in zip(marks, last, strict=True))
        wait_until(committed, 60, interval=0.5, what="every partition's traps committed in the store")
        want_points, want_alerts = one_machine(tmp_path, rec.records)
        # 28 link traps (a trap point and the interface's status each) and 2 coldStarts
        assert len(want_points) == 28 * 2 + 2
        # per device: Gi0/3 (count 2) and its v3 port; coldStart on devices 3 and 6
        assert len(want_alerts) == 8 * 2 + 2
        got = sorted(trap_points(sinks[0]) + trap_points(sinks[1]))  # a list: a duplicate would show
        assert got == want_points
        assert alert_keys(store) == want_alerts
        counts = [d.receiver.counters.snapshot() for d in decoders]
        assert sum(c["unknown_source"] for c in counts) >= 1 and sum(c["malformed"] for c in counts) >= 1
        store.close()
    finally:
        receiver.stop()
        for d in decoders:
            d.stop()


def test_two_decoders_equal_one_machine(tmp_path: Path, nats_cluster: NatsCluster,  # noqa: F811
                                        trap_env: None) -> None:
    _run(tmp_path, nats_cluster, crash=False)


def test_decoder_killed_mid_stream(tmp_path: Path, nats_cluster: NatsCluster,  # noqa: F811
                                   trap_env: None) -> None:
    _run(tmp_path, nats_cluster, crash=True)


pytestmark = pytest.mark.timeout(240)
