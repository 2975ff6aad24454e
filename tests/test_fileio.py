"""fileio.atomic_write: text or bytes replace a file whole; an existing file keeps its mode, a
new one gets 0666 minus the umask; no temp file is left, also when the write fails; and the
process umask is never touched (setting it to read it would hand another thread's new files
umask 0 meanwhile)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from nocsoc import fileio
from nocsoc.fileio import atomic_write


@pytest.fixture
def umask_027() -> Iterator[None]:
    old = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(old)


def _no_umask(mask: int) -> int:
    raise AssertionError("atomic_write set the process umask")


def test_text_and_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fileio.os, "umask", _no_umask)
    p = tmp_path / "state.json"
    atomic_write(p, "xin chào\n")
    assert p.read_bytes() == "xin chào\n".encode()
    atomic_write(p, b"\x00\xffbytes")
    assert p.read_bytes() == b"\x00\xffbytes"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["state.json"]


def test_new_file_gets_0666_minus_the_umask(tmp_path: Path, umask_027: None,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fileio.os, "umask", _no_umask)
    p = tmp_path / "new.yaml"
    atomic_write(p, "a: 1\n")
    assert p.stat().st_mode & 0o7777 == 0o640


def test_existing_file_keeps_its_mode(tmp_path: Path, umask_027: None) -> None:
    p = tmp_path / "secret.pem"
    p.write_text("old")
    p.chmod(0o600)
    atomic_write(p, "new")
    assert (p.read_text(), p.stat().st_mode & 0o7777) == ("new", 0o600)
    p.chmod(0o644)
    atomic_write(p, "newer")
    assert (p.read_text(), p.stat().st_mode & 0o7777) == ("newer", 0o644)


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "inventory.yaml"
    p.write_text("old\n")

    def no_room(fd: int) -> None:
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(fileio.os, "fsync", no_room)
    with pytest.raises(OSError, match="No space left"):
        atomic_write(p, "new\n")
    assert p.read_text() == "old\n"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["inventory.yaml"]
