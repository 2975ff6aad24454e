"""SNMPv2c informs through the bus: a receiver answers an inform once JetStream has stored it.

On one machine the trap receiver answers an inform from its own socket. A receiver on the bus
does not decode traps (the decoder does, `nocsoc.bus.traps`), so it recognises a v2c inform by
its message header alone, hands the datagram to the publisher as a record its sender waits on
(`BusPublisher.submit_acked`, as Winlogbeat batches are), and sends the Response-PDU only once
the bus has stored it: an inform answered is an inform the decoders will see, whatever happens
to this receiver after. While the bus is away nothing is answered and the sender resends.

A resent copy (the sender's retry, identical bytes from the same address and port) is not
published twice: while the first is waiting it is dropped (`inform_resends`), and after it
was stored it is answered again at once (the first answer was lost). Copies are remembered for
RESEND_MEMORY_S.

The response (RFC 3416 4.2.7) is the inform's message with a Response-PDU: same version,
community, request-id and variable-bindings, error-status and error-index 0; built by pysnmp.
The receiver answers what it stored, not what a decoder accepts: a community or a sender the
decoder refuses (`bad_community`, `unknown_source`) has been answered all the same, as a
Winlogbeat batch is acknowledged before it is parsed.

SNMPv3 informs are not answered through the bus: the response must come from the receiver's
own USM engine, with the users' keys and time windows the decoders hold; they are published as
traps (the sender resends each until its retries run out, and each copy counts). Send v3 informs
to a `--role all` machine, or v3 traps.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

RESEND_MEMORY_S = 120.0
MAX_REMEMBERED = 10_000
_INFORM_TAG = 0xA6  # InformRequest-PDU, [6] IMPLICIT, constructed


def _tlv(data: bytes, i: int) -> tuple[int, int, int]:
    """(tag, start of the value, end of the value) of the BER element at `i`; ValueError past
    the end or with an indefinite or over-long length."""
    tag = data[i]
    n = data[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 4:
            raise ValueError("length")
        n = int.from_bytes(data[i:i + k], "big")
        i += k
    if i + n > len(data):
        raise ValueError("truncated")
    return tag, i, i + n


def v2c_inform(data: bytes) -> bool:
    """Whether `data` is an SNMPv2c message carrying an InformRequest-PDU. Three BER headers are
    read (message SEQUENCE, version, community) and the PDU's tag: a receiver does not decode
    traps, and the other datagrams must cost next to nothing."""
    try:
        tag, i, end = _tlv(data, 0)
        if tag != 0x30 or end != len(data):
            return False
        tag, vs, ve = _tlv(data, i)
        if tag != 0x02 or data[vs:ve] != b"\x01":  # version: 1 = v2c
            return False
        tag, _cs, ce = _tlv(data, ve)
        if tag != 0x04:
            return False
        return data[ce] == _INFORM_TAG
    except (IndexError, ValueError):
        return False


def inform_response(data: bytes) -> bytes:
    """The Response-PDU message answering the v2c inform `data` (pysnmp)."""
    from pyasn1.codec.ber import decoder, encoder
    from pysnmp.proto import api

    v2c = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
    req, _rest = decoder.decode(data, asn1Spec=v2c.Message())
    rsp = v2c.apiMessage.get_response(req)
    v2c.apiPDU.set_varbinds(v2c.apiMessage.get_pdu(rsp), v2c.apiPDU.get_varbinds(v2c.apiMessage.get_pdu(req)))
    return bytes(encoder.encode(rsp))


class InformMemory:
    """The informs in flight and lately stored, by (sender address, port, datagram)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: OrderedDict[tuple[str, int, bytes], float | None] = OrderedDict()  # None: waiting

    def first(self, key: tuple[str, int, bytes]) -> str:
        """'new' (publish it), 'waiting' (a copy is on its way: drop this one) or 'stored'
        (answer again)."""
        now = time.monotonic()
        with self._lock:
            while self._seen:  # forget what is old (oldest first)
                k, at = next(iter(self._seen.items()))
                if (at is not None and now - at > RESEND_MEMORY_S) or len(self._seen) > MAX_REMEMBERED:
                    del self._seen[k]
                    continue
                break
            if key in self._seen:
                return "waiting" if self._seen[key] is None else "stored"
            self._seen[key] = None
            return "new"

    def stored(self, key: tuple[str, int, bytes]) -> None:
        with self._lock:
            self._seen.pop(key, None)
            self._seen[key] = time.monotonic()

    def failed(self, key: tuple[str, int, bytes]) -> None:
        """Not handed over (the queue stayed full): a resend is a new attempt."""
        with self._lock:
            self._seen.pop(key, None)
