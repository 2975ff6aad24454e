"""Stdout sink: line protocol, one point per line, for piping into other tools (`| influx write`).

Written synchronously: a pipe is the whole transport, and its back-pressure is the right
behaviour for a consumer that reads slower than nocsoc writes. A closed pipe (the reader went
away) drops points, counted, instead of raising into the collector.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Sequence
from typing import TextIO

from nocsoc.component import Counters
from nocsoc.lineproto import LineProtocolError, encode_valid
from nocsoc.schema import SINK, Point
from nocsoc.sinks.batching import COUNTERS

log = logging.getLogger("nocsoc.sinks")


class StdoutSink:
    def __init__(self, name: str = "stdout", stream: TextIO | None = None) -> None:
        self.name = name
        self._stream = stream
        self._lock = threading.Lock()
        self._counters = Counters(SINK, only=COUNTERS)
        self._broken = False

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stdout

    def write(self, points: Sequence[Point]) -> None:
        lines = encode_valid(points, self._unencodable)
        if not lines:
            return
        with self._lock:
            if self._broken:
                self._counters.add("rejected", len(lines))
                return
            try:
                self.stream.write("\n".join(lines) + "\n")
            except (BrokenPipeError, ValueError) as exc:  # ValueError: write to a closed file
                self._broken = True
                self._counters.add("rejected", len(lines))
                log.warning("sink %s: output closed (%s); dropping points from now on", self.name, exc)
                return
            self._counters.add("written", len(lines))
            self._counters.add("batches")

    def _unencodable(self, exc: LineProtocolError) -> None:
        self._counters.add("rejected")
        log.warning("sink %s: dropped a point: %s", self.name, exc)

    def flush(self, timeout: float | None = None) -> bool:
        with self._lock:
            try:
                self.stream.flush()
            except (BrokenPipeError, ValueError):
                self._broken = True
            return not self._broken

    def close(self) -> None:
        self.flush()

    def counters(self) -> dict[str, int]:
        return {k: int(v) for k, v in self._counters.snapshot().items()}

    def self_points(self, time_ns: int | None = None) -> list[Point]:
        return [self._counters.to_point(SINK, {"sink": self.name}, time_ns)]
