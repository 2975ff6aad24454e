"""The writer thread both datasets share: a bounded queue in front, periodic writes and upkeep.

`offer()` is what a collector calls: one `put_nowait`, never a wait. When the queue is full the
item is dropped and counted (`dropped`), so a stalled disk costs history, never ingestion.
The thread takes items, hands them to `accept()`, calls `flush(now, final)` every tick and the
upkeep (`maintain`: retention, disk budget, compaction) every `maintenance_interval_s`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from nocsoc.component import Counters
from nocsoc.history.config import HistoryConfig
from nocsoc.schema import HISTORY

log = logging.getLogger(__name__)

T = TypeVar("T")
_TICK_S = 0.2


class BackgroundWriter(Generic[T]):
    """Base of the flow and log writers (subclasses: `size`, `accept`, `flush`, `maintain`)."""

    dataset = ""

    def __init__(self, config: HistoryConfig, queue_size: int,
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self.counters = Counters(HISTORY, {"dataset": self.dataset})
        self._queue: queue.Queue[T] = queue.Queue(queue_size)
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._next_upkeep = 0.0
        self._busy = threading.Lock()  # the buffers: the thread, or `sync()` from another one

    # --- the collector's side --------------------------------------------------------------

    def offer(self, item: T) -> bool:
        """Queue `item` for the writer; False (counted as dropped) when the queue is full."""
        n = self.size(item)
        self.counters.add("received", n)
        try:
            self._queue.put_nowait(item)
            return True
        except queue.Full:
            self.counters.add("dropped", n)
            return False

    # --- to implement ------------------------------------------------------------------------

    def size(self, item: T) -> int:
        """How many records or lines `item` holds (what `received`/`dropped` count)."""
        return 1

    def accept(self, item: T) -> None:
        raise NotImplementedError

    def flush(self, now: float, final: bool = False) -> None:
        raise NotImplementedError

    def maintain(self, now: float) -> None:
        """Retention, disk budget, compaction (the parquet writers)."""

    # --- the thread --------------------------------------------------------------------------

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=f"history-{self.dataset}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is queued and buffered, then stop the thread."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("history %s: writer did not stop within %.0f s", self.dataset, timeout)
            self._thread = None

    def _run(self) -> None:
        while True:
            stopping = self._stopping.is_set()
            self._drain(_TICK_S if not stopping else 0.0)
            with self._busy:
                self._guard("write", self.flush, self.clock(), stopping)
            if stopping and self._queue.empty():
                return
            if time.monotonic() >= self._next_upkeep:
                self._next_upkeep = time.monotonic() + self.config.maintenance_interval_s
                with self._busy:
                    self._guard("upkeep", self.maintain, self.clock())

    def _drain(self, wait: float) -> None:
        """Take what is queued (waiting up to `wait` for the first item)."""
        try:
            item = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
        except queue.Empty:
            return
        deadline = time.monotonic() + _TICK_S
        while True:
            with self._busy:
                try:
                    self.accept(item)
                except Exception as exc:  # one bad item must not stop the writer
                    self.counters.add("rejected", self.size(item))
                    log.error("history %s: item refused: %s", self.dataset, exc)
                finally:
                    self._queue.task_done()
            if time.monotonic() >= deadline:
                return
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return

    def _guard(self, what: str, fn: Callable[..., None], *args: object) -> None:
        try:
            fn(*args)
        except Exception as exc:  # a full disk or a broken file: logged, counted, go on
            self.counters.add("errors")
            log.error("history %s: %s failed: %s", self.dataset, what, exc)

    def idle(self) -> bool:
        """Nothing queued (tests await it before a flush)."""
        return self._queue.unfinished_tasks == 0

    def sync(self, final: bool = True, timeout: float = 30.0) -> None:
        """Wait until the queue is taken, then write what is buffered (all of it with `final`)
        and run the upkeep: what tests and `flows query` right after a stop rely on."""
        deadline = time.monotonic() + timeout
        while not self.idle() and time.monotonic() < deadline:
            if self._thread is None:  # not running: take the queue here
                self._drain(0.0)
            else:
                time.sleep(0.01)
        with self._busy:
            now = self.clock()
            self._guard("write", self.flush, now, final)
            self._guard("upkeep", self.maintain, now)

    def queued(self) -> int:
        return self._queue.qsize()

    def counter_sets(self) -> list[Counters]:
        self.counters.set("queue", self._queue.qsize())
        return [self.counters]
