"""A Winlogbeat stand-in for tests: Lumberjack v2 windows of JSON frames, and the acks read back
(the framing of elastic/go-lumber: `2W` window size, `2J` JSON frame, `2C` compressed, `2A` ack)."""

from __future__ import annotations

import socket
import struct
import zlib


def window(docs: list[bytes], compress: bool = False) -> bytes:
    """One window of JSON documents, numbered from 1, optionally zlib-compressed as Winlogbeat
    sends it by default."""
    frames = b"".join(struct.pack(">BBII", ord("2"), ord("J"), i + 1, len(d)) + d for i, d in enumerate(docs))
    head = struct.pack(">BBI", ord("2"), ord("W"), len(docs))
    if not compress:
        return head + frames
    z = zlib.compress(frames, 3)
    return head + struct.pack(">BBI", ord("2"), ord("C"), len(z)) + z


def read_frame(s: socket.socket) -> tuple[bytes, int]:
    """The next frame from the server: (code, sequence)."""
    msg = b""
    while len(msg) < 6:
        chunk = s.recv(6 - len(msg))
        if not chunk:
            raise EOFError("closed without an acknowledgement")
        msg += chunk
    return msg[:2], int.from_bytes(msg[2:], "big")


def read_ack(s: socket.socket) -> int:
    """The next acknowledgement's sequence (keepalives, `2A 0`, skipped)."""
    while True:
        code, seq = read_frame(s)
        assert code == b"2A", code
        if seq:
            return seq
