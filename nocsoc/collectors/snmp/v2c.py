"""A lean SNMPv2c GET/GETBULK client: BER by hand, one UDP socket per device.

Deliberately hand-written (the project prefers libraries): pysnmp decodes replies with pyasn1,
which builds an object per TLV; profiling the poller showed ~2/3 of its CPU in that decoder
(~10k varbinds per CPU-second on this machine, the issue's floor). SNMPv2c needs only a few
BER types and no cryptography, so this module encodes requests and decodes responses directly
from bytes. SNMPv3 (USM authentication and privacy) stays with pysnmp, where a vetted library
matters more than speed. The decoder is checked against pysnmp's encoder in the tests, and the
poller's v2c and v3 paths are compared on the same real snmpd.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Sequence
from typing import Any

# Values that stand for "no value": they end a column walk or mark a missing object.
NO_SUCH_OBJECT = object()
NO_SUCH_INSTANCE = object()
END_OF_MIB_VIEW = object()
_EXCEPTIONS = {0x80: NO_SUCH_OBJECT, 0x81: NO_SUCH_INSTANCE, 0x82: END_OF_MIB_VIEW}
ERROR_STATUS = {
    0: "noError",
    1: "tooBig",
    2: "noSuchName",
    3: "badValue",
    4: "readOnly",
    5: "genErr",
    6: "noAccess",
    7: "wrongType",
    8: "wrongLength",
    9: "wrongEncoding",
    10: "wrongValue",
    11: "noCreation",
    12: "inconsistentValue",
    13: "resourceUnavailable",
    14: "commitFailed",
    15: "undoFailed",
    16: "authorizationError",
    17: "notWritable",
    18: "inconsistentName",
}

VarBind = tuple[tuple[int, ...], Any]


class BerError(ValueError):
    """A reply that is not valid BER / SNMP (named with what was expected)."""


# ---- encoding ----------------------------------------------------------------------------------
def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes((tag,)) + _length(len(content)) + content


def _int(value: int) -> bytes:
    return _tlv(0x02, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True))


def encode_oid(oid: Sequence[int]) -> bytes:
    if len(oid) < 2:
        raise ValueError(f"OID {oid} needs at least two arcs")
    out = bytearray((oid[0] * 40 + oid[1],))
    for arc in oid[2:]:
        if arc < 0x80:
            out.append(arc)
            continue
        chunk = []
        while arc:
            chunk.append(arc & 0x7F)
            arc >>= 7
        chunk.reverse()
        out += bytes(c | 0x80 for c in chunk[:-1]) + bytes((chunk[-1],))
    return _tlv(0x06, bytes(out))


def encode_request(
    community: bytes, request_id: int, oids: Sequence[Sequence[int]], bulk: tuple[int, int] | None
) -> bytes:
    """A v2c GetRequest (bulk=None) or GetBulkRequest (bulk=(non-repeaters, max-repetitions))."""
    vbl = _tlv(0x30, b"".join(_tlv(0x30, encode_oid(o) + b"\x05\x00") for o in oids))
    if bulk is None:
        pdu = _tlv(0xA0, _int(request_id) + _int(0) + _int(0) + vbl)
    else:
        pdu = _tlv(0xA5, _int(request_id) + _int(bulk[0]) + _int(bulk[1]) + vbl)
    return _tlv(0x30, _int(1) + _tlv(0x04, community) + pdu)


# ---- decoding ----------------------------------------------------------------------------------
def ber_header(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the TLV at pos."""
    try:
        tag = data[pos]
        n = data[pos + 1]
        pos += 2
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(data[pos : pos + k], "big")
            pos += k
    except IndexError:
        raise BerError("truncated TLV") from None
    end = pos + n
    if end > len(data):
        raise BerError("TLV longer than the datagram")
    return tag, pos, end


def request_id_element(data: bytes) -> tuple[int, int, int]:
    """(tag, content start, content end) of a v1/v2c message's request-id: it sits at a fixed
    depth (message, version, community, PDU), so only those headers are read."""
    _, pos, _ = ber_header(data, 0)
    _, _, pos = ber_header(data, pos)
    _, _, pos = ber_header(data, pos)
    _, pos, _ = ber_header(data, pos)
    return ber_header(data, pos)


def decode_oid(content: bytes) -> tuple[int, ...]:
    if not content:
        raise BerError("empty OID")
    first = content[0]
    arcs = [first // 40, first % 40] if first < 80 else [2, first - 80]
    value = 0
    for b in content[1:]:
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(value)
            value = 0
    return tuple(arcs)


def _value(tag: int, content: bytes) -> Any:
    if tag == 0x02:  # INTEGER (signed)
        return int.from_bytes(content, "big", signed=True)
    if tag in (0x41, 0x42, 0x43, 0x46, 0x47):  # Counter32, Gauge32, TimeTicks, Counter64, UInteger32
        return int.from_bytes(content, "big")
    if tag == 0x04 or tag == 0x44:  # OCTET STRING, Opaque
        return bytes(content)
    if tag == 0x06:
        return ".".join(map(str, decode_oid(content)))
    if tag == 0x40:  # IpAddress
        return ".".join(map(str, content))
    if tag == 0x05:
        return None
    if tag in _EXCEPTIONS:
        return _EXCEPTIONS[tag]
    raise BerError(f"unknown value type 0x{tag:02x}")


def decode_response(data: bytes) -> tuple[int, int, int, list[VarBind]]:
    """(request-id, error-status, error-index, varbinds) of a v2c Response PDU."""
    tag, pos, _end = ber_header(data, 0)
    if tag != 0x30:
        raise BerError("not an SNMP message (no SEQUENCE)")
    tag, s, pos = ber_header(data, pos)  # version
    tag, s, pos = ber_header(data, pos)  # community
    tag, pos, _pdu_end = ber_header(data, pos)
    if tag != 0xA2:
        raise BerError(f"expected a Response PDU, got tag 0x{tag:02x}")
    fields = []
    for _ in range(3):
        tag, s, pos = ber_header(data, pos)
        fields.append(int.from_bytes(data[s:pos], "big", signed=True))
    tag, pos, vbl_end = ber_header(data, pos)
    out: list[VarBind] = []
    while pos < vbl_end:
        _, vb_start, vb_end = ber_header(data, pos)
        _, os_, oe = ber_header(data, vb_start)
        vtag, vs, ve = ber_header(data, oe)
        out.append((decode_oid(data[os_:oe]), _value(vtag, data[vs:ve])))
        pos = vb_end
    return fields[0], fields[1], fields[2], out


# ---- transport ---------------------------------------------------------------------------------
class _Protocol(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.waiting: dict[int, asyncio.Future[tuple[float, bytes]]] = {}
        self.malformed = 0

    def datagram_received(self, data: bytes, addr: Any) -> None:
        t = time.time()  # before the reply queues behind other work on the loop
        try:
            _, s, e = request_id_element(data)
            request_id = int.from_bytes(data[s:e], "big", signed=True)
        except BerError:
            self.malformed += 1
            return
        future = self.waiting.pop(request_id, None)
        if future is not None and not future.done():
            future.set_result((t, data))


_request_ids = itertools.count(int(time.time()) & 0x3FFFFFFF)


class V2cClient:
    """One device's v2c transport: a connected UDP socket, request-ids, timeout and retries."""

    def __init__(self, host: str, port: int, community: str, timeout_s: float, retries: int) -> None:
        self.host, self.port = host, port
        self.community = community.encode()
        self.timeout_s, self.retries = timeout_s, retries
        self._transport: asyncio.DatagramTransport | None = None
        self._protocol: _Protocol | None = None

    async def _open(self) -> tuple[asyncio.DatagramTransport, _Protocol]:
        if self._transport is None or self._protocol is None or self._transport.is_closing():
            loop = asyncio.get_running_loop()
            transport, protocol = await loop.create_datagram_endpoint(
                _Protocol, remote_addr=(self.host, self.port)
            )
            self._transport, self._protocol = transport, protocol
        return self._transport, self._protocol

    async def request(
        self, oids: Sequence[Sequence[int]], bulk: tuple[int, int] | None
    ) -> tuple[float, int, int, list[VarBind]] | None:
        """(receive time, error-status, error-index, varbinds), or None after every retry timed out."""
        transport, protocol = await self._open()
        request_id = next(_request_ids) & 0x7FFFFFFF
        message = encode_request(self.community, request_id, oids, bulk)
        loop = asyncio.get_running_loop()
        for _attempt in range(self.retries + 1):
            future: asyncio.Future[tuple[float, bytes]] = loop.create_future()
            protocol.waiting[request_id] = future
            transport.sendto(message)
            try:
                t, data = await asyncio.wait_for(future, self.timeout_s)
            except TimeoutError:
                continue
            finally:
                protocol.waiting.pop(request_id, None)
            _rid, status, index, varbinds = decode_response(data)
            return t, status, index, varbinds
        return None

    @property
    def malformed(self) -> int:
        """Datagrams from the agent that were not valid SNMP BER (dropped, counted)."""
        return self._protocol.malformed if self._protocol is not None else 0

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
