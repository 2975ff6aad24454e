"""SNMPv2c informs through a bus receiver (nocsoc.bus.informs): answered once JetStream has
stored them, a resent copy not published twice, nothing answered while the bus is away.

The sender is Debian's real `snmpinform` (package snmp), which exits 0 only once it has the
response; the bus is one nats-server 2.9 JetStream node. Messages for the header check are
made with pysnmp."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
from pathlib import Path

import pytest
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api
from pysnmp.proto.rfc1902 import Integer, ObjectName, OctetString

from nocsoc.bus import envelope
from nocsoc.bus.config import BusConfig
from nocsoc.bus.informs import inform_response, v2c_inform
from nocsoc.bus.receiver import BusReceiver
from nocsoc.bus.transport import make_transport
from nocsoc.collectors.traps.config import TrapsConfig
from tests.servers.base import free_port, require_binary, wait_until
from tests.servers.nats import NatsSingle

V1, V2C = api.PROTOCOL_MODULES[api.SNMP_VERSION_1], api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
LINK_DOWN = "1.3.6.1.6.3.1.1.5.3"
IF_INDEX_1 = "1.3.6.1.2.1.2.2.1.1.1"


def _v2c(pdu_type: type, request_id: int = 4242, community: str = "public") -> bytes:
    pdu = pdu_type()
    V2C.apiPDU.set_defaults(pdu)
    V2C.apiPDU.set_request_id(pdu, request_id)
    V2C.apiPDU.set_varbinds(pdu, [(ObjectName("1.3.6.1.2.1.1.3.0"), V2C.TimeTicks(4200)),
                                  (ObjectName("1.3.6.1.6.3.1.1.4.1.0"), ObjectName(LINK_DOWN)),
                                  (ObjectName(IF_INDEX_1), Integer(1))])
    msg = V2C.Message()
    V2C.apiMessage.set_defaults(msg)
    V2C.apiMessage.set_community(msg, community)
    V2C.apiMessage.set_pdu(msg, pdu)
    return bytes(encoder.encode(msg))


def _v1_trap() -> bytes:
    pdu = V1.TrapPDU()
    V1.apiTrapPDU.set_defaults(pdu)
    msg = V1.Message()
    V1.apiMessage.set_defaults(msg)
    V1.apiMessage.set_community(msg, "public")
    V1.apiMessage.set_pdu(msg, pdu)
    return bytes(encoder.encode(msg))


def test_only_a_v2c_inform_is_recognised() -> None:
    inform = _v2c(V2C.InformRequestPDU)
    assert v2c_inform(inform)
    assert v2c_inform(_v2c(V2C.InformRequestPDU, community="x" * 300))  # a long-form length
    assert not v2c_inform(_v2c(V2C.SNMPv2TrapPDU))
    assert not v2c_inform(_v1_trap())
    assert not v2c_inform(inform[:-3])  # truncated
    assert not v2c_inform(inform + b"\x00")  # trailing bytes: not one message
    assert not v2c_inform(b"")
    assert not v2c_inform(b"\x30\x80\x02\x01\x01")  # indefinite length
    v3 = bytearray(inform)
    v3[4] = 3  # version 3: answered by a USM engine, not here
    assert not v2c_inform(bytes(v3))


def test_the_response_is_the_inform_answered() -> None:
    """RFC 3416 4.2.7: a Response-PDU with the inform's request-id, error-status and -index 0
    and the same variable-bindings, in a message of the same version and community."""
    inform = _v2c(V2C.InformRequestPDU, request_id=987654321, community="c0mm")
    rsp, rest = decoder.decode(inform_response(inform), asn1Spec=V2C.Message())
    req, _ = decoder.decode(inform, asn1Spec=V2C.Message())
    pdu, req_pdu = V2C.apiMessage.get_pdu(rsp), V2C.apiMessage.get_pdu(req)
    assert rest == b"" and pdu.isSameTypeWith(V2C.ResponsePDU())
    assert int(V2C.apiMessage.get_version(rsp)) == 1
    assert V2C.apiMessage.get_community(rsp) == OctetString("c0mm")
    assert int(V2C.apiPDU.get_request_id(pdu)) == 987654321
    assert (int(V2C.apiPDU.get_error_status(pdu)), int(V2C.apiPDU.get_error_index(pdu))) == (0, 0)
    assert [(str(o), v.prettyPrint()) for o, v in V2C.apiPDU.get_varbinds(pdu)] == \
        [(str(o), v.prettyPrint()) for o, v in V2C.apiPDU.get_varbinds(req_pdu)]


def _stream_records(bus: BusConfig) -> list[envelope.Record]:
    """Every record in the traps partition (one partition), read through the transport."""
    async def read() -> list[envelope.Record]:
        t = make_transport(bus, "test-consumer")
        await t.connect()
        try:
            await t.ensure("traps", 1)
            reader = await t.open_partition("traps", 0, 1)
            out: list[envelope.Record] = []
            try:
                while msgs := await reader.fetch(64, 2.0):
                    for m in msgs:
                        out += envelope.decode(m.data)
            finally:
                await reader.close()
            return out
        finally:
            await t.close()
    return asyncio.run(read())


@pytest.fixture
def nats_one(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = NatsSingle(tmp_path / "nats")
    s.start()
    yield s
    s.stop()


def _receiver(tmp_path: Path, url: str) -> tuple[BusReceiver, BusConfig]:
    bus = BusConfig(url=url, replicas=1, trap_partitions=1, stream_max_bytes=1 << 20)
    r = BusReceiver(bus, None, None, tmp_path / "buffer", "r1",
                    traps=TrapsConfig(enabled=True, bind=f"127.0.0.1:{free_port(socket.SOCK_DGRAM)}"))
    return r, bus


def test_snmpinform_gets_its_answer_once_the_bus_has_the_inform(tmp_path: Path, nats_one: NatsSingle) -> None:
    tool = require_binary("snmpinform", "snmp")
    receiver, bus = _receiver(tmp_path, nats_one.url)
    receiver.start()
    try:
        wait_until(lambda: receiver.publisher.connected, 30, what="the receiver on the bus")
        host, port = receiver.traps.address  # type: ignore[union-attr]
        snmp_dir = tmp_path / "snmp"
        snmp_dir.mkdir()
        # no retry: exit 0 means this one inform was answered
        done = subprocess.run([tool, "-v", "2c", "-c", "public", "-t", "30", "-r", "0", f"{host}:{port}",
                               "4200", LINK_DOWN, IF_INDEX_1, "i", "1"],
                              capture_output=True, timeout=60, text=True,
                              env={**os.environ, "MIBS": "", "SNMPCONFPATH": str(snmp_dir),
                                   "SNMP_PERSISTENT_DIR": str(snmp_dir)})
        assert done.returncode == 0, done.stderr
        c = receiver.traps.counters  # type: ignore[union-attr]
        assert (c.get("received"), c.get("informs_answered"), c.get("inform_resends")) == (1, 1, 0)
    finally:
        receiver.stop()
    (rec,) = _stream_records(bus)
    assert v2c_inform(rec[0]) and rec[1] == "127.0.0.1"


def test_a_resent_inform_is_answered_again_not_published_again(tmp_path: Path, nats_one: NatsSingle) -> None:
    receiver, bus = _receiver(tmp_path, nats_one.url)
    receiver.start()
    inform = _v2c(V2C.InformRequestPDU, request_id=77)
    try:
        wait_until(lambda: receiver.publisher.connected, 30, what="the receiver on the bus")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            s.settimeout(30)
            for _ in range(2):  # the sender did not get the first answer, say: it resends
                s.sendto(inform, receiver.traps.address)  # type: ignore[union-attr]
                assert s.recvfrom(65535)[0] == inform_response(inform)
        c = receiver.traps.counters  # type: ignore[union-attr]
        assert (c.get("received"), c.get("informs_answered"), c.get("inform_resends")) == (2, 2, 1)
    finally:
        receiver.stop()
    assert [r[0] for r in _stream_records(bus)] == [inform]


def test_nothing_is_answered_while_the_bus_is_away(tmp_path: Path) -> None:
    """The inform waits in memory (never the disk buffer: its sender resends what is not
    answered); a copy resent meanwhile is not queued twice."""
    receiver, _bus = _receiver(tmp_path, f"nats://127.0.0.1:{free_port()}")
    receiver.start()
    inform = _v2c(V2C.InformRequestPDU, request_id=78)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            for _ in range(2):
                s.sendto(inform, receiver.traps.address)  # type: ignore[union-attr]
            c = receiver.traps.counters  # type: ignore[union-attr]
            wait_until(lambda: c.get("received") == 2, 30, what="both copies read")
            s.settimeout(1.0)
            with pytest.raises(TimeoutError):
                s.recvfrom(65535)
        assert (c.get("informs_answered"), c.get("inform_resends")) == (0, 1)
        assert receiver.publisher.counters["traps"].get("records") == 1
    finally:
        receiver.stop()


pytestmark = pytest.mark.timeout(180)
