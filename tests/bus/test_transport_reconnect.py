"""A transport closed after a first connect that failed half way (its buckets made, then a
timeout) and connected again uses the new connection's buckets, not the closed one's: before,
a detector started on a loaded machine said "membership: nats: connection closed" forever and
never held a partition. Real nats-server (one node)."""

from __future__ import annotations

import asyncio

from nocsoc.bus.config import BusConfig
from nocsoc.bus.transport import make_transport
from tests.servers.nats import NatsCluster, nats_single  # noqa: F401


def test_buckets_follow_a_new_connection(nats_single: NatsCluster) -> None:  # noqa: F811
    async def run() -> list[str]:
        t = make_transport(BusConfig(url=nats_single.url, replicas=1, log_partitions=1,
                                     stream_max_bytes=16 << 20), "reconnect-test")
        await t.connect()
        await t.ensure("logs", 1)  # the buckets, bound to this connection
        await t.close()  # as PartitionRunner._connect does after a failure
        await t.connect()
        await t.ensure("logs", 1)
        try:
            await t.heartbeat("logs", "m1")
            return await t.members("logs")
        finally:
            await t.close()
    assert asyncio.run(run()) == ["m1"]
