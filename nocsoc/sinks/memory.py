"""A sink that keeps points in memory: for `--once` summaries, the demo, and tests."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from nocsoc.schema import Point


class _InMemory:
    """What both in-memory sinks share: a name, a lock for writers on several threads, and
    nothing buffered, so flush and close have no work."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()

    def flush(self, timeout: float | None = None) -> bool:
        return True

    def close(self) -> None:
        pass


class MemorySink(_InMemory):
    def __init__(self, name: str = "memory") -> None:
        super().__init__(name)
        self.points: list[Point] = []

    def write(self, points: Sequence[Point]) -> None:
        with self._lock:
            self.points.extend(points)

    def counters(self) -> dict[str, int]:
        with self._lock:
            return {"written": len(self.points), "queue": 0}

    def of(self, measurement: str) -> list[Point]:
        """The points of one measurement, in the order written."""
        with self._lock:
            return [p for p in self.points if p.measurement == measurement]


class DiscardSink(_InMemory):
    """A sink that keeps nothing (`logs listen --no-sinks`): counts what it was given."""

    def __init__(self, name: str = "discard") -> None:
        super().__init__(name)
        self._discarded = 0

    def write(self, points: Sequence[Point]) -> None:
        with self._lock:
            self._discarded += len(points)

    def counters(self) -> dict[str, int]:
        with self._lock:
            return {"written": 0, "queue": 0, "discarded": self._discarded}
