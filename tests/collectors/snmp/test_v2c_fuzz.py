"""The hand-written v2c reply decoder on 120,000 broken replies: a clean BerError or a sane
result, never another exception (which would cost the device's cycle a traceback).

The seeds are real replies: pysnmp encodes GetResponse PDUs carrying the varbinds of the
recorded devices in tests/collectors/snmp/data (every SNMP value type appears), and each seed
is mutated with a seeded RNG: bytes flipped, inserted, deleted, the message cut short, length
bytes rewritten (short, long, long-form with many octets), tags swapped, regions duplicated.
"""

from __future__ import annotations

import random

from pysnmp.proto.rfc1902 import (
    Counter32,
    Counter64,
    Gauge32,
    Integer32,
    IpAddress,
    ObjectIdentifier,
    OctetString,
    TimeTicks,
)
from pysnmp.proto.rfc1905 import EndOfMibView

from nocsoc.collectors.snmp import v2c
from nocsoc.collectors.snmp.walkfile import parse_value
from tests.collectors.snmp.snmprec import DATA
from tests.collectors.snmp.test_v2c_codec import response

N = 120_000
_TYPES = {
    "2": Integer32,
    "4": OctetString,
    "6": ObjectIdentifier,
    "64": IpAddress,
    "65": Counter32,
    "66": Gauge32,
    "67": TimeTicks,
    "70": Counter64,
}


def seeds() -> list[bytes]:
    """Real replies: 12-varbind slices of the recorded devices, every value type pysnmp-encoded."""
    out = []
    for path in sorted(DATA.glob("*.snmprec")):
        lines = [line.split("|", 2) for line in path.read_text().splitlines() if line.count("|") >= 2]
        for start in range(0, len(lines), 97):
            vbs: list[tuple[str, object]] = []
            for oid, tag, value in lines[start : start + 12]:
                base = tag.split(":")[0].rstrip("x")
                if ":" in tag:  # snmpsim variation (rate=...): the value is generated
                    vbs.append((oid, Counter64(123456789)))
                elif base in _TYPES:
                    v = parse_value(tag, value)
                    t = _TYPES[base]
                    if base == "64":
                        vbs.append((oid, IpAddress(str(v))))
                    elif base == "6":
                        vbs.append((oid, ObjectIdentifier(str(v))))
                    else:
                        vbs.append((oid, t(v)))
            vbs.append(("1.3.6.1.2.1.2.2.1.99.1", EndOfMibView()))
            out.append(response(start + 1, vbs))
    return out


def mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(8)
        i = rng.randrange(len(b)) if b else 0
        if op == 0 and b:
            b[i] ^= 1 << rng.randrange(8)
        elif op == 1 and b:
            b[i] = rng.randrange(256)
        elif op == 2:
            b.insert(i, rng.randrange(256))
        elif op == 3 and b:
            del b[i : i + rng.randint(1, 8)]
        elif op == 4:
            del b[rng.randint(0, len(b)) :]
        elif op == 5 and b:  # a length byte rewritten: short, long, or long-form with many octets
            b[i] = rng.choice([0x00, 0x7F, 0x80, 0x81, 0x84, 0x8F, 0xFF, rng.randrange(256)])
        elif op == 6 and b:  # a tag swapped for another SNMP/BER tag
            b[i] = rng.choice(
                [
                    0x02,
                    0x04,
                    0x05,
                    0x06,
                    0x30,
                    0x40,
                    0x41,
                    0x42,
                    0x43,
                    0x44,
                    0x46,
                    0x47,
                    0x80,
                    0x81,
                    0x82,
                    0xA2,
                    0xA5,
                ]
            )
        elif op == 7 and b:
            j = rng.randrange(len(b))
            b[j:j] = b[i : i + rng.randint(1, 16)]
    return bytes(b)


def _sane(result: tuple[int, int, int, list[v2c.VarBind]]) -> None:
    rid, status, index, vbs = result
    assert isinstance(rid, int) and isinstance(status, int) and isinstance(index, int)
    for oid, value in vbs:
        assert isinstance(oid, tuple) and all(isinstance(a, int) for a in oid)
        assert (
            value is None
            or isinstance(value, (int, bytes, str))
            or value in (v2c.NO_SUCH_OBJECT, v2c.NO_SUCH_INSTANCE, v2c.END_OF_MIB_VIEW)
        )


def test_seeds_decode_as_pysnmp_encoded_them() -> None:
    s = seeds()
    assert len(s) >= 20
    for data in s:
        _rid, status, _index, vbs = v2c.decode_response(data)
        assert status == 0 and vbs[-1][1] is v2c.END_OF_MIB_VIEW


def test_mutated_replies_never_raise_anything_but_ber_error() -> None:
    rng = random.Random(20261206)
    base = seeds()
    protocol = v2c._Protocol()
    outcomes = {"decoded": 0, "rejected": 0}
    for n in range(N):
        data = mutate(rng, base[n % len(base)])
        try:
            result = v2c.decode_response(data)
        except v2c.BerError:
            outcomes["rejected"] += 1
        else:
            _sane(result)
            outcomes["decoded"] += 1
        protocol.datagram_received(data, ("127.0.0.1", 161))  # the request-id reader: never raises
    assert sum(outcomes.values()) == N
    # both paths exercised: many mutants still decode (a flipped value bit), many are refused
    assert outcomes["decoded"] > N // 20 and outcomes["rejected"] > N // 20, outcomes
    assert protocol.malformed > 0
