"""A bounded buffer that puts a slightly out-of-order stream back in event-time order.

Correlations count in event time; syslog from several senders, UDP and batching deliver events
a little out of order. The engine holds the events that feed correlations here for up to
`window_s` and releases them oldest first:

- by event time: once an event `window_s` newer has arrived (the watermark passed it), or the
  stream has otherwise reached that time (`advance`);
- by wall-clock time (`tick`): once it has been held `window_s`, so a quiet stream does not
  keep its last events back;
- when full (`max_items`): the oldest goes early (counted `overflow`);
- at the end (`drain`): everything, in order (stop, end of a hunt).

An event older than one already released arrived too late to be put back in order: it passes
through at once (counted `late`), and the correlation's own windows decide what it may be
counted with (`nocsoc.detections.correlation`: never with events a timespan newer).

Why hand-written: a heap keyed by (event time, arrival) is all it takes; the wall-clock release
scans the held items (at most `max_items`), which the pipeline does a few times a second.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class ReorderBuffer(Generic[T]):
    def __init__(self, window_s: float, max_items: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if window_s <= 0 or max_items <= 0:
            raise ValueError("a reorder buffer needs a window and room for at least one item")
        self.window = window_s
        self.max_items = max_items
        self.clock = clock
        self._heap: list[tuple[float, int, float, T]] = []  # (event time, arrival seq, held since, item)
        self._seq = 0
        self._newest = float("-inf")
        self.released_upto = float("-inf")  # event time of the newest item released
        self.overflow = 0  # released before their time: the buffer was full
        self.late = 0  # arrived after a newer item was released: passed through unordered

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, t: float, item: T) -> list[tuple[float, T]]:
        """Hold `item` (of event time `t`); the items now due, oldest first."""
        if t < self.released_upto:
            self.late += 1
            return [(t, item)]
        self._seq += 1
        heapq.heappush(self._heap, (t, self._seq, self.clock(), item))
        if t > self._newest:
            self._newest = t
        out = self._release(self._newest - self.window)
        heap = self._heap
        while len(heap) > self.max_items:
            self.overflow += 1
            out.append(self._pop())
        return out

    def advance(self, t: float) -> list[tuple[float, T]]:
        """The stream has reached event time `t` (an event that is not held says so): release
        what it has passed by a window."""
        if t > self._newest:
            self._newest = t
        return self._release(self._newest - self.window)

    def tick(self) -> list[tuple[float, T]]:
        """Release what has been held `window` seconds of wall-clock time (and, to keep the
        order, every item not newer than it)."""
        held_since = self.clock() - self.window
        due = [t for t, _, since, _ in self._heap if since <= held_since]
        return self._release(max(due)) if due else []

    def drain(self) -> list[tuple[float, T]]:
        """Everything held, oldest first."""
        return self._release(float("inf"))

    def _pop(self) -> tuple[float, T]:
        t, _, _, item = heapq.heappop(self._heap)
        if t > self.released_upto:
            self.released_upto = t
        return t, item

    def _release(self, upto: float) -> list[tuple[float, T]]:
        heap = self._heap
        out = []
        while heap and heap[0][0] <= upto:
            out.append(self._pop())
        return out


__all__ = ["ReorderBuffer"]
