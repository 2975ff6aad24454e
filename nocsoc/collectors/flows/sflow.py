"""sFlow v5 (sflow.org/sflow_version_5.txt): flow samples and counter samples.

A datagram belongs to the agent address in its header, not to its UDP source: sFlow is often sent
from a management or loopback address, relayed, or NATed (several agents behind one source), and
sequence numbers run per agent and sub-agent. So flow batches, counter samples, sequence loss and
every per-exporter counter are keyed by the agent address (the device's identity in sflowtool,
goflow2 and Akvorado), and the inventory is looked up by it. The UDP source is the key only when
the header names no agent: cut short or wrong before the address (a decode error of the UDP
source), or an unknown (type 0) or unspecified (0.0.0.0, ::) address.

Flow samples carry a sampled packet header: it is walked by headers.walk (Ethernet, VLAN tags,
MPLS, IPv4, IPv6 with extension headers, ports; VXLAN decapsulated when configured), the same
walker IPFIX header sections use. Interfaces keep sFlow's format bits: a discarded packet, several
output interfaces or an internal destination is ifIndex 0 with a forwarding status (extra
`fwd_status`), never its low bits read as a port. Drop samples (format 5, sflow_drops.txt) are
kept as drop records (kind "drop", extra `drop_reason`), never added to volumes. A sample that says
sampling rate 0 takes the inventory's `flow_sampling_rate` for the agent, else stays `unknown`.
Counter samples (generic interface counters) become `sflow_interface` points.
"""

from __future__ import annotations

import ipaddress
import logging
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from nocsoc.collectors.flows import headers
from nocsoc.collectors.flows.records import MAX_SCALED, SCALED, UNKNOWN, UNSAMPLED, V6, FlowBatch
from nocsoc.collectors.flows.sequence import SequenceTracker
from nocsoc.collectors.flows.stats import ExporterStats

log = logging.getLogger(__name__)

_U32 = struct.Struct("!I")
FLOW_SAMPLE, COUNTER_SAMPLE, FLOW_SAMPLE_EXPANDED, COUNTER_SAMPLE_EXPANDED = 1, 2, 3, 4
RAW_HEADER = 1
GENERIC_INTERFACE = 1
_GENERIC = struct.Struct("!IIQIIQIIIIIIQIIIIII")  # 88 bytes, sFlow v5 if_counters
HEADER_ETHERNET, HEADER_IPV4, HEADER_IPV6 = 1, 11, 12
DROP_SAMPLE = 5  # discarded_packet (sflow.org sflow_drops.txt)
MAX_SAMPLES = 1024
IF_INTERNAL = 0x3FFFFFFF
# forwarding status of a sample (FlowBatch.extra["fwd_status"]); drop records say FWD_DISCARDED
FWD_OK, FWD_INTERNAL, FWD_DISCARDED, FWD_MULTIPLE = 0, 1, 2, 3
_STATUS_COUNTER = {FWD_INTERNAL: "if_internal", FWD_DISCARDED: "if_discarded", FWD_MULTIPLE: "if_multiple"}
ADDRESS_UNKNOWN, ADDRESS_IPV4, ADDRESS_IPV6 = 0, 1, 2  # agent address types
MAX_RELAYED_LOGGED = 4096  # (agent, UDP source) pairs logged once each; beyond that, none


class SflowError(ValueError):
    pass


# bad input in a datagram: counted as a decode error and dropped, never raised out of decode_one
INPUT_ERRORS = (SflowError, struct.error, IndexError, ValueError)


@dataclass(slots=True)
class InterfaceCounters:
    """One generic interface counter record (raw counters as the agent sent them)."""

    exporter: str
    time: float
    ifindex: int
    speed_bps: int
    admin_up: bool
    oper_up: bool
    in_octets: int
    in_packets: int
    in_discards: int
    in_errors: int
    out_octets: int
    out_packets: int
    out_discards: int
    out_errors: int


class _Reader:
    """Bounds-checked XDR reader: every read names what overran."""

    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data, self.pos = data, pos
        self.end = len(data) if end is None else end

    def u32(self, what: str) -> int:
        if self.pos + 4 > self.end:
            raise SflowError(f"sFlow {what} runs past the end (offset {self.pos})")
        v = _U32.unpack_from(self.data, self.pos)[0]
        self.pos += 4
        return int(v)

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise SflowError(f"sFlow {what} of {n} bytes runs past the end (offset {self.pos})")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def sub(self, n: int, what: str) -> _Reader:
        if n < 0 or self.pos + n > self.end:
            raise SflowError(f"sFlow {what} length {n} runs past the end (offset {self.pos})")
        r = _Reader(self.data, self.pos, self.pos + n)
        self.pos += n
        return r


@dataclass(slots=True)
class _Flow:
    ip_version: int
    src: int | bytes
    dst: int | bytes
    sport: int
    dport: int
    proto: int
    length: int
    in_if: int
    out_if: int
    rate: int
    status: int = FWD_OK  # the output interface's (FWD_*); a drop sample's is FWD_DISCARDED
    drop_reason: int = -1  # drop samples: their reason code (sflow_drops.txt); -1 for flow samples
    tunnel_src: bytes = b""
    tunnel_dst: bytes = b""




# the names a record list's fields carry in error messages, made once (read per sample)
_RECORD_NAMES = {
    kind: (f"{kind} record count", f"{kind} records in one sample", f"{kind} record format",
           f"{kind} record length", f"{kind} record")
    for kind in ("flow", "counter")
}


def _records_of(r: _Reader, kind: str, wanted: int) -> Iterator[_Reader]:
    """The records of format `wanted` in a sample's record list (sFlow v5: count, then each as
    format, length, data); the others are read past. Iterate it to the end: `r` is left after the
    list only then."""
    count_name, too_many, fmt_name, len_name, rec_name = _RECORD_NAMES[kind]
    nrec = r.u32(count_name)
    if nrec > MAX_SAMPLES:
        raise SflowError(f"{nrec} {too_many}")
    for _ in range(nrec):
        fmt = r.u32(fmt_name)
        rec = r.sub(r.u32(len_name), rec_name)
        if fmt == wanted:
            yield rec


def interface(fmt: int, value: int) -> tuple[int, int]:
    """(ifIndex, forwarding status) of an sFlow interface (format 0 ifIndex, 1 discarded with a
    reason, 2 several interfaces with their count; value 0x3FFFFFFF: internal, e.g. to the
    agent itself). Only a format-0 value other than 0x3FFFFFFF is an interface: the others are
    ifIndex 0 with their status, never the low bits read as a port."""
    if fmt == 1:
        return 0, FWD_DISCARDED
    if fmt == 2:
        return 0, FWD_MULTIPLE
    if fmt != 0 or value == IF_INTERNAL:
        return 0, FWD_INTERNAL
    return value, FWD_OK


def read_agent(r: _Reader) -> str | None:
    """Version, then the agent address (type, then 4 or 16 bytes) as nocsoc writes addresses
    ("10.0.0.1", compressed IPv6); None for an unknown (type 0, no bytes) or unspecified address.
    Raises SflowError naming what is missing or wrong."""
    if (version := r.u32("version")) != 5:
        raise SflowError(f"not sFlow version 5 (version {version})")
    atype = r.u32("agent address type")
    if atype == ADDRESS_IPV4:
        addr: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.IPv4Address(
            r.take(4, "agent IPv4 address"))
    elif atype == ADDRESS_IPV6:
        addr = ipaddress.IPv6Address(r.take(16, "agent IPv6 address"))
    elif atype == ADDRESS_UNKNOWN:
        return None
    else:
        raise SflowError(f"agent address type {atype} (1 IPv4, 2 IPv6)")
    return None if addr.is_unspecified else str(addr)


Fallback = Callable[[str], int | None]  # exporter address -> the inventory's sampling rate


class SflowDecoder:
    """Decodes sFlow v5 datagrams; flow samples -> FlowBatch, counter samples -> `counters`.

    Everything is keyed by the agent address in the datagram (see the module docstring)."""

    def __init__(self, stats: ExporterStats | None = None, fallback: Fallback | None = None) -> None:
        """`fallback`: the inventory's sampling rate of an agent, for samples that say rate 0
        (`decode_one` may be given the collector's)."""
        self.stats = stats or ExporterStats()
        self.fallback = fallback
        self.sequences = SequenceTracker()  # keyed (agent, 0, sub-agent)
        self.counters: list[InterfaceCounters] = []
        self._relayed: set[tuple[str, str]] = set()  # (agent, UDP source) pairs already logged
        self._warned: set[str] = set()  # agents with rate-0 samples and no inventory rate
        self.vxlan = False  # decapsulate VXLAN in sampled headers (FlowsConfig.vxlan_decap)

    def decode(self, datagrams: list[tuple[bytes, str, float]]) -> list[FlowBatch]:
        """Datagrams as (payload, UDP source address, arrival time)."""
        out: list[FlowBatch] = []
        for data, source, t in datagrams:
            out.extend(self.decode_one(data, source, t))
        return out

    def take_counters(self) -> list[InterfaceCounters]:
        out, self.counters = self.counters, []
        return out

    def decode_one(self, data: bytes, source: str, t: float,
                   fallback: Fallback | None = None) -> list[FlowBatch]:
        """Decode one datagram and count it, once, under its agent address (under `source`, its
        UDP source address, when the header names no agent). Bad input is counted as a decode
        error and dropped: only a decoder bug raises. `fallback` overrides `self.fallback`."""
        r = _Reader(data)
        try:
            named = read_agent(r)
        except INPUT_ERRORS as exc:
            self.stats.add_many(source, "sflow", {"datagrams": 1, "decode_errors": 1})
            log.debug("dropped sFlow datagram from %s (no agent address): %s", source, exc)
            return []
        agent = named or source
        if agent != source:
            self._log_relayed(agent, source)
        counts = {"datagrams": 1}
        try:
            sub_agent = r.u32("sub-agent id")
            seq = r.u32("sequence number")
            r.u32("uptime")
            nsamples = r.u32("sample count")
            if nsamples > MAX_SAMPLES:
                raise SflowError(f"{nsamples} samples in one datagram")
            lost = self.sequences.observe((agent, 0, sub_agent), seq, 1)  # per agent, sub-agent
            if lost:
                counts["sequence_lost"] = lost
            return self._samples(r, nsamples, agent, t, counts, fallback or self.fallback)
        except INPUT_ERRORS as exc:
            counts["decode_errors"] = counts.get("decode_errors", 0) + 1
            log.debug("dropped sFlow datagram of agent %s from %s: %s", agent, source, exc)
            return []
        finally:  # one add per datagram, all of it under one key
            self.stats.add_many(agent, "sflow", counts)

    def _samples(self, r: _Reader, nsamples: int, agent: str, t: float, counts: dict[str, int],
                 fallback: Fallback | None) -> list[FlowBatch]:
        flows: list[_Flow] = []
        counters: list[InterfaceCounters] = []
        for _ in range(nsamples):
            fmt = r.u32("sample format")
            sample = r.sub(r.u32("sample length"), "sample")
            enterprise, kind = fmt >> 12, fmt & 0xFFF
            if enterprise != 0:
                continue  # vendor sample: skipped by its length
            if kind in (FLOW_SAMPLE, FLOW_SAMPLE_EXPANDED):
                flows.extend(self._flow_sample(sample, kind == FLOW_SAMPLE_EXPANDED, counts))
            elif kind == DROP_SAMPLE:
                flows.extend(self._drop_sample(sample, counts))
            elif kind in (COUNTER_SAMPLE, COUNTER_SAMPLE_EXPANDED):
                counters.extend(self._counter_sample(sample, kind == COUNTER_SAMPLE_EXPANDED, agent, t))
        # only a whole datagram counts: a bad sample above drops the datagram
        self.counters.extend(counters)
        counts["records"] = len(flows)
        self._resolve_rates(agent, flows, fallback)
        return self._batches(agent, t, flows, counts)

    def _log_relayed(self, agent: str, source: str) -> None:
        """Say once per pair where an agent's datagrams come from: an inventory that lists the
        device by its UDP source, not its agent address, is the mistake this line shows."""
        pair = (agent, source)
        if pair in self._relayed or len(self._relayed) >= MAX_RELAYED_LOGGED:
            return
        self._relayed.add(pair)
        log.info("sFlow agent %s sends from %s: its flows and counters are keyed by the agent "
                 "address (the inventory knows the device by it as flow_exporter)", agent, source)

    def _resolve_rates(self, agent: str, flows: list[_Flow], fallback: Fallback | None) -> None:
        """Rate 0 (no rate from the agent): the inventory's rate of the agent, else left 0
        (`unknown`), warned once per agent."""
        if not any(f.rate == 0 for f in flows):
            return
        rate = fallback(agent) if fallback is not None else None
        if rate is None:
            if agent not in self._warned:
                self._warned.add(agent)
                log.warning("sFlow agent %s sends flow samples with sampling rate 0 and the "
                            "inventory has no flow_sampling_rate for it: their volumes are NOT "
                            "scaled (sampled=unknown)", agent)
            return
        for f in flows:
            if f.rate == 0:
                f.rate = rate

    def _flow_sample(self, r: _Reader, expanded: bool, counts: dict[str, int]) -> list[_Flow]:
        r.u32("flow sample sequence")
        if expanded:
            r.u32("source id type")
            r.u32("source id index")
        else:
            r.u32("source id")
        rate = r.u32("sampling rate")
        r.u32("sample pool")
        r.u32("drops")
        if expanded:
            in_fmt, in_val = r.u32("input format"), r.u32("input interface")
            out_fmt, out_val = r.u32("output format"), r.u32("output interface")
        else:
            raw_in, raw_out = r.u32("input interface"), r.u32("output interface")
            in_fmt, in_val = raw_in >> 30, raw_in & IF_INTERNAL
            out_fmt, out_val = raw_out >> 30, raw_out & IF_INTERNAL
        in_if, in_status = interface(in_fmt, in_val)
        out_if, status = interface(out_fmt, out_val)
        if in_status == FWD_INTERNAL and status == FWD_OK:
            status = FWD_INTERNAL  # from the agent itself
        if status != FWD_OK:
            counts[_STATUS_COUNTER[status]] = counts.get(_STATUS_COUNTER[status], 0) + 1
        return self._records(r, in_if, out_if, rate, status, -1)

    def _drop_sample(self, r: _Reader, counts: dict[str, int]) -> list[_Flow]:
        """A discarded_packet sample: one dropped packet's header and why (kept as a drop record,
        never added to traffic volumes: drops are notified as they happen, not sampled)."""
        r.u32("drop sample sequence")
        r.u32("source id type")
        r.u32("source id index")
        r.u32("drops")
        in_if = r.u32("input interface")
        out_if = r.u32("output interface")
        reason = r.u32("drop reason")
        counts["drop_samples"] = counts.get("drop_samples", 0) + 1
        return self._records(r, in_if, out_if, 1, FWD_DISCARDED, reason)

    def _records(self, r: _Reader, in_if: int, out_if: int, rate: int, status: int,
                 reason: int) -> list[_Flow]:
        out: list[_Flow] = []
        # extended data (switch, router, gateway, user...) is skipped: not needed here
        for rec in _records_of(r, "flow", RAW_HEADER):
            protocol = rec.u32("header protocol")
            frame_length = rec.u32("frame length")
            rec.u32("stripped")
            hlen = rec.u32("header length")
            header = rec.take(hlen, "sampled header")
            try:
                w = headers.walk(header, protocol, self.vxlan) if protocol in (
                    HEADER_ETHERNET, HEADER_IPV4, HEADER_IPV6) else None
            except headers.HeaderError as exc:  # a bad header is this sample's problem
                raise SflowError(f"sampled header not dissectable: {exc}") from None
            if w is None:
                continue  # not IP (ARP, LLDP...): no addresses to roll up
            src: int | bytes = w.src
            dst: int | bytes = w.dst
            if w.ip_version == 4:
                src, dst = int.from_bytes(w.src, "big"), int.from_bytes(w.dst, "big")
            out.append(_Flow(w.ip_version, src, dst, w.sport, w.dport, w.proto, w.ip_length or frame_length,
                             in_if, out_if, rate, status, reason, w.tunnel_src, w.tunnel_dst))
        return out

    def _counter_sample(self, r: _Reader, expanded: bool, agent: str, t: float) -> list[InterfaceCounters]:
        r.u32("counter sample sequence")
        r.u32("source id")
        if expanded:
            r.u32("source id index")
        out = []
        for rec in _records_of(r, "counter", GENERIC_INTERFACE):
            v = _GENERIC.unpack(rec.take(_GENERIC.size, "generic interface counters"))
            (ifindex, _iftype, speed, _dir, status, in_oct, in_u, in_m, in_b, in_disc, in_err, _unk,
             out_oct, out_u, out_m, out_b, out_disc, out_err, _promisc) = v
            out.append(InterfaceCounters(
                agent, t, ifindex, speed, bool(status & 1), bool(status & 2), in_oct, in_u + in_m + in_b,
                in_disc, in_err, out_oct, out_u + out_m + out_b, out_disc, out_err))
        return out

    def _batches(self, agent: str, t: float, flows: list[_Flow], counts: dict[str, int]) -> list[FlowBatch]:
        out = []
        sane = [f for f in flows if f.length * max(f.rate, 1) <= MAX_SCALED]
        if len(sane) != len(flows):
            counts["decode_errors"] = counts.get("decode_errors", 0) + len(flows) - len(sane)
            flows = sane
        for kind, fam in (("flow", 4), ("flow", 6), ("drop", 4), ("drop", 6)):
            sel = [f for f in flows if f.ip_version == fam and (f.drop_reason >= 0) == (kind == "drop")]
            if not sel:
                continue
            rate = np.array([f.rate or 1 for f in sel], dtype=np.int64)
            state = np.array([SCALED if f.rate > 1 else (UNSAMPLED if f.rate == 1 else UNKNOWN)
                              for f in sel], dtype=np.int8)
            unknown = int(np.count_nonzero(state == UNKNOWN))
            if unknown:
                counts["unsampled"] = counts.get("unsampled", 0) + unknown
            if fam == 4:
                src = np.array([f.src for f in sel], dtype=np.uint32)
                dst = np.array([f.dst for f in sel], dtype=np.uint32)
            else:
                src = np.frombuffer(b"".join(f.src for f in sel), dtype=V6)  # type: ignore[misc]
                dst = np.frombuffer(b"".join(f.dst for f in sel), dtype=V6)  # type: ignore[misc]

            def col(name: str, sel: list[_Flow] = sel) -> np.ndarray:
                return np.array([getattr(f, name) for f in sel], dtype=np.uint32)

            extra: dict[str, np.ndarray] = {}
            if any(f.status != FWD_OK for f in sel):
                extra["fwd_status"] = col("status")
            if kind == "drop":
                extra["drop_reason"] = col("drop_reason")
            if any(f.tunnel_src for f in sel):
                from nocsoc.collectors.flows.derive import mapped_v6

                extra["tunnel_src"] = np.frombuffer(b"".join(mapped_v6(f.tunnel_src) for f in sel), dtype=V6)
                extra["tunnel_dst"] = np.frombuffer(b"".join(mapped_v6(f.tunnel_dst) for f in sel), dtype=V6)
                counts["vxlan_decapsulated"] = counts.get("vxlan_decapsulated", 0) + sum(
                    1 for f in sel if f.tunnel_src)
            out.append(FlowBatch(
                exporter=agent, version="sflow", ip_version=fam, time=t, src=src, dst=dst,
                sport=col("sport"), dport=col("dport"), proto=col("proto"), in_if=col("in_if"),
                out_if=col("out_if"), bytes=np.array([f.length for f in sel], dtype=np.int64) * rate,
                packets=rate.copy(), rate=rate, state=state, extra=extra, kind=kind))
        return out
