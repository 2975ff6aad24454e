"""Correlation windows that move with their bus partition from one detector to another.

A detector runs one engine per partition (`nocsoc.bus.engines`: each event's `origin` is the
partition its sender hashes to, as the receiver published it), so the windows of one partition
can be saved, handed over and dropped without the others', and what a partition's events give
never depends on another's (its reorder and sweep clocks are its own stream's).

- **With every mark**: each commit of the detector's pipeline stores, in the transaction of its
  marks, what changed in each held partition's correlation state since its last save (`changes`:
  the groups its events touched or that went away, the events newly held for reordering and
  those released; `nocsoc.detections.alerts.partitions`). The stored state therefore always
  holds exactly the events up to the stored mark, whenever the detector dies (kill -9, a host
  lost), and a mark need not wait for the reordering to release its events.
- **Hand-over** (a detector joins and a partition moves to it, or its holder leaves or stops, or
  loses its lease): the giving detector first commits everything it was handed
  (`LogDetectorHandler.drain`), then, on its engine thread, commits the partition's last changes
  with its last detections and marks and drops its windows; only then is the lease released.
- **Take-over**: the taking detector reads the mark and the state, and on its engine thread,
  before the first line of the partition it reads (from the stored mark + 1), restores the
  windows and holds the saved events again; its first save rewrites the partition's rows whole.
- A partition whose hand-over cannot be exact is not saved any more (`give_up`): its drain did
  not finish, or the store's mark is not the last sequence this detector handed over (its lease
  was lost and another detector committed since). Counted (`windows_not_handed`) and logged; its
  next holder starts from the state saved with the store's mark.

Windows are by origin: a group whose events come through several partitions (an attacker
trying hosts whose addresses hash to different partitions) is counted per partition, wherever
the partitions are held, so the result never depends on which detector holds what.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nocsoc.bus.engines import PartitionEngines
from nocsoc.bus.partition import partition_of
from nocsoc.bus.publish import group_key
from nocsoc.detections.alerts.partitions import PartitionSave
from nocsoc.detections.engine import Detection, Engine
from nocsoc.detections.loader import RuleSet
from nocsoc.events import LogEvent

log = logging.getLogger(__name__)

Windows = dict[str, dict[str, Any]]  # rule id -> a correlation's saved windows
Changes = dict[str, dict[str, list[tuple[tuple[str, ...], list[Any] | None]]]]  # Engine.window_changes


@dataclass
class Pending:
    """One commit's saves (`PartitionWindows.changes`), settled by `saved` or `failed`."""

    saves: dict[str, PartitionSave]
    changes: Changes
    held: dict[int, set[int]]  # partition -> arrivals saved once this commit lands
    reset: set[int]
    fences: dict[str, tuple[str, int]] = field(default_factory=dict)  # `ingest(fences=...)`


HELD_SINCE = "held_since"  # in a held event's saved document: its partition's clock then


def _held_doc(ev: LogEvent, since: float | None) -> dict[str, Any]:
    """A held event as saved: `to_dict()`, with the stream time it was held at (its successor
    releases it where this detector would have: nocsoc.bus.engines)."""
    doc = ev.to_dict()
    if since is not None and math.isfinite(since):
        doc[HELD_SINCE] = since
    return doc


class PartitionWindows:
    """The `WindowScope` of a bus detector (nocsoc.collectors.logs.pipeline): origins are
    partitions; `held` (engine thread only) are the partitions whose windows this engine has."""

    def __init__(self, partitions: int, key: Callable[[int], str]) -> None:
        """`key`: the alert store key of a partition (its mark's input name)."""
        self.partitions = partitions
        self.key = key
        self.held: set[int] = set()
        self._origins: dict[str, str] = {}
        self._lock = threading.Lock()
        # engine thread: per held partition, the arrival numbers of its held events saved in the
        # store; partitions whose saved rows are not this engine's yet (taken over: rewritten whole)
        self._saved_held: dict[int, set[int]] = {}
        self._reset: set[int] = set()
        self._given_up: set[int] = set()  # any thread (`give_up`), under the lock
        # engine thread: the (holder, epoch) each partition was last taken at (`take`), so a
        # commit after another detector took one is fenced (nocsoc.detections.alerts.partitions),
        # also once it is given up here
        self.fences: dict[int, tuple[str, int]] = {}
        self.on_fenced: Callable[[int], None] | None = None  # told of each partition fenced

    def make_engine(self, ruleset: RuleSet, **kwargs: Any) -> PartitionEngines:
        """The pipeline's engine: one per partition (`nocsoc.bus.engines`: a partition's result
        is its own stream's alone)."""
        return PartitionEngines(ruleset, **kwargs)

    def received(self, engine: Engine, origin: str, t: float) -> list[Detection]:
        """Engine thread: partition `origin`'s stream has reached receive time `t`."""
        return engine.received(origin, t) if isinstance(engine, PartitionEngines) else []

    def note(self, sender: str, p: int) -> None:
        """Lines of `sender` came through partition `p` (before they are queued: the engine
        thread reads it). What the receiver did, whatever this process's partition count."""
        if self._origins.get(sender) != (o := str(p)):
            with self._lock:
                if len(self._origins) > 100_000:  # senders are hosts: a bound, not a cache policy
                    self._origins.clear()
                self._origins[sender] = o

    def origin(self, sender: str) -> str:
        """The partition (as a string) a sender's lines came through."""
        o = self._origins.get(sender)
        return o if o is not None else str(partition_of(group_key(sender), self.partitions))

    def changes(self, engine: Engine) -> Pending:
        """Engine thread, at every commit: what each held partition's correlation state gained
        and lost since its last save, to store with the marks of that commit (so the state a
        successor restores always matches the mark it resumes after). The cost is what changed:
        the groups the events touched (`Engine.window_changes`), the events newly held for
        reordering and those released, plus one pass over the held events' arrival numbers;
        a partition just taken over is written whole once."""
        changes = engine.window_changes()
        held_now: dict[str, list[tuple[int, str, LogEvent]]] = {}
        for arrival, rid, ev in engine.held_events():
            held_now.setdefault(getattr(ev, "origin", ""), []).append((arrival, rid, ev))
        saves: dict[str, PartitionSave] = {}
        held: dict[int, set[int]] = {}
        fps: dict[str, str] | None = None
        with self._lock:
            given_up = set(self._given_up)
        scoped = engine if isinstance(engine, PartitionEngines) else None
        for p in self.held - given_up:
            o = str(p)
            events = held_now.get(o, [])
            now = {a for a, _, _ in events}
            save = PartitionSave()
            if p in self._reset:
                save.reset = True
                snap = engine.snapshot(None, scope=o)
                save.fingerprints = {rid: sn["fingerprint"] for rid, sn in snap.items()}
                save.groups = [(rid, json.dumps(g[0]), g) for rid, sn in snap.items() for g in sn["groups"]]
                since = scoped.since_of(o) if scoped is not None and events else {}
                save.held = [(a, rid, _held_doc(ev, since.get(a))) for a, rid, ev in events]
            else:
                mine = changes.get(o, {})
                if mine:
                    fps = fps if fps is not None else engine.fingerprints()
                    save.fingerprints = {rid: fps[rid] for rid in mine}
                    save.groups = [(rid, json.dumps(list(gk)), entry)
                                   for rid, groups in mine.items() for gk, entry in groups]
                before = self._saved_held.get(p, set())
                if now != before:
                    new = [(a, rid, ev) for a, rid, ev in events if a not in before]
                    since = scoped.since_of(o) if scoped is not None and new else {}
                    save.held = [(a, rid, _held_doc(ev, since.get(a))) for a, rid, ev in new]
                    save.released = sorted(before - now)
            if save:
                saves[self.key(p)] = save
                held[p] = now
        return Pending(saves, changes, held, self._reset & self.held,
                       {self.key(p): f for p, f in self.fences.items()})

    def key_of(self, d: Detection) -> str | None:
        """The store key of the partition a detection's events came through (None: unknown)."""
        for e in reversed(d.samples):
            o = getattr(e, "origin", None)
            if o is not None and o.isdigit():
                return self.key(int(o))
        return None

    def give_up(self, p: int) -> None:
        """Any thread: partition `p`'s state is not to be saved any more (it is being given up
        and may be another detector's already), from the next commit on."""
        with self._lock:
            self._given_up.add(p)

    def saved(self, engine: Engine, pending: Pending, fenced: set[str] | None = None) -> None:
        """Engine thread: `pending` is in the store, but for the `fenced` partitions: another
        detector holds them now, so they are dropped here unsaved (their lease is lost too)."""
        for p, arrivals in pending.held.items():
            if p in self.held:
                self._saved_held[p] = arrivals
        self._reset -= pending.reset
        for p in [p for p in self.held if fenced and self.key(p) in fenced]:
            self.give_up(p)
            self.drop(engine, p)
            if self.on_fenced is not None:
                self.on_fenced(p)

    def failed(self, engine: Engine, pending: Pending) -> None:
        """Engine thread: the store refused `pending`: its changes are saved with the next commit
        (the held events' rows are compared again then)."""
        engine.redirty({o: c for o, c in pending.changes.items() if o.isdigit() and int(o) in self.held})

    def take(self, engine: Engine, p: int, saved: Windows,
             held: list[tuple[str, dict[str, Any]]] | None = None,
             fence: tuple[str, int] | None = None) -> tuple[int, list[Detection]]:
        """Engine thread: partition `p` is ours; its saved windows join the engine's, and the
        events its last holder held for reordering are held here. (Groups restored, detections
        the reordering released at once.) Its saved rows are rewritten whole at the next commit;
        `fence`: (holder, epoch) it was taken at (`AlertStore.hold_partition`)."""
        self.held.add(p)
        if fence is not None:
            self.fences[p] = fence
        with self._lock:
            self._given_up.discard(p)
        self._reset.add(p)
        self._saved_held[p] = set()
        restored = 0
        # its own engine (a plain scoped Engine: the one)
        own = engine.engine(str(p)) if isinstance(engine, PartitionEngines) and (saved or held) else engine
        if saved:
            restored, stale = own.restore(saved, merge=True)
            if stale:
                log.warning("bus logs p%d: saved correlation windows of %s left out: the rule changed since",
                            p, ", ".join(stale))
        out: list[Detection] = []
        gone = 0
        for rid, doc in sorted(held or (), key=lambda h: float(h[1].get("time", 0.0))):  # event time
            ev = LogEvent.from_dict(doc)
            ev.origin = str(p)
            since = doc.get(HELD_SINCE)
            got = engine.hold_at(rid, ev, float(since)) if isinstance(engine, PartitionEngines) \
                and isinstance(since, (int, float)) else own.hold(rid, ev)
            if got is None:
                gone += 1
            else:
                out += got
        if gone:
            log.warning("bus logs p%d: %d saved events held for reordering left out: their rule is gone",
                        p, gone)
        return restored, out

    def drop(self, engine: Engine, p: int) -> int:
        """Engine thread: partition `p` is no longer ours (saved with the last commit, or not to
        be saved: another holder's now). Groups dropped; nothing of it is saved from now on."""
        self.held.discard(p)
        self._reset.discard(p)
        self._saved_held.pop(p, None)  # (its fence stays: a line of it still queued is fenced)
        return engine.forget(str(p))
