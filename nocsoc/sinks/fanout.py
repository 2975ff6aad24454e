"""FanoutSink: one sink that writes to several (e.g. InfluxDB for dashboards plus stdout).

Each child keeps its own batching, retries and spool, so a dead InfluxDB never holds back the
SQLite file; a child that raises is logged and counted, and the others still get the points.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from nocsoc.component import Counters
from nocsoc.schema import SINK, Point
from nocsoc.sinks.base import Sink

log = logging.getLogger("nocsoc.sinks")


class FanoutSink:
    def __init__(self, sinks: Sequence[Sink], name: str = "fanout") -> None:
        self.name = name
        self.sinks = list(sinks)
        self._errors = Counters(SINK, only=("errors",))

    def write(self, points: Sequence[Point]) -> None:
        for sink in self.sinks:
            try:
                sink.write(points)
            except Exception:
                self._errors.add("errors")
                log.exception("sink %s: write failed; %d points not given to it", sink.name, len(points))

    def flush(self, timeout: float | None = None) -> bool:
        """Flush every child (sharing `timeout`); True when all of them have nothing unsent."""
        deadline = None if timeout is None else time.monotonic() + timeout
        ok = True
        for sink in self.sinks:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ok = sink.flush(left) and ok
        return ok

    def close(self) -> None:
        for sink in self.sinks:
            try:
                sink.close()
            except Exception:
                log.exception("sink %s: close failed", sink.name)

    def counters(self) -> dict[str, int]:
        """The children's counters summed (per-child values: `self_points()` or `.sinks`)."""
        total: dict[str, int] = {}
        for sink in self.sinks:
            for k, v in sink.counters().items():
                total[k] = total.get(k, 0) + v
        total["errors"] = self._errors.get("errors")
        return total

    def self_points(self, time_ns: int | None = None) -> list[Point]:
        """One `sink` self-metric point per child that has counters in the schema's shape."""
        out: list[Point] = []
        for sink in self.sinks:
            points = getattr(sink, "self_points", None)
            if points is not None:
                out.extend(points(time_ns))
        return out
