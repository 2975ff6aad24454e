"""Names the SNMP poller reads, shared with the other collectors through the state dir.

Under `nocsoc run` the poller, the flow collector and the trap receiver are separate processes:
the poller writes each device's ifIndex -> ifName table to `<state_dir>/interfaces.json` and its
entPhysicalIndex -> name table (ENTITY-MIB entPhysicalName, else entPhysicalDescr) to
`<state_dir>/entities.json` (atomically, only when a device's table changed); the readers read a
file again when it changes. So flow rollups carry the interface names (and inventory links) the
SNMP data carries, and a trap that names a component only by its entPhysicalIndex (Cisco's
entSensorThresholdNotification) is reported with the sensor's name.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Self

from nocsoc.fileio import atomic_write

log = logging.getLogger(__name__)

FILENAME = "interfaces.json"  # InterfaceNames' file (kept: the name other modules import)


class IndexNames:
    """device name -> {index: name}; thread-safe; backed by a file when `path` is given."""

    FILENAME = ""
    WHAT = "names"

    def __init__(self, path: Path | None = None, recheck_s: float = 2.0) -> None:
        self.path = path
        self.recheck_s = recheck_s
        self._lock = threading.Lock()
        self._names: dict[str, dict[int, str]] = {}
        self._mtime_ns = 0
        self._checked = 0.0

    @classmethod
    def in_state_dir(cls, state_dir: Path) -> Self:
        return cls(state_dir / cls.FILENAME)

    # --- the writer (SNMP poller) -------------------------------------------------------------

    def publish(self, device: str, names: dict[int, str]) -> bool:
        """Record a device's table; written to the file when it changed. True when written."""
        with self._lock:
            if self._names.get(device) == names:
                return False
            self._names[device] = dict(names)
            snapshot = {d: {str(i): n for i, n in sorted(t.items())} for d, t in sorted(self._names.items())}
        if self.path is None:
            return False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, json.dumps(snapshot, ensure_ascii=False, indent=1))
        except OSError as exc:  # names are enrichment: never fail a poll for them
            log.warning("cannot write %s to %s: %s", self.WHAT, self.path, exc)
            return False
        return True

    def update(self, device: str, names: dict[int, str]) -> None:
        """Set a device's table in memory only (tests, a reader fed directly)."""
        with self._lock:
            self._names[device] = dict(names)

    # --- the readers (flow collector, trap receiver) -------------------------------------------

    def _refresh(self) -> None:
        if self.path is None:
            return
        now = time.monotonic()
        if now - self._checked < self.recheck_s:
            return
        self._checked = now
        try:
            mtime = os.stat(self.path).st_mtime_ns
        except OSError:
            return
        if mtime == self._mtime_ns:
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            names = {str(d): {int(i): str(n) for i, n in t.items()} for d, t in data.items()}
        except (OSError, ValueError, AttributeError) as exc:
            log.warning("%s in %s unreadable (%s): keeping the last ones", self.WHAT, self.path, exc)
            return
        with self._lock:
            self._names = names
            self._mtime_ns = mtime

    def get(self, device: str | None, ifindex: int) -> str | None:
        if device is None:
            return None
        self._refresh()
        with self._lock:
            return self._names.get(device, {}).get(ifindex)


class InterfaceNames(IndexNames):
    """device name -> {ifIndex: ifName} (flow collector, trap receiver's link traps)."""

    FILENAME = FILENAME
    WHAT = "interface names"


class EntityNames(IndexNames):
    """device name -> {entPhysicalIndex: entPhysicalName} (trap receiver's component traps)."""

    FILENAME = "entities.json"
    WHAT = "entity names"
