"""Lumberjack v2, the protocol of Beats' Logstash output, server side (Winlogbeat -> nocsoc).

Frames (big-endian): `2W` + uint32 window size (events in the batch); then `2J` + uint32 seq +
uint32 length + JSON document per event, either directly or inside `2C` + uint32 length + a zlib
stream of such frames. The server answers `2A` + uint32 seq: the client resends every event of
a batch whose last seq it has not seen acknowledged, so nocsoc acknowledges only after the batch's
detections are committed to the alert store; `2A` with a lower seq (here 0) tells a waiting
client the server is alive. Written from the protocol as go-lumber (Beats' own) implements it:
no maintained Python server exists.
"""

from __future__ import annotations

import socket
import struct
import zlib
from dataclasses import dataclass, field

VERSION = ord("2")
WINDOW, JSON_FRAME, COMPRESSED, ACK = ord("W"), ord("J"), ord("C"), ord("A")


class ProtocolError(ValueError):
    """The peer does not speak Lumberjack v2 (or sent a frame beyond the limits)."""


@dataclass
class Batch:
    """One window: its documents (oversized ones left out and counted) and the last seq."""

    size: int
    docs: list[bytes] = field(default_factory=list)
    last_seq: int = 0
    oversized: int = 0


def ack_frame(seq: int) -> bytes:
    return struct.pack(">BBI", VERSION, ACK, seq)


class _Buffer:
    """Frames from a byte string (a decompressed `2C` payload)."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def read(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ProtocolError("compressed frame ends inside a frame")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def at_end(self) -> bool:
        return self.pos >= len(self.data)


class SocketReader:
    """Exact reads from a blocking socket; EOFError when the peer closes between batches."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def read(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(min(n - len(buf), 1 << 20))
            if not chunk:
                raise EOFError("connection closed")
            buf += chunk
        return bytes(buf)


def _frames(src: _Buffer | SocketReader, batch: Batch, want: int, max_doc: int, max_compressed: int,
            depth: int = 0) -> None:
    while len(batch.docs) + batch.oversized < want:
        if isinstance(src, _Buffer) and src.at_end():
            return
        ver, code = src.read(2)
        if ver != VERSION:
            raise ProtocolError(f"frame version {ver!r} is not 2")
        if code == JSON_FRAME:
            seq, size = struct.unpack(">II", src.read(8))
            if size > max_doc:
                # read and drop: the stream stays in step, the event is counted as oversized
                left = size
                while left:
                    left -= len(src.read(min(left, 1 << 20)))
                batch.oversized += 1
            else:
                batch.docs.append(src.read(size))
            batch.last_seq = seq
        elif code == COMPRESSED and depth == 0:
            (size,) = struct.unpack(">I", src.read(4))
            if size > max_compressed:
                raise ProtocolError(f"compressed frame of {size} bytes (limit {max_compressed})")
            d = zlib.decompressobj()
            try:
                data = d.decompress(src.read(size), max_compressed * 4)
            except zlib.error as exc:
                raise ProtocolError(f"bad zlib data: {exc}") from None
            if d.unconsumed_tail:
                raise ProtocolError("compressed frame expands beyond the limit")
            _frames(_Buffer(data), batch, want, max_doc, max_compressed, depth + 1)
        else:
            raise ProtocolError(f"unexpected frame type {chr(code)!r}")


def read_batch(reader: SocketReader, max_window: int, max_doc: int,
               max_compressed: int = 64 << 20) -> Batch | None:
    """The next batch; None for an empty window (a client's keepalive). EOFError at a clean end,
    ProtocolError on anything else."""
    ver, code = reader.read(2)
    if ver != VERSION or code != WINDOW:
        raise ProtocolError(f"expected a window frame, got {bytes((ver, code))!r}")
    (size,) = struct.unpack(">I", reader.read(4))
    if size == 0:
        return None
    if size > max_window:
        raise ProtocolError(f"window of {size} events (limit {max_window})")
    batch = Batch(size)
    _frames(reader, batch, size, max_doc, max_compressed)
    return batch
