"""Partitions shared by several consumer processes: who owns what, in-order delivery, commits.

Ownership: every consumer heartbeats its membership in the leases bucket; partition p belongs
to the live member with the highest rendezvous score for p, so a join or a leave moves only the
partitions that must move. The owner holds a lease on p (a key with the bucket's time to live,
renewed by compare-and-set). A consumer that dies stops renewing: once its heartbeat and lease
expire (bus.lease_ttl_s) the partition's new owner takes the lease, reads the commit record and
reads the stream again from the committed sequence + 1. A consumer that sees a new member
releases the partitions that now belong to it: their uncommitted work is dropped (the successor
reads it again), never written twice.

In order: a partition's stream sequence is contiguous, and the runner hands messages to the
handler strictly in that order. A redelivery of what was already handled is skipped; a jump
ahead (a delivery lost with a failed node) restarts the consumer at the next sequence; a jump
that survives the restart is what the stream dropped at its limit, counted as `stream_gaps`.

A message that cannot be read or processed (poison) is acknowledged, counted and published to
the dead-letter subject with the reason: it is never redelivered forever (the consumer's
max_deliver is the server-side backstop).
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import logging
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, cast

from nocsoc.bus.config import BusConfig
from nocsoc.bus.envelope import EnvelopeError, Record, decode
from nocsoc.bus.transport import (
    BusMessage,
    LeaseLost,
    LoopThread,
    PartitionReader,
    Transport,
    freeze_startup_objects,
)
from nocsoc.component import Counters
from nocsoc.schema.selfmetrics import BUS_CONSUME

log = logging.getLogger(__name__)

COMMIT_EVERY_S = 1.0
FETCH_TIMEOUT_S = 0.5


class PartitionHandler(Protocol):
    """What a decoder/detector does with its partitions (all called on the runner's loop)."""

    async def acquire(self, partition: int) -> int:
        """Load the partition's committed state; return the first stream sequence to read."""
    def handle_batch(self, partition: int, messages: list[tuple[int, list[Record]]]) -> list[bool]:
        """Process messages (stream sequence, records) in order; per message False if it was
        already counted (skipped). An exception makes every message of the call poison. A
        handler may have a `decode_message(data)` of its own (an EnvelopeError for a bad message): the
        records it returns are what it is handed (typed as lists here); else `envelope.decode`'s."""
    def drain(self) -> None:
        """Finish what was handed over (before a final commit and a release)."""
    def skip(self, partition: int, seq: int) -> None:
        """A poison message: nothing to count, but it is done."""
    async def commit(self, partition: int, caught_up: bool) -> int:
        """Write what is complete; return the sequence up to which everything is committed
        (LeaseLost: another process owns the partition now)."""
    def release(self, partition: int) -> None:
        """Forget the partition's uncommitted state (the next owner reads it again)."""


def rendezvous_owner(partition: int, members: list[str]) -> str | None:
    """Highest random weight: stable per (member, partition), so membership changes move few."""
    if not members:
        return None
    return max(members, key=lambda m: (zlib.crc32(f"{m}/{partition}".encode()), m))


@dataclass
class Lease:
    """A partition's lease, from its taking (renewed by the keeper from then on) to its release."""

    partition: int
    name: str
    rev: int
    # one update at a time (compare-and-set on `rev`): the keeper's renewals, the commit's fence,
    # the release
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    lost: str | None = None  # found taken or lapsed: the loop drops the partition


@dataclass
class Held:
    partition: int
    lease: Lease
    reader: PartitionReader
    expect: int  # the next stream sequence to hand over
    resynced_at: int = 0  # `expect` when the consumer was last restarted for a jump
    acks: collections.deque[BusMessage] = field(default_factory=collections.deque)
    caught_up: bool = False
    last_commit: float = 0.0


class PartitionRunner:
    """Runs one handler's share of a kind's partitions on a loop thread."""

    def __init__(self, kind: str, partitions: int, config: BusConfig, transport: Transport,
                 handler: PartitionHandler, member: str, clock: Callable[[], float] = time.time) -> None:
        self.kind = kind
        self.partitions = partitions
        self.config = config
        self.transport = transport
        self.handler = handler
        self.member = member
        # what the leases hold: the member and this runner's start, so that a renewal whose reply
        # was lost (the write went through) is told from another holder, even a later process
        # of the same member name
        self.owner = f"{member}#{time.time_ns():x}"
        self.clock = clock
        self.counters = Counters(BUS_CONSUME, {"kind": kind})
        self._decode: Callable[[bytes | bytearray], Sequence[Record]] = getattr(
            handler, "decode_message", decode)
        self.held: dict[int, Held] = {}
        self._leases: dict[int, Lease] = {}  # held, and being taken
        self._stop = asyncio.Event()
        self._loop: LoopThread | None = None
        self._task: concurrent.futures.Future[None] | None = None
        self.error: BaseException | None = None
        self.ready = False

    # --- lifecycle (from the component's thread) -------------------------------------------------

    def start(self, timeout: float = 30.0) -> None:
        """Start the loop; the bus may be unreachable yet: the loop connects when it can."""
        freeze_startup_objects()
        self._loop = LoopThread(f"bus-{self.kind}")
        self._loop.run(self._setup(), timeout)
        self._task = self._loop.submit(self._run())

    async def _setup(self) -> None:
        self._stop = asyncio.Event()
        self._connected = False

    async def _connect(self) -> bool:
        if self._connected:
            return True
        try:
            await self.transport.connect()
            await self.transport.ensure(self.kind, self.partitions)
        except Exception as exc:
            log.warning("bus %s: cannot use the bus yet (%s); retrying", self.kind, exc)
            with contextlib.suppress(Exception):
                await self.transport.close()
            return False
        self._connected = True
        return True

    def stop(self, timeout: float = 10.0, graceful: bool = True) -> None:
        """Graceful: commit what is complete and release the leases (successors start at once).
        Not graceful (a crash, in tests): just drop the connection."""
        if self._loop is None:
            return
        loop = self._loop
        loop.loop.call_soon_threadsafe(self._stop.set)
        if self._task is not None:
            try:
                self._task.result(timeout)
            except Exception:
                log.exception("bus %s: consumer loop failed", self.kind)
        try:
            loop.run(self._finish(graceful), timeout)
        except Exception:
            log.exception("bus %s: stopping failed", self.kind)
        loop.stop()
        self._loop = None

    async def _finish(self, graceful: bool) -> None:
        if graceful:
            self.handler.drain()
            for h in list(self.held.values()):
                try:
                    await self._commit(h, final=True)
                except Exception as exc:
                    log.warning("bus %s p%d: last commit failed: %s", self.kind, h.partition, exc)
                self.handler.release(h.partition)
                await h.reader.close()
                await self._release(h.lease)
            self.held.clear()
        await self.transport.close()

    def _lease(self, p: int) -> str:
        return f"{self.kind}.p{p:03d}"

    # --- leases ----------------------------------------------------------------------------------

    async def _keep_leases(self) -> None:
        """Heartbeat and renew the leases held (and being taken) every lease_ttl_s / 4, beside
        the loop rather than in it, each renewal on its own.

        Why: after a NATS node's death the cluster elects new leaders for a while, and a call
        that needs one (a consumer created for a partition taken, a commit) waits up to the
        request timeout. Renewed from the loop, behind such calls, the leases lapsed (the test's
        TTL is the request timeout), the partitions were dropped and taken again, each take
        creating a consumer that waited in turn: 40-80 s of partitions passed around after a
        node kill, and past the 90 s of test_nats_node_killed now and then (2026-12-07)."""
        every = self.config.lease_ttl_s / 4
        beat: asyncio.Task[None] | None = None
        renewing: dict[int, asyncio.Task[None]] = {}  # by id(lease): one in flight per lease
        try:
            while not self._stop.is_set():
                if self._connected:
                    if beat is None or beat.done():
                        beat = asyncio.ensure_future(self._beat())
                    renewing = {k: t for k, t in renewing.items() if not t.done()}
                    for lease in list(self._leases.values()):
                        if id(lease) not in renewing:
                            renewing[id(lease)] = asyncio.ensure_future(self._keep(lease))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), every)
        finally:
            for t in [beat, *renewing.values()]:
                if t is not None and not t.done():
                    t.cancel()
            await asyncio.gather(*[t for t in [beat, *renewing.values()] if t is not None],
                                 return_exceptions=True)

    async def _beat(self) -> None:
        try:
            await asyncio.wait_for(self.transport.heartbeat(self.kind, self.member), self._call_timeout)
        except Exception as exc:  # the next beat is in lease_ttl_s / 4
            log.debug("bus %s: heartbeat: %s", self.kind, exc)

    async def _keep(self, lease: Lease) -> None:
        try:
            await self._renew(lease)
        except LeaseLost as exc:
            lease.lost = str(exc)
        except Exception as exc:  # timed out (a leader being elected): the next try is soon
            log.debug("bus %s: renewing %s: %s", self.kind, lease.name, exc)

    @property
    def _call_timeout(self) -> float:
        """A lease call's bound: half the time to live, so that one lost call leaves time for
        another before the lease lapses."""
        return self.config.lease_ttl_s / 2

    async def _renew(self, lease: Lease) -> None:
        """Renew `lease` (LeaseLost: another holder has it, it lapsed, or it was let go)."""
        async with lease.lock:
            if lease.lost is not None:
                raise LeaseLost(lease.lost)
            try:
                lease.rev = await asyncio.wait_for(
                    self.transport.renew(lease.name, self.owner, lease.rev), self._call_timeout)
            except LeaseLost as exc:
                lease.lost = str(exc)
                raise

    def _forget(self, lease: Lease, why: str) -> None:
        """`lease` is no longer renewed (dropped or released): a renewal or fence after this
        is LeaseLost."""
        if self._leases.get(lease.partition) is lease:
            del self._leases[lease.partition]
        if lease.lost is None:
            lease.lost = why

    async def _release(self, lease: Lease) -> None:
        if self._leases.get(lease.partition) is lease:
            del self._leases[lease.partition]
        async with lease.lock:  # after a renewal in flight, with its revision
            if lease.lost is None:
                lease.lost = f"lease {lease.name}: released"
                await self.transport.release(lease.name, lease.rev)

    # --- the loop --------------------------------------------------------------------------------

    async def _run(self) -> None:
        keeper = asyncio.ensure_future(self._keep_leases())
        try:
            await self._loop_partitions()
        finally:
            self._stop.set()
            await asyncio.gather(keeper, return_exceptions=True)

    async def _loop_partitions(self) -> None:
        next_membership = 0.0
        while not self._stop.is_set():
            if not await self._connect():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), 2.0)
                continue
            await self._drop_lost()
            now = time.monotonic()
            if now >= next_membership:
                try:
                    await self._membership()
                    self.ready = True
                except Exception as exc:  # the bus may be failing over: try again shortly
                    log.warning("bus %s: membership: %s", self.kind, exc)
                next_membership = now + self.config.lease_ttl_s / 4
            if not self.held:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), 0.2)
                continue
            held = list(self.held.values())
            results = await asyncio.gather(
                *(h.reader.fetch(self.config.fetch_records, FETCH_TIMEOUT_S) for h in held),
                return_exceptions=True)
            for h, got in zip(held, results, strict=True):
                if self.held.get(h.partition) is not h:
                    continue
                if isinstance(got, BaseException):
                    log.warning("bus %s p%d: fetch: %s %s", self.kind, h.partition, type(got).__name__, got)
                    continue
                h.caught_up = len(got) < self.config.fetch_records
                await self._deliver(h, got)
                if time.monotonic() - h.last_commit >= COMMIT_EVERY_S:
                    await self._commit_or_drop(h)

    async def _drop_lost(self) -> None:
        for h in list(self.held.values()):
            if h.lease.lost is not None and self.held.get(h.partition) is h:
                log.warning("bus %s p%d: %s; dropping the partition", self.kind, h.partition, h.lease.lost)
                self.counters.add("lost_leases")
                await self._drop(h, release=False)

    async def _membership(self) -> None:
        members = await self.transport.members(self.kind)
        if self.member not in members:
            members.append(self.member)
        mine = {p for p in range(self.partitions) if rendezvous_owner(p, members) == self.member}
        for p, h in list(self.held.items()):
            if p not in mine and self.held.get(p) is h:
                self.handler.drain()
                await self._commit_or_drop(h)
                if self.held.get(p) is h:
                    await self._drop(h, release=True)
                    self.counters.add("released")
        for p in sorted(mine - self.held.keys()):
            rev = await self.transport.acquire(self._lease(p), self.owner)
            if rev is None:
                continue  # its owner has not let go yet (or died and the lease has not expired)
            # renewed by the keeper from now on: reading the commit and creating the consumer
            # may take longer than the lease lives while the cluster elects leaders
            lease = self._leases[p] = Lease(p, self._lease(p), rev)
            try:
                start = await self.handler.acquire(p)
                reader = await self.transport.open_partition(self.kind, p, start)
            except Exception:
                await self._release(lease)
                raise
            if lease.lost is not None:  # lapsed while it was being taken: taken by another now
                await reader.close()
                self.handler.release(p)
                self._forget(lease, "")
                log.warning("bus %s p%d: %s while taking it", self.kind, p, lease.lost)
                self.counters.add("lost_leases")
                continue
            self.held[p] = Held(p, lease, reader, start, last_commit=time.monotonic())
            self.counters.add("acquired")
            log.info("bus %s: partition %d from sequence %d", self.kind, p, start)
        self.counters.set("partitions", len(self.held))

    async def _drop(self, h: Held, release: bool) -> None:
        self.held.pop(h.partition, None)
        if not release:
            self._forget(h.lease, f"lease {h.lease.name}: dropped")
        self.handler.release(h.partition)
        await h.reader.close()
        if release:
            await self._release(h.lease)
        self.counters.set("partitions", len(self.held))

    async def _deliver(self, h: Held, msgs: list[BusMessage]) -> None:
        """Hand a fetch's messages over in stream order, as one batch (a decoder's cost per call
        is large: one call per fetch, not per message), poison ones set aside in place."""
        batch: list[tuple[BusMessage, Sequence[Record]]] = []
        for m in msgs:
            if m.seq < h.expect:  # a redelivery of what was handled already
                self.counters.add("duplicates")
                continue
            if m.seq > h.expect:
                if h.resynced_at != h.expect:  # a lost delivery? read again from where we are
                    await self._handle(h, batch)
                    self.counters.add("resyncs")
                    h.resynced_at = h.expect
                    await h.reader.close()
                    h.reader = await self.transport.open_partition(self.kind, h.partition, h.expect)
                    return
                # still ahead after a restart: the stream no longer has them (discard: old)
                lost = m.seq - h.expect
                self.counters.add("stream_gaps", lost)
                log.error("bus %s p%d: %d messages dropped by the stream at its limit before they were "
                          "read (sequences %d-%d): LOST", self.kind, h.partition, lost, h.expect, m.seq - 1)
            h.expect = m.seq + 1
            h.acks.append(m)
            try:
                records = self._decode(m.data)
            except EnvelopeError as exc:
                await self._handle(h, batch)
                batch = []
                await self._poison(h, m, exc)
                m.data = b""
                continue
            batch.append((m, records))
        await self._handle(h, batch)

    async def _handle(self, h: Held, batch: list[tuple[BusMessage, Sequence[Record]]]) -> None:
        """`_handled`, then each message's payload let go: only its acknowledgement waits for
        the commit (a second of messages kept whole was memory grown and given back to the
        kernel at each commit: page faults, on the bus bench ~15% of a decoder's CPU)."""
        try:
            await self._handled(h, batch)
        finally:
            for m, _recs in batch:
                m.data = b""

    async def _handled(self, h: Held, batch: list[tuple[BusMessage, Sequence[Record]]]) -> None:
        if not batch:
            return
        try:
            handled = self.handler.handle_batch(
                h.partition, [(m.seq, cast(list[Record], recs)) for m, recs in batch])
        except Exception as exc:  # the whole call failed: each of its messages is poison
            if len(batch) > 1 and getattr(self.handler, "all_or_nothing", False):
                for one in batch:  # nothing of it was counted: find the bad ones
                    await self._handle(h, [one])
                return
            for m, _recs in batch:
                await self._poison(h, m, exc)
            return
        for (_m, recs), ok in zip(batch, handled, strict=True):
            if ok:
                self.counters.add("messages")
                self.counters.add("records", len(recs))
            else:
                self.counters.add("duplicates")

    async def _poison(self, h: Held, m: BusMessage, exc: Exception) -> None:
        reason = str(exc) if isinstance(exc, EnvelopeError) else f"{type(exc).__name__}: {exc}"
        self.counters.add("poison")
        log.error("bus %s p%d: message %d cannot be processed (%s): sent to the dead-letter subject",
                  self.kind, h.partition, m.seq, reason[:200])
        self.handler.skip(h.partition, m.seq)
        try:
            await self.transport.publish_dead(self.kind, bytes(m.data),
                                              f"p{h.partition} seq {m.seq}: {reason}")
        except Exception as dexc:
            log.error("bus %s: dead-letter publish failed: %s", self.kind, dexc)

    async def _commit_or_drop(self, h: Held) -> None:
        try:
            await self._commit(h)
        except LeaseLost as exc:
            log.warning("bus %s p%d: %s; dropping the partition", self.kind, h.partition, exc)
            self.counters.add("lost_leases")
            await self._drop(h, release=False)
        except Exception as exc:
            self.counters.add("commit_errors")
            log.warning("bus %s p%d: commit failed (retried): %s", self.kind, h.partition, exc)

    async def _commit(self, h: Held, final: bool = False) -> None:
        h.last_commit = time.monotonic()
        # fence: renewed, the lease is ours for lease_ttl_s, and nobody can take the partition
        # before that; a process stalled past its lease (an overloaded host) learns it here
        # (LeaseLost), before it writes what its successor is already reading again
        await self._renew(h.lease)
        upto = await self.handler.commit(h.partition, h.caught_up and not final)
        last = None
        while h.acks and h.acks[0].seq <= upto:
            last = h.acks.popleft()
        if last is not None:
            await last.ack()  # acknowledge-all: every message before it too
            self.counters.add("commits")
