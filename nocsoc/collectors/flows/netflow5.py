"""NetFlow v5: a fixed 24-byte header and 48-byte records, decoded as one numpy dtype."""

from __future__ import annotations

import struct

import numpy as np

from nocsoc.collectors.flows import speedups

# version count uptime secs nsecs sequence engine_type engine_id sampling
HEADER = struct.Struct("!HHIIIIBBH")
HEADER_LEN = 24
RECORD_LEN = 48
MAX_COUNT = 30  # the v5 maximum per datagram

RECORD_DTYPE = np.dtype({
    "names": ["src", "dst", "in_if", "out_if", "packets", "bytes", "sport", "dport", "proto"],
    "formats": [">u4", ">u4", ">u2", ">u2", ">u4", ">u4", ">u2", ">u2", "u1"],
    "offsets": [0, 4, 12, 14, 16, 20, 32, 34, 38],
    "itemsize": RECORD_LEN,
})


class V5Error(ValueError):
    pass


def parse_header(data: bytes) -> tuple[int, int, int, int]:
    """(count, sequence, engine key, sampling field) of a v5 datagram, checking the lengths."""
    if len(data) < HEADER_LEN:
        raise V5Error(f"v5 datagram of {len(data)} bytes is shorter than the header")
    _v, count, _up, _s, _ns, seq, etype, eid, sampling = HEADER.unpack_from(data)
    if count == 0 or count > MAX_COUNT:
        raise V5Error(f"v5 record count {count} outside 1..{MAX_COUNT}")
    if len(data) < HEADER_LEN + count * RECORD_LEN:
        raise V5Error(f"v5 datagram says {count} records but has {len(data)} bytes")
    return count, seq, (etype << 8) | eid, sampling


def decode_columns(buf: bytes | np.ndarray) -> dict[str, np.ndarray]:
    """Records (bytes, or a uint8 array of them) into native-order columns."""
    if speedups.ext is not None:
        return speedups.record_columns(buf, RECORD_DTYPE)
    arr = np.frombuffer(buf, dtype=RECORD_DTYPE, count=len(buf) // RECORD_LEN)
    # native byte order in the same copy: the rollup sorts these
    return {name: arr[name].astype(arr[name].dtype.newbyteorder("=")) for name in RECORD_DTYPE.names or ()}


def columns_at(buf: np.ndarray, offsets: np.ndarray) -> dict[str, np.ndarray]:
    """decode_columns of the records at byte `offsets` of `buf`, gathered in the same pass (C only)."""
    return speedups.record_columns(buf, RECORD_DTYPE, offsets=offsets)
