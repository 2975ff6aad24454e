"""Correlation windows that move with their bus partition from one detector to another.

A detector's engine keeps its correlation windows per partition (`Engine.scope_by_origin`:
each event's `origin` is the partition its sender hashes to, as the receiver published it), so
the windows of one partition can be saved, handed over and dropped without the others'.

- **Hand-over** (a detector joins and a partition moves to it, or its holder leaves or stops):
  the giving detector first commits everything it was handed (`LogDetectorHandler.drain`),
  then, on its engine thread, saves the partition's windows in the alert store in one
  transaction with its last detections and marks, and drops them; only then is the lease
  released. The taking detector restores them on its engine thread before the first line of
  the partition it reads (from the stored mark + 1). The windows then hold exactly the events
  up to the mark the successor resumes after: a brute force split across the move fires once,
  with its whole count, as on one machine.
- **Periodically** (`detections.correlation_snapshot_s`), and right after every drain (which
  commits every partition's mark past what it held for reordering), each held partition's
  windows are saved the same way, by the engine thread at its next commit. A detector that
  dies (kill -9, lease expired) hands over nothing: its successor restores the last save,
  which lacks the events counted after it (those are read again from the mark only if they
  were not committed).
- A partition whose hand-over cannot be exact is not saved: its drain did not finish, or the
  store's mark is not the last sequence this detector handed over (its lease was lost and
  another detector committed since). Counted (`windows_not_handed`) and logged.

Windows are by origin: a group whose events come through several partitions (an attacker
trying hosts whose addresses hash to different partitions) is counted per partition, wherever
the partitions are held, so the result never depends on which detector holds what.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from nocsoc.bus.partition import partition_of
from nocsoc.bus.publish import group_key
from nocsoc.detections.engine import Engine

log = logging.getLogger(__name__)

Windows = dict[str, dict[str, Any]]  # rule id -> a correlation's saved windows


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

    def snapshot(self, engine: Engine, max_groups: int) -> dict[str, Windows]:
        """Every held partition's windows, by store key (periodic save; engine thread)."""
        return {self.key(p): engine.snapshot(max_groups, scope=str(p)) for p in sorted(self.held)}

    def take(self, engine: Engine, p: int, saved: Windows) -> int:
        """Engine thread: partition `p` is ours; its saved windows join the engine's. Groups
        restored."""
        self.held.add(p)
        if not saved:
            return 0
        restored, stale = engine.restore(saved, merge=True)
        if stale:
            log.warning("bus logs p%d: saved correlation windows of %s left out: the rule changed since",
                        p, ", ".join(stale))
        return restored

    def give(self, engine: Engine, p: int, max_groups: int) -> Windows:
        """Engine thread: partition `p`'s windows, to save; `drop` them once saved."""
        return engine.snapshot(max_groups, scope=str(p))

    def drop(self, engine: Engine, p: int) -> int:
        """Engine thread: partition `p` is no longer ours. Groups dropped."""
        self.held.discard(p)
        return engine.forget(str(p))
