"""The delivery machinery shared by the network sinks: batch, send, retry, split, spool, replay.

A sink subclass only says how to send one batch (`_send`) and raises `Unavailable` (try again
later: timeouts, refused connections, 5xx, 429, and 401/403/404, which are configuration problems
an operator fixes without wanting the data lost) or `Rejected` (400/413/422: something in the
batch is bad). Everything else lives here, in one worker thread per sink:

- batching: a batch goes out when `batch_size` lines wait or the oldest has waited
  `flush_interval_s`;
- retries: exponential backoff with jitter, `max_retries` times, then the batch is spooled;
- 4xx: the batch is split in halves until the bad lines are alone; those are dropped, counted
  (`rejected`) and logged (the first at once, then a summary at most once a minute);
- spool: while the spool holds anything, new batches are appended behind it, so order is kept;
  the worker probes with the spool's head batch (backoff up to `retry_backoff_max_s`) and replays
  it oldest first when the database answers again, also after a restart (and then the spools
  that departed one-shot processes with the same config left beside it: nocsoc.sinks.spool).

Exactly once: a spooled batch is deleted only after the database accepted it. The one window
left (accepted, then a crash before the delete) re-sends identical points with identical
timestamps, which InfluxDB stores once (same series and time: the later write replaces the
earlier). Splitting a batch after a 400 re-sends lines that InfluxDB 1.x already wrote in its
partial write; the same rule makes that harmless.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from nocsoc.component import Counters
from nocsoc.lineproto import encode_valid
from nocsoc.schema import SINK, Point
from nocsoc.sinks.spool import Spool, open_spool

log = logging.getLogger("nocsoc.sinks")

COUNTERS = ("written", "batches", "retries", "rejected", "spooled", "replayed", "spool_dropped",
            "spool_bytes", "queue")

# Retrying stops early (the batch is spooled) once this many batches wait in memory behind it.
MAX_PENDING_BATCHES = 10

# How often a persistent stream of rejected points is summarised in the log.
REJECT_LOG_INTERVAL_S = 60.0


class Unavailable(Exception):
    """The database did not take the batch; sending it again later may work."""


class Rejected(Exception):
    """The database refused the batch because of its content (a 4xx naming bad points)."""


T = TypeVar("T")


class _Undelivered(Exception):
    def __init__(self, remaining: list[Any], cause: Exception) -> None:
        super().__init__(str(cause))
        self.remaining = remaining
        self.cause = cause


@dataclass(frozen=True)
class BatchSettings:
    batch_size: int = 5000
    flush_interval_s: float = 1.0
    max_retries: int = 5
    retry_backoff_s: float = 0.5
    retry_backoff_max_s: float = 30.0
    spool_dir: Path | None = None
    spool_max_bytes: int = 256 * 1024 * 1024

    @classmethod
    def from_config(cls, cfg: Any, spool_dir: Path | None) -> BatchSettings:
        return cls(cfg.batch_size, cfg.flush_interval_s, cfg.max_retries, cfg.retry_backoff_s,
                   cfg.retry_backoff_max_s, spool_dir, cfg.spool_max_bytes)


class BatchingSink(ABC, Generic[T]):
    """A sink that turns points into items (line-protocol lines unless `_prepare` says otherwise)
    and delivers them in batches from a worker thread. Only sinks of lines (`str` items) spool."""

    def __init__(self, name: str, settings: BatchSettings) -> None:
        self.name = name
        self.settings = settings
        self._counters = Counters(SINK, only=COUNTERS)
        self._cond = threading.Condition()
        self._pending: list[T] = []
        self._first_pending_at = 0.0
        self._flush_requested = 0
        self._flush_done = 0
        self._stopping = False
        self._closed = False
        self._probe_backoff = settings.retry_backoff_s
        self._next_probe = 0.0
        self._last_reject_log = -REJECT_LOG_INTERVAL_S
        self._rejects_since_log = 0
        self._stop_event = threading.Event()
        self._spool = (open_spool(settings.spool_dir, settings.spool_max_bytes, self._counters, name)
                       if settings.spool_dir is not None else None)
        self._thread = threading.Thread(target=self._run, name=f"sink-{name}", daemon=True)
        self._thread.start()

    # -- what a concrete sink provides ------------------------------------------------------

    @abstractmethod
    def _send(self, lines: list[T]) -> None:
        """Send one batch; raise Unavailable or Rejected (see the module docstring)."""

    def _release(self) -> None:
        """Close connections and clients (called once, from close())."""

    # -- the Sink protocol --------------------------------------------------------------------

    def _prepare(self, points: Sequence[Point]) -> list[T]:
        """Points to items, in the caller's thread (so a bad point is refused at once)."""
        lines = encode_valid(points, lambda exc: self._reject(1, f"cannot encode: {exc}"))
        return cast(list[T], lines)

    def write(self, points: Sequence[Point]) -> None:
        lines = self._prepare(points)
        if not lines:
            return
        with self._cond:
            if self._closed:
                raise RuntimeError(f"sink {self.name} is closed")
            first = not self._pending
            if first:
                self._first_pending_at = time.monotonic()
            self._pending.extend(lines)
            self._counters.set("queue", len(self._pending))
            # wake the worker for a full batch, or to start the flush_interval_s clock
            if first or len(self._pending) >= self.settings.batch_size:
                self._cond.notify_all()

    def flush(self, timeout: float | None = None) -> bool:
        """Send what waits now (and try the spool once); True when nothing is left unsent."""
        with self._cond:
            if self._closed:
                return self._unsent() == 0
            self._flush_requested += 1
            wanted = self._flush_requested
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._flush_done >= wanted or not self._thread.is_alive(),
                                timeout)
            return self._flush_done >= wanted and self._unsent() == 0

    def _unsent(self) -> int:
        return len(self._pending) + (self._spool.lines if self._spool is not None else 0)

    def close(self, timeout: float = 10.0) -> None:
        """Flush what can be flushed within `timeout`, spool the rest, stop the worker.

        Each batch gets one attempt: a database that is down at stop time must not hold a
        graceful stop through minutes of retry backoff (its batches wait in the spool instead)."""
        with self._cond:
            if self._closed:
                return
        self._stop_event.set()  # no more retries: what fails now is spooled at once
        self.flush(timeout)
        with self._cond:
            self._closed = True
            self._stopping = True
            self._cond.notify_all()
        self._stop_event.set()
        self._thread.join(timeout + 5)
        if self._spool is not None:
            left = self._spool.lines
            if left:
                log.warning("sink %s: %d points stay in the spool %s; they are replayed on the next "
                            "start", self.name, left, self._spool.directory)
            self._spool.close()
        self._release()

    def counters(self) -> dict[str, int]:
        return {k: int(v) for k, v in self._counters.snapshot().items()}

    def self_points(self, time_ns: int | None = None) -> list[Point]:
        """This sink's counters as a `sink` self-metric point."""
        return [self._counters.to_point(SINK, {"sink": self.name}, time_ns)]

    @property
    def spool(self) -> Spool | None:
        return self._spool

    # -- the worker ---------------------------------------------------------------------------

    def _due(self, now: float) -> bool:
        if self._stopping or self._flush_requested > self._flush_done:
            return True
        if len(self._pending) >= self.settings.batch_size:
            return True
        if self._pending and now >= self._first_pending_at + self.settings.flush_interval_s:
            return True
        return bool(self._spool) and now >= self._next_probe

    def _wait_timeout(self, now: float) -> float | None:
        deadlines = []
        if self._pending:
            deadlines.append(self._first_pending_at + self.settings.flush_interval_s)
        if self._spool:
            deadlines.append(self._next_probe)
        return max(0.0, min(deadlines) - now) if deadlines else None

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._due(time.monotonic()):
                    self._cond.wait(self._wait_timeout(time.monotonic()))
                flush_gen = self._flush_requested
                stopping = self._stopping
                forced = stopping or flush_gen > self._flush_done
                if forced or len(self._pending) >= self.settings.batch_size or (
                        self._pending
                        and time.monotonic() >= self._first_pending_at + self.settings.flush_interval_s):
                    batch, self._pending = self._pending, []
                else:
                    batch = []
                self._counters.set("queue", len(self._pending))
            try:
                self._work(batch, forced=forced, stopping=stopping)
            except Exception:  # a bug must not kill delivery: keep what we hold
                log.exception("sink %s: unexpected error while delivering", self.name)
                try:
                    if self._spool is not None and batch:
                        self._spool.append(cast(list[str], batch))
                except Exception:
                    log.exception("sink %s: could not spool %d points either", self.name, len(batch))
            with self._cond:
                self._flush_done = max(self._flush_done, flush_gen)
                self._cond.notify_all()
                if stopping:
                    return

    def _work(self, batch: list[T], forced: bool, stopping: bool) -> None:
        if self._spool and (forced or time.monotonic() >= self._next_probe) and not stopping:
            self._replay()
        size = self.settings.batch_size
        for i in range(0, len(batch), size):
            chunk = batch[i:i + size]
            if self._spool:  # the database is (was) down: keep order behind the spool
                self._spool.append(cast(list[str], chunk))
                continue
            try:
                self._deliver(chunk, retries=0 if stopping else self.settings.max_retries)
            except _Undelivered as exc:
                self._undeliverable(exc)
                # the rest of this burst goes behind it (spool) or, without a spool, is tried
                if self._spool is not None:
                    self._spool.append(cast(list[str], batch[i + size:]))
                    return

    def _undeliverable(self, exc: _Undelivered) -> None:
        if self._spool is None:
            self._counters.add("rejected", len(exc.remaining))
            log.error("sink %s: database unavailable after %d retries (%s); %d points DROPPED "
                      "(this sink has no spool)", self.name, self.settings.max_retries, exc.cause,
                      len(exc.remaining))
            return
        log.warning("sink %s: database unavailable (%s); spooling %d points to %s", self.name,
                    exc.cause, len(exc.remaining), self._spool.directory)
        self._spool.append(exc.remaining)
        self._schedule_probe()

    def _schedule_probe(self) -> None:
        self._next_probe = time.monotonic() + self._jitter(self._probe_backoff)
        self._probe_backoff = min(self._probe_backoff * 2, self.settings.retry_backoff_max_s)

    @staticmethod
    def _jitter(delay: float) -> float:
        return delay * random.uniform(0.5, 1.5)

    def _replay(self) -> None:
        """Send spooled batches oldest first until the spool is empty or the database fails."""
        assert self._spool is not None
        while (head := self._spool.head()) is not None:
            entry, lines = head
            try:
                self._deliver_once(cast(list[T], lines))
            except _Undelivered as exc:
                self._spool.replace_head(entry, exc.remaining)
                self._counters.add("replayed", len(lines) - len(exc.remaining))
                log.info("sink %s: database still unavailable (%s); %d points spooled", self.name,
                         exc.cause, self._spool.lines)
                self._schedule_probe()
                return
            self._spool.remove(entry)
            self._counters.add("replayed", len(lines))
            # batches a departed one-shot process left beside ours go out in the same recovery
            if not self._spool and not self._spool.adopt_orphans():
                log.warning("sink %s: database back; spool replayed", self.name)
        self._probe_backoff = self.settings.retry_backoff_s

    def _deliver(self, lines: list[T], retries: int) -> None:
        """Deliver with retries; raises _Undelivered with what is left after the last attempt."""
        attempt = 0
        while True:
            try:
                self._deliver_once(lines)
                return
            except _Undelivered as exc:
                # stop retrying early when the backlog grows: the spool, not memory, holds outages
                if (attempt >= retries or self._stop_event.is_set()
                        or len(self._pending) >= MAX_PENDING_BATCHES * self.settings.batch_size):
                    raise
                lines = exc.remaining
                delay = min(self.settings.retry_backoff_s * 2**attempt, self.settings.retry_backoff_max_s)
                attempt += 1
                self._counters.add("retries")
                log.debug("sink %s: %s; retry %d in %.2fs", self.name, exc.cause, attempt, delay)
                if self._stop_event.wait(self._jitter(delay)):
                    raise _Undelivered(lines, exc.cause) from None

    def _deliver_once(self, lines: list[T]) -> None:
        """One pass: send, halving batches the database rejects until the bad lines are alone."""
        chunks: deque[list[T]] = deque([lines])
        while chunks:
            chunk = chunks[0]
            try:
                self._send(chunk)
            except Unavailable as exc:
                raise _Undelivered(list(chain.from_iterable(chunks)), exc) from None
            except Rejected as exc:
                chunks.popleft()
                if len(chunk) == 1:
                    self._reject(1, f"{exc}; line: {str(chunk[0])[:300]}")
                else:
                    mid = len(chunk) // 2
                    chunks.appendleft(chunk[mid:])
                    chunks.appendleft(chunk[:mid])
                continue
            chunks.popleft()
            self._counters.add("written", len(chunk))
            self._counters.add("batches")

    def _reject(self, n: int, detail: str) -> None:
        self._counters.add("rejected", n)
        self._rejects_since_log += n
        now = time.monotonic()
        if now - self._last_reject_log >= REJECT_LOG_INTERVAL_S:
            log.warning("sink %s: dropped %d point(s) the database refused (%d in total): %s",
                        self.name, self._rejects_since_log, self._counters.get("rejected"), detail)
            self._last_reject_log = now
            self._rejects_since_log = 0


def classify_status(status: int, body: str, what: str) -> None:
    """Turn an HTTP status into success, Unavailable or Rejected (see the module docstring)."""
    if 200 <= status < 300:
        return
    text = f"{what}: HTTP {status}: {body.strip()[:500]}"
    if status in (400, 413, 422):
        raise Rejected(text)
    raise Unavailable(text)
