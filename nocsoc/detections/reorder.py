"""A bounded buffer that puts a slightly out-of-order stream back in event-time order.

Correlations count in event time; syslog from several senders, UDP and batching deliver events
a little out of order. The engine holds the events that feed correlations here for up to
`window_s` and releases them oldest first:

- by event time: once an event `window_s` newer has arrived (the watermark passed it), or the
  stream has otherwise reached that time (`advance`);
- by wall-clock time (`tick`): once it and every older-dated event held have been held
  `window_s` (so at most about twice that), and a quiet stream does not keep its last events
  back;
- when full (`max_items`): the oldest goes early (counted `overflow`);
- at the end (`drain`): everything, in order (stop, end of a hunt).

Each held item has an arrival number; `pushed` is the last one given and `oldest_held()` the
smallest still held, so a caller can tell when everything it pushed up to some point has been
released (the log pipeline stores an input's position only then: an event held here is not
yet counted, and must be read again after a crash).

An event older than one already released arrived too late to be put back in order: it passes
through at once (counted `late`), and the correlation's own windows decide what it may be
counted with (`nocsoc.detections.correlation`: never with events a timespan newer).

Why hand-written: a deque kept sorted by (event time, arrival) is all it takes. Most events
arrive in order and are appended; a late one is inserted in its place (bisect). Releases pop
from the front, so each event costs O(1) but for the few out of order.
"""

from __future__ import annotations

import time
from bisect import insort
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
_NONE: tuple[()] = ()


class ReorderBuffer(Generic[T]):
    def __init__(self, window_s: float, max_items: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if window_s <= 0 or max_items <= 0:
            raise ValueError("a reorder buffer needs a window and room for at least one item")
        self.window = window_s
        self.max_items = max_items
        self.clock = clock
        # (event time, arrival seq, held since, item), ascending: seq makes every key unique
        self._held: deque[tuple[float, int, float, T]] = deque()
        self._seq = 0
        self._arrivals: deque[int] = deque()  # arrival numbers held, oldest first (some released)
        self._gone: set[int] = set()  # released, still in _arrivals
        self._newest = float("-inf")
        self.released_upto = float("-inf")  # event time of the newest item released
        self.overflow = 0  # released before their time: the buffer was full
        self.late = 0  # arrived after a newer item was released: passed through unordered

    def __len__(self) -> int:
        return len(self._held)

    def push(self, t: float, item: T) -> Sequence[tuple[float, T]]:
        """Hold `item` (of event time `t`); the items now due, oldest first."""
        if t < self.released_upto:
            self.late += 1
            return [(t, item)]
        held = self._held
        self._seq += 1
        entry = (t, self._seq, self.clock(), item)
        self._arrivals.append(self._seq)
        if not held or t >= held[-1][0]:
            held.append(entry)
        else:  # out of order: in its place
            insort(held, entry)
        if t > self._newest:
            self._newest = t
        upto = self._newest - self.window
        if held[0][0] > upto and len(held) <= self.max_items:
            return _NONE  # nothing due
        out = []
        gone = self._gone
        while held and held[0][0] <= upto:  # (inlined _release: this runs for most events)
            e = held.popleft()
            gone.add(e[1])
            out.append((e[0], e[3]))
        while len(held) > self.max_items:
            self.overflow += 1
            e = held.popleft()
            gone.add(e[1])
            out.append((e[0], e[3]))
        if out and out[-1][0] > self.released_upto:
            self.released_upto = out[-1][0]
        return out

    def advance(self, t: float) -> Sequence[tuple[float, T]]:
        """The stream has reached event time `t` (an event that is not held says so): release
        what it has passed by a window."""
        if t > self._newest:
            self._newest = t
        return self._release(self._newest - self.window)

    def tick(self) -> Sequence[tuple[float, T]]:
        """Release, oldest first, what has been held `window` seconds of wall-clock time, up to
        the first item held less long (an item arrived late waits for its own time)."""
        return self._release(self.clock() - self.window, by_arrival=True)

    @property
    def pushed(self) -> int:
        """The arrival number of the last item held."""
        return self._seq

    def oldest_held(self) -> int:
        """The smallest arrival number still held (`pushed` + 1 when none is)."""
        arrivals, gone = self._arrivals, self._gone
        while arrivals and arrivals[0] in gone:
            gone.discard(arrivals.popleft())
        return arrivals[0] if arrivals else self._seq + 1

    def put_back(self, t: float, item: T) -> None:
        """Hold `item` (of event time `t`) in its place, even if older than what was released
        already: an event another buffer held, not late there (a bus detector's partition taken
        over: nocsoc.bus.windows). It goes with the next release."""
        self._seq += 1
        self._arrivals.append(self._seq)
        insort(self._held, (t, self._seq, self.clock(), item))

    def remove(self, drop: Callable[[T], bool]) -> int:
        """Take out, unreleased, the held items `drop` picks (saved elsewhere: a bus detector's
        partition handed over with its held events). How many."""
        keep = deque(e for e in self._held if not drop(e[3]))
        gone = len(self._held) - len(keep)
        if gone:
            kept = {e[1] for e in keep}
            self._gone.update(e[1] for e in self._held if e[1] not in kept)
            self._held = keep
        return gone

    def entries(self) -> list[tuple[int, float, T]]:
        """What is held, as (arrival number, event time, item), oldest first (a bus detector
        saves its partitions' held events with their marks: nocsoc.bus.windows)."""
        return [(e[1], e[0], e[3]) for e in self._held]

    def held_since(self) -> dict[int, float]:
        """Arrival number -> when (`clock`) each item held was held: saved with it where its
        release must come as it would have here (a bus detector's partition handed over)."""
        return {e[1]: e[2] for e in self._held}

    def release_arrivals(self, upto: int) -> Sequence[tuple[float, T]]:
        """Release, in event-time order, what is held up to the newest event time of the items
        that arrived up to number `upto`. `tick` releases in event-time order and stops at the
        first item not held a window yet, so a stream that keeps bringing fresh items dated just
        above the released ones can hold older arrivals back indefinitely; a caller waiting on
        those arrivals (the log pipeline's stored marks) uses this to bound the wait."""
        times = [e[0] for e in self._held if e[1] <= upto]
        return self._release(max(times)) if times else []

    def drain(self) -> Sequence[tuple[float, T]]:
        """Everything held, oldest first."""
        return self._release(float("inf"))

    def _release(self, upto: float, by_arrival: bool = False) -> list[tuple[float, T]]:
        """Pop, oldest first, the items whose event time (or, `by_arrival`, whose held-since
        time) is at most `upto`, stopping at the first that is not."""
        held = self._held
        out = []
        while held and (held[0][2] if by_arrival else held[0][0]) <= upto:
            e = held.popleft()
            self._gone.add(e[1])
            out.append((e[0], e[3]))
        if out and out[-1][0] > self.released_upto:
            self.released_upto = out[-1][0]
        return out


__all__ = ["ReorderBuffer"]
