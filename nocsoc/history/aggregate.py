"""Flow batches -> per-minute aggregates, in numpy (never a Python step per record).

The key is (minute, exporter, src, dst, src port, dst port, protocol, in/out interface,
sampling rate); the sums are bytes, packets and flows (records). Addresses of both IP versions
become 16 bytes (IPv4 as ::ffff:a.b.c.d), held as two uint64 halves while grouping.

Grouping hashes the key columns into one uint64, sorts it and sums runs (`np.add.reduceat`),
then checks every row against its group's first row: a hash collision (never seen, but
possible) sends the minute through an exact `np.unique` over all key columns instead, so the
sums are always exact.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nocsoc.collectors.flows.records import UNKNOWN, FlowBatch

MINUTE_S = 60
_V4_MAPPED = np.uint64(0xFFFF_0000_0000)
_MIX = np.uint64(0x9E37_79B9_7F4A_7C15)
_SHIFT = np.uint64(29)
V4_PREFIX = b"\x00" * 10 + b"\xff\xff"


@dataclass
class Aggregate:
    """Per-minute aggregates of some batches: one row per distinct key (numpy columns)."""

    exporters: list[str]  # names; `exporter` holds indexes into it
    minute: np.ndarray  # int64 epoch seconds, multiple of 60
    exporter: np.ndarray  # uint32 index
    src_hi: np.ndarray  # uint64: address bytes 0-7 (big-endian)
    src_lo: np.ndarray  # uint64: address bytes 8-15
    dst_hi: np.ndarray
    dst_lo: np.ndarray
    sport: np.ndarray  # uint32
    dport: np.ndarray
    proto: np.ndarray
    in_if: np.ndarray
    out_if: np.ndarray
    sampling: np.ndarray  # int64: the rate applied; 0 when it was unknown
    bytes: np.ndarray  # int64
    packets: np.ndarray
    flows: np.ndarray

    def __len__(self) -> int:
        return int(self.minute.shape[0])

    def key_columns(self) -> list[np.ndarray]:
        return [self.minute, self.exporter, self.src_hi, self.src_lo, self.dst_hi, self.dst_lo,
                self.sport, self.dport, self.proto, self.in_if, self.out_if, self.sampling]


def halves(col: np.ndarray, ip_version: int) -> tuple[np.ndarray, np.ndarray]:
    """An address column as (high, low) uint64 halves of its 16-byte form."""
    if ip_version == 4:
        v4 = col.astype(np.uint64)
        return np.zeros(v4.shape[0], dtype=np.uint64), v4 | _V4_MAPPED
    pairs = np.ascontiguousarray(col).view(">u8").reshape(-1, 2).astype(np.uint64)
    return pairs[:, 0].copy(), pairs[:, 1].copy()


def to_fixed16(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """(high, low) halves -> an (n, 16) uint8 array of network-order addresses."""
    return np.stack([hi, lo], axis=1).astype(">u8").view(np.uint8).reshape(-1, 16)


def address_bytes(text: str) -> bytes:
    """'203.0.113.45' or '2001:db8::1' -> the 16 bytes stored (ValueError when not an address)."""
    addr = ipaddress.ip_address(text.strip())
    return V4_PREFIX + addr.packed if addr.version == 4 else addr.packed


def address_text(raw: bytes) -> str:
    return str(ipaddress.IPv4Address(raw[12:])) if raw[:12] == V4_PREFIX else str(ipaddress.IPv6Address(raw))


def check_batch(b: FlowBatch) -> None:
    """ValueError naming what is wrong with a batch the writer cannot store."""
    n = len(b)
    if not np.isfinite(b.time) or b.time < 0:
        raise ValueError(f"batch of {b.exporter}: time {b.time!r} is not a time")
    if b.ip_version not in (4, 6):
        raise ValueError(f"batch of {b.exporter}: ip_version {b.ip_version!r}")
    for name in ("src", "dst", "sport", "dport", "proto", "in_if", "out_if", "packets", "rate", "state"):
        if getattr(b, name).shape[0] != n:
            raise ValueError(f"batch of {b.exporter}: column {name} has {getattr(b, name).shape[0]} "
                             f"values for {n} records")
    if b.ip_version == 6 and b.src.dtype.itemsize != 16:
        raise ValueError(f"batch of {b.exporter}: IPv6 addresses are not 16 bytes")


def aggregate(batches: Sequence[FlowBatch]) -> Aggregate:
    """Sum `batches` (any exporters, versions and minutes) per key."""
    names: dict[str, int] = {}
    cols: dict[str, list[np.ndarray]] = {k: [] for k in (
        "minute", "exporter", "src_hi", "src_lo", "dst_hi", "dst_lo", "sport", "dport", "proto",
        "in_if", "out_if", "sampling", "bytes", "packets")}
    for b in batches:
        n = len(b)
        if n == 0:
            continue
        code = names.setdefault(b.exporter, len(names))
        cols["minute"].append(np.full(n, int(b.time // MINUTE_S) * MINUTE_S, dtype=np.int64))
        cols["exporter"].append(np.full(n, code, dtype=np.uint32))
        for side, col in (("src", b.src), ("dst", b.dst)):
            hi, lo = halves(col, b.ip_version)
            cols[f"{side}_hi"].append(hi)
            cols[f"{side}_lo"].append(lo)
        for name in ("sport", "dport", "proto", "in_if", "out_if"):
            cols[name].append(getattr(b, name).astype(np.uint32, copy=False))
        cols["sampling"].append(np.where(b.state == UNKNOWN, 0, b.rate).astype(np.int64))
        cols["bytes"].append(b.bytes.astype(np.int64, copy=False))
        cols["packets"].append(b.packets.astype(np.int64, copy=False))
    exporters = list(names)
    if not cols["minute"]:
        empty = {k: np.zeros(0, dtype=np.int64 if k in ("minute", "sampling", "bytes", "packets")
                             else np.uint64 if k.endswith(("_hi", "_lo")) else np.uint32)
                 for k in cols}
        return Aggregate(exporters, **empty, flows=np.zeros(0, dtype=np.int64))
    flat = {k: np.concatenate(v) for k, v in cols.items()}
    keys = [flat[k] for k in ("minute", "exporter", "src_hi", "src_lo", "dst_hi", "dst_lo", "sport",
                              "dport", "proto", "in_if", "out_if", "sampling")]
    first, starts, order = _groups(keys)
    sums = {k: np.add.reduceat(flat[k][order], starts) for k in ("bytes", "packets")}
    counts = np.diff(np.append(starts, order.shape[0])).astype(np.int64)
    picked = {k: flat[k][first] for k in cols if k not in ("bytes", "packets")}
    return Aggregate(exporters, **picked, bytes=sums["bytes"], packets=sums["packets"], flows=counts)


def _groups(keys: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(first row of each group, start of each group in `order`, order): rows sorted so equal
    keys are adjacent."""
    n = keys[0].shape[0]
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in keys:
            h ^= k.astype(np.uint64, copy=False)
            h *= _MIX
            h ^= h >> _SHIFT
    order = np.argsort(h)
    hs = h[order]
    starts = np.flatnonzero(np.concatenate(([True], hs[1:] != hs[:-1])))
    first = order[starts]
    group_of = np.repeat(np.arange(starts.shape[0]), np.diff(np.append(starts, n)))
    if all(np.array_equal(k[order], k[first][group_of]) for k in keys):
        return first, starts, order
    # a hash collision: group exactly on the key columns themselves
    matrix = np.stack([k.astype(np.uint64) for k in keys], axis=1)
    _, inverse = np.unique(matrix, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(inverse, kind="stable")
    inv_sorted = inverse[order]
    starts = np.flatnonzero(np.concatenate(([True], inv_sorted[1:] != inv_sorted[:-1])))
    return order[starts], starts, order
