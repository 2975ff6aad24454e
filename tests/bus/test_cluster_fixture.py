"""The 3-node nats-server fixture itself: a replicated stream survives losing one node."""

from __future__ import annotations

import asyncio

import nats
import nats.errors

from tests.servers.nats import NatsCluster, nats_cluster  # noqa: F401


def test_r3_stream_survives_one_node(nats_cluster: NatsCluster) -> None:  # noqa: F811
    async def run() -> list[bytes]:
        nc = await nats.connect(servers=nats_cluster.urls, max_reconnect_attempts=-1,
                                reconnect_time_wait=0.2)
        js = nc.jetstream()
        await js.add_stream(name="FIXTURE", subjects=["fixture.>"], num_replicas=3)
        for i in range(10):
            await js.publish("fixture.a", str(i).encode())
        nats_cluster.kill(0)
        got: list[bytes] = []
        for _ in range(200):
            try:
                sub = await js.pull_subscribe("fixture.>", durable="d", stream="FIXTURE")
                break
            except Exception:
                await asyncio.sleep(0.1)
        deadline = asyncio.get_running_loop().time() + 60
        while len(got) < 10 and asyncio.get_running_loop().time() < deadline:
            try:
                msgs = await sub.fetch(10, timeout=2)
            except nats.errors.TimeoutError:  # consumer leader moving off the killed node
                continue
            for msg in msgs:
                got.append(msg.data)
                await msg.ack()
        await nc.close()
        return got

    assert asyncio.run(run()) == [str(i).encode() for i in range(10)]
