"""Per-interval, per-exporter rollups: totals, interfaces, top-N tables with an `other` row.

Totals are exact: every record lands in exactly one row of every table (top-N or `other`), so the
sum of a table equals the interval total. Intervals are chosen by arrival time, not by the flow
timestamps, because exporter clocks drift and v9 times are relative to an uptime: arrival time is
the one clock we own, and it closes an interval for good once the wall clock passes its end.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from nocsoc.collectors.flows.addresses import format_address
from nocsoc.collectors.flows.records import SAMPLED_NAMES, V6, FlowBatch
from nocsoc.schema import FLOW_INTERFACE, FLOW_TOP, FLOW_TOTAL, Point

KINDS = ("src", "dst", "service", "conversation")
PROTO_NAMES = {1: "icmp", 2: "igmp", 6: "tcp", 17: "udp", 47: "gre", 50: "esp", 58: "icmpv6", 132: "sctp"}
_PORT_PROTOS = np.array([6, 17, 132], dtype=np.uint32)

Sums = list[int]  # [bytes, packets, flows]


def group_arrays(keys: np.ndarray, b: np.ndarray, p: np.ndarray,
                 f: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Unique keys with summed bytes, packets and records (exact: int64 reduceat). `f` gives the
    record count of each row when rows are already partial sums."""
    n = keys.shape[0]
    if keys.dtype.kind == "u" and n and int(keys.max()) < SMALL_KEYS and f is None:
        return _group_small(keys, b, p)
    order = np.argsort(keys)  # quicksort: 4-5x faster than stable here, and order within a key is moot
    sk = keys[order]
    flag = np.empty(n, dtype=bool)
    flag[0] = True
    flag[1:] = sk[1:] != sk[:-1]  # (ufunc not_equal has no loop for void keys)
    starts = np.flatnonzero(flag)
    if f is None:
        counts = np.diff(np.append(starts, n)).astype(np.int64)
    else:
        counts = np.add.reduceat(f[order], starts)
    return sk[starts], np.add.reduceat(b[order], starts), np.add.reduceat(p[order], starts), counts


SMALL_KEYS = 1 << 16
EXACT_FLOAT = 1 << 53


def _group_small(keys: np.ndarray, b: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                           np.ndarray]:
    """Small integer keys (ifIndex, sampling state): bincount, no sort. Its float64 weights are
    exact while a sum stays below 2**53, checked; otherwise the sorting path is taken."""
    n = len(keys)
    if int(b.max()) * n >= EXACT_FLOAT or int(p.max()) * n >= EXACT_FLOAT:
        order = np.argsort(keys)
        sk = keys[order]
        flag = np.empty(len(sk), dtype=bool)
        flag[0] = True
        flag[1:] = sk[1:] != sk[:-1]
        starts = np.flatnonzero(flag)
        return (sk[starts], np.add.reduceat(b[order], starts), np.add.reduceat(p[order], starts),
                np.diff(np.append(starts, len(sk))).astype(np.int64))
    counts = np.bincount(keys)
    present = np.flatnonzero(counts)
    sb = np.bincount(keys, weights=b)[present].astype(np.int64)
    sp = np.bincount(keys, weights=p)[present].astype(np.int64)
    return present.astype(keys.dtype), sb, sp, counts[present].astype(np.int64)


def group_sum(keys: np.ndarray, b: np.ndarray, p: np.ndarray) -> tuple[list, list[int], list[int], list[int]]:
    """group_arrays as Python lists (for small tables kept in dicts)."""
    k, sb, sp, sf = group_arrays(keys, b, p)
    return k.tolist(), sb.tolist(), sp.tolist(), sf.tolist()


class KeyTable:
    """Sums per key for one interval, kept as numpy chunks and compacted (re-grouped) when they
    grow: merging into a Python dict costs ~1 us per key per batch, numpy a few ns."""

    COMPACT_ROWS = 1 << 20

    def __init__(self) -> None:
        self._chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._rows = 0

    def add(self, keys: np.ndarray, b: np.ndarray, p: np.ndarray) -> None:
        chunk = group_arrays(keys, b, p)
        self._chunks.append(chunk)
        self._rows += len(chunk[0])
        if self._rows > self.COMPACT_ROWS and len(self._chunks) > 1:
            self._compact()

    def _compact(self) -> None:
        keys, b, p, f = (np.concatenate([c[i] for c in self._chunks]) for i in range(4))
        self._chunks = [group_arrays(keys, b, p, f)]
        self._rows = len(self._chunks[0][0])

    def result(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if len(self._chunks) > 1:
            self._compact()
        return self._chunks[0]

    def top(self, n: int) -> tuple[list[tuple[int | bytes, Sums]], Sums]:
        """The n largest keys by bytes (then packets) with their sums, and the sums of all."""
        keys, b, p, f = self.result()
        total = [int(b.sum()), int(p.sum()), int(f.sum())]
        if len(keys) > n:
            idx = np.argpartition(-b, n - 1)[:n]
            # ties at the cut: take every key with the n-th largest volume, the caller orders them
            cut = b[idx].min()
            idx = np.flatnonzero(b >= cut)
        else:
            idx = np.arange(len(keys))
        rows = [(k, [bb, pp, ff]) for k, bb, pp, ff in
                zip(keys[idx].tolist(), b[idx].tolist(), p[idx].tolist(), f[idx].tolist(), strict=True)]
        return rows, total


def _merge(table: dict, keys: list, b: list[int], p: list[int], f: list[int]) -> None:
    get = table.get
    for k, bb, pp, ff in zip(keys, b, p, f, strict=True):
        e = get(k)
        if e is None:
            table[k] = [bb, pp, ff]
        else:
            e[0] += bb
            e[1] += pp
            e[2] += ff


def service_keys(proto: np.ndarray, sport: np.ndarray, dport: np.ndarray) -> np.ndarray:
    """proto << 16 | port, the port being the lower of the two (the service side, usually)
    for TCP/UDP/SCTP, 0 for other protocols."""
    nz_s, nz_d = sport > 0, dport > 0
    port = np.where(nz_s & nz_d, np.minimum(sport, dport), np.where(nz_s, sport, dport))
    port = np.where(np.isin(proto, _PORT_PROTOS), port, 0)
    return (proto.astype(np.uint64) << np.uint64(16)) | port.astype(np.uint64)


def conversation_keys(src: np.ndarray, dst: np.ndarray, ip_version: int) -> np.ndarray:
    """Unordered address pairs: both directions of a conversation are one key."""
    if ip_version == 4:
        a, b = src.astype(np.uint64), dst.astype(np.uint64)
        return (np.minimum(a, b) << np.uint64(32)) | np.maximum(a, b)
    sa = np.frombuffer(src.tobytes(), dtype=">u8").reshape(-1, 2)
    da = np.frombuffer(dst.tobytes(), dtype=">u8").reshape(-1, 2)
    src_first = (sa[:, 0] < da[:, 0]) | ((sa[:, 0] == da[:, 0]) & (sa[:, 1] <= da[:, 1]))
    lo = np.where(src_first[:, None], sa, da)
    hi = np.where(src_first[:, None], da, sa)
    pair = np.concatenate([lo, hi], axis=1).astype(">u8")
    return np.frombuffer(pair.tobytes(), dtype="V32")


def format_service(key: int) -> str:
    proto, port = key >> 16, key & 0xFFFF
    name = PROTO_NAMES.get(proto, f"proto-{proto}")
    return f"{name}/{port}" if port else name


def format_conversation(key: int | bytes, ip_version: int) -> str:
    if ip_version == 4:
        assert isinstance(key, int)
        return f"{socket.inet_ntoa((key >> 32).to_bytes(4, 'big'))} <-> " \
               f"{socket.inet_ntoa((key & 0xFFFFFFFF).to_bytes(4, 'big'))}"
    assert isinstance(key, bytes)
    return f"{format_address(key[:16], 6)} <-> {format_address(key[16:], 6)}"


@dataclass
class ExporterRollup:
    """One interval of one exporter."""

    totals: dict[tuple[int, int], Sums] = field(default_factory=dict)  # (ip version, state)
    interfaces: dict[tuple[int, str], Sums] = field(default_factory=dict)  # (ifindex, in|out)
    tables: dict[tuple[str, int], KeyTable] = field(default_factory=dict)  # (kind, ip version)

    def add(self, batch: FlowBatch) -> None:
        n = len(batch)
        if n == 0:
            return
        b, p, v = batch.bytes, batch.packets, batch.ip_version
        keys, sb, sp, sf = group_sum(batch.state, b, p)
        for st, bb, pp, ff in zip(keys, sb, sp, sf, strict=True):
            e = self.totals.setdefault((v, int(st)), [0, 0, 0])
            e[0] += bb
            e[1] += pp
            e[2] += ff
        in_t: dict = {}
        out_t: dict = {}
        _merge(in_t, *group_sum(batch.in_if, b, p))
        _merge(out_t, *group_sum(batch.out_if, b, p))
        for ifindex, sums in in_t.items():
            _merge(self.interfaces, [(ifindex, "in")], [sums[0]], [sums[1]], [sums[2]])
        for ifindex, sums in out_t.items():
            _merge(self.interfaces, [(ifindex, "out")], [sums[0]], [sums[1]], [sums[2]])
        for kind, col in (("src", batch.src), ("dst", batch.dst),
                          ("service", service_keys(batch.proto, batch.sport, batch.dport)),
                          ("conversation", conversation_keys(batch.src, batch.dst, v))):
            fam = 0 if kind == "service" else v
            table = self.tables.get((kind, fam))
            if table is None:
                table = self.tables[(kind, fam)] = KeyTable()
            table.add(col, b, p)


@dataclass(frozen=True)
class ExporterInfo:
    device: str | None = None
    site: str | None = None


class Rollups:
    """All open intervals; `due()` closes those the wall clock has passed and returns their points."""

    def __init__(self, interval_s: float = 60.0, top_n: int = 20,
                 exporter_info: Callable[[str], ExporterInfo] | None = None,
                 ifname: Callable[[str, int], str | None] | None = None,
                 geo: Callable[[str], tuple[str | None, str | None]] | None = None) -> None:
        self.interval_s = interval_s
        self.top_n = top_n
        self.exporter_info = exporter_info or (lambda e: ExporterInfo())
        self.ifname = ifname or (lambda e, i: None)
        self.geo = geo  # address -> (country, asn), for src/dst keys
        self._open: dict[int, dict[str, ExporterRollup]] = {}
        self._closed_before = -1  # intervals below this were emitted: late data goes to the next
        self.late = 0

    def interval_of(self, t: float) -> int:
        return int(t // self.interval_s)

    def add(self, batch: FlowBatch) -> None:
        idx = self.interval_of(batch.time)
        if idx < self._closed_before:
            idx = self._closed_before  # already written: adding to it would overwrite the point
            self.late += len(batch)
        per = self._open.setdefault(idx, {})
        r = per.get(batch.exporter)
        if r is None:
            r = per[batch.exporter] = ExporterRollup()
        r.add(batch)

    def due(self, now: float) -> list[Point]:
        """Points of every interval that ended at or before `now`."""
        current = self.interval_of(now)
        return self._emit([i for i in self._open if i < current])

    def flush_all(self) -> list[Point]:
        """Points of every open interval (on stop; the current one is partial)."""
        return self._emit(list(self._open))

    def _emit(self, indexes: list[int]) -> list[Point]:
        points: list[Point] = []
        for idx in sorted(indexes):
            per = self._open.pop(idx)
            t_ns = int(idx * self.interval_s * 1e9)
            for exporter, r in sorted(per.items()):
                points.extend(self._points(t_ns, exporter, r))
            self._closed_before = max(self._closed_before, idx + 1)
        return points

    def _points(self, t_ns: int, exporter: str, r: ExporterRollup) -> list[Point]:
        info = self.exporter_info(exporter)
        base = {"exporter": exporter, "device": info.device, "site": info.site}
        secs = self.interval_s

        def vol(s: Sums) -> dict[str, object]:
            return {"bytes": s[0], "packets": s[1], "flows": s[2], "bps": s[0] * 8 / secs}

        out = [FLOW_TOTAL.point(t_ns, {**base, "ip_version": v, "sampled": SAMPLED_NAMES[st]}, vol(s))
               for (v, st), s in sorted(r.totals.items())]
        for (ifindex, direction), s in sorted(r.interfaces.items()):
            name = self.ifname(exporter, ifindex)
            out.append(FLOW_INTERFACE.point(
                t_ns, {**base, "ifindex": ifindex, "ifname": name, "direction": direction}, vol(s)))
        for kind in KINDS:
            rows: list[tuple[str, Sums]] = []
            whole = [0, 0, 0]
            for (k, fam), table in r.tables.items():
                if k != kind:
                    continue
                candidates, total = table.top(self.top_n)
                whole = [a + b for a, b in zip(whole, total, strict=True)]
                rows.extend((self._format(kind, key, fam), s) for key, s in candidates)
            rows.sort(key=lambda row: (-row[1][0], -row[1][1], row[0]))
            top = rows[:self.top_n]
            for rank, (key, s) in enumerate(top, 1):
                tags = {**base, "kind": kind, "key": key}
                if self.geo is not None and kind in ("src", "dst"):
                    tags["country"], tags["asn"] = self.geo(key)
                out.append(FLOW_TOP.point(t_ns, tags, {**vol(s), "rank": rank}))
            other = [whole[i] - sum(s[i] for _, s in top) for i in range(3)]
            if other[2]:
                out.append(FLOW_TOP.point(t_ns, {**base, "kind": kind, "key": "other"},
                                          {**vol(other), "rank": 0}))
        return out

    @staticmethod
    def _format(kind: str, key: int | bytes, fam: int) -> str:
        if kind == "service":
            assert isinstance(key, int)
            return format_service(key)
        if kind == "conversation":
            return format_conversation(key, fam)
        return format_address(key, fam)


__all__ = ["V6", "ExporterInfo", "ExporterRollup", "Rollups", "group_sum"]
