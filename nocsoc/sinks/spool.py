"""A bounded on-disk spool of line-protocol batches: where points wait while the database is down.

One file per batch, named `<sequence>-<lines>.lp`, so the order survives a restart and the line
count is known without reading. Each file is written to a temp name, fsynced and renamed: a crash
leaves either the whole batch or nothing. A file leaves the spool only after the database
accepted its lines (`remove`), so a restart replays whatever was not yet confirmed.

Bounded: when a new batch would push the spool over `max_bytes`, the oldest batches are dropped,
counted and logged loudly; the newest data is the most useful to an operator coming back from an
outage. One process at a time owns a spool directory (a file lock), because two writers would
interleave sequence numbers and replay each other's batches. `open_spool` gives a second process
with the same config (a one-shot CLI command beside `nocsoc run`) its own `proc-*` subdirectory,
and whoever opens a spool next adopts the batches such a process left behind.
"""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from nocsoc.component import Counters
from nocsoc.fileio import atomic_write
from nocsoc.sinks.base import SinkError

log = logging.getLogger("nocsoc.sinks.spool")

SUFFIX = ".lp"
SUBDIR_PREFIX = "proc-"
_subdir_ids = itertools.count(1)


class SpoolBusy(SinkError):
    """Another process (or sink) holds this spool directory."""


@dataclass(frozen=True, slots=True)
class SpoolEntry:
    seq: int
    lines: int
    size: int
    path: Path


class Spool:
    """Batches of lines on disk, oldest first, at most `max_bytes` in total."""

    def __init__(self, directory: Path, max_bytes: int, counters: Counters, owner: str,
                 root: Path | None = None) -> None:
        self.directory = directory
        self.root = root or directory  # where `proc-*` spools of other processes live
        self.max_bytes = max_bytes
        self.owner = owner
        self._counters = counters
        self._mutex = threading.Lock()
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SinkError(f"sink {owner}: cannot create spool directory {directory}: {exc}") from None
        self._lock = FileLock(str(directory / ".lock"))
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise SpoolBusy(
                f"sink {owner}: spool directory {directory} is in use by another process "
                "(give each sink its own spool_dir)") from None
        self._entries: list[SpoolEntry] = []
        for path in directory.iterdir():
            if path.suffix == ".tmp":
                path.unlink(missing_ok=True)  # a write interrupted before its rename: never confirmed
            elif path.suffix == SUFFIX:
                entry = self._parse(path)
                if entry is not None:
                    self._entries.append(entry)
        self._entries.sort(key=lambda e: (e.seq, e.lines))
        # a crash inside replace_head() can leave the old and the shortened file of one batch:
        # the shortened one (fewer lines: the unconfirmed suffix) is the truth
        for dup in [b for a, b in zip(self._entries, self._entries[1:], strict=False) if a.seq == b.seq]:
            dup.path.unlink(missing_ok=True)
            self._entries.remove(dup)
        self._next_seq = self._entries[-1].seq + 1 if self._entries else 1
        self._update_gauge()
        if self._entries:
            log.warning("sink %s: spool %s holds %d points from an earlier run; replaying them first",
                        owner, directory, self.lines)

    @staticmethod
    def _parse(path: Path) -> SpoolEntry | None:
        try:
            seq, lines = path.stem.split("-")
            return SpoolEntry(int(seq), int(lines), path.stat().st_size, path)
        except (ValueError, OSError):
            log.error("spool: ignoring unexpected file %s", path)
            return None

    @property
    def bytes(self) -> int:
        with self._mutex:
            return self._bytes()

    @property
    def lines(self) -> int:
        with self._mutex:
            return sum(e.lines for e in self._entries)

    def _bytes(self) -> int:
        return sum(e.size for e in self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def _update_gauge(self) -> None:
        self._counters.set("spool_bytes", self._bytes())

    def append(self, lines: list[str]) -> None:
        """Store a batch after every stored one; drops the oldest batches to stay under max_bytes."""
        if not lines:
            return
        with self._mutex:
            data = ("\n".join(lines) + "\n").encode()
            if len(data) > self.max_bytes:
                # one batch bigger than the whole spool: keep its newest lines that fit
                keep, size = 0, 0
                for line in reversed(lines):
                    size += len(line.encode()) + 1
                    if size > self.max_bytes:
                        break
                    keep += 1
                self._dropped(len(lines) - keep, "a batch larger than spool_max_bytes")
                lines = lines[len(lines) - keep:]
                if not lines:
                    return
                data = ("\n".join(lines) + "\n").encode()
            total = self._bytes()
            while self._entries and total + len(data) > self.max_bytes:
                oldest = self._entries.pop(0)
                oldest.path.unlink(missing_ok=True)
                total -= oldest.size
                self._dropped(oldest.lines, "the spool is full")
            seq = self._next_seq
            self._next_seq += 1
            path = self.directory / f"{seq:012d}-{len(lines)}{SUFFIX}"
            try:
                atomic_write(path, data)
            except OSError as exc:  # disk full, permissions: lose this batch, not the sink
                self._counters.add("spool_dropped", len(lines))
                log.error("sink %s: DROPPED %d points: cannot write spool file %s: %s (%d dropped in "
                          "total)", self.owner, len(lines), path, exc, self._counters.get("spool_dropped"))
                return
            self._entries.append(SpoolEntry(seq, len(lines), len(data), path))
            self._counters.add("spooled", len(lines))
            self._update_gauge()

    def _dropped(self, n: int, why: str) -> None:
        if n <= 0:
            return
        self._counters.add("spool_dropped", n)
        log.error("sink %s: DROPPED %d oldest spooled points because %s (%d bytes max at %s); "
                  "%d dropped in total", self.owner, n, why, self.max_bytes, self.directory,
                  self._counters.get("spool_dropped"))

    def head(self) -> tuple[SpoolEntry, list[str]] | None:
        """The oldest batch and its lines, or None when the spool is empty."""
        with self._mutex:
            while self._entries:
                entry = self._entries[0]
                try:
                    text = entry.path.read_text(encoding="utf-8")
                except OSError as exc:
                    log.error("sink %s: spool file %s unreadable (%s); dropping its %d points",
                              self.owner, entry.path, exc, entry.lines)
                    self._entries.pop(0)
                    self._counters.add("spool_dropped", entry.lines)
                    continue
                return entry, text.splitlines()
            return None

    def remove(self, entry: SpoolEntry) -> None:
        """The database confirmed this batch: forget it."""
        with self._mutex:
            if entry in self._entries:
                self._entries.remove(entry)
            entry.path.unlink(missing_ok=True)
            self._update_gauge()

    def replace_head(self, entry: SpoolEntry, remaining: list[str]) -> None:
        """Part of the head batch was confirmed: keep only the rest, in place of the head."""
        with self._mutex:
            if entry not in self._entries or not remaining:
                return
            data = ("\n".join(remaining) + "\n").encode()
            path = self.directory / f"{entry.seq:012d}-{len(remaining)}{SUFFIX}"
            atomic_write(path, data)
            if path != entry.path:
                entry.path.unlink(missing_ok=True)
            self._entries[self._entries.index(entry)] = SpoolEntry(entry.seq, len(remaining), len(data), path)
            self._update_gauge()

    def adopt_orphans(self) -> int:
        """Take over the batches of `proc-*` spools under `root` whose process has gone;
        returns how many points were adopted."""
        adopted = 0
        for sub in sorted(self.root.glob(f"{SUBDIR_PREFIX}*")):
            if sub == self.directory or not sub.is_dir():
                continue
            lock = FileLock(str(sub / ".lock"))
            try:
                lock.acquire(timeout=0)
            except Timeout:
                continue  # its process is still running
            try:
                entries = sorted((e for e in map(self._parse, sub.glob(f"*{SUFFIX}")) if e is not None),
                                 key=lambda e: e.seq)
                for entry in entries:
                    self.append(entry.path.read_text(encoding="utf-8").splitlines())
                    entry.path.unlink()
                if entries:
                    adopted += sum(e.lines for e in entries)
                    log.warning("sink %s: adopted %d spooled points left by an earlier process in %s",
                                self.owner, sum(e.lines for e in entries), sub)
            finally:
                lock.release()
            shutil.rmtree(sub, ignore_errors=True)
        return adopted

    def close(self) -> None:
        self._lock.release()
        if self.directory.name.startswith(SUBDIR_PREFIX) and not self._entries:
            shutil.rmtree(self.directory, ignore_errors=True)


def open_spool(directory: Path, max_bytes: int, counters: Counters, owner: str) -> Spool:
    """The spool at `directory`, or, when another process holds it, a `proc-*` subdirectory of
    it; either way with the batches of departed `proc-*` spools adopted."""
    try:
        spool = Spool(directory, max_bytes, counters, owner)
    except SpoolBusy:
        sub = directory / f"{SUBDIR_PREFIX}{os.getpid()}-{next(_subdir_ids)}"
        log.info("sink %s: spool %s is in use by another process; using %s", owner, directory, sub)
        spool = Spool(sub, max_bytes, counters, owner, root=directory)
    spool.adopt_orphans()
    return spool
