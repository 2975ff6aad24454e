"""NetFlow v5: a fixed 24-byte header and 48-byte records, decoded as one numpy dtype."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nocsoc.collectors.flows import speedups
from nocsoc.collectors.flows.records import FlowBatch, make_batch

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


@dataclass(slots=True)
class V5Records:
    """The records of some v5 datagrams of one exporter, engine and sampling, left where they
    arrived: the rollup adds them straight into its tables (`_flowfast.v5_rollup`), without the
    columns of a FlowBatch. Only the C path makes these, for FlowPipeline's own rollup; anything
    else that wants records gets them as a FlowBatch from `batch()`.

    WHY: over UDP, v5 cost more CPU per record than nfcapd mostly in copies (the datagrams joined
    into one buffer, that split into columns, those cast and scaled into a FlowBatch); the hash
    adds themselves are the same either way."""

    exporter: str
    time: float  # arrival time of the first datagram: selects the rollup interval
    datagrams: Sequence[tuple[bytes, str, float]]  # a decode batch's datagrams (shared, not copied)
    index: np.ndarray  # int64 positions in `datagrams` of these records' datagrams
    records: int
    rate: int
    state: int
    version: str = "5"
    ip_version: int = 4

    def __len__(self) -> int:
        return self.records

    def columns(self) -> dict[str, np.ndarray]:
        """The records as native-order columns (decode_columns), unscaled."""
        chunks = []
        for i in self.index.tolist():
            data = self.datagrams[i][0]
            count = parse_header(data)[0]
            chunks.append(data[HEADER_LEN:HEADER_LEN + count * RECORD_LEN])
        return decode_columns(b"".join(chunks))

    def batch(self) -> FlowBatch:
        """The same records as a FlowBatch (the numpy rollup's input), scaled by `rate`."""
        cols = self.columns()
        n = len(cols["bytes"])
        return make_batch(self.exporter, self.version, self.ip_version, self.time, cols,
                          np.full(n, self.rate, dtype=np.int64), np.full(n, self.state, dtype=np.int8))
