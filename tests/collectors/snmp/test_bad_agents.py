"""Agents that loop, answer wrong types or garbage: the poller finishes, counts, logs once.

A small agent (pysnmp's BER codec, by hand over UDP) answers every request in one bad way:
- `loop`: GETBULK answered with the OIDs that were asked (never advancing): a naive walk loops;
- `wrong-types`: every value an OCTET STRING of text (counters, statuses, sysObjectID);
- `garbage`: random bytes instead of SNMP.
"""

from __future__ import annotations

import logging
import random
import socket
import threading
from collections.abc import Iterator

import pytest
from pyasn1.codec.ber import decoder
from pysnmp.proto import api
from pysnmp.proto.rfc1902 import Integer32, OctetString
from pysnmp.proto.rfc1905 import EndOfMibView

from nocsoc.collectors.snmp.config import SnmpConfig
from nocsoc.collectors.snmp.poller import SnmpPoller
from nocsoc.inventory.model import Inventory
from nocsoc.sinks.memory import MemorySink
from tests.collectors.snmp.conftest import profiles
from tests.collectors.snmp.test_v2c_codec import response
from tests.servers.snmp import free_udp_port, loopback_net

P = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]


def _answer(mode: str, data: bytes, rng: random.Random) -> bytes:
    if mode == "garbage":
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 200)))
    msg, _ = decoder.decode(data, asn1Spec=P.Message())
    pdu = P.apiMessage.get_pdu(msg)
    rid = int(P.apiPDU.get_request_id(pdu))
    oids = [str(oid) for oid, _ in P.apiPDU.get_varbinds(pdu)]
    if mode == "loop":
        return response(rid, [(o, Integer32(1)) for o in oids])
    if pdu.tagSet != P.GetBulkRequestPDU.tagSet:
        return response(rid, [(o, OctetString(b"not a number\\")) for o in oids])
    # one row (index 7) per column, text where numbers belong, then the end of the MIB
    return response(
        rid,
        [
            (f"{o}.7", OctetString(b"not a number\\")) if not o.endswith(".7") else (o, EndOfMibView())
            for o in oids
        ],
    )


@pytest.fixture(params=["loop", "wrong-types", "garbage"])
def bad_agent(request: pytest.FixtureRequest) -> Iterator[tuple[str, int, str]]:
    host = f"{loopback_net()}.1"
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((host, free_udp_port(host)))
    sock.settimeout(0.2)
    stop = threading.Event()
    rng = random.Random(7)

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(65535)
            except OSError:
                continue
            sock.sendto(_answer(request.param, data, rng), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield host, sock.getsockname()[1], request.param
    stop.set()
    thread.join(2)
    sock.close()


def test_bad_agent_is_counted_and_logged_once(
    bad_agent: tuple[str, int, str], snmp_secrets: None, caplog: pytest.LogCaptureFixture
) -> None:
    host, port, mode = bad_agent
    inv = Inventory.model_validate(
        {
            "sites": [{"id": "dx", "name": "Đồng Xoài"}],
            # an agent that answers is given time on a loaded machine (0.3 s missed once in CI-like runs)
            "snmp_profiles": [{**profiles()[0], "timeout_s": 0.3 if mode == "garbage" else 3.0,
                               "retries": 0}],
            "devices": [
                {
                    "name": "odd",
                    "address": host,
                    "snmp_port": port,
                    "profile": "sim",
                    "role": "access",
                    "site": "dx",
                }
            ],
        }
    )
    sink = MemorySink()
    poller = SnmpPoller(SnmpConfig(), inv, sink)
    with caplog.at_level(logging.WARNING, logger="nocsoc.collectors.snmp.poller"):
        results = [poller.run_once()[0] for _ in range(3)]
    lines = [r.getMessage() for r in caplog.records if "odd" in r.getMessage()]
    polls = sink.of("snmp_poll")
    assert len(polls) == 3  # one per cycle, never two
    if mode == "garbage":
        assert all(not r.ok and r.error_kind == "malformed" for r in results)
        assert polls[-1].fields["bad_replies"] >= 3
        assert len(lines) == 1 and "malformed replies" in lines[0]  # once, not every cycle
    elif mode == "loop":
        # the walk stops at the first OID that does not advance: the cycle ends, answering
        assert all(r.ok for r in results) and not lines
        assert [p.fields["reachable"] for p in sink.of("device")] == [1, 1, 1]
    else:
        # text where numbers belong: no numbers invented, the tag value's trailing backslash made
        # safe (sysName, sysDescr are text), the device answers
        assert all(r.ok for r in results)
        assert all("\\" not in v for p in sink.points for v in p.tags.values())
        assert not [p for p in sink.of("interface") if "speed_mbps" in p.fields]
        assert polls[-1].fields["bad_rows"] > 0


def _too_big_agent_answer(data: bytes) -> bytes:
    """A table of rows 100..104 under every column asked; tooBig(1) for more than 2 repetitions."""
    from pysnmp.proto.rfc1902 import TimeTicks
    from pysnmp.proto.rfc1905 import NoSuchObject

    msg, _ = decoder.decode(data, asn1Spec=P.Message())
    pdu = P.apiMessage.get_pdu(msg)
    rid = int(P.apiPDU.get_request_id(pdu))
    oids = [tuple(oid) for oid, _ in P.apiPDU.get_varbinds(pdu)]
    if pdu.tagSet != P.GetBulkRequestPDU.tagSet:
        return response(rid, [(".".join(map(str, o)), NoSuchObject()) for o in oids])
    nonrep = int(P.apiBulkPDU.get_non_repeaters(pdu))
    reps = int(P.apiBulkPDU.get_max_repetitions(pdu))
    if reps > 2:
        return response(rid, [(".".join(map(str, o)), Integer32(0)) for o in oids], status=1, index=0)
    out: list[tuple[str, object]] = [("1.3.6.1.2.1.1.3.0", TimeTicks(100)) for _ in oids[:nonrep]]
    cursor = list(oids[nonrep:])
    for _ in range(reps):
        for i, o in enumerate(cursor):
            if o[-1] >= 104:
                out.append((".".join(map(str, o)), EndOfMibView()))
                continue
            nxt = (*o[:-1], o[-1] + 1) if o[-1] >= 100 else (*o, 100)
            cursor[i] = nxt
            out.append((".".join(map(str, nxt)), Integer32(1)))
    return response(rid, out)


def test_too_big_replies_are_asked_again_for_fewer_rows(snmp_secrets: None) -> None:
    host = f"{loopback_net()}.1"
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((host, free_udp_port(host)))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(65535)
            except OSError:
                continue
            sock.sendto(_too_big_agent_answer(data), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        inv = Inventory.model_validate(
            {
                "sites": [{"id": "dx", "name": "dx"}],
                "snmp_profiles": [{**profiles()[0], "timeout_s": 0.5, "retries": 0}],
                "devices": [
                    {
                        "name": "big",
                        "address": host,
                        "snmp_port": sock.getsockname()[1],
                        "profile": "sim",
                        "role": "access",
                        "site": "dx",
                    }
                ],
            }
        )
        sink = MemorySink()
        (result,) = SnmpPoller(SnmpConfig(areas=["interfaces"]), inv, sink).run_once()
    finally:
        stop.set()
        thread.join(2)
        sock.close()
    assert result.ok, result.error
    # all five rows read two at a time (every ifName is the integer 1 here: the later ones renamed)
    names = sorted(p.tags["ifname"] for p in sink.of("interface"))
    assert names == ["1", "1 #101", "1 #102", "1 #103", "1 #104"]
