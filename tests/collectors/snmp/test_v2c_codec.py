"""The lean v2c BER codec against pysnmp's own encoder and decoder (the reference)."""

from __future__ import annotations

import pytest
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api
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
from pysnmp.proto.rfc1905 import EndOfMibView, NoSuchInstance, NoSuchObject

from nocsoc.collectors.snmp import v2c

P = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]


def response(request_id: int, var_binds: list[tuple[str, object]], status: int = 0, index: int = 0) -> bytes:
    pdu = P.GetResponsePDU()
    P.apiPDU.set_defaults(pdu)
    P.apiPDU.set_request_id(pdu, request_id)
    P.apiPDU.set_error_status(pdu, status)
    P.apiPDU.set_error_index(pdu, index)
    P.apiPDU.set_varbinds(pdu, var_binds)
    msg = P.Message()
    P.apiMessage.set_defaults(msg)
    P.apiMessage.set_community(msg, "public")
    P.apiMessage.set_pdu(msg, pdu)
    return bytes(encoder.encode(msg))


def test_decodes_every_value_type_as_pysnmp_encodes_it() -> None:
    vbs = [
        ("1.3.6.1.2.1.1.3.0", TimeTicks(123456789)),
        ("1.3.6.1.2.1.1.5.0", OctetString(b"dx-core-1")),
        ("1.3.6.1.2.1.1.2.0", ObjectIdentifier("1.3.6.1.4.1.9.1.2494")),
        ("1.3.6.1.2.1.2.2.1.10.1", Counter32(4294967295)),
        ("1.3.6.1.2.1.31.1.1.1.6.1", Counter64(2**64 - 1)),
        ("1.3.6.1.2.1.31.1.1.1.6.2", Counter64(930157647946)),
        ("1.3.6.1.2.1.2.2.1.5.1", Gauge32(10**9)),
        ("1.3.6.1.2.1.99.1.1.1.4.1001", Integer32(-533)),
        ("1.3.6.1.2.1.4.20.1.1.10.0.0.1", IpAddress("10.0.0.1")),
        ("1.0.8802.1.1.2.1.4.1.1.9.0.1.1", OctetString(bytes(300))),  # long-form length
        ("1.3.6.1.4.1.200000.1.0", NoSuchObject("")),
        ("1.3.6.1.2.1.2.2.1.2.999", NoSuchInstance("")),
        ("1.3.6.1.2.1.99", EndOfMibView("")),
    ]
    rid, status, index, got = v2c.decode_response(response(0x7FFFFFF0, vbs))
    assert (rid, status, index) == (0x7FFFFFF0, 0, 0)
    assert [".".join(map(str, oid)) for oid, _ in got] == [o for o, _ in vbs]
    assert [v for _, v in got] == [
        123456789,
        b"dx-core-1",
        "1.3.6.1.4.1.9.1.2494",
        4294967295,
        2**64 - 1,
        930157647946,
        10**9,
        -533,
        "10.0.0.1",
        bytes(300),
        v2c.NO_SUCH_OBJECT,
        v2c.NO_SUCH_INSTANCE,
        v2c.END_OF_MIB_VIEW,
    ]


def test_error_status_is_returned() -> None:
    _, status, index, _ = v2c.decode_response(response(7, [("1.3.6.1.2.1.1.3.0", Integer32(0))], 5, 1))
    assert (status, index) == (5, 1) and v2c.ERROR_STATUS[status] == "genErr"


@pytest.mark.parametrize("bulk", [None, (1, 25)])
def test_request_encoding_is_what_pysnmp_decodes(bulk: tuple[int, int] | None) -> None:
    oids = [(1, 3, 6, 1, 2, 1, 1, 3), (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, 4294967295), (1, 0, 8802, 1, 1, 2)]
    raw = v2c.encode_request(b"public", 123456, oids, bulk)
    msg, rest = decoder.decode(raw, asn1Spec=P.Message())
    assert rest == b""
    assert str(P.apiMessage.get_community(msg)) == "public"
    pdu = P.apiMessage.get_pdu(msg)
    assert int(P.apiPDU.get_request_id(pdu)) == 123456
    assert [tuple(name) for name, _ in P.apiPDU.get_varbinds(pdu)] == oids
    if bulk is not None:
        assert int(P.apiBulkPDU.get_non_repeaters(pdu)) == 1
        assert int(P.apiBulkPDU.get_max_repetitions(pdu)) == 25


def test_malformed_reply_is_a_clear_error() -> None:
    with pytest.raises(v2c.BerError, match="not an SNMP message"):
        v2c.decode_response(b"\x04\x03abc")
    good = response(1, [("1.3.6.1.2.1.1.3.0", TimeTicks(1))])
    with pytest.raises(v2c.BerError):
        v2c.decode_response(good[:-3])
