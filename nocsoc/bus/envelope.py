"""The bytes of one bus message: a batch of raw records with their arrival metadata.

A record is what a receiver got, unparsed: the payload (a flow datagram, a syslog line), the
sender's address and the receive time. A batch is one bus message (one JetStream message, one
Kafka record): per-message costs on the bus are paid once per batch, not per datagram.

Columnar, so that encoding and decoding are a few array operations per batch rather than
several calls per record (measured on the decoder: the per-record layout cost 0.77 us a
datagram, a third of the bus's overhead). Hand-written with `array` and `struct` rather than a
schema library: five fields, read on the hot path, and a bad message must raise one
`EnvelopeError` (the decoder counts it and sends it to the dead-letter subject), never
something deeper.

Layout, little endian: b"NB", version 1, record count n (u32); distinct source count s (u16),
each source as length (u8) + ASCII; then n receive times (f64), n source indexes (u16), n payload
lengths (u32); then the payloads, back to back.

The publisher's batches have one source each: `encode_source` builds that case from two columns
with one join and no per-record Python step (~0.6 -> ~0.15 us a datagram, measured on the bench's
IPFIX batches); `decode` makes the records with C-level loops (map, zip) rather than Python ones
and returns them with their latest receive time, which the decoder needs per message.

With the flow C extension on a little-endian host, `frame_source` writes a batch in one
allocation (envelope_frame: no list of payloads or times, no arrays, no join) and
`decode_view` reads a one-source message as a Datagrams view whose payloads stay in the message
(envelope_view: no bytes or tuple per record; the flow decoder's C functions read them in place).
Measured on the bus bench (IPFIX, ~29 records a datagram), A/B in the same minutes: publish
~100 -> ~50 ns a record (with the publisher keeping the receivers' bursts, see publish.py),
decoder ~240 -> ~200. Both keep the layout above: the pure-Python pair is the reference, and
tests/bus/test_batching.py compares them byte for byte and record for record.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Sequence
from itertools import accumulate, repeat
from typing import Any

from nocsoc.collectors.flows import speedups

MAGIC = b"NB\x01"
_HEAD = struct.Struct("<3sIH")
_SWAP = sys.byteorder != "little"  # arrays are in the host's order; the wire is little endian

Record = tuple[bytes, str, float]  # (payload, source address, receive time): the flows Datagram


class EnvelopeError(ValueError):
    """A bus message that is not a batch this version of nocsoc can read."""


class Records(list[Record]):
    """A message's records, and `last_time`: the latest receive time among them (0.0 if none)."""

    last_time: float = 0.0


def record_size(payload: bytes, source: str) -> int:
    """Bytes a record adds to a batch (its source counted as if new: an upper bound)."""
    return 14 + len(payload) + len(source) + 1


def _wire(a: array) -> bytes:
    if _SWAP:
        a = array(a.typecode, a)
        a.byteswap()
    return a.tobytes()


def encode(records: Sequence[Record]) -> bytes:
    sources: dict[str, int] = {}
    index = array("H", [sources.setdefault(s, len(sources)) for _p, s, _t in records])
    if len(sources) > 65535:
        raise ValueError("more than 65,535 sources in one batch")
    table = []
    for s in sources:
        b = s.encode("ascii")
        if len(b) > 255:
            raise ValueError(f"source address too long: {s[:40]!r}")
        table.append(bytes((len(b),)) + b)
    payloads = [p for p, _s, _t in records]
    return b"".join([
        _HEAD.pack(MAGIC, len(records), len(sources)), *table,
        _wire(array("d", [t for _p, _s, t in records])), _wire(index),
        _wire(array("I", [len(p) for p in payloads])), *payloads,
    ])


def encode_source(source: str, payloads: Sequence[bytes], times: Sequence[float]) -> bytes:
    """`encode()` of records that all come from `source` (the same bytes), from its columns."""
    n = len(payloads)
    if n != len(times):
        raise ValueError(f"{n} payloads and {len(times)} times")
    if n == 0:
        return _HEAD.pack(MAGIC, 0, 0)
    b = source.encode("ascii")
    if len(b) > 255:
        raise ValueError(f"source address too long: {source[:40]!r}")
    return b"".join([_HEAD.pack(MAGIC, n, 1), bytes((len(b),)), b, _wire(array("d", times)),
                     bytes(2 * n), _wire(array("I", map(len, payloads))), *payloads])


def _head(source: str, n: int) -> bytes:
    b = source.encode("ascii")
    if len(b) > 255:
        raise ValueError(f"source address too long: {source[:40]!r}")
    return _HEAD.pack(MAGIC, n, 1) + bytes((len(b),)) + b


def frame_source(source: str, records: Sequence[Record]) -> bytes:
    """`encode_source` of records (tuples, or the flow extension's Datagrams) all from `source`:
    in C where it can (the same bytes), else through `encode_source`."""
    ext = speedups.ext
    if ext is not None and not _SWAP and records:
        try:
            return bytes(ext.envelope_frame(records, _head(source, len(records))))
        except TypeError:  # a payload that is bytes-like but not bytes: the general path
            pass
    return encode_source(source, [r[0] for r in records], [r[2] for r in records])


class Viewed:
    """A one-source message's records as the flow extension's Datagrams (payloads read in place
    from the message) and their latest receive time."""

    __slots__ = ("datagrams", "last_time")

    def __init__(self, datagrams: Any, last_time: float) -> None:
        self.datagrams = datagrams
        self.last_time = last_time

    def __len__(self) -> int:
        return len(self.datagrams)


def decode_view(data: bytes | bytearray) -> Records | Viewed:
    """`decode`, as a `Viewed` where the flow extension can read the message in place (one
    source, a little-endian host); the same checks, the same EnvelopeError. A bytearray is a
    message the NATS reader received into a buffer of its own (natsio.PayloadReceiver): viewed
    in place as well."""
    ext = speedups.ext
    if ext is None or _SWAP or not isinstance(data, (bytes, bytearray)) or len(data) <= _HEAD.size:
        return decode(data)
    magic, n, s = _HEAD.unpack_from(data, 0)
    if magic != MAGIC or s != 1 or n == 0:
        return decode(data)
    ln = data[_HEAD.size]
    try:
        source = data[_HEAD.size + 1:_HEAD.size + 1 + ln].decode("ascii")
    except UnicodeDecodeError as exc:
        raise EnvelopeError(f"source table of {s}: {exc}") from None
    try:
        view, last = ext.envelope_view(data, _HEAD.size + 1 + ln, n, source)
    except ValueError as exc:
        raise EnvelopeError(str(exc)) from None
    return Viewed(view, last)


def _array(code: str, data: memoryview, pos: int, n: int, size: int) -> array:
    a = array(code)
    a.frombytes(data[pos:pos + n * size])
    if _SWAP:
        a.byteswap()
    return a


def decode(data: bytes | bytearray) -> Records:
    """The records of a message; EnvelopeError says what is wrong and where. A bytearray (see
    decode_view) is copied into bytes first: each payload is cut as its own bytes."""
    if not isinstance(data, bytes):
        data = bytes(data)
    if len(data) < _HEAD.size:
        raise EnvelopeError(f"message of {len(data)} bytes is shorter than the header")
    magic, n, s = _HEAD.unpack_from(data, 0)
    if magic != MAGIC:
        raise EnvelopeError(f"not a nocsoc bus batch (starts {bytes(data[:3])!r})")
    pos = _HEAD.size
    sources = []
    try:
        for _ in range(s):
            ln = data[pos]
            sources.append(data[pos + 1:pos + 1 + ln].decode("ascii"))
            pos += 1 + ln
    except (IndexError, UnicodeDecodeError) as exc:
        raise EnvelopeError(f"source table of {s}: {exc}") from None
    if pos + n * 14 > len(data):
        raise EnvelopeError(f"{n} records do not fit in {len(data)} bytes")
    view = memoryview(data)
    times = _array("d", view, pos, n, 8)
    index = _array("H", view, pos + 8 * n, n, 2)
    lengths = _array("I", view, pos + 10 * n, n, 4)
    ends = list(accumulate(lengths, initial=pos + 14 * n))
    if ends[-1] != len(data):
        raise EnvelopeError(f"payloads end at byte {ends[-1]}, the message at {len(data)}")
    # each payload its own bytes (the flow decoder's C functions read bytes), cut by C loops
    payloads = map(data.__getitem__, map(slice, ends, ends[1:]))
    if s == 1:
        out = Records(zip(payloads, repeat(sources[0]), times))
    else:
        if n and max(index) >= s:
            raise EnvelopeError(f"a record names source {max(index)} of {s}")
        out = Records(zip(payloads, map(sources.__getitem__, index), times, strict=True))
    out.last_time = max(times) if n else 0.0
    return out
