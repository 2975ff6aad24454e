"""NetFlow v9 and IPFIX export, cut from the same per-tick octets the SNMP counters integrate.

For every exporting device and every interface, the octets that entered the interface during a
tick are split into flow records (input interface = that interface), so the sum of a tick's
flow bytes per input interface equals the interface's ifHCInOctets growth over the tick (before
sampling). With sampling 1:N the exported bytes and packets are divided by N and an options
template announces N, as a sampled exporter does; a collector scales them back.

Packets are built with `struct` (scapy's NetFlow layers cost ~100x more per record and nothing
here needs dissection). Wire layout per Cisco's NetFlow v9 (RFC 3954) and IPFIX (RFC 7011).
"""

from __future__ import annotations

import ipaddress
import random
import struct
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from nocsoc.inventory.model import Role
from nocsoc.simulate.clock import stream_seed
from nocsoc.simulate.events import ioc_servers, portal_servers
from nocsoc.simulate.lab import Lab
from nocsoc.simulate.topology import SimDevice, SimInterface

DATA_TEMPLATE_ID, OPTIONS_TEMPLATE_ID = 256, 257
MAX_PACKET = 1400
TEMPLATE_EVERY = 20  # packets between template (and sampling options) refreshes
# The record's fields in order: (NetFlow v9 field type, length), (IPFIX element id, length). The
# two formats agree but for the TCP flags' width and the timestamps (v9: sysUpTime ms; IPFIX:
# flowStart/EndMilliseconds, RFC 7011 / IANA IPFIX registry).
_FIELDS = (
    ("bytes", (1, 8), (1, 8)),
    ("packets", (2, 8), (2, 8)),
    ("protocol", (4, 1), (4, 1)),
    ("tos", (5, 1), (5, 1)),
    ("tcp_flags", (6, 1), (6, 2)),
    ("src_port", (7, 2), (7, 2)),
    ("src_addr", (8, 4), (8, 4)),
    ("src_mask", (9, 1), (9, 1)),
    ("input_if", (10, 4), (10, 4)),
    ("dst_port", (11, 2), (11, 2)),
    ("dst_addr", (12, 4), (12, 4)),
    ("dst_mask", (13, 1), (13, 1)),
    ("output_if", (14, 4), (14, 4)),
    ("next_hop", (15, 4), (15, 4)),
    ("start", (22, 4), (152, 8)),
    ("end", (21, 4), (153, 8)),
)
_V9_FIELDS = tuple(v9 for _name, v9, _ipfix in _FIELDS)
_IPFIX_FIELDS = tuple(ipfix for _name, _v9, ipfix in _FIELDS)
_V9_RECORD = struct.Struct("!QQBBBH4sBIH4sBI4sII")
_IPFIX_RECORD = struct.Struct("!QQBBHH4sBIH4sBI4sQQ")
SAMPLING_INTERVAL, SAMPLING_ALGORITHM = 34, 35
V9_SCOPE_SYSTEM, IPFIX_OBSERVATION_DOMAIN = 1, 149
ALGO_RANDOM = 2

# (protocol, port, weight) per destination class
_SERVICES = {
    "portal": ((6, 443, 8), (6, 80, 2)),
    "ioc": ((6, 443, 5), (6, 554, 4), (6, 8443, 1)),
    "server": ((6, 443, 3), (6, 22, 1), (17, 53, 1), (6, 3306, 1)),
    "internet": ((6, 443, 6), (17, 443, 2), (6, 80, 1), (17, 123, 1)),
}


@dataclass(frozen=True)
class FlowRecord:
    src: str
    dst: str
    proto: int
    sport: int
    dport: int
    in_if: int
    out_if: int
    bytes: int
    packets: int
    start_ms: int  # epoch milliseconds
    end_ms: int


@dataclass
class ExporterTotals:
    """What one exporter sent: the ground truth the manifest carries."""

    records: int = 0
    packets_sent: int = 0
    bytes_exported: int = 0
    packets_exported: int = 0
    by_dst: Counter[str] = field(default_factory=Counter)
    by_src: Counter[str] = field(default_factory=Counter)
    by_in_if: Counter[int] = field(default_factory=Counter)


class FlowExporter:
    """One exporting device: its templates, sequence numbers and record generation."""

    def __init__(self, lab: Lab, dev: SimDevice, version: int, sampling: int, source: str) -> None:
        if version not in (9, 10):
            raise ValueError(f"flow export version must be 9 or 10, not {version}")
        self.lab, self.dev, self.version, self.sampling, self.source = lab, dev, version, sampling, source
        self.domain = dev.index + 1
        self.packets = 0
        self.ipfix_records = 0
        self.totals = ExporterTotals()
        self._out_if = self._uplink_if()
        servers = {d.name: d for d in lab.topo.servers()}
        portal = portal_servers(lab.topo)
        ioc = ioc_servers(lab.topo)
        others = [d for n, d in servers.items() if d not in portal and d not in ioc]
        self._dst_classes: list[tuple[str, list[str], float]] = [
            ("portal", [d.device.address for d in portal], 0.45),
            ("ioc", [d.device.address for d in ioc], 0.30),
            ("server", [d.device.address for d in others], 0.10),
            ("internet", [], 0.15),
        ]
        self._dst_classes = [c for c in self._dst_classes if c[1] or c[0] == "internet"]

    def _uplink_if(self) -> int:
        for i in self.dev.interfaces:
            if i.peer_device and self.lab.topo.device(i.peer_device).role in (Role.CORE, Role.FIREWALL):
                return i.if_index
        return self.dev.interfaces[0].if_index if self.dev.interfaces else 0

    # --- records ------------------------------------------------------------------------------
    def records(self, k: int) -> list[FlowRecord]:
        """The flow records for tick k (deterministic in seed, speed, anchor and k)."""
        lab = self.lab
        octets = lab.traffic.cell_octets(k)
        t0 = lab.clock.tick_start(k)
        t1 = lab.clock.tick_start(k + 1)
        out: list[FlowRecord] = []
        for iface in self.dev.interfaces:
            if not iface.link:
                continue
            total = int(octets[iface.in_channel])
            if total <= 0:
                continue
            rng = random.Random(stream_seed(lab.seed, "flows", self.dev.name, iface.name, k))
            out.extend(self._split(rng, iface, total, t0, t1))
        return out

    def _split(
        self, rng: random.Random, iface: SimInterface, total: int, t0: float, t1: float
    ) -> list[FlowRecord]:
        lab = self.lab
        from_dc = iface.peer_device is not None and lab.topo.device(iface.peer_device).role in (
            Role.SERVER,
            Role.FIREWALL,
        )
        n = 12 + rng.randrange(9)
        weights = [rng.expovariate(1.0) for _ in range(n)]
        classes = [rng.choices(self._dst_classes, [c[2] for c in self._dst_classes])[0] for _ in range(n)]
        scale = total / sum(weights)
        sizes = [int(w * scale) for w in weights]
        sizes[max(range(n), key=lambda j: sizes[j])] += total - sum(sizes)
        pkt_size = lab.topo.channels[iface.in_channel].packet_bytes
        out_if = self._out_if if self._out_if != iface.if_index else (self.dev.interfaces[0].if_index)
        recs = []
        for size, (cls, addrs, _) in zip(sizes, classes, strict=True):
            server = rng.choice(addrs) if addrs else self._internet(rng)
            client = self._client(rng)
            proto, port, _w = rng.choices(_SERVICES[cls], [s[2] for s in _SERVICES[cls]])[0]
            cport = 32768 + rng.randrange(28232)
            src, dst, sport, dport = (
                (server, client, port, cport) if from_dc else (client, server, cport, port)
            )
            b = round(size / self.sampling)
            p = max(1, round(size / pkt_size / self.sampling))
            if b <= 0:
                continue
            start = int((t0 - rng.uniform(0, 30)) * 1000)
            recs.append(
                FlowRecord(
                    src, dst, proto, sport, dport, iface.if_index, out_if, b, p, start, int(t1 * 1000) - 1
                )
            )
        return recs

    @staticmethod
    def _client(rng: random.Random) -> str:
        if rng.random() < 0.6:  # citizens on ISP CGNAT space
            return f"100.{64 + rng.randrange(8)}.{rng.randrange(256)}.{1 + rng.randrange(254)}"
        return f"10.{20 + rng.randrange(11)}.{rng.randrange(64)}.{1 + rng.randrange(254)}"  # district offices

    @staticmethod
    def _internet(rng: random.Random) -> str:
        first = rng.choice((23, 34, 104, 142, 157, 172))  # CDN and cloud ranges
        return f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{1 + rng.randrange(254)}"

    # --- packets ------------------------------------------------------------------------------
    def packets_for(self, k: int) -> list[bytes]:
        """Export datagrams for tick k, templates included where due; updates the totals."""
        recs = self.records(k)
        export_t = self.lab.clock.tick_start(k + 1)
        boot = self.lab.boot_time(self.dev.name, export_t)
        rec_struct = _V9_RECORD if self.version == 9 else _IPFIX_RECORD
        per_packet = (MAX_PACKET - 200) // rec_struct.size
        out: list[bytes] = []
        for off in range(0, max(len(recs), 1), per_packet):
            chunk = recs[off : off + per_packet]
            out.append(self._packet(chunk, export_t, boot))
            t = self.totals
            for r in chunk:
                t.records += 1
                t.bytes_exported += r.bytes
                t.packets_exported += r.packets
                t.by_dst[r.dst] += r.bytes
                t.by_src[r.src] += r.bytes
                t.by_in_if[r.in_if] += r.bytes
        self.totals.packets_sent += len(out)
        return out

    def _packet(self, recs: list[FlowRecord], export_t: float, boot: float) -> bytes:
        with_templates = self.packets % TEMPLATE_EVERY == 0
        sets: list[bytes] = []
        nrec = 0
        if self.version == 9:
            if with_templates:
                sets += _template_sets(0, _V9_FIELDS, 1, (4, 8), V9_SCOPE_SYSTEM, self.domain, self.sampling)
                nrec += 3
            if recs:
                up0 = boot * 1000
                body = _pack_records(
                    _V9_RECORD, recs,
                    lambda r: int(max(0.0, r.start_ms - up0)) % 2**32,
                    lambda r: int(max(0.0, r.end_ms - up0)) % 2**32,
                )
                sets.append(_set(DATA_TEMPLATE_ID, body))
                nrec += len(recs)
            uptime_ms = int((export_t - boot) * 1000) % 2**32
            header = struct.pack("!HHIIII", 9, nrec, uptime_ms, int(export_t), self.packets, self.domain)
        else:
            if with_templates:
                sets += _template_sets(
                    2, _IPFIX_FIELDS, 3, (3, 1), IPFIX_OBSERVATION_DOMAIN, self.domain, self.sampling
                )
            if recs:
                body = _pack_records(_IPFIX_RECORD, recs, lambda r: r.start_ms, lambda r: r.end_ms)
                sets.append(_set(DATA_TEMPLATE_ID, body))
            payload = b"".join(sets)
            header = struct.pack(
                "!HHIII", 10, 16 + len(payload), int(export_t), self.ipfix_records, self.domain
            )
            self.ipfix_records += len(recs)  # IPFIX sequence counts data records, not messages
            self.packets += 1
            return header + payload
        self.packets += 1
        return header + b"".join(sets)


def _template_sets(
    template_set: int,
    fields: Sequence[tuple[int, int]],
    options_set: int,
    options_head: tuple[int, int],
    scope_field: int,
    domain: int,
    sampling: int,
) -> list[bytes]:
    """The data template, the sampling options template and its one options record, as NetFlow
    v9 (RFC 3954: set ids 0/1, head = scope and option lengths in bytes) and IPFIX (RFC 7011: set
    ids 2/3, head = field count and scope field count) both lay them out: only those differ."""
    return [
        _set(
            template_set,
            struct.pack("!HH", DATA_TEMPLATE_ID, len(fields))
            + b"".join(struct.pack("!HH", *f) for f in fields),
        ),
        _set(
            options_set,
            struct.pack(
                "!HHHHHHHHH",
                OPTIONS_TEMPLATE_ID,
                *options_head,
                scope_field,
                4,
                SAMPLING_INTERVAL,
                4,
                SAMPLING_ALGORITHM,
                1,
            ),
        ),
        _set(OPTIONS_TEMPLATE_ID, struct.pack("!IIB", domain, sampling, ALGO_RANDOM)),
    ]


def _ip(addr: str) -> bytes:
    return ipaddress.IPv4Address(addr).packed


def _pack_records(layout: struct.Struct, recs: list[FlowRecord], start: Callable[[FlowRecord], int],
                  end: Callable[[FlowRecord], int]) -> bytes:
    """Data records in the template's field order; v9 and IPFIX differ only in how they carry time
    (v9: ms since the exporter booted, 32 bits; IPFIX: absolute epoch ms, 64 bits)."""
    return b"".join(
        layout.pack(r.bytes, r.packets, r.proto, 0, 0x18 if r.proto == 6 else 0, r.sport, _ip(r.src), 24,
                    r.in_if, r.dport, _ip(r.dst), 24, r.out_if, b"\0\0\0\0", start(r), end(r))
        for r in recs
    )


def _set(set_id: int, body: bytes) -> bytes:
    """A FlowSet / Set with its 4-byte header, padded to a 4-byte boundary."""
    pad = (-len(body)) % 4
    return struct.pack("!HH", set_id, 4 + len(body) + pad) + body + b"\0" * pad


def exporters(lab: Lab, version: str = "mixed", default_sampling: int = 100) -> list[FlowExporter]:
    """Devices with `flow_exporter` set export flows; without any, the core routers and firewalls.

    `mixed` alternates NetFlow v9 and IPFIX so both decoders are exercised.
    """
    chosen = [d for d in lab.topo.devices if d.device.flow_exporter]
    if not chosen:
        chosen = [d for d in lab.topo.devices if d.role in (Role.CORE, Role.FIREWALL)]
    out = []
    for n, d in enumerate(chosen):
        v = {"9": 9, "10": 10, "ipfix": 10}.get(version, 9 if n % 2 == 0 else 10)
        out.append(
            FlowExporter(
                lab,
                d,
                v,
                d.device.flow_sampling_rate or default_sampling,
                d.device.flow_exporter or d.device.address,
            )
        )
    return out
