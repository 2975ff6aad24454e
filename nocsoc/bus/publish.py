"""The receivers' side of the bus: batches of raw records, published per partition and source,
with the disk buffer behind them.

Receive threads hand records over with `submit` (never waits: beyond `queue_records` held, the
records are dropped and counted). The publisher's loop thread cuts them into batches (one
source, one partition, at most `batch_records`/`batch_bytes`, never across a flow rollup
interval, so a decoder can tell which interval a whole message belongs to) and publishes them
with a message id. A batch the bus does not take (unreachable, timed out, refused at a stream
limit) goes to the disk buffer; while the buffer holds anything, new batches queue behind it,
so the order is kept; the buffer is replayed as soon as the bus takes messages again. The bus
being unreachable at start is the same case: the receivers start, and buffer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from operator import itemgetter
from pathlib import Path

from nocsoc.bus.config import BusConfig
from nocsoc.bus.diskbuffer import BufferFull, DiskBuffer
from nocsoc.bus.envelope import Record, encode_source, record_size
from nocsoc.bus.partition import partition_of, subject
from nocsoc.bus.transport import BusError, LoopThread, PublishFailed, PublishRefused, Transport
from nocsoc.collectors.flows import speedups
from nocsoc.component import Counters
from nocsoc.schema.selfmetrics import BUS_PUBLISH

log = logging.getLogger(__name__)

RECONNECT_EVERY_S = 2.0
CONCURRENT_PUBLISHES = 64
# bytes published before waiting for their acknowledgements: within nats-py's pending buffer
# (2 MB), whose overflow forces a flush per publish; more only grows the copies in flight
WINDOW_BYTES = 2 << 20
_PAYLOAD = itemgetter(0)
_TIME = itemgetter(2)


def _one_interval(run: list[Record], interval: float) -> bool:
    times = list(map(_TIME, run))
    return int(min(times) // interval) == int(max(times) // interval)


def group_key(source: str) -> str:
    """The partition key of a record's source (`tcp/10.0.0.1` and `10.0.0.1` are one host)."""
    return source.removeprefix("tcp/")


class BusPublisher:
    def __init__(self, config: BusConfig, transport: Transport, buffer_dir: Path, member: str,
                 kinds: dict[str, float | None], clock: Callable[[], float] = time.time) -> None:
        """`kinds`: the kinds published, each with its rollup interval (batches never cross
        one) or None."""
        self.config = config
        self.transport = transport
        self.member = member
        self.kinds = kinds
        self.clock = clock
        self.buffer = DiskBuffer(buffer_dir, config.buffer_max_bytes)
        self.counters = {k: Counters(BUS_PUBLISH, {"kind": k}) for k in kinds}
        self._pending: dict[str, list[Record]] = {k: [] for k in kinds}
        self._held = 0
        self._lock = threading.Lock()
        self._msg = 0
        self._boot = f"{member}-{time.time_ns():x}"
        self._loop: LoopThread | None = None
        self._task: object = None
        self._stop: asyncio.Event | None = None
        self.connected = False
        self._next_connect = 0.0
        self._publishing = False
        self._said_unreachable = False

    # --- from the receive threads -----------------------------------------------------------------

    def submit(self, kind: str, records: Sequence[Record]) -> None:
        with self._lock:
            room = self.config.queue_records - self._held
            if room < len(records):
                self.counters[kind].add("dropped", len(records) - max(room, 0))
                records = records[:max(room, 0)]
            self._pending[kind].extend(records)
            self._held += len(records)
        self.counters[kind].add("records", len(records))

    def idle(self) -> bool:
        """Nothing handed over is waiting to be published (tests await this)."""
        with self._lock:
            return self._held == 0 and not self._publishing

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        if speedups.ext is not None:
            # batches allocate and free hundreds of kB each: keep them in the heap, as the flow
            # collector does (a receiver runs no FlowPipeline, which would have set it)
            speedups.ext.retain_freed_memory()
        self._loop = LoopThread("bus-publish")
        self._task = self._loop.submit(self._run())

    def stop(self, timeout: float = 10.0) -> None:
        """Publish (or buffer) everything handed over, then close."""
        if self._loop is None:
            return
        loop = self._loop
        if self._stop is not None:
            loop.loop.call_soon_threadsafe(self._stop.set)
        try:
            self._task.result(timeout)  # type: ignore[attr-defined]
        except Exception:
            log.exception("bus publisher failed")
        try:
            loop.run(self._close(), timeout)
        except Exception as exc:
            log.warning("bus: close: %s", exc)
        loop.stop()
        self._loop = None
        self.buffer.close()

    async def _close(self) -> None:
        await self.transport.close()

    # --- the loop -------------------------------------------------------------------------------

    async def _run(self) -> None:
        self._stop = asyncio.Event()
        while True:
            stopping = self._stop.is_set()
            await self._connect()
            await self._round()
            if stopping:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.config.linger_s or 0.005)

    async def _connect(self) -> None:
        if self.connected and getattr(self.transport, "connected", True):
            return
        if self.connected:
            return  # the client reconnects by itself; publishes fail (and buffer) meanwhile
        now = time.monotonic()
        if now < self._next_connect:
            return
        self._next_connect = now + RECONNECT_EVERY_S
        try:
            await self.transport.connect()
            for kind in self.kinds:
                await self.transport.ensure(kind, self._partitions(kind))
        except (BusError, Exception) as exc:
            if not self._said_unreachable:
                log.warning("bus unreachable (%s); buffering to %s until it is back", exc, self.buffer.dir)
                self._said_unreachable = True
            with contextlib.suppress(Exception):
                await self.transport.close()
            return
        self.connected = True
        self._said_unreachable = False
        log.info("bus: connected")

    def _partitions(self, kind: str) -> int:
        return self.config.flow_partitions if kind == "flows" else self.config.log_partitions

    def _take(self) -> dict[str, list[Record]]:
        with self._lock:
            self._publishing = any(self._pending.values())
            taken = self._pending
            self._pending = {k: [] for k in self.kinds}
            self._held = 0
        return taken

    def batches(self, kind: str, records: list[Record]) -> list[tuple[int, str, list[Record]]]:
        """(partition, source, records) batches: one source, within the size limits and one
        rollup interval, in arrival order.

        The cut is greedy: a batch ends where the next record would pass `batch_records` or
        `batch_bytes` or is in another interval. A run of `batch_records` records whose sizes
        sum within `batch_bytes` and whose earliest and latest times share an interval is such
        a batch whole: checked with C-level sums and min/max over the run (~0.7 -> ~0.2 us a
        datagram) instead of record by record; the rest goes through the greedy loop."""
        cfg = self.config
        interval = self.kinds.get(kind)
        by_source: dict[str, list[Record]] = {}
        for r in records:
            by_source.setdefault(r[1], []).append(r)
        out: list[tuple[int, str, list[Record]]] = []
        limit = cfg.batch_records
        for source, recs in by_source.items():
            p = partition_of(group_key(source), self._partitions(kind))
            overhead = record_size(b"", source)  # a record's size beyond its payload
            start = 0
            while start < len(recs):
                run = recs[start:start + limit]
                if (sum(map(len, map(_PAYLOAD, run))) + overhead * len(run) <= cfg.batch_bytes
                        and (not interval or _one_interval(run, interval))):
                    out.append((p, source, run))
                    start += len(run)
                    continue
                out += [(p, source, b) for b in self._greedy(recs[start:], interval)]
                break
        return out

    def _greedy(self, recs: list[Record], interval: float | None) -> list[list[Record]]:
        cfg = self.config
        out: list[list[Record]] = []
        cur: list[Record] = []
        size = 0
        idx = None
        for r in recs:
            ridx = int(r[2] // interval) if interval else None
            rsize = record_size(r[0], r[1])
            if cur and (len(cur) >= cfg.batch_records or size + rsize > cfg.batch_bytes or ridx != idx):
                out.append(cur)
                cur, size = [], 0
            cur.append(r)
            size += rsize
            idx = ridx
        if cur:
            out.append(cur)
        return out

    async def _round(self) -> None:
        taken = self._take()
        if self.connected and self.buffer:
            await self._replay()
        todo = []
        for kind, records in taken.items():
            for p, source, recs in self.batches(kind, records):
                self._msg += 1
                todo.append((kind, subject(self.config.prefix, kind, p, source), f"{self._boot}-{self._msg}",
                             source, recs))
        # encoded a window at a time, not all at once: a burst of many megabytes held encoded
        # would be fresh memory (a page fault per 4 kB) where a window reuses the last one's
        i = 0
        while i < len(todo):
            chunk: list[tuple[str, str, str, bytes, int]] = []
            size = 0
            while i < len(todo) and len(chunk) < CONCURRENT_PUBLISHES and size < WINDOW_BYTES:
                kind, subj, msg_id, source, recs = todo[i]
                data = encode_source(source, list(map(_PAYLOAD, recs)), list(map(_TIME, recs)))
                chunk.append((kind, subj, msg_id, data, len(recs)))
                size += len(data)
                i += 1
            if not self.connected or self.buffer:
                for job in chunk:
                    self._to_buffer(*job)
                continue
            results = await asyncio.gather(*(self._publish(s, m, d) for _k, s, m, d, _n in chunk),
                                           return_exceptions=True)
            for job, res in zip(chunk, results, strict=True):
                kind = job[0]
                if res is None:
                    self.counters[kind].add("messages")
                    self.counters[kind].add("bytes", len(job[3]))
                    continue
                self.counters[kind].add("refused" if isinstance(res, PublishRefused) else "publish_errors")
                self._to_buffer(*job)
        for c in self.counters.values():
            c.set("buffer_bytes", self.buffer.size)
        self._publishing = False

    async def _publish(self, subj: str, msg_id: str, data: bytes) -> None:
        publish = getattr(self.transport, "publish_subject", None)
        if publish is None:  # drivers without subjects (Kafka): the partition is in the subject
            kind, ptoken, source = subj.split(".")[1:4]
            await self.transport.publish(kind, int(ptoken[1:]), source, data, msg_id)
        else:
            await publish(subj, data, msg_id)

    def _to_buffer(self, kind: str, subj: str, msg_id: str, data: bytes, n: int) -> None:
        try:
            self.buffer.append(subj, msg_id, data)
        except BufferFull as exc:
            self.counters[kind].add("buffer_dropped", n)
            log.error("bus: %s: %d %s records lost", exc, n, kind)
            return
        except OSError as exc:
            self.counters[kind].add("buffer_dropped", n)
            log.error("bus: disk buffer %s: %s: %d %s records lost", self.buffer.dir, exc, n, kind)
            return
        self.counters[kind].add("buffered")

    async def _replay(self) -> None:
        """Send the disk buffer, oldest first; stop at the first failure (kept for later)."""
        current = None
        for seg, end, subj, msg_id, data in self.buffer.entries():
            if current is not None and seg != current:
                self.buffer.done(current)
            current = seg
            try:
                await self._publish(subj, msg_id, data)
            except PublishFailed as exc:
                log.warning("bus: replay paused: %s", exc)
                return
            kind = subj.split(".")[1] if subj.count(".") >= 2 else ""
            c = self.counters.get(kind)
            if c is not None:
                c.add("replayed")
                c.add("messages")
                c.add("bytes", len(data))
            self.buffer.replayed(seg, end)
        if current is not None:
            self.buffer.done(current)
        log.info("bus: disk buffer replayed")

    def counter_sets(self) -> list[Counters]:
        return list(self.counters.values())
