"""The receivers' disk buffer: bus messages kept on disk while the bus is unreachable or refuses
them, replayed in order once it takes them again. Bounded (`max_bytes`): beyond it, new batches
are refused and the caller counts their records as lost, loudly.

Segment files of appended entries (subject, message id, payload, CRC-32), the oldest replayed
first. How far a segment has been replayed is kept in a small `.pos` file written after every
replayed entry, so a crash during replay re-sends at most one entry, and that one carries its
message id, which JetStream's duplicate window drops. Hand-written (a few dozen lines) because
the record format is ours and a queue library would bring its own threads and formats.
"""

from __future__ import annotations

import contextlib
import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from nocsoc.fileio import atomic_write

_HEAD = struct.Struct("<HHI")  # subject length, message id length, payload length
_CRC = struct.Struct("<I")
SEGMENT_BYTES = 8 << 20


class BufferFull(Exception):
    """The disk buffer is at its bound: the batch is not kept."""


class DiskBuffer:
    def __init__(self, directory: Path, max_bytes: int, segment_bytes: int = SEGMENT_BYTES) -> None:
        self.dir = directory
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self._out: tuple[Path, BinaryIO] | None = None  # the segment being appended to
        self._bytes: int | None = None

    def _segments(self) -> list[Path]:
        if not self.dir.exists():
            return []
        return sorted(self.dir.glob("seg-*.buf"))

    @property
    def size(self) -> int:
        """Bytes held (replayed parts of a segment included until the segment is deleted)."""
        if self._bytes is None:
            self._bytes = sum(p.stat().st_size for p in self._segments())
        return self._bytes

    def __bool__(self) -> bool:
        return self.size > 0

    def append(self, subject: str, msg_id: str, payload: bytes) -> None:
        subj, mid = subject.encode(), msg_id.encode()
        entry = _HEAD.pack(len(subj), len(mid), len(payload)) + subj + mid + payload
        entry += _CRC.pack(zlib.crc32(entry))
        if self.size + len(entry) > self.max_bytes:
            raise BufferFull(f"disk buffer {self.dir} is full ({self.size} of {self.max_bytes} bytes)")
        _path, f = self._writer()
        f.write(entry)
        f.flush()
        self._bytes = self.size + len(entry)
        if f.tell() >= self.segment_bytes:
            self._close_writer()

    def _writer(self) -> tuple[Path, BinaryIO]:
        if self._out is None:
            self.dir.mkdir(parents=True, exist_ok=True)
            segs = self._segments()
            n = int(segs[-1].stem.split("-")[1]) + 1 if segs else 1
            path = self.dir / f"seg-{n:010d}.buf"
            self._out = (path, open(path, "ab"))  # noqa: SIM115 - closed in _close_writer
        return self._out

    def _close_writer(self) -> None:
        if self._out is not None:
            self._out[1].close()
            self._out = None

    def close(self) -> None:
        self._close_writer()

    def entries(self) -> Iterator[tuple[Path, int, str, str, bytes]]:
        """(segment, end offset, subject, message id, payload) from the oldest not yet replayed.
        A torn or corrupt tail (a crash mid-write) ends its segment: counted by the caller."""
        self._close_writer()  # new batches go to a new segment while these are replayed
        for seg in self._segments():
            pos = _read_pos(seg)
            with open(seg, "rb") as f:
                f.seek(pos)
                while True:
                    head = f.read(_HEAD.size)
                    if len(head) < _HEAD.size:
                        break
                    ls, lm, lp = _HEAD.unpack(head)
                    body = f.read(ls + lm + lp + _CRC.size)
                    if len(body) < ls + lm + lp + _CRC.size:
                        break
                    (crc,) = _CRC.unpack(body[-_CRC.size:])
                    if zlib.crc32(head + body[:-_CRC.size]) != crc:
                        break
                    yield (seg, f.tell(), body[:ls].decode(), body[ls:ls + lm].decode(),
                           body[ls + lm:ls + lm + lp])

    def replayed(self, segment: Path, end: int) -> None:
        """Everything of `segment` up to `end` reached the bus."""
        atomic_write(_pos_path(segment), str(end))

    def done(self, segment: Path) -> None:
        """The whole segment reached the bus: delete it."""
        for p in (segment, _pos_path(segment)):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(p)
        self._bytes = None


def _pos_path(segment: Path) -> Path:
    return segment.with_suffix(".pos")


def _read_pos(segment: Path) -> int:
    try:
        return int(_pos_path(segment).read_text().strip() or 0)
    except (OSError, ValueError):
        return 0
