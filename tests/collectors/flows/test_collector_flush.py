"""FlowCollector.flush() and stop() see every datagram queued before them, also the batch the
worker has just taken from the queue and not yet processed.

The worker is paused, deterministically, right after it has taken a batch (a wrapped
`queue.get_batch`); flush() or stop() then runs in another thread, and the worker goes on only
once that thread has either returned or is waiting for the collector's lock (a lock that says
who waits). Before the fix the worker took its batch outside the lock: flush() found the queue
empty and returned with the batch unprocessed, and stop()'s final flush wrote the rollups
without it (lost)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from nocsoc.collectors.flows.collector import FlowCollector
from nocsoc.collectors.flows.config import FlowsConfig
from nocsoc.sinks.memory import MemorySink
from tests.collectors.flows import craft
from tests.servers.base import wait_until

RECORDS = [{"src": "10.0.0.1", "dst": "10.0.0.2", "packets": 3 + i, "bytes": 1000 + i, "dport": 443}
           for i in range(5)]
SENT_BYTES = sum(r["bytes"] for r in RECORDS)


class WatchedLock:
    """A lock that knows which threads wait for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.waiting: set[str] = set()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if self._lock.acquire(False):
            return True
        if not blocking:
            return False
        name = threading.current_thread().name
        self.waiting.add(name)
        try:
            return self._lock.acquire(True, timeout)
        finally:
            self.waiting.discard(name)

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _collector(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[FlowCollector, MemorySink,
                                                                          threading.Event, threading.Event]:
    """A collector whose worker, once it has taken its first batch, waits for `go`."""
    sink = MemorySink()
    c = FlowCollector(FlowsConfig(bind="127.0.0.1:0", interval_s=3600), None, sink, state_dir=tmp_path)
    c._lock = WatchedLock()  # type: ignore[assignment]
    taken, go = threading.Event(), threading.Event()
    real = c.queue.get_batch

    def get_batch(max_items: int, timeout: float, linger: float = 0.0):  # type: ignore[no-untyped-def]
        batch = real(max_items, timeout, linger)
        if batch and threading.current_thread().name == "flows-worker" and not taken.is_set():
            taken.set()
            go.wait(120)
        return batch
    monkeypatch.setattr(c.queue, "get_batch", get_batch)
    return c, sink, taken, go


def _race(c: FlowCollector, go: threading.Event, call: Callable[[], None]) -> int:
    """Run `call` beside the paused worker; let the worker go once `call` has returned or waits
    for the lock; how many records the collector had processed when `call` returned."""
    seen: list[int] = []
    t = threading.Thread(target=lambda: (call(), seen.append(c.stats.total("records"))), name="caller")
    t.start()
    wait_until(lambda: not t.is_alive() or "caller" in c._lock.waiting, 60,  # type: ignore[attr-defined]
               what="the caller returned or waits for the lock")
    go.set()
    t.join(60)
    assert not t.is_alive()
    return seen[0]


def _send(c: FlowCollector) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(craft.v5(RECORDS, seq=1), c.addresses()[0])


@pytest.mark.parametrize("how", ["flush", "stop"])
def test_flush_and_stop_see_the_batch_the_worker_holds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       how: str) -> None:
    c, sink, taken, go = _collector(tmp_path, monkeypatch)
    # stop(): the worker's join times out (it is paused), so the final flush runs beside it; 5 s
    # also lets the receivers end on a loaded machine before their sockets are closed
    call = c.flush if how == "flush" else lambda: c.stop(timeout=5.0)
    c.start()
    try:
        _send(c)
        assert taken.wait(60), "the worker took the datagram"
        assert _race(c, go, call) == len(RECORDS)
    finally:
        go.set()
        c.stop()
    assert sum(p.fields["bytes"] for p in sink.of("flow_total")) == SENT_BYTES
