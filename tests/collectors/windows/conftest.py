"""Helpers for the Windows tests: SigmaHQ's regression data (../shared/sigmahq/regression_data)."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def json_docs(path: Path) -> Iterator[dict[str, Any]]:
    """The `.json` renderings: one object, or several written back to back (not an array)."""
    text = path.read_text(encoding="utf-8")
    dec = json.JSONDecoder()
    i = 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return
        obj, i = dec.raw_decode(text, i)
        yield obj


def chunks_of(path: Path) -> list[bytes]:
    """An .evtx file's 64 KiB chunks (after its 4 KiB file header)."""
    data = path.read_bytes()
    return [data[o:o + 65536] for o in range(4096, len(data), 65536) if data[o:o + 8] == b"ElfChnk\x00"]


def evtx_file(header_from: Path, chunks: list[bytes]) -> bytes:
    """A valid multi-chunk .evtx: `header_from`'s file header with the chunk count, last chunk
    and header CRC32 (of its first 120 bytes) set for `chunks` (EVTX format: libevtx docs)."""
    hdr = bytearray(header_from.read_bytes()[:4096])
    struct.pack_into("<QQ", hdr, 8, 0, len(chunks) - 1)
    struct.pack_into("<H", hdr, 42, len(chunks))
    struct.pack_into("<I", hdr, 124, zlib.crc32(bytes(hdr[:120])))
    return bytes(hdr) + b"".join(chunks)
