"""From a template's decoded columns to flow records: which elements say the flow, its volume and
its interfaces, when exporters say them in other elements than the usual ones.

The rules (the flows contract in docs/architecture.md states them too), each counted per exporter
when it applies (`counts`, names in stats.FIELDS):

- Interfaces: ingress/egressInterface (10/14); where a template has none, the physical ones
  (252/253, `if_fallback`).
- Volume: octet/packetDeltaCount (1/2), else the total counts (85/86), else the NSEL initiator
  counts (231/298), else enterprise octet counters (Procera's incoming + outgoing,
  `enterprise_octets`), else a sampled frame's dataLinkFrameSize (312) or IP length with one packet.
- A reverse direction (RFC 5103 reverse elements, NSEL responder counts) is a record of its own,
  addresses, ports and interfaces swapped (`reverse_records`).
- A template without addresses but with a header section (dataLinkFrameSection 315,
  ipHeaderPacketSection 313) takes the flow from it (headers.walk; `frame_sections`); a section
  that cannot be walked drops its record (`frame_errors`), one without IP too (`frame_not_ip`).
- Tunnel templates carry two address pairs (the same elements twice, or both families): the last
  non-zero pair in template order is the flow (the inner header) with the last ports and
  protocol; the earlier non-zero pair is kept as `tunnel_src`/`tunnel_dst` (`tunnel_records`).
- NAT translations (225-228, 281/282, ASA xlate) are kept as `nat_*` columns; records of a
  template with no volume element at all (NAT and firewall event logging, NSEL flow-created
  events) are events, not traffic: kept in batches of kind "event" that the rollup does not add
  (no 0-byte flows), and counted (`volume_missing`).
"""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence

import numpy as np

from nocsoc.collectors.flows import headers
from nocsoc.collectors.flows.records import V6

Cols = dict[str, np.ndarray]
Counts = dict[str, int]

_V4_MAPPED = b"\x00" * 10 + b"\xff\xff"
# the extra columns a FlowBatch carries beside the flow (records.FlowBatch.extra)
# the NAT and firewall-event columns, carried as they are decoded (as `x_<name>`)
_NAT_FW = (
    "nat_src",
    "nat_dst",
    "nat_src6",
    "nat_dst6",
    "nat_sport",
    "nat_dport",
    "nat_event",
    "fw_event",
)
EXTRA = ("tunnel_src", "tunnel_dst", *_NAT_FW, "reverse")
_PAIRS = {"4": ("src", "dst"), "6": ("src6", "dst6"), "i4": ("isrc", "idst"), "i6": ("isrc6", "idst6")}


def _ncols(cols: Cols) -> int:
    for v in cols.values():
        return int(v.shape[0])
    return 0


def _add(counts: Counts, name: str, n: int) -> None:
    if n:
        counts[name] = counts.get(name, 0) + n


def as_v6(a: np.ndarray) -> np.ndarray:
    """IPv4 (uint32) addresses as IPv4-mapped IPv6 (V16); V16 as they are."""
    if a.dtype == V6:
        return a
    raw = np.zeros((a.shape[0], 16), dtype=np.uint8)
    raw[:, 10:12] = 0xFF
    raw[:, 12:] = a.astype(">u4").view(np.uint8).reshape(-1, 4)
    return raw.view(V6).reshape(-1)


def _first(cols: Cols, *names: str) -> np.ndarray | None:
    for n in names:
        a = cols.get(n)
        if a is not None:
            return a
    return None


def records(
    cols: Cols, pair_order: Sequence[str], counts: Counts, vxlan: bool = False
) -> list[tuple[int, Cols]]:
    """The flow records of decoded template columns, as (IP version, columns) groups with the
    columns make_batch reads (src, dst, ports, proto, interfaces, bytes, packets, the per-record
    sampling ones) plus `x_`-prefixed extras (EXTRA)."""
    n = _ncols(cols)
    if n == 0:
        return []
    cols = dict(cols)
    for mine, phys in (("in_if", "in_phys"), ("out_if", "out_phys")):
        if mine not in cols and phys in cols:
            cols[mine] = cols[phys]
            _add(counts, "if_fallback", n)
    has_length = any(
        k in cols
        for k in ("bytes", "bytes_total", "init_bytes", "frame_size", "ent_in_bytes", "ent_out_bytes")
    )
    rev = _volumes(cols, n, counts)
    if rev is not None:
        cols["_rev_bytes"], cols["_rev_packets"] = rev
    for name in _NAT_FW:
        if name in cols:
            cols["x_" + name] = cols[name]
    if not pair_order and ("frame" in cols or "ip_section" in cols):
        groups = _sections(cols, n, counts, vxlan, has_length)
    else:
        groups = _pairs(cols, n, pair_order, counts)
    if rev is not None:
        groups = groups + _reverse(groups, counts)
    return groups


def _volumes(cols: Cols, n: int, counts: Counts) -> tuple[np.ndarray, np.ndarray] | None:
    """Sets cols bytes/packets by the volume rule; returns the reverse direction's (bytes,
    packets) when the records carry one."""
    b = _first(cols, "bytes", "bytes_total", "init_bytes")
    p = _first(cols, "packets", "packets_total", "init_packets")
    if b is None and ("ent_in_bytes" in cols or "ent_out_bytes" in cols):
        zero = np.zeros(n, dtype=np.uint64)
        b = cols.get("ent_in_bytes", zero).astype(np.uint64) + cols.get("ent_out_bytes", zero).astype(
            np.uint64
        )
        _add(counts, "enterprise_octets", n)
    sectioned = "frame" in cols or "ip_section" in cols
    if b is None and "frame_size" in cols:
        b = cols["frame_size"]
    if b is None and p is None and not sectioned:
        _add(counts, "volume_missing", n)
        cols["_event"] = np.ones(n, dtype=bool)  # an event, not traffic: its batch is kind "event"
    zeros = np.zeros(n, dtype=np.uint64)
    cols["bytes"] = b if b is not None else zeros
    cols["packets"] = p if p is not None else (np.ones(n, dtype=np.uint64) if sectioned else zeros)
    rb = _first(cols, "rev_bytes", "rev_bytes_total", "resp_bytes")
    rp = _first(cols, "rev_packets", "rev_packets_total", "resp_packets")
    if rb is None and rp is None:
        return None
    return (rb if rb is not None else zeros), (rp if rp is not None else zeros)


def _nonzero(a: np.ndarray) -> np.ndarray:
    if a.dtype == V6:
        return a != np.zeros(1, dtype=V6)[0]
    return a != 0


def _pairs(cols: Cols, n: int, pair_order: Sequence[str], counts: Counts) -> list[tuple[int, Cols]]:
    """One address pair: as it is. Several (tunnel templates, or both families): per record the
    last non-zero pair is the flow, the first non-zero one before it the tunnel."""
    if len(pair_order) <= 1:
        fam = 6 if pair_order == ("6",) else 4
        single: dict[str, np.ndarray | None] = dict(cols)
        if fam == 6:
            single["src"], single["dst"] = cols.get("src6"), cols.get("dst6")
        return [(fam, _clean(single))]
    present = []
    for p in pair_order:
        s, d = _PAIRS[p]
        nz = np.zeros(n, dtype=bool)
        for c in (s, d):
            if c in cols:
                nz |= _nonzero(cols[c])
        present.append(nz)
    chosen = np.zeros(n, dtype=np.int64)  # default: the first pair (all zero)
    for i, nz in enumerate(present):
        chosen[nz] = i
    tunnel = np.full(n, -1, dtype=np.int64)
    for i in range(len(pair_order) - 1, -1, -1):
        tunnel[present[i] & (i < chosen)] = i
    out: list[tuple[int, Cols]] = []
    for c_i in range(len(pair_order)):
        for t_i in range(-1, c_i):
            mask = (chosen == c_i) & (tunnel == t_i)
            if not mask.any():
                continue
            sub = {k: v[mask] for k, v in cols.items()}
            pair = pair_order[c_i]
            s, d = _PAIRS[pair]
            m = int(np.count_nonzero(mask))
            fam = 6 if pair.endswith("6") else 4
            if t_i >= 0:  # (before the flow's pair replaces src/dst)
                ts, td = _PAIRS[pair_order[t_i]]
                tfam = 6 if pair_order[t_i].endswith("6") else 4
                sub["x_tunnel_src"] = as_v6(_col(sub, ts, tfam, m))
                sub["x_tunnel_dst"] = as_v6(_col(sub, td, tfam, m))
            sub["src"], sub["dst"] = _col(sub, s, fam, m), _col(sub, d, fam, m)
            if t_i >= 0:
                for k in ("sport", "dport", "proto"):  # the inner header's, where it has its own
                    if "i" + k in sub:
                        sub[k] = sub["i" + k]
                _add(counts, "tunnel_records", m)
            out.append((fam, _clean(sub)))
    return out


def _col(cols: Cols, name: str, fam: int, n: int) -> np.ndarray:
    a = cols.get(name)
    if a is not None:
        return a
    return np.zeros(n, dtype=V6) if fam == 6 else np.zeros(n, dtype=np.uint32)


def _sections(cols: Cols, n: int, counts: Counts, vxlan: bool, has_len: bool) -> list[tuple[int, Cols]]:
    """Addresses, ports, protocol (and the length where no counter says it) from each record's
    header section; records whose section cannot be walked are dropped and counted."""
    name, start = ("frame", headers.ETHERNET) if "frame" in cols else ("ip_section", headers.IPV4)
    sections = cols[name]
    walked: list[headers.Walked | None] = []
    bad = not_ip = 0
    for raw in sections.tolist():
        data = bytes(raw) if raw is not None else b""
        s = start
        if s == headers.IPV4 and data and data[0] >> 4 == 6:
            s = headers.IPV6
        try:
            w = headers.walk(data, s, vxlan)
        except headers.HeaderError:
            w = None
            bad += 1
        else:
            if w is None:
                not_ip += 1
        walked.append(w)
    _add(counts, "frame_sections", n)
    _add(counts, "frame_errors", bad)
    _add(counts, "frame_not_ip", not_ip)
    out: list[tuple[int, Cols]] = []
    for fam in (4, 6):
        idx = [i for i, w in enumerate(walked) if w is not None and w.ip_version == fam]
        if not idx:
            continue
        ws = [w for w in walked if w is not None and w.ip_version == fam]
        sel = np.array(idx, dtype=np.int64)
        sub = {k: v[sel] for k, v in cols.items() if k not in ("frame", "ip_section")}
        if fam == 4:
            sub["src"] = np.array([int.from_bytes(w.src, "big") for w in ws], dtype=np.uint32)
            sub["dst"] = np.array([int.from_bytes(w.dst, "big") for w in ws], dtype=np.uint32)
        else:
            sub["src"] = np.frombuffer(b"".join(w.src for w in ws), dtype=V6)
            sub["dst"] = np.frombuffer(b"".join(w.dst for w in ws), dtype=V6)
        sub["sport"] = np.array([w.sport for w in ws], dtype=np.uint32)
        sub["dport"] = np.array([w.dport for w in ws], dtype=np.uint32)
        sub["proto"] = np.array([w.proto for w in ws], dtype=np.uint32)
        if not has_len:
            sub["bytes"] = np.array([w.ip_length for w in ws], dtype=np.uint64)
        if any(w.tunnel_src for w in ws):
            sub["x_tunnel_src"] = np.frombuffer(b"".join(mapped_v6(w.tunnel_src) for w in ws), dtype=V6)
            sub["x_tunnel_dst"] = np.frombuffer(b"".join(mapped_v6(w.tunnel_dst) for w in ws), dtype=V6)
            _add(counts, "vxlan_decapsulated", sum(bool(w.tunnel_src) for w in ws))
        out.append((fam, sub))
    return out


def mapped_v6(addr: bytes) -> bytes:
    if len(addr) == 4:
        return _V4_MAPPED + addr
    return addr if len(addr) == 16 else bytes(16)


def _reverse(groups: list[tuple[int, Cols]], counts: Counts) -> list[tuple[int, Cols]]:
    """The reverse direction of each record that has one (non-zero bytes or packets)."""
    out: list[tuple[int, Cols]] = []
    for fam, cols in groups:
        rb, rp = cols.get("_rev_bytes"), cols.get("_rev_packets")
        if rb is None or rp is None:
            continue
        has = (rb != 0) | (rp != 0)
        if not has.any():
            continue
        sub = {k: v[has] for k, v in cols.items()}
        zero = np.zeros(len(has), np.uint32)
        for a, b in (("src", "dst"), ("sport", "dport"), ("in_if", "out_if")):
            if a in sub or b in sub:
                sub[a], sub[b] = cols.get(b, zero)[has], cols.get(a, zero)[has]
        sub["bytes"], sub["packets"] = rb[has], rp[has]
        sub["x_reverse"] = np.ones(int(np.count_nonzero(has)), dtype=np.uint8)
        _add(counts, "reverse_records", int(np.count_nonzero(has)))
        out.append((fam, sub))
    return out


def _clean(cols: Mapping[str, np.ndarray | None]) -> Cols:
    return {k: v for k, v in cols.items() if v is not None}


def format_address(raw: bytes) -> str:
    """A V16 extra (IPv4-mapped for IPv4) as text: "192.0.2.1" or "2001:db8::1"; "" for zero."""
    if raw == bytes(16):
        return ""
    if raw[:12] == _V4_MAPPED:
        return socket.inet_ntop(socket.AF_INET, raw[12:])
    return socket.inet_ntop(socket.AF_INET6, raw)
