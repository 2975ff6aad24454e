"""bench/evtx_repack.py: SigmaHQ's real EVTX records re-packed into full chunks read back, by the
same Rust parser, byte for byte as they read in their own files; and a changed byte is caught."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from bench.evtx_repack import CHUNK, CHUNK_HEADER, HEADER, repack, verify


@pytest.fixture
def regression(shared_dir: Path) -> list[Path]:
    root = shared_dir / "sigmahq" / "regression_data"
    if not root.is_dir():
        pytest.skip(f"{root} not present")
    return sorted(root.rglob("*.evtx"))


def test_every_record_repacked_reads_back_equal(regression: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "packed.evtx"
    packer = repack(regression, out, copies=2)
    assert packer.skipped == {}
    assert verify(packer, out) == packer.records == 2 * 238
    # 202 source chunks (one record in most) become 12 full ones: each template and name is
    # written once per chunk and referenced by the later records
    assert len(packer.chunks) == 12
    assert packer.templates == {"defined": 89, "shared": 719}
    assert out.stat().st_size == HEADER + 12 * CHUNK


def test_one_record_per_chunk_keeps_the_source_layout(regression: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "sparse.evtx"
    packer = repack(regression, out, max_records=1)
    assert len(packer.chunks) == 202  # a source chunk's records stay together
    assert packer.templates == {"defined": 404}
    assert verify(packer, out) == 238


def _change_a_value(out: Path) -> tuple[bytearray, int]:
    """The file with one byte of the first chunk's last record changed, inside its last
    substitution value (a UTF-16 string); and where the chunk starts."""
    data = bytearray(out.read_bytes())
    last = struct.unpack_from("<I", data, HEADER + 44)[0]  # the first chunk's last record
    size = struct.unpack_from("<I", data, HEADER + last + 4)[0]
    at = HEADER + last + size - 20
    assert last > CHUNK_HEADER and data[at] != 0x5A
    data[at] = 0x5A  # 'Z'
    return data, HEADER


def test_a_changed_byte_is_caught(regression: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "packed.evtx"
    packer = repack(regression[:3], out)
    data, c = _change_a_value(out)
    free = struct.unpack_from("<I", data, c + 48)[0]  # records' CRC32 made right again
    struct.pack_into("<I", data, c + 52, zlib.crc32(bytes(data[c + CHUNK_HEADER:c + free])))
    hdr = bytes(data[c:c + 120]) + bytes(data[c + 128:c + CHUNK_HEADER])
    struct.pack_into("<I", data, c + 124, zlib.crc32(hdr))
    out.write_bytes(bytes(data))
    with pytest.raises(AssertionError, match="differs after re-packing"):
        verify(packer, out)


def test_a_wrong_checksum_is_caught(regression: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "packed.evtx"
    packer = repack(regression[:3], out)
    data, _ = _change_a_value(out)
    out.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match="CRC32"):
        verify(packer, out)
