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
from bisect import bisect_right
from collections.abc import Callable, Sequence
from itertools import accumulate
from operator import itemgetter
from pathlib import Path
from typing import Any

from nocsoc.bus.config import BusConfig
from nocsoc.bus.diskbuffer import BufferFull, DiskBuffer
from nocsoc.bus.envelope import Record, encode, frame_source, record_size
from nocsoc.bus.partition import partition_of, partitions_of, subject
from nocsoc.bus.transport import (
    BusError,
    LoopThread,
    PublishFailed,
    PublishRefused,
    Transport,
    freeze_startup_objects,
)
from nocsoc.collectors.flows import speedups
from nocsoc.component import Counters
from nocsoc.schema.selfmetrics import BUS_PUBLISH

log = logging.getLogger(__name__)

RECONNECT_EVERY_S = 2.0
# a replay that failed is tried again after this: while a NATS node's streams elect new leaders
# a publish fails at once ("no responders"), and a retry every round (~5 ms) was ~40 failed
# requests and warnings a second at a cluster busy electing
REPLAY_RETRY_S = 0.5
CONCURRENT_PUBLISHES = 64
# bytes published before waiting for their acknowledgements: within nats-py's pending buffer
# (2 MB), whose overflow forces a flush per publish; more only grows the copies in flight
WINDOW_BYTES = 2 << 20
# room left in a message for the bus's own headers (the message id) and the envelope's 9-byte
# header, which record_size's per-record bound does not count
MESSAGE_HEADROOM = 1024
_PAYLOAD = itemgetter(0)
_TIME = itemgetter(2)


def _one_interval(run: list[Record], interval: float) -> bool:
    times = list(map(_TIME, run))
    return int(min(times) // interval) == int(max(times) // interval)


def _joined(chunks: list[Sequence[Record]]) -> Sequence[Record]:
    """One sequence over a kind's chunks: a Datagrams view (no payload copied) where any chunk is
    one, else a list."""
    if len(chunks) == 1:
        return chunks[0]
    ext = speedups.ext
    if ext is not None and any(isinstance(c, ext.Datagrams) for c in chunks):
        return ext.Datagrams.join(chunks)
    return [r for c in chunks for r in c]


def group_key(source: str) -> str:
    """The partition key of a record's source: its address, without the input it came in by
    (`tcp/10.0.0.1`, `winlogbeat/10.0.0.1` and `10.0.0.1` are one host)."""
    return source.rpartition("/")[2]


Done = Callable[[], None]


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
        # per kind, what was handed over in chunks: the receivers' Datagrams bursts as they came
        # (never turned into a tuple and a bytes per datagram), lists of tuples merged
        self._pending: dict[str, list[Sequence[Record]]] = {k: [] for k in kinds}
        self._held = 0
        # records whose sender waits for them to be on the bus (Winlogbeat): never disk-buffered,
        # retried until published; `done` is called once the bus has acknowledged each
        self._pending_acked: dict[str, list[tuple[Record, Done]]] = {k: [] for k in kinds}
        self._retry: list[tuple[str, str, str, bytes, list[Done]]] = []
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)
        self._msg = 0
        self._boot = f"{member}-{time.time_ns():x}"
        self._loop: LoopThread | None = None
        self._task: object = None
        self._stop: asyncio.Event | None = None
        self.connected = False
        self._next_connect = 0.0
        self._next_replay = 0.0
        self._publishing = False
        self._said_unreachable = False
        # bus.batch_bytes, lowered to what the server takes (a message larger than its
        # max_payload is refused every time: buffered and replayed forever)
        self.batch_bytes = config.batch_bytes

    # --- from the receive threads -----------------------------------------------------------------

    def submit(self, kind: str, records: Sequence[Record]) -> bool:
        """Hand records over (a list of tuples, or a flow receiver's Datagrams, kept as it is);
        False when some were dropped (counted): the queue was full."""
        n = len(records)
        ext = speedups.ext
        with self._lock:
            room = self.config.queue_records - self._held
            if room < len(records):
                self.counters[kind].add("dropped", len(records) - max(room, 0))
                records = records[:max(room, 0)]
            chunks = self._pending[kind]
            if ext is not None and isinstance(records, ext.Datagrams):
                if records:
                    chunks.append(records)
            elif chunks and type(chunks[-1]) is list:
                chunks[-1].extend(records)
            elif records:
                chunks.append(list(records))
            self._held += len(records)
        self.counters[kind].add("records", len(records))
        return len(records) == n

    def submit_acked(self, kind: str, record: Record, done: Done, timeout: float) -> bool:
        """Hand over a record whose sender resends what is not acknowledged (Winlogbeat): wait up
        to `timeout` for room (False: still full, the sender is paced); `done` is called once the
        bus has stored it. Such records never go to the disk buffer: while the bus is away they
        wait in memory and their sender waits for its acknowledgement; lost with this process,
        they are resent by the sender, since it never saw them acknowledged."""
        with self._room:
            if not self._room.wait_for(lambda: self._held < self.config.queue_records, timeout):
                return False
            self._pending_acked[kind].append((record, done))
            self._held += 1
        self.counters[kind].add("records")
        return True

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
        freeze_startup_objects()
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
        limit = getattr(self.transport, "max_payload", None)
        if limit and self.config.batch_bytes > limit - MESSAGE_HEADROOM:
            self.batch_bytes = max(limit - MESSAGE_HEADROOM, 1024)
            log.warning("bus: batch_bytes %d is over the server's max_payload %d: batches of %d bytes "
                        "at most", self.config.batch_bytes, limit, self.batch_bytes)

    def _partitions(self, kind: str) -> int:
        return partitions_of(self.config, kind)

    def _take(self) -> tuple[dict[str, list[Sequence[Record]]], dict[str, list[tuple[Record, Done]]]]:
        with self._lock:
            self._publishing = any(self._pending.values()) or any(self._pending_acked.values())
            taken, acked = self._pending, self._pending_acked
            self._pending = {k: [] for k in self.kinds}
            self._pending_acked = {k: [] for k in self.kinds}
            # acknowledged records stay counted until published: the room their senders wait for
            self._held = sum(len(r[4]) for r in self._retry) + sum(len(v) for v in acked.values())
            self._room.notify_all()
        return taken, acked

    def _published_acked(self, n: int) -> None:
        with self._room:
            self._held -= n
            self._room.notify_all()

    def batches(self, kind: str, records: Sequence[Record]) -> list[tuple[int, str, Sequence[Record]]]:
        """(partition, source, records) batches: one source, within the size limits and one
        rollup interval, in arrival order.

        A Datagrams (the flow receivers' bursts) is cut the same way with its C methods: views
        per exporter and their runs, no Python object per datagram (`_batches_view`).

        The cut is greedy: a batch ends where the next record would pass `batch_records` or
        `batch_bytes` or is in another interval. The longest run of at most `batch_records`
        records whose sizes sum within `batch_bytes` (one record at least), if its earliest and
        latest times share an interval, is such a batch whole: found with C-level sums and
        min/max over the run (~0.7 -> ~0.2 us a datagram) instead of record by record; the rest
        goes through the greedy loop. (The run's size limit found the same way: before, a run
        over `batch_bytes`, e.g. 256 jumbo datagrams, sent the rest of its exporter's records
        through the greedy loop: on the bus bench, messages cut at 512 kB rather than 256
        datagrams cost the publisher 82 ns a record against 38.)"""
        ext = speedups.ext
        if ext is not None and isinstance(records, ext.Datagrams):
            return self._batches_view(kind, records)
        cfg = self.config
        interval = self.kinds.get(kind)
        by_source: dict[str, list[Record]] = {}
        for r in records:
            by_source.setdefault(r[1], []).append(r)
        out: list[tuple[int, str, Sequence[Record]]] = []
        limit = cfg.batch_records
        for source, recs in by_source.items():
            p = partition_of(group_key(source), self._partitions(kind))
            overhead = record_size(b"", source)  # a record's size beyond its payload
            start = 0
            while start < len(recs):
                run = recs[start:start + limit]
                # each prefix's size, summed at C level: the longest within batch_bytes
                ends = list(accumulate(map(overhead.__add__, map(len, map(_PAYLOAD, run)))))
                run = run[:max(bisect_right(ends, self.batch_bytes), 1)]
                if not interval or _one_interval(run, interval):
                    out.append((p, source, run))
                    start += len(run)
                    continue
                out += [(p, source, b) for b in self._greedy(recs[start:], interval)]
                break
        return out

    def _batches_view(self, kind: str, records: Any) -> list[tuple[int, str, Sequence[Record]]]:
        """`batches` of a Datagrams: the same cut, from views (by_exporter, slices) checked with
        payload_bytes and time_range; where a run is not a whole batch, the greedy loop over
        its tuples."""
        assert speedups.ext is not None
        time_range = speedups.ext.time_range
        cfg = self.config
        interval = self.kinds.get(kind)
        limit = cfg.batch_records
        out: list[tuple[int, str, Sequence[Record]]] = []
        for source, view in records.by_exporter():
            p = partition_of(group_key(source), self._partitions(kind))
            overhead = record_size(b"", source)
            start, n = 0, len(view)
            while start < n:
                run = view[start:start + limit]
                if run.payload_bytes() + overhead * len(run) > self.batch_bytes:
                    run = run[:self._fitting(run, overhead)]
                lo, hi = time_range(run)
                if not interval or int(lo // interval) == int(hi // interval):
                    out.append((p, source, run))
                    start += len(run)
                    continue
                out += [(p, source, b) for b in self._greedy(list(view[start:]), interval)]
                break
        return out

    def _fitting(self, run: Any, overhead: int) -> int:
        """How many of a Datagrams run's first records fit in batch_bytes (one at least), by
        halving: payload_bytes of a few views, no Python step per record."""
        lo, hi = 1, len(run) - 1  # the whole run does not fit
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if run[:mid].payload_bytes() + overhead * mid <= self.batch_bytes:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def _greedy(self, recs: list[Record], interval: float | None) -> list[list[Record]]:
        cfg = self.config
        out: list[list[Record]] = []
        cur: list[Record] = []
        size = 0
        idx = None
        for r in recs:
            ridx = int(r[2] // interval) if interval else None
            rsize = record_size(r[0], r[1])
            if cur and (len(cur) >= cfg.batch_records or size + rsize > self.batch_bytes or ridx != idx):
                out.append(cur)
                cur, size = [], 0
            cur.append(r)
            size += rsize
            idx = ridx
        if cur:
            out.append(cur)
        return out

    async def _round(self) -> None:
        taken, acked = self._take()
        if self.connected and self.buffer and time.monotonic() >= self._next_replay:
            await self._replay()
        await self._round_acked(acked)
        todo = []
        for kind, chunks in taken.items():
            for p, source, recs in self.batches(kind, _joined(chunks)):
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
                data = frame_source(source, recs)
                chunk.append((kind, subj, msg_id, data, len(recs)))
                size += len(data)
                i += 1
            if not self.connected or self.buffer:
                for job in chunk:
                    self._to_buffer(*job)
                continue
            results = await self._publish_window([(s, m, d) for _k, s, m, d, _n in chunk])
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

    async def _round_acked(self, acked: dict[str, list[tuple[Record, Done]]]) -> None:
        """Publish the records senders wait on (those a failed round left first, in order);
        call their `done` once the bus has them; keep what fails for the next round."""
        jobs, self._retry = self._retry, []
        for kind, items in acked.items():
            if not items:
                continue
            dones = {id(r): d for r, d in items}
            for p, source, recs in self.batches(kind, [r for r, _d in items]):
                self._msg += 1
                jobs.append((kind, subject(self.config.prefix, kind, p, source), f"{self._boot}-{self._msg}",
                             encode(recs), [dones[id(r)] for r in recs]))
        if not jobs:
            return
        if not self.connected:
            self._retry = jobs
            return
        for i in range(0, len(jobs), CONCURRENT_PUBLISHES):
            chunk = jobs[i:i + CONCURRENT_PUBLISHES]
            results = await asyncio.gather(*(self._publish(s, m, d) for _k, s, m, d, _n in chunk),
                                           return_exceptions=True)
            for job, res in zip(chunk, results, strict=True):
                kind, dones_of = job[0], job[4]
                if res is None:
                    self.counters[kind].add("messages")
                    self.counters[kind].add("bytes", len(job[3]))
                    for done in dones_of:
                        done()
                    self._published_acked(len(dones_of))
                else:  # same message id on the retry: a publish that did land is not stored twice
                    why = "refused" if isinstance(res, PublishRefused) else "publish_errors"
                    self.counters[kind].add(why)
                    self._retry.append(job)

    async def _publish_window(self, jobs: list[tuple[str, str, bytes]]) -> list[BaseException | None]:
        """Publish (subject, message id, data) jobs concurrently; each one's exception or None.

        With the driver's `publish_many` where it has one (NATS: asynchronous publishes, see
        there); else started one at a time with a yield between: the NATS client's flusher
        then writes each message as it comes, alone. Started all at once (a gather), they
        queued up first and the flusher joined the window into one buffer to write: a copy of
        every message, in memory that was fresh each time (page faults)."""
        many = getattr(self.transport, "publish_many", None)
        if many is not None:
            return list(await many(jobs))
        tasks = []
        for subj, msg_id, data in jobs:
            tasks.append(asyncio.ensure_future(self._publish(subj, msg_id, data)))
            await asyncio.sleep(0)
        return list(await asyncio.gather(*tasks, return_exceptions=True))

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
                self._next_replay = time.monotonic() + REPLAY_RETRY_S
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
