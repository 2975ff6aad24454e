"""SNMP informs through `--role receiver` -> NATS JetStream -> `--role decoder` (nocsoc.bus.informs):
answered by the receiver only once JetStream has stored them, each stored as exactly one trap.

The senders are Debian's real `snmpinform` (package snmp, net-snmp), which blocks until answered
(exit 0) or gives up after its retries (non-zero). The ground truth of a trap's points is the
one-machine trap receiver answering the same `snmpinform` command itself.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pyasn1.codec.ber import decoder as ber
from pysnmp.proto.api import v2c

from nocsoc.bus.config import BusConfig
from nocsoc.bus.envelope import Record
from nocsoc.bus.informs import (
    DEDUP_WINDOW_S,
    V3_REFUSALS,
    InformAnswerer,
    answerable,
    decode_v3,
    encode_v3,
    v2c_request_id,
)
from nocsoc.bus.partition import stream_name
from nocsoc.bus.receiver import BusReceiver
from nocsoc.bus.traps import BusTrapDecoder, TrapDecoderHandler
from nocsoc.collectors.traps.decode import RawTrap
from nocsoc.collectors.traps.receiver import TrapReceiver
from nocsoc.component import Counters
from nocsoc.detections.alerts import AlertStore
from nocsoc.inventory.model import Inventory
from nocsoc.schema import INTERFACE, SNMP_TRAP, TRAP_RECEIVER, Point
from nocsoc.secrets import SecretError
from nocsoc.sinks.memory import MemorySink
from tests.bus.helpers import stream_last_seqs
from tests.collectors.traps.conftest import (
    AUTH,
    COMMUNITY,
    ENGINE_ID,
    ENV,
    PRIV,
    inventory_data,
    traps_config,
)
from tests.servers.base import LOOPBACK, require_binary, wait_until
from tests.servers.nats import NatsCluster, NatsSingle

PARTITIONS = 2
LINK_DOWN, COLD_START = "1.3.6.1.6.3.1.1.5.3", "1.3.6.1.6.3.1.1.5.1"
IF_INDEX, IF_ADMIN, IF_OPER, IF_NAME = ("1.3.6.1.2.1.2.2.1.1", "1.3.6.1.2.1.2.2.1.7", "1.3.6.1.2.1.2.2.1.8",
                                        "1.3.6.1.2.1.31.1.1.1.1")
LINK_VARBINDS = [f"{IF_INDEX}.7", "i", "7", f"{IF_ADMIN}.7", "i", "1", f"{IF_OPER}.7", "i", "2",
                 f"{IF_NAME}.7", "s", "Gi0/7"]
V3 = ["-v", "3", "-u", "trapuser", "-l", "authPriv", "-a", "SHA", "-A", AUTH, "-x", "AES", "-X", PRIV]


@pytest.fixture
def trap_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)


def net_snmp(tool: str, args: list[str], snmp_dir: Path, check: bool = True) -> int:
    """One run of net-snmp's `tool`; its exit status (check: non-zero fails the test)."""
    exe = require_binary(tool, "snmp")
    got = subprocess.run([exe, *args], capture_output=True, timeout=60, check=False,
                         env={**os.environ, "MIBS": "", "SNMPCONFPATH": str(snmp_dir),
                              "SNMP_PERSISTENT_DIR": str(snmp_dir)})
    if check and got.returncode != 0:
        raise AssertionError(f"{tool} {args} exited {got.returncode}: {got.stderr.decode(errors='replace')}")
    return got.returncode


def inform(snmp_dir: Path, args: list[str], check: bool = True, retries: int = 9, timeout: int = 3) -> int:
    """`snmpinform` (the target is in `args`): 0 once answered; each of 1 + `retries` tries waits
    `timeout` s for the answer (the receiver's needs a publish round trip: generous under load)."""
    return net_snmp("snmpinform", ["-t", str(timeout), "-r", str(retries), *args], snmp_dir, check)


def v2c_link_down(target: str) -> list[str]:
    return ["-v", "2c", "-c", COMMUNITY, target, "4200", LINK_DOWN, *LINK_VARBINDS]


def v3_cold_start(target: str) -> list[str]:
    """A v3 coldStart with variable bindings of every type a v3 inform is published with as JSON
    (the decoder must map them as one machine does)."""
    return [*V3, target, "4200", COLD_START, "1.3.6.1.4.1.99999.1.1.0", "s", "quạt 2 hỏng \"x\"",
            "1.3.6.1.4.1.99999.1.2.0", "i", "-5", "1.3.6.1.4.1.99999.1.3.0", "x", "001a2bff",
            "1.3.6.1.4.1.99999.1.4.0", "a", "10.1.2.3", "1.3.6.1.4.1.99999.1.5.0", "o", "1.3.6.1.4.1.9",
            "1.3.6.1.4.1.99999.1.6.0", "c", "4294967295", "1.3.6.1.4.1.99999.1.7.0", "u", "7",
            "1.3.6.1.4.1.99999.1.8.0", "t", "12345"]


@dataclass
class Rig:
    tmp: Path
    server: NatsCluster
    receiver: BusReceiver
    decoder: BusTrapDecoder
    sink: MemorySink
    bus: BusConfig
    snmp_dir: Path

    @property
    def target(self) -> str:
        host, port = self.receiver.addresses()["traps"]
        return f"{host}:{port}"

    def counters(self) -> dict[str, int]:
        assert self.receiver.traps is not None
        return self.receiver.traps.counters.snapshot()

    def committed(self, n_messages: int) -> None:
        """Wait until the streams hold `n_messages` and the decoder committed all of them."""
        store = AlertStore(self.tmp / "bus.db")
        try:
            def done() -> bool:
                last = stream_last_seqs(self.server.urls, self.bus.prefix, "traps", PARTITIONS)
                marks = [store.input_offset(f"bus:{stream_name(self.bus.prefix, 'traps', p)}")
                         for p in range(PARTITIONS)]
                return sum(last) == n_messages and all((m[1] if m else 0) == n
                                                       for m, n in zip(marks, last, strict=True))
            wait_until(done, 60, interval=0.2, what=f"{n_messages} trap messages stored and committed")
        finally:
            store.close()

    def alerts(self) -> list[tuple[object, ...]]:
        with AlertStore(self.tmp / "bus.db") as store:
            return alert_keys(store)


def inventory() -> Inventory:
    return Inventory.model_validate(inventory_data())


@pytest.fixture
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsCluster]:
    """One JetStream node, constructed but not started: the test starts it (or first shows what
    happens while it is away)."""
    srv = NatsSingle(tmp_path_factory.mktemp("nats-single"))
    try:
        yield srv
    finally:
        srv.stop()


def make_rig(tmp_path: Path, server: NatsCluster) -> Rig:
    bus = BusConfig(url=server.url, replicas=1, trap_partitions=PARTITIONS, lease_ttl_s=2.0, ack_wait_s=5.0,
                    stream_max_bytes=16 << 20)
    cfg = traps_config(resolve_ifname=False)
    snmp_dir = tmp_path / "snmp"
    snmp_dir.mkdir()
    receiver = BusReceiver(bus, None, None, tmp_path / "buffer", "r1", traps=cfg, base_dir=tmp_path)
    sink = MemorySink()
    decoder = BusTrapDecoder(cfg, bus, inventory(), sink, "d1", base_dir=tmp_path,
                             open_store=lambda: AlertStore(tmp_path / "bus.db"))
    return Rig(tmp_path, server, receiver, decoder, sink, bus, snmp_dir)


@pytest.fixture
def rig(tmp_path: Path, server: NatsCluster, trap_env: None) -> Iterator[Rig]:
    server.start()
    r = make_rig(tmp_path, server)
    r.receiver.start()
    r.decoder.start()
    try:
        wait_until(lambda: len(r.decoder.runner.held) == PARTITIONS and r.receiver.publisher.connected, 30,
                   what="the decoder owns every partition, the receiver is connected")
        yield r
    finally:
        r.receiver.stop()
        r.decoder.stop()


def one_machine(tmp_path: Path, args: list[str]) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """The points (without their time) and alerts of the one-machine trap receiver for the same
    `snmpinform`, which it answers itself (the command exits 0)."""
    sink = MemorySink()
    db = tmp_path / f"one-{len(list(tmp_path.glob('one-*.db')))}.db"
    with AlertStore(db) as store:
        rec = TrapReceiver(traps_config(resolve_ifname=False), inventory(), sink, base_dir=tmp_path,
                           store=store)
        rec.start()
        try:
            host, port = rec.address()
            snmp_dir = tmp_path / "snmp-one"
            snmp_dir.mkdir(exist_ok=True)
            inform(snmp_dir, [a if a != "TARGET" else f"{host}:{port}" for a in args])
            wait_until(lambda: rec.counters.get("informs") == 1, 30, what="the one-machine receiver's inform")
        finally:
            rec.stop()
        return untimed(sink.points), alert_keys(store)


def alert_keys(store: AlertStore) -> list[tuple[object, ...]]:
    return sorted((a.rule_id, a.level, a.host, a.group_key, a.count, a.state, a.kind)
                  for a in store.list_alerts(None, None, None, None, 100))


def untimed(points: list[Point]) -> list[tuple[object, ...]]:
    return sorted((p.measurement, tuple(sorted(p.tags.items())), tuple(sorted(p.fields.items())))
                  for p in points if p.measurement in (SNMP_TRAP.name, INTERFACE.name))


def test_v2c_and_v3_informs_answered_after_store_and_stored_once(rig: Rig) -> None:
    # snmpinform exits 0 only once answered: check=True fails the test otherwise
    inform(rig.snmp_dir, v2c_link_down(rig.target))
    # v3: snmpinform first discovers the receiver's engine id (it is the authoritative engine)
    inform(rig.snmp_dir, v3_cold_start(rig.target))
    # a try unanswered within its timeout (a loaded machine) is resent: answered, not published
    wait_until(lambda: (c := rig.counters())["informs_answered"] == 2 + c["inform_copies"], 30,
               what="every try answered")
    rig.committed(2)
    rig.decoder.receiver.flush()
    got = untimed(rig.sink.points)
    (p1, a1), (p2, a2) = (one_machine(rig.tmp, v2c_link_down("TARGET")),
                          one_machine(rig.tmp, v3_cold_start("TARGET")))
    assert got == sorted(p1 + p2)
    assert len(got) == 3  # the linkDown's trap and interface points, the coldStart's trap point
    assert rig.alerts() == sorted(a1 + a2)
    assert [a[4] for a in rig.alerts()] == [1, 1]  # counts
    assert rig.decoder.receiver.counters.get("informs") == 2


def test_resent_inform_is_answered_again_and_stored_once(rig: Rig) -> None:
    """A sender whose answer was lost resends the same datagram (same request-id)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink_sock:
        sink_sock.bind((LOOPBACK, 0))
        # a real snmpinform datagram, captured by a port that never answers
        inform(rig.snmp_dir, v2c_link_down(f"{LOOPBACK}:{sink_sock.getsockname()[1]}"),
               check=False, retries=0, timeout=1)
        sink_sock.settimeout(30)
        datagram, _ = sink_sock.recvfrom(65535)
    assert answerable(datagram)
    host, port = rig.receiver.addresses()["traps"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOOPBACK, 0))
        s.settimeout(30)
        answers = []
        for _ in range(3):
            s.sendto(datagram, (host, port))
            answers.append(s.recvfrom(65535)[0])  # each copy is answered
    sent = ber.decode(datagram, asn1Spec=v2c.Message())[0]
    for answer in answers:  # a Response-PDU to that request-id, with its variable bindings (RFC 3416 4.2.7)
        msg = ber.decode(answer, asn1Spec=v2c.Message())[0]
        pdu, req = v2c.apiMessage.get_pdu(msg), v2c.apiMessage.get_pdu(sent)
        assert pdu.tagSet == v2c.ResponsePDU.tagSet
        assert v2c.apiPDU.get_request_id(pdu) == v2c.apiPDU.get_request_id(req)
        assert int(v2c.apiPDU.get_error_status(pdu)) == 0
        assert v2c.apiPDU.get_varbinds(pdu) == v2c.apiPDU.get_varbinds(req)
        assert v2c.apiMessage.get_community(msg) == COMMUNITY.encode()
    c = rig.counters()
    assert (c["informs_answered"], c["inform_copies"]) == (3, 2)
    rig.committed(1)  # one message on the bus
    rig.decoder.receiver.flush()
    assert rig.alerts() == one_machine(rig.tmp, v2c_link_down("TARGET"))[1]
    assert len(rig.sink.of(SNMP_TRAP.name)) == 1


def test_bus_down_inform_unanswered_then_stored_once(tmp_path: Path, server: NatsCluster,
                                                     trap_env: None) -> None:
    r = make_rig(tmp_path, server)
    r.receiver.start()  # the bus is not there yet: the receiver starts anyway
    try:
        # 1 + 2 tries each, none answered: each inform waits in memory, its copies are not queued
        # again; the v3 sender's engine-id discovery is answered (a Report needs no storing)
        assert inform(r.snmp_dir, v2c_link_down(r.target), check=False, retries=2, timeout=2) != 0
        assert inform(r.snmp_dir, v3_cold_start(r.target), check=False, retries=2, timeout=2) != 0
        c = r.counters()
        assert (c["informs_answered"], c["inform_copies"]) == (0, 4)
        assert c["unknown_engine_id"] >= 1  # the discovery (resent only if its Report came late)
        assert r.receiver.publisher.buffer.size == 0  # never in the disk buffer
        server.start()
        r.decoder.start()
        r.committed(2)
        r.decoder.receiver.flush()
        # published once the bus was back, and every copy answered then (the senders had given up)
        wait_until(lambda: r.counters()["informs_answered"] == 6, 30, what="the late answers")
        (p1, a1), (p2, a2) = (one_machine(tmp_path, v2c_link_down("TARGET")),
                              one_machine(tmp_path, v3_cold_start("TARGET")))
        assert r.alerts() == sorted(a1 + a2)
        assert untimed(r.sink.points) == sorted(p1 + p2)
        # a new inform is now answered at once
        inform(r.snmp_dir, ["-v", "2c", "-c", COMMUNITY, r.target, "4300", COLD_START])
        assert r.counters()["informs_answered"] == 7
    finally:
        r.receiver.stop()
        r.decoder.stop()


def test_wrong_credentials_not_answered_and_counted(rig: Rig) -> None:
    bad_v2c = ["-v", "2c", "-c", "not-the-community", rig.target, "4200", COLD_START]
    assert inform(rig.snmp_dir, bad_v2c, check=False, retries=0, timeout=1) != 0
    bad_v3 = ["-v", "3", "-u", "trapuser", "-l", "authPriv", "-a", "SHA", "-A", "wrong-auth-pass",
              "-x", "AES", "-X", PRIV, rig.target, "4200", COLD_START]
    # a wrong digest is reported at once (usmStatsWrongDigests): the long timeout costs nothing and
    # keeps the discovery before it from timing out on a loaded machine
    assert inform(rig.snmp_dir, bad_v3, check=False, retries=0, timeout=20) != 0
    c = rig.counters()
    assert (c["informs_answered"], c["wrong_digest"]) == (0, 1)
    rig.committed(1)  # the v2c datagram, published for the decoder to refuse; the v3 one is not
    wait_until(lambda: rig.decoder.receiver.counters.get("bad_community") == 1, 30,
               what="the decoder's refusal")
    assert rig.sink.of(SNMP_TRAP.name) == []


@pytest.mark.parametrize(("tool", "args", "want"), [
    ("snmptrap", ["-v", "1", "-c", COMMUNITY, "TARGET", "1.3.6.1.4.1.9", "127.0.0.1", "0", "0", "1"], False),
    ("snmptrap", ["-v", "2c", "-c", COMMUNITY, "TARGET", "1", COLD_START], False),
    ("snmpinform", ["-v", "2c", "-c", COMMUNITY, "TARGET", "1", COLD_START], True),
    ("snmptrap", [*V3, "-e", f"0x{ENGINE_ID}", "TARGET", "1", COLD_START], False),
    ("snmpinform", [*V3, "-e", "0x80000000010203bbbb", "TARGET", "1", COLD_START], True),  # the inform
    ("snmpinform", [*V3, "TARGET", "1", COLD_START], True),  # the engine-id discovery probe
])
def test_answerable_reads_the_clear_headers(tmp_path: Path, tool: str, args: list[str], want: bool) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOOPBACK, 0))
        s.settimeout(30)
        target = f"{LOOPBACK}:{s.getsockname()[1]}"
        net_snmp(tool, ["-t", "1", "-r", "0", *[target if a == "TARGET" else a for a in args]], tmp_path,
                 check=tool == "snmptrap")
        datagram, _ = s.recvfrom(65535)
    assert answerable(datagram) is want
    for cut in range(len(datagram)):  # never raises on a truncated message
        answerable(datagram[:cut])


def test_decoder_counts_an_unreadable_v3_inform_record(tmp_path: Path, trap_env: None,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    """A `v3inform/` record that is not what a receiver writes: one line naming the sender,
    counted `malformed`; the good record after it is mapped; a stranger is refused."""
    bus = BusConfig(url="nats://127.0.0.1:1", trap_partitions=PARTITIONS)
    sink = MemorySink()
    with AlertStore(tmp_path / "bus.db") as store:
        rec = TrapReceiver(traps_config(resolve_ifname=False), inventory(), None, base_dir=tmp_path,
                           store=store)
        handler = TrapDecoderHandler(rec, bus, sink)
        asyncio.run(handler.acquire(0))
        good = RawTrap("3", "trapuser", [("1.3.6.1.2.1.1.3.0", "TimeTicks", 5),
                                         ("1.3.6.1.6.3.1.1.4.1.0", "ObjectIdentifier", COLD_START)], True)
        handler.handle_batch(0, [(1, [(b'{"version": "3"', "v3inform/127.0.0.1", 1.0),
                                      (encode_v3(good), "v3inform/127.0.0.1", 2.0),
                                      (encode_v3(good), "v3inform/127.9.9.9", 3.0)])])
        asyncio.run(handler.commit(0, True))
        c = rec.counters.snapshot()
        assert (c["malformed"], c["traps"], c["informs"], c["unknown_source"]) == (1, 1, 1, 1)
        [p] = sink.of(SNMP_TRAP.name)
        assert (p.tags["event"], p.tags["version"], p.time_ns) == ("cold_start", "3", 2_000_000_000)
        lines = [r.getMessage() for r in caplog.records if "unreadable" in r.getMessage()]
        assert len(lines) == 1 and "127.0.0.1" in lines[0]


def test_v3_inform_record_round_trip() -> None:
    trap = RawTrap("3", "trapuser", [("1.3.6.1.2.1.1.3.0", "TimeTicks", 5),
                                     ("1.3.6.1.6.3.1.1.4.1.0", "ObjectIdentifier", COLD_START),
                                     ("1.3.6.1.4.1.1.1", "OctetString", "s\u1ea1n \"x\"")], True)
    assert decode_v3(encode_v3(trap)) == trap
    with pytest.raises((ValueError, KeyError, TypeError)):
        decode_v3(b'{"version": "3"}')


def captured_inform(snmp_dir: Path, args: list[str]) -> bytes:
    """The first datagram of a real `snmpinform` (`TARGET` in args), caught by a port that never
    answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOOPBACK, 0))
        s.settimeout(30)
        target = f"{LOOPBACK}:{s.getsockname()[1]}"
        inform(snmp_dir, [target if a == "TARGET" else a for a in args], check=False, retries=0, timeout=1)
        return s.recvfrom(65535)[0]


def test_copies_window_and_no_room(tmp_path: Path, trap_env: None) -> None:
    """The copies' memory on its own (no bus): a fake publisher whose acknowledgement the test
    gives, a clock the test moves."""
    snmp_dir = tmp_path / "snmp"
    snmp_dir.mkdir()
    datagram = captured_inform(snmp_dir, v2c_link_down("TARGET"))
    other = captured_inform(snmp_dir, v2c_link_down("TARGET"))  # another inform: its own request-id
    third = captured_inform(snmp_dir, v2c_link_down("TARGET"))
    assert len({v2c_request_id(d) for d in (datagram, other, third)}) == 3
    now = [1000.0]
    submitted: list[tuple[Record, Callable[[], None]]] = []
    room = [True]
    sent: list[tuple[bytes, tuple[str, int]]] = []

    def submit(record: Record, done: Callable[[], None]) -> bool:
        if room[0]:
            submitted.append((record, done))
        return room[0]
    counters = Counters(TRAP_RECEIVER, only=("received", "queue_dropped", "informs_answered", "inform_copies",
                                             *V3_REFUSALS))
    ans = InformAnswerer(traps_config(), tmp_path, submit, lambda *_a: True,
                         lambda m, a: sent.append((m, a)), counters, clock=lambda: now[0])
    sender = ("127.0.0.1", 40000)
    assert ans.handle(datagram, sender, 1.0) and len(submitted) == 1 and sent == []
    assert submitted[0][0] == (datagram, "127.0.0.1", 1.0)  # v2c: published as it came
    assert ans.handle(datagram, sender, 2.0) and len(submitted) == 1 and sent == []  # waiting: not again
    submitted[0][1]()  # stored: both tries answered
    assert [a for _m, a in sent] == [sender, sender]
    assert ans.handle(datagram, sender, 3.0) and len(submitted) == 1 and len(sent) == 3  # answered at once
    assert (counters.get("informs_answered"), counters.get("inform_copies")) == (3, 2)
    assert ans.handle(other, sender, 4.0) and len(submitted) == 2  # not a copy
    now[0] += DEDUP_WINDOW_S + 1  # the first is forgotten: the same bytes are a new inform now
    assert ans.handle(datagram, sender, 5.0) and len(submitted) == 3
    room[0] = False  # the publisher's queue is full: not answered, not remembered
    assert not ans.handle(third, sender, 6.0)
    room[0] = True
    assert ans.handle(third, sender, 7.0) and len(submitted) == 4


def test_unset_secret_is_a_start_error_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The receiver resolves `traps:` secrets to answer informs: an unset one stops the start,
    named, before anything (publisher thread, socket) is started."""
    for k in ENV:
        monkeypatch.delenv(k, raising=False)
    bus = BusConfig(url="nats://127.0.0.1:1", trap_partitions=PARTITIONS)
    receiver = BusReceiver(bus, None, None, tmp_path / "buffer", "r1", traps=traps_config(),
                           base_dir=tmp_path)
    with pytest.raises(SecretError) as err:
        receiver.start()
    assert "traps.communities[0]" in str(err.value) and "NOCSOC_TEST_TRAP_COMMUNITY" in str(err.value)
    assert receiver.publisher._loop is None and receiver.traps is not None and receiver.traps._sock is None
