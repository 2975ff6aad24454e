"""Vectorized headers and set walks over a whole batch of datagrams of one NetFlow version.

WHY: walking each datagram's sets in Python costs ~1 us per set (softflowd interleaves IPv4 and
IPv6 sets, ~4.6 records each), more than nfcapd spends per record. Here the datagrams of a batch
are joined into one buffer and walked "set k of every datagram at once" with numpy: the Python
cost is per batch and per set *position*, not per set. Records of one template are then gathered
from the joined buffer with one fancy index of a stride-1 record view (no per-set slicing).

Nothing here touches decoder state: `walk_*` only reads and validates. Any irregularity (a short
header, a set length that lies, stray bytes) returns the index of the first bad datagram: the
caller decodes the ones before it in bulk and that one with the per-datagram path, which names
and counts it exactly as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from nocsoc.collectors.flows import netflow5, speedups


def u16(buf: np.ndarray, off: np.ndarray) -> np.ndarray:
    """Big-endian unsigned 16-bit integers at byte offsets `off` of `buf` (uint8)."""
    return (buf[off].astype(np.int64) << 8) | buf[off + 1]


def u32(buf: np.ndarray, off: np.ndarray) -> np.ndarray:
    return (u16(buf, off) << 16) | u16(buf, off + 2)


def excl_cumsum(a: np.ndarray) -> np.ndarray:
    out = np.zeros(a.shape[0], dtype=np.int64)
    if a.shape[0] > 1:
        np.cumsum(a[:-1], out=out[1:])
    return out


def record_offsets(starts: np.ndarray, counts: np.ndarray, size: int) -> np.ndarray:
    """Byte offsets of every record: `counts[i]` records of `size` bytes from `starts[i]`."""
    total = int(counts.sum())
    base = np.repeat(starts - excl_cumsum(counts) * size, counts)
    return base + np.arange(total, dtype=np.int64) * size


def gather(buf: np.ndarray, offsets: np.ndarray, itemsize: int) -> np.ndarray:
    """Records of `itemsize` bytes starting at `offsets`, copied into one contiguous uint8 array."""
    if speedups.ext is not None:  # one memcpy a record instead of numpy's generic void copy
        return np.frombuffer(speedups.ext.gather(buf, offsets, itemsize), dtype=np.uint8)
    view = np.ndarray(shape=(buf.shape[0] - itemsize + 1,), dtype=np.dtype((np.void, itemsize)),
                      buffer=buf, strides=(1,))
    return view[offsets].view(np.uint8)


@dataclass
class Joined:
    """The datagrams of one batch joined into one buffer."""

    buf: np.ndarray  # uint8
    raw: bytes  # the same bytes (for slicing template sets)
    starts: np.ndarray  # int64 offset of each datagram
    lens: np.ndarray  # int64 length of each datagram
    exporters: list[str] = field(default_factory=list)  # by join_group: in first-seen order
    exporter_index: np.ndarray | None = None  # int64 per datagram, into `exporters`


def join(datas: list[bytes]) -> Joined:
    raw = b"".join(datas)
    lens = np.fromiter(map(len, datas), dtype=np.int64, count=len(datas))
    return Joined(np.frombuffer(raw, dtype=np.uint8), raw, excl_cumsum(lens), lens)


def join_group(group: Sequence[tuple[bytes, str, float]]) -> Joined:
    """`join` of the payloads, plus each datagram's exporter as an index (one pass in C)."""
    if speedups.ext is not None:
        raw, lens_b, index_b, exporters = speedups.ext.join_group(group)
        lens = np.frombuffer(lens_b, dtype=np.int64)
        return Joined(np.frombuffer(raw, dtype=np.uint8), raw, excl_cumsum(lens), lens, exporters,
                      np.frombuffer(index_b, dtype=np.int64))
    j = join([d[0] for d in group])
    ids: dict[str, int] = {}
    j.exporter_index = np.fromiter((ids.setdefault(d[1], len(ids)) for d in group), dtype=np.int64,
                                   count=len(group))
    j.exporters = list(ids)
    return j


@dataclass
class V5Walk:
    count: np.ndarray
    seq: np.ndarray
    engine: np.ndarray
    sampling: np.ndarray


def walk_v5(j: Joined) -> V5Walk | int:
    """v5 headers of every datagram, or the index of the first malformed one (see
    netflow5.parse_header)."""
    short = j.lens < netflow5.HEADER_LEN
    s = np.where(short, 0, j.starts)  # reads stay inside the buffer; those are bad anyway
    count = u16(j.buf, s + 2)
    bad = short | (count == 0) | (count > netflow5.MAX_COUNT) | \
        (j.lens != netflow5.HEADER_LEN + count * netflow5.RECORD_LEN)
    if bad.any():
        return int(np.argmax(bad))
    return V5Walk(count, u32(j.buf, s + 16), u16(j.buf, s + 20), u16(j.buf, s + 22))


@dataclass
class SetWalk:
    """Every set of every datagram, in arrival order (datagram, then position in it)."""

    seq: np.ndarray  # per datagram
    domain: np.ndarray  # per datagram
    dgram: np.ndarray  # per set: index of its datagram
    sid: np.ndarray  # per set: set id
    body: np.ndarray  # per set: offset of the body (after the 4-byte set header)
    body_len: np.ndarray  # per set


def walk_sets(j: Joined, version: int) -> SetWalk | int:
    """Headers and sets of v9 (version 9) or IPFIX (10) datagrams, or the index of the first
    malformed datagram (short header, set length that lies, stray bytes after the last set)."""
    if speedups.ext is not None:  # the same walk, one pass in C
        got = speedups.ext.walk_sets(j.buf, j.starts, j.lens, version)
        if isinstance(got, int):
            return got
        return SetWalk(*(np.frombuffer(c, dtype=np.int64) for c in got))
    buf = j.buf
    hdr = 20 if version == 9 else 16
    bad = j.lens < hdr
    s = np.where(bad, 0, j.starts)  # reads stay inside the buffer; those are bad anyway
    if version == 9:
        seq, domain, end = u32(buf, s + 12), u32(buf, s + 16), j.starts + j.lens
    else:
        length = u16(buf, s + 2)
        bad |= (length < 16) | (length != j.lens)  # bytes after it: the per-datagram path counts them
        seq, domain, end = u32(buf, s + 8), u32(buf, s + 12), j.starts + length
    dg = np.flatnonzero(~bad)
    pos = j.starts[dg] + hdr
    final = j.starts + hdr
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    while dg.shape[0]:
        live = end[dg] - pos >= 4
        if not live.all():
            dg, pos = dg[live], pos[live]
            if not dg.shape[0]:
                break
        sid, slen = u16(buf, pos), u16(buf, pos + 2)
        lies = (slen < 4) | (pos + slen > end[dg])
        if lies.any():
            bad[dg[lies]] = True
            ok = ~lies
            dg, pos, sid, slen = dg[ok], pos[ok], sid[ok], slen[ok]
        parts.append((dg, sid, pos + 4, slen - 4))
        pos = pos + slen
        final[dg] = pos
    if version == 10:
        bad |= final != end  # stray bytes after the last set
    if bad.any():
        return int(np.argmax(bad))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return SetWalk(seq, domain, empty, empty, empty, empty)
    cols = [np.concatenate([p[i] for p in parts]) for i in range(4)]
    order = np.argsort(cols[0], kind="stable")  # parts are by position: stable keeps it per datagram
    return SetWalk(seq, domain, *(c[order] for c in cols))
