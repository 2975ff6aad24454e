"""The transport interface: what receivers, decoders and detectors need from a bus.

Two drivers implement it: `nats` (JetStream: one stream per partition, KV buckets for partition
leases and commit records; tested on a real 3-node cluster) and `kafka` (aiokafka: one topic
per kind with one Kafka partition per nocsoc partition; see its module for what is untested).
Everything is async: a driver runs on the event loop of a `LoopThread`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gc
import threading
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from nocsoc.bus.config import BusConfig
from nocsoc.bus.urls import parse_bus_url
from nocsoc.errors import NocsocError

T = TypeVar("T")


class BusError(NocsocError):
    """The bus cannot be used (unreachable at start, refused a setting): one clear line."""


class PublishFailed(Exception):
    """A publish did not reach the bus (unreachable, timeout): the caller buffers the batch."""


class PublishRefused(PublishFailed):
    """The stream is at its limit and refuses new messages (`discard: new`)."""


class LeaseLost(Exception):
    """A compare-and-set on a lease or commit record failed: another process owns the partition."""


@dataclass
class BusMessage:
    """One delivered message: its partition stream sequence (contiguous per partition), payload,
    how many times it was delivered, and how to acknowledge it (with every one before it)."""

    seq: int
    data: bytes | bytearray  # a bytearray: received into a buffer of its own (natsio)
    delivered: int
    ack: Callable[[], Awaitable[None]]


class PartitionReader(Protocol):
    async def fetch(self, n: int, timeout: float) -> list[BusMessage]: ...
    async def pending(self) -> int: ...
    async def close(self) -> None: ...


class Transport(Protocol):
    """A bus driver. `kind` is `flows` or `logs`; partitions are numbered from 0."""

    async def connect(self) -> None: ...
    async def close(self) -> None: ...
    async def ensure(self, kind: str, partitions: int) -> None:
        """Create the kind's partition streams/topics and the coordination state if missing."""
    async def publish(self, kind: str, partition: int, source: str, payload: bytes, msg_id: str) -> None:
        """Raises PublishRefused at a stream limit, PublishFailed when the bus is not there."""
    async def publish_dead(self, kind: str, payload: bytes, reason: str) -> None: ...
    async def open_partition(self, kind: str, partition: int, start_seq: int) -> PartitionReader:
        """Read partition `partition` from stream sequence `start_seq` on (an earlier reader of
        it, this process's or a dead peer's, is replaced)."""
    # coordination: commit records (compare-and-set) and leases with a time to live
    async def get_state(self, key: str) -> tuple[bytes, int] | None: ...
    async def put_state(self, key: str, value: bytes, revision: int | None) -> int:
        """Write if the record is still at `revision` (None: must not exist); LeaseLost if not."""
    async def heartbeat(self, group: str, member: str) -> None: ...
    async def members(self, group: str) -> list[str]: ...
    async def acquire(self, lease: str, owner: str) -> int | None:
        """Take a free lease: its revision, or None when another owner holds it."""
    async def renew(self, lease: str, owner: str, revision: int) -> int:
        """Keep a held lease alive: the new revision, LeaseLost if it was taken."""
    async def release(self, lease: str, revision: int) -> None: ...


def make_transport(config: BusConfig, client_name: str) -> Transport:
    """The driver for `bus.url`'s scheme."""
    if config.url is None:
        raise BusError("bus.url is not set: roles other than `all` need a bus")
    url = parse_bus_url(config.url)
    if url.scheme == "nats":
        from nocsoc.bus.nats_driver import NatsTransport

        return NatsTransport(config, url, client_name)
    from nocsoc.bus.kafka_driver import KafkaTransport

    return KafkaTransport(config, url, client_name)


_frozen = False


def freeze_startup_objects() -> None:
    """Put what the process has made so far (its modules, config, components) out of the cyclic
    garbage collector's full collections, once per process (`gc.freeze`).

    Why: a bus loop makes asyncio and nats-py objects for every message, and so starts the
    collector's rounds far more often than the direct path; now and then one is a full
    collection, which walks every object of the process. The ~70,000 a loaded nocsoc process
    has before it does anything took ~35 ms of CPU per full collection here (measured), paid by
    whichever thread ran into it: in a `perf` profile of a bus bench pass, one such collection
    was a fifth of the decoder's CPU (~45 ns a flow record). Those objects live as long as the
    process; the collector still sees everything made afterwards. Collected first, so that only
    what is alive is set aside (garbage waiting for a collection would be kept forever)."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()


class LoopThread:
    """An asyncio event loop on its own daemon thread: the drivers are async, the components
    that use them are thread-based (like every other nocsoc component)."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run `coro` on the loop and wait for its result (from another thread)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel what is left on the loop (the client's reconnect and reader tasks), then stop."""
        if self.loop.is_running():
            async def cancel_all() -> None:
                me = asyncio.current_task()
                tasks = [t for t in asyncio.all_tasks() if t is not me]
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(Exception):  # a task ignoring cancellation must not block the stop
                self.run(cancel_all(), timeout)
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
        if not self.loop.is_running():
            self.loop.close()
