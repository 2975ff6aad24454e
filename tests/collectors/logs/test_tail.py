"""File tail: follows rotation (rename + new file) and truncation, resumes from saved offsets."""

from __future__ import annotations

import os
from pathlib import Path

from nocsoc.collectors.logs.tail import FileTailer

Saved = dict[str, dict[str, int]]


class SavedOffsets:
    """The consumer's side: stores each line's offset as it takes the line (the pipeline does
    so in the alert store, with the line's alerts)."""

    def __init__(self) -> None:
        self.data: Saved = {}

    def get(self, key: str) -> dict[str, int] | None:
        return self.data.get(key)

    def take(self, got: list[str]) -> object:
        def sink(line: str, path: str, inode: int, offset: int) -> bool:
            got.append(line)
            self.data[path] = {"inode": inode, "offset": offset}
            return True
        return sink


def _tailer(path: Path, state: SavedOffsets, got: list[str], start_at: str = "beginning") -> FileTailer:
    return FileTailer(str(path), state.take(got), state, start_at)  # type: ignore[arg-type]


def test_rotation_truncation_and_partial_lines(tmp_path: Path) -> None:
    log, state = tmp_path / "auth.log", SavedOffsets()
    log.write_text("one\ntwo\nthr")
    got: list[str] = []
    t = _tailer(log, state, got)
    assert t.poll() == 2 and got == ["one", "two"]
    with open(log, "a") as f:
        f.write("ee\nfour\n")
    t.poll()
    assert got == ["one", "two", "three", "four"]
    # rotation: the old file gets a last line after being renamed; a new file appears
    os.rename(log, tmp_path / "auth.log.1")
    with open(tmp_path / "auth.log.1", "a") as f:
        f.write("five (written to the old file after rename)\n")
    log.write_text("six\n")
    t.poll()
    assert got[4:] == ["five (written to the old file after rename)", "six"]
    assert t.counters.get("rotations") == 1
    # truncation (copytruncate style)
    with open(log, "w") as f:
        f.write("7\n")
    t.poll()
    assert got[6:] == ["7"] and t.counters.get("truncations") == 1
    t.stop()


def test_offsets_survive_a_restart(tmp_path: Path) -> None:
    log, state = tmp_path / "access.log", SavedOffsets()
    log.write_text("a\nb\n")
    got: list[str] = []
    t = _tailer(log, state, got)
    t.poll()
    t.stop()
    with open(log, "a") as f:
        f.write("c\nd\n")
    got2: list[str] = []
    t2 = _tailer(log, state, got2)
    t2.poll()
    assert got == ["a", "b"] and got2 == ["c", "d"]  # nothing twice, nothing lost
    t2.stop()


def test_start_at_end_for_a_new_file(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    log.write_text("old\n" * 1000)
    got: list[str] = []
    t = _tailer(log, SavedOffsets(), got, start_at="end")
    assert t.poll() == 0
    with open(log, "a") as f:
        f.write("new\n")
    t.poll()
    assert got == ["new"]
    t.stop()


def test_missing_file_waits_for_it(tmp_path: Path) -> None:
    log = tmp_path / "later.log"
    got: list[str] = []
    t = _tailer(log, SavedOffsets(), got)
    assert t.poll() == 0
    log.write_text("hello\n")
    assert t.poll() == 1 and got == ["hello"]
    t.stop()
