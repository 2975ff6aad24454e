"""Headers and set walks over a whole batch of datagrams of one NetFlow version, in C.

WHY: walking each datagram's sets in Python costs ~1 us per set (softflowd interleaves IPv4 and
IPv6 sets, ~4.6 records each), more than nfcapd spends per record. Here the datagrams of a batch
are joined into one buffer and walked in one C pass (_flowfast.walk_sets); records of one
template are then gathered from the joined buffer into columns in one pass too
(Template.columns_at). This is the decoder's bulk path only: without the C extension the decoder
takes its per-datagram path (the reference the bulk path is tested against).

Nothing here touches decoder state: `walk_sets` only reads and validates. Any irregularity (a
short header, a set length that lies, bytes after the last set or message) returns the index of
the first such datagram: the caller decodes the ones before it in bulk and that one with the
per-datagram path, which names and counts it exactly as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from nocsoc.collectors.flows import speedups


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


@dataclass
class Joined:
    """The datagrams of one batch joined into one buffer."""

    buf: np.ndarray  # uint8
    raw: bytes  # the same bytes (for slicing template sets)
    starts: np.ndarray  # int64 offset of each datagram
    lens: np.ndarray  # int64 length of each datagram
    exporters: list[str] = field(default_factory=list)  # in first-seen order
    exporter_index: np.ndarray | None = None  # int64 per datagram, into `exporters`


def join_group(group: Sequence[tuple[bytes, str, float]]) -> Joined:
    """The payloads joined, with each datagram's exporter as an index (one pass in C)."""
    assert speedups.ext is not None
    raw, lens_b, index_b, exporters = speedups.ext.join_group(group)
    lens = np.frombuffer(lens_b, dtype=np.int64)
    return Joined(np.frombuffer(raw, dtype=np.uint8), raw, excl_cumsum(lens), lens, exporters,
                  np.frombuffer(index_b, dtype=np.int64))


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
    malformed datagram (short header, set length that lies, IPFIX length other than the
    datagram's, a set header that does not fit: see _flowfast.walk_sets)."""
    assert speedups.ext is not None
    got = speedups.ext.walk_sets(j.buf, j.starts, j.lens, version)
    if isinstance(got, int):
        return got
    return SetWalk(*(np.frombuffer(c, dtype=np.int64) for c in got))
