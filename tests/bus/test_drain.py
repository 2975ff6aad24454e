"""A detector's drain (before a partition is given up, or at stop) that cannot finish says what
it left and counts it, and the partition's windows are then not handed over (its successor
reads the rest again from the stored mark)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from nocsoc.bus import logs as bus_logs
from nocsoc.bus.config import BusConfig
from nocsoc.bus.logs import LogDetectorHandler, partition_mark
from nocsoc.component import Counters
from nocsoc.schema.selfmetrics import BUS_CONSUME


class StuckPipeline:
    """A log pipeline whose engine never gets through its queue (a store that hangs)."""

    def __init__(self) -> None:
        self.released = 0
        self.calls: list[object] = []
        self.store = self

    def release_held(self) -> None:
        self.released += 1

    def snapshot_soon(self) -> None:
        pass

    def idle(self) -> bool:
        return False

    def committed(self) -> bool:
        return False

    def backlog(self) -> dict[str, int]:
        return {"queued": 37, "unstored": 4, "waiting": 2}

    def input_offset(self, key: str) -> tuple[int, int] | None:
        return (0, 11)

    def partition_state(self, key: str) -> tuple[dict[str, object], list[object]]:
        return {}, []

    def hold_partition(self, key: str, holder: str) -> int:
        return 1

    def run_on_engine(self, fn: object, timeout: float, wait: bool = True) -> None:
        self.calls.append(fn)


def test_a_drain_that_gives_up_counts_and_says_what_it_left(monkeypatch: pytest.MonkeyPatch,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(bus_logs, "QUEUE_WAIT_S", 0.05)
    pipeline = StuckPipeline()
    counters = Counters(BUS_CONSUME, {"kind": "logs"})
    handler = LogDetectorHandler(pipeline, BusConfig(), None, counters)  # type: ignore[arg-type]
    caplog.set_level(logging.ERROR, logger="nocsoc.bus")
    assert handler.drain_all() is False
    assert pipeline.released == 1
    assert (counters.get("drain_timeouts"), counters.get("drain_left")) == (1, 37)
    (line,) = [r.getMessage() for r in caplog.records]
    assert line == ("bus logs: gave up waiting 0 s for the detections of the lines handed over: 37 items "
                    "still queued, 4 detections not stored, 2 items waiting for the reordering; a partition "
                    "given up now is read again by its next holder from its stored mark (nothing lost), "
                    "without its correlation windows")


def test_windows_are_not_handed_over_after_a_drain_that_gave_up(monkeypatch: pytest.MonkeyPatch,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    from nocsoc.bus.windows import PartitionWindows

    monkeypatch.setattr(bus_logs, "QUEUE_WAIT_S", 0.05)
    pipeline = StuckPipeline()
    counters = Counters(BUS_CONSUME, {"kind": "logs"})
    bus = BusConfig()
    windows = PartitionWindows(bus.log_partitions, lambda p: partition_mark(bus, p))
    handler = LogDetectorHandler(pipeline, bus, windows, counters)  # type: ignore[arg-type]
    assert asyncio.run(handler.acquire(2)) == 12
    caplog.set_level(logging.WARNING, logger="nocsoc.bus")
    handler.release(2)
    assert counters.get("windows_not_handed") == 1 and counters.get("windows_handed") == 0
    assert any("p2: correlation windows not handed over (the drain did not finish)" in r.getMessage()
               for r in caplog.records)
    assert len(pipeline.calls) == 2  # the take at acquire, then the drop (not a save)
