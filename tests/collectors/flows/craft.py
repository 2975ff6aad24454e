"""Hand-built NetFlow v5/v9, IPFIX and sFlow v5 datagrams for tests, byte by byte per the specs
(RFC 3954, RFC 7011, sflow.org/sflow_version_5.txt), so each test knows every value it sent."""

from __future__ import annotations

import socket
import struct
from collections.abc import Sequence

Field = tuple[int, int] | tuple[int, int, int]  # (type, length[, enterprise])


def v5(records: Sequence[dict], seq: int = 0, sampling: int = 0, engine: tuple[int, int] = (0, 0)) -> bytes:
    head = struct.pack(
        "!HHIIIIBBH", 5, len(records), 1000, 1_764_000_000, 0, seq, engine[0], engine[1], sampling
    )
    body = b""
    for r in records:
        body += struct.pack(
            "!4s4s4sHHIIIIHHBBBBHHBBH",
            socket.inet_aton(r["src"]),
            socket.inet_aton(r["dst"]),
            bytes(4),
            r.get("in_if", 0),
            r.get("out_if", 0),
            r["packets"],
            r["bytes"],
            0,
            0,
            r.get("sport", 0),
            r.get("dport", 0),
            0,
            0,
            r.get("proto", 6),
            0,
            0,
            0,
            0,
            0,
            0,
        )
    return head + body


def _set(set_id: int, body: bytes, pad_to: int = 4) -> bytes:
    pad = (-len(body) - 4) % pad_to
    return struct.pack("!HH", set_id, 4 + len(body) + pad) + body + bytes(pad)


def template_record(tid: int, fields: Sequence[Field], ipfix: bool) -> bytes:
    out = struct.pack("!HH", tid, len(fields))
    for f in fields:
        if len(f) == 3 and ipfix:
            out += struct.pack("!HHI", f[0] | 0x8000, f[1], f[2])
        else:
            out += struct.pack("!HH", f[0], f[1])
    return out


def v9_template_set(tid: int, fields: Sequence[Field]) -> bytes:
    return _set(0, template_record(tid, fields, ipfix=False))


def v9_options_template_set(tid: int, scope: Sequence[Field], options: Sequence[Field]) -> bytes:
    body = struct.pack("!HHH", tid, 4 * len(scope), 4 * len(options))
    for f in (*scope, *options):
        body += struct.pack("!HH", f[0], f[1])
    return _set(1, body)


def ipfix_template_set(tid: int, fields: Sequence[Field]) -> bytes:
    return _set(2, template_record(tid, fields, ipfix=True))


def ipfix_options_template_set(tid: int, scope: Sequence[Field], options: Sequence[Field]) -> bytes:
    body = struct.pack("!HHH", tid, len(scope) + len(options), len(scope))
    for f in (*scope, *options):
        if len(f) == 3:
            body += struct.pack("!HHI", f[0] | 0x8000, f[1], f[2])
        else:
            body += struct.pack("!HH", f[0], f[1])
    return _set(3, body)


def ipfix_withdrawal_set(tid: int, options: bool = False) -> bytes:
    return _set(3 if options else 2, struct.pack("!HH", tid, 0))


def encode_values(fields: Sequence[Field], values: Sequence[int | bytes]) -> bytes:
    out = b""
    for f, v in zip(fields, values, strict=True):
        length = f[1]
        if isinstance(v, bytes):
            if length == 0xFFFF:
                out += (bytes([len(v)]) if len(v) < 255 else b"\xff" + struct.pack("!H", len(v))) + v
            else:
                assert len(v) == length
                out += v
        else:
            out += v.to_bytes(length, "big")
    return out


def data_set(tid: int, fields: Sequence[Field], rows: Sequence[Sequence[int | bytes]]) -> bytes:
    return _set(tid, b"".join(encode_values(fields, r) for r in rows))


def v9(sets: Sequence[bytes], seq: int = 0, source_id: int = 0) -> bytes:
    return struct.pack("!HHIIII", 9, len(sets), 5000, 1_764_000_000, seq, source_id) + b"".join(sets)


def ipfix(sets: Sequence[bytes], seq: int = 0, domain: int = 0) -> bytes:
    body = b"".join(sets)
    return struct.pack("!HHIII", 10, 16 + len(body), 1_764_000_000, seq, domain) + body


def ip4(a: str) -> int:
    return int.from_bytes(socket.inet_aton(a), "big")


def ip6(a: str) -> bytes:
    return socket.inet_pton(socket.AF_INET6, a)


# --- sFlow v5 ------------------------------------------------------------------------------------


def _xdr_opaque(b: bytes) -> bytes:
    return struct.pack("!I", len(b)) + b + bytes(-len(b) % 4)


def sflow_raw_header_record(header: bytes, frame_length: int, protocol: int = 1) -> bytes:
    body = struct.pack("!III", protocol, frame_length, 4) + _xdr_opaque(header)
    return struct.pack("!II", 1, len(body)) + body


def sflow_flow_sample(
    seq: int,
    rate: int,
    in_if: int,
    out_if: int,
    records: Sequence[bytes],
    pool: int = 0,
    expanded: bool = False,
) -> bytes:
    if expanded:
        body = struct.pack("!IIIIIIIIIII", seq, 0, in_if, rate, pool, 0, 0, in_if, 0, out_if, len(records))
        fmt = 3
    else:
        body = struct.pack("!IIIIIIII", seq, in_if, rate, pool, 0, in_if, out_if, len(records))
        fmt = 1
    body += b"".join(records)
    return struct.pack("!II", fmt, len(body)) + body


def sflow_generic_counters(
    ifindex: int,
    speed: int,
    status: int,
    in_octets: int,
    in_ucast: int,
    in_mcast: int,
    in_bcast: int,
    in_disc: int,
    in_err: int,
    out_octets: int,
    out_ucast: int,
    out_mcast: int,
    out_bcast: int,
    out_disc: int,
    out_err: int,
) -> bytes:
    body = struct.pack(
        "!IIQIIQIIIIIIQIIIIII",
        ifindex,
        6,
        speed,
        1,
        status,
        in_octets,
        in_ucast,
        in_mcast,
        in_bcast,
        in_disc,
        in_err,
        0,
        out_octets,
        out_ucast,
        out_mcast,
        out_bcast,
        out_disc,
        out_err,
        0,
    )
    return struct.pack("!II", 1, len(body)) + body


def sflow_counter_sample(seq: int, source: int, records: Sequence[bytes]) -> bytes:
    body = struct.pack("!III", seq, source, len(records)) + b"".join(records)
    return struct.pack("!II", 2, len(body)) + body


def sflow_datagram(
    samples: Sequence[bytes], seq: int = 1, agent: str = "127.0.0.9", sub_agent: int = 0
) -> bytes:
    head = struct.pack("!II4sIIII", 5, 1, socket.inet_aton(agent), sub_agent, seq, 123456, len(samples))
    return head + b"".join(samples)


# --- options data announcing sampling rates --------------------------------------------------------

V9_SCOPE_SYSTEM, V9_SCOPE_INTERFACE = 1, 2  # RFC 3954 6.1 scope field types (not elements)
SAMPLING_INTERVAL = 34  # v9 SAMPLING_INTERVAL / IPFIX samplingInterval


def options_sets(version: int, tid: int, scope: Sequence[Field], options: Sequence[Field],
                 rows: Sequence[Sequence[int | bytes]]) -> list[bytes]:
    """An options template (v9 flowset 1 / IPFIX set 3) and a data set of it."""
    tset = ipfix_options_template_set if version == 10 else v9_options_template_set
    return [tset(tid, scope, options), data_set(tid, [*scope, *options], rows)]


def sampling_options(version: int, tid: int, scope_type: int, rates: dict[int, int]) -> list[bytes]:
    """Options announcing a samplingInterval per scope value: `scope_type` is a v9 scope field type
    (1 System, 2 Interface) or an IPFIX element (10 ingressInterface, 149 observationDomainId...),
    `rates` maps the scope value (an ifIndex, a domain id, 0 for the system) to 1-in-N."""
    return options_sets(version, tid, [(scope_type, 4)], [(SAMPLING_INTERVAL, 4)],
                        [[value, rate] for value, rate in rates.items()])


def netflow(version: int, sets: Sequence[bytes], seq: int = 0, domain: int = 0) -> bytes:
    """A v9 datagram (version 9, `domain` as its source id) or an IPFIX message (10)."""
    return ipfix(sets, seq=seq, domain=domain) if version == 10 else v9(sets, seq=seq, source_id=domain)
