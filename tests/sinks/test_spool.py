"""The on-disk spool by itself: order across reopen, bounds, and what a crash can leave behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from nocsoc.component import Counters
from nocsoc.schema import SINK
from nocsoc.sinks.batching import COUNTERS
from nocsoc.sinks.spool import Spool


def open_spool(path: Path, max_bytes: int = 1 << 20) -> tuple[Spool, Counters]:
    counters = Counters(SINK, only=COUNTERS)
    return Spool(path, max_bytes, counters, "test"), counters


def drain(spool: Spool) -> list[list[str]]:
    out = []
    while (head := spool.head()) is not None:
        out.append(head[1])
        spool.remove(head[0])
    return out


def test_order_survives_reopen_and_new_batches_go_after(tmp_path: Path) -> None:
    spool, _ = open_spool(tmp_path)
    spool.append(["m v=1 1", "m v=2 2"])
    spool.append(["m v=3 3"])
    spool.close()
    again, counters2 = open_spool(tmp_path)
    again.append(["m v=4 4"])
    assert again.lines == 4
    assert counters2.get("spool_bytes") == again.bytes > 0
    assert drain(again) == [["m v=1 1", "m v=2 2"], ["m v=3 3"], ["m v=4 4"]]
    assert counters2.get("spool_bytes") == 0
    again.close()


def test_crash_leftovers_interrupted_write_and_half_replaced_head(tmp_path: Path) -> None:
    (tmp_path / "000000000007-2.tmp").write_text("m v=9 9\nm v=10 10\n")  # never renamed: unconfirmed
    (tmp_path / "000000000003-3.lp").write_text("m v=1 1\nm v=2 2\nm v=3 3\n")
    (tmp_path / "000000000003-1.lp").write_text("m v=3 3\n")  # replace_head wrote the rest, then crash
    (tmp_path / "000000000004-1.lp").write_text("m v=4 4\n")
    spool, _ = open_spool(tmp_path)
    assert drain(spool) == [["m v=3 3"], ["m v=4 4"]]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock"]
    spool.close()


def test_replace_head_keeps_the_unconfirmed_rest_in_place(tmp_path: Path) -> None:
    spool, _ = open_spool(tmp_path)
    spool.append(["a v=1 1", "a v=2 2", "a v=3 3"])
    spool.append(["b v=1 1"])
    head = spool.head()
    assert head is not None
    spool.replace_head(head[0], ["a v=3 3"])
    assert spool.lines == 2
    assert drain(spool) == [["a v=3 3"], ["b v=1 1"]]
    spool.close()


def test_bounded_drops_oldest_and_trims_an_oversized_batch(tmp_path: Path) -> None:
    line = "m v=1 1"  # 8 bytes with its newline
    spool, counters = open_spool(tmp_path, max_bytes=8 * 10)
    for i in range(4):
        spool.append([f"m v={i} {i}"] * 4)  # 32 bytes each: the 3rd and 4th each drop the oldest
    assert (counters.get("spooled"), counters.get("spool_dropped"), spool.lines) == (16, 8, 8)
    head = spool.head()
    assert head is not None and head[1] == ["m v=2 2"] * 4  # batches 0 and 1 went
    assert spool.bytes <= 80
    spool.append([line] * 12)  # 96 bytes alone: keeps its newest 10 lines, drops everything else
    assert (counters.get("spool_dropped"), spool.lines) == (8 + 2 + 8, 10)
    assert counters.get("spooled") == 26
    spool.close()


def test_an_unwritable_spool_drops_loudly_and_keeps_going(tmp_path: Path,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    spool, counters = open_spool(tmp_path)
    spool.append(["m v=1 1"])
    # the next batch's file name is taken by a directory: its write fails as on a full disk
    (tmp_path / "000000000002-2.lp" / "x").mkdir(parents=True)
    spool.append(["m v=2 2", "m v=3 3"])
    assert counters.get("spool_dropped") == 2
    assert "DROPPED 2 points: cannot write spool file" in caplog.text
    spool.append(["m v=4 4"])  # and the spool goes on working
    assert drain(spool) == [["m v=1 1"], ["m v=4 4"]]
    spool.close()
