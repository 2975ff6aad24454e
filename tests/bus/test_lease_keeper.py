"""A partition runner's leases outlive a bus call slower than their time to live (real nats-server).

After a NATS node's death, calls that need a JetStream leader (creating a partition's consumer,
listing members) wait up to the request timeout while leaders are elected. The runner renewed
its leases from its own loop, behind such calls: with the call slower than the lease's time to
live, the lease lapsed, the partition was dropped and taken again, and each take waited in turn
(test_nats_node_killed's 40-80 s of partitions passed around, 2026-12-07). Here the slow call is
made, not waited for: a hook delays every consumer creation by 1.5 times the lease's time to
live. The leases must be renewed meanwhile (by the runner's keeper, beside its loop): the
partitions are taken once each, none is lost.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from nocsoc.bus.config import BusConfig
from nocsoc.bus.consume import PartitionRunner
from nocsoc.bus.envelope import Record
from nocsoc.bus.transport import make_transport
from tests.servers.base import wait_until
from tests.servers.nats import NatsCluster, nats_single  # noqa: F401

TTL_S = 2.0
PARTITIONS = 2


class Nothing:
    """A handler with nothing to count: the leases are what is tested."""

    async def acquire(self, partition: int) -> int:
        return 1

    def handle_batch(self, partition: int, messages: list[tuple[int, list[Record]]]) -> list[bool]:
        return [True] * len(messages)

    def drain(self) -> None:
        pass

    def skip(self, partition: int, seq: int) -> None:
        pass

    async def commit(self, partition: int, caught_up: bool) -> int:
        return 0

    def release(self, partition: int) -> None:
        pass


class Hooks:
    """Every consumer creation (a partition taken) waits `delay` seconds first; renewals are
    counted per lease."""

    def __init__(self, transport: Any, delay: float) -> None:
        self.delay = delay
        self.renewals: dict[str, int] = {}
        self._open, self._renew = transport.open_partition, transport.renew
        transport.open_partition, transport.renew = self.open_partition, self.renew

    async def open_partition(self, kind: str, partition: int, start_seq: int) -> Any:
        await asyncio.sleep(self.delay)
        return await self._open(kind, partition, start_seq)

    async def renew(self, lease: str, owner: str, revision: int) -> int:
        rev = int(await self._renew(lease, owner, revision))
        self.renewals[lease] = self.renewals.get(lease, 0) + 1
        return rev


def test_leases_live_through_a_call_slower_than_their_ttl(tmp_path: Path,
                                                          nats_single: NatsCluster) -> None:  # noqa: F811
    bus = BusConfig(url=nats_single.url, replicas=1, flow_partitions=PARTITIONS, lease_ttl_s=TTL_S,
                    publish_timeout_s=2.0, prefix="keeper", stream_max_bytes=1 << 20)
    transport = make_transport(bus, "keeper-test")
    hooks = Hooks(transport, 1.5 * TTL_S)
    runner = PartitionRunner("flows", PARTITIONS, bus, transport, Nothing(), "m1")
    runner.start()
    try:
        wait_until(lambda: len(runner.held) == PARTITIONS, 60, what="both partitions taken")
        # then a time to live more (renewed every TTL/4): a lapsed lease would be found lost
        since = dict(hooks.renewals)
        wait_until(lambda: all(hooks.renewals.get(k, 0) >= since.get(k, 0) + 5 for k in hooks.renewals)
                   and len(hooks.renewals) == PARTITIONS, 30, what="every lease renewed past its TTL")
        assert runner.counters.get("lost_leases") == 0
        assert runner.counters.get("acquired") == PARTITIONS
        assert len(runner.held) == PARTITIONS
    finally:
        runner.stop()


pytestmark = pytest.mark.timeout(120)
