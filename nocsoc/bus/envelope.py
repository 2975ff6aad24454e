"""The bytes of one bus message: a batch of raw records with their arrival metadata.

A record is what a receiver got, unparsed: the payload (a flow datagram, a syslog line), the
sender's address and the receive time. A batch is one bus message (one JetStream message, one
Kafka record): per-message costs on the bus are paid once per batch, not per datagram.
Hand-written with `struct` rather than a schema library: three fields, read on the hot path,
and a bad message must raise one `EnvelopeError` (the decoder counts it and sends it to the
dead-letter subject), never something deeper.

Layout (little endian): b"NB", version 1, record count u32; per record: time f64, source
length u8, source (ASCII), payload length u32, payload.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

MAGIC = b"NB\x01"
_HEAD = struct.Struct("<3sI")
_REC = struct.Struct("<dB")
_LEN = struct.Struct("<I")

Record = tuple[bytes, str, float]  # (payload, source address, receive time): the flows Datagram


class EnvelopeError(ValueError):
    """A bus message that is not a batch this version of nocsoc can read."""


def record_size(payload: bytes, source: str) -> int:
    return _REC.size + len(source) + _LEN.size + len(payload)


def encode(records: Sequence[Record]) -> bytes:
    parts = [_HEAD.pack(MAGIC, len(records))]
    for payload, source, t in records:
        src = source.encode("ascii")
        if len(src) > 255:
            raise ValueError(f"source address too long: {source[:40]!r}")
        parts.append(_REC.pack(t, len(src)))
        parts.append(src)
        parts.append(_LEN.pack(len(payload)))
        parts.append(payload)
    return b"".join(parts)


def decode(data: bytes) -> list[Record]:
    """The records of a message; EnvelopeError says what is wrong and where."""
    if len(data) < _HEAD.size:
        raise EnvelopeError(f"message of {len(data)} bytes is shorter than the header")
    magic, count = _HEAD.unpack_from(data, 0)
    if magic != MAGIC:
        raise EnvelopeError(f"not a nocsoc bus batch (starts {bytes(data[:3])!r})")
    out: list[Record] = []
    pos = _HEAD.size
    view = memoryview(data)
    try:
        for i in range(count):
            t, slen = _REC.unpack_from(data, pos)
            pos += _REC.size
            src = bytes(view[pos:pos + slen]).decode("ascii")
            pos += slen
            (plen,) = _LEN.unpack_from(data, pos)
            pos += _LEN.size
            if pos + plen > len(data):
                raise EnvelopeError(f"record {i}: payload of {plen} bytes runs past the message end")
            out.append((bytes(view[pos:pos + plen]), src, t))
            pos += plen
    except (struct.error, UnicodeDecodeError) as exc:
        raise EnvelopeError(f"record {len(out)} of {count}: {exc}") from None
    if pos != len(data):
        raise EnvelopeError(f"{len(data) - pos} bytes after the last of {count} records")
    return out


def total_records(batches: Iterable[Sequence[Record]]) -> int:
    return sum(len(b) for b in batches)
