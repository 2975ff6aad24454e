"""A bus detector's rule engine: one `Engine` per partition it holds, so that what a partition's
events give depends on that partition's stream alone.

Why: an engine's event-time clock is one for all it is fed. Its reorder buffer's watermark
(which events are put back in order, which are `late` and pass through as they come) and its
sweeps (a correlation group idle for a timespan of the newest event time is freed; a later
event of it starts a new window) follow the newest event of *any* origin. One engine fed two
partitions therefore counted one partition's brute force differently depending on how the other
partition's messages happened to interleave with it, and on which partitions a detector held:
with EVTX times spanning years, a detector's result fell short of one machine's in some runs
(`tests/bus/test_windows_cluster.py`, a failed-logon burst 33 of 35). Per partition, each
stream has its own clock, exactly as its events came, whichever detector holds it and whatever
else that detector holds; a partition handed over takes nothing of another's with it.

The sub-engines share the compiled rules and the route cache (routes depend on the rules
only), so a partition taken costs its correlation trackers, not a compile. Their counters are
summed; those of a partition given up are kept in the totals (they are monotonic). Bounds
(`max_groups`, `reorder_max_events`) are per partition held.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from nocsoc.detections.engine import Detection, Engine
from nocsoc.detections.loader import RuleSet
from nocsoc.events import LogEvent

# counters that say what is (not what happened): summed over the live engines only
_GAUGES = frozenset({"correlation_groups", "reorder_held"})

Changes = dict[str, dict[str, list[tuple[tuple[str, ...], list[Any] | None]]]]


class StreamClock:
    """A partition's reorder clock: the receive time (at the receiver) its stream has reached
    (`PartitionEngines.received`), so that what is released as held long enough comes at the
    same place in the stream however fast and whenever the detector got to it (a stall, a
    fetch, a loaded host); while `pinned`, the time a held event taken over was held at."""

    __slots__ = ("now", "pinned")

    def __init__(self) -> None:
        self.now = float("-inf")
        self.pinned: float | None = None

    def __call__(self) -> float:
        return self.pinned if self.pinned is not None else self.now


class PartitionEngines(Engine):
    """The engine a bus detector's pipeline runs (`PartitionWindows.make_engine`): itself the
    template (its rules, routes and correlation definitions; never fed), with one scoped
    `Engine` per origin (partition) it has seen or taken, made on first use."""

    def __init__(self, ruleset: RuleSet, **kwargs: Any) -> None:
        super().__init__(ruleset, **kwargs)
        super().scope_by_origin()  # (its fingerprints and empty snapshots are the scoped ones)
        self._kwargs = kwargs
        self.engines: dict[str, Engine] = {}
        self._gone: dict[str, float] = {}  # counters of the engines of partitions given up
        self.clocks: dict[str, StreamClock] = {}
        # `held` is asked after every item: each engine's answer is kept until something that
        # may change it runs on it (an event, a release, a restore), not asked again of all
        self._held: dict[str, int] = {}
        self._stale: set[str] = set()
        self._thread: int | None = None  # the engine thread, once it has processed an event

    def engine(self, origin: str) -> Engine:
        """The engine of `origin`, made if it has none yet (and what it holds counted again at
        the next `held`: the caller may change it)."""
        self._stale.add(origin)
        e = self.engines.get(origin)
        if e is None:
            e = self.engines[origin] = Engine(self.ruleset, **self._kwargs)
            e.scope_by_origin()
            e.reorder_clock(self._clock(origin))
        return e

    def received(self, origin: str, t: float) -> list[Detection]:
        """`origin`'s stream has reached receive time `t` (the receiver's clock): a message
        received then comes next, or the partition's reader has caught up and nothing received
        before `t` is still to come. Its clock moves to `t`, and what is then held a window by
        it is released, at the same place in the stream wherever and whenever it is processed."""
        clock = self._clock(origin)
        if t <= clock.now:
            return []
        clock.now = t
        e = self.engines.get(origin)  # (none yet: its first events are to come)
        if e is None:
            return []
        self._stale.add(origin)
        return e.release_due()

    def _clock(self, origin: str) -> StreamClock:
        c = self.clocks.get(origin)
        if c is None:
            c = self.clocks[origin] = StreamClock()
        return c

    def held_since(self) -> dict[int, float]:
        raise NotImplementedError("arrival numbers are per partition: since_of(origin)")

    def since_of(self, origin: str) -> dict[int, float]:
        """Arrival number -> the stream time each event `origin` holds was held at."""
        e = self.engines.get(origin)
        return e.held_since() if e is not None else {}

    def hold_at(self, rule_id: str, event: LogEvent, since: float | None) -> list[Detection] | None:
        """`hold`, the event held as of stream time `since` (saved with it by its last holder;
        None: now), and the stream's clock not behind it."""
        e = self.engine(event.origin)
        clock = self._clock(event.origin)
        if since is None:
            return e.hold(rule_id, event)
        clock.pinned = since
        try:
            got = e.hold(rule_id, event)
        finally:
            clock.pinned = None
        if since > clock.now:
            clock.now = since
        return got

    # --- the pipeline's calls ------------------------------------------------------------------

    def process(self, event: LogEvent) -> list[Detection]:
        """(The thread that calls this is the engine thread: `held`'s cache is its own.)"""
        o = event.origin
        e = self.engines.get(o)
        self._stale.add(o)
        self._thread = threading.get_ident()
        return (e if e is not None else self.engine(o)).process(event)

    def held(self) -> int:
        if threading.get_ident() != self._thread:  # another thread (a test, a status): no cache
            return sum(e.held() for e in list(self.engines.values()))
        stale, held = self._stale, self._held
        if stale:
            for o in stale:
                e = self.engines.get(o)
                if e is not None:
                    held[o] = e.held()
                else:
                    held.pop(o, None)
            stale.clear()
        return sum(held.values())

    def tick(self) -> list[Detection]:
        return self._every(Engine.tick)

    def drain(self) -> list[Detection]:
        return self._every(Engine.drain)

    def flush(self, now: float) -> list[Detection]:
        return self._every(lambda e: e.flush(now))

    def _every(self, step: Callable[[Engine], list[Detection]]) -> list[Detection]:
        """`step` on every partition's engine, their detections together; each may now hold
        less, so what each holds is asked again."""
        out: list[Detection] = []
        for e in self.engines.values():
            out += step(e)
        self._stale.update(self.engines)
        return out

    def state_size(self) -> int:
        return sum(e.state_size() for e in list(self.engines.values()))  # (any thread: a status)

    def counter_sets(self) -> list[Any]:
        totals = dict(self._gone)
        for e in list(self.engines.values()):  # (any thread: self-metrics, a status)
            for cs in e.counter_sets():
                for name, v in cs.snapshot().items():
                    totals[name] = totals.get(name, 0) + v
        for name in self.counters.snapshot():
            self.counters.set(name, totals.get(name, 0))
        return [self.counters]

    def reorder_mark(self) -> int:
        raise NotImplementedError("a bus detector's marks do not wait for the reordering "
                                  "(its held events are saved with them)")

    def reorder_released(self, mark: int) -> bool:
        return self.reorder_mark() > 0

    def reorder_release(self, mark: int) -> list[Detection]:
        self.reorder_mark()
        return []

    # --- the partitions' windows (nocsoc.bus.windows) -------------------------------------------

    def snapshot(self, max_groups: int | None = None, scope: str | None = None) -> dict[str, dict[str, Any]]:
        if scope is None:
            raise NotImplementedError("a bus detector's windows are saved per partition (scope=)")
        e = self.engines.get(scope)
        return e.snapshot(max_groups, scope) if e is not None else super().snapshot(max_groups, scope)

    def restore(self, saved: dict[str, dict[str, Any]], merge: bool = False) -> tuple[int, list[str]]:
        raise NotImplementedError("a bus detector restores a partition's windows into its own "
                                  "engine (engine(origin).restore)")

    def scope_by_origin(self) -> None:
        """(Always by origin.)"""

    def forget(self, scope: str) -> int:
        """Partition `scope` given up: its engine goes, its counters stay in the totals."""
        e = self.engines.pop(scope, None)
        self.clocks.pop(scope, None)
        self._stale.add(scope)
        if e is None:
            return 0
        n = e.forget(scope)
        for cs in e.counter_sets():
            for name, v in cs.snapshot().items():
                if name not in _GAUGES:
                    self._gone[name] = self._gone.get(name, 0) + v
        return n

    def window_changes(self) -> Changes:
        out: Changes = {}
        for e in self.engines.values():
            out.update(e.window_changes())
        return out

    def redirty(self, changes: Changes) -> None:
        for origin, per_rule in changes.items():
            e = self.engines.get(origin)
            if e is not None:
                e.redirty({origin: per_rule})

    def held_events(self) -> list[tuple[int, str, LogEvent]]:
        """Each engine's, oldest first within each (arrival numbers are per partition)."""
        out: list[tuple[int, str, LogEvent]] = []
        for e in self.engines.values():
            out += e.held_events()
        return out

    def hold(self, rule_id: str, event: LogEvent) -> list[Detection] | None:
        return self.engine(event.origin).hold(rule_id, event)


__all__ = ["PartitionEngines"]
