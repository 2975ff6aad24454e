"""The NATS driver's windowed publish (`publish_many`) on a real nats-server: each message's
outcome is what `publish_subject` reports for it, stored, refused at a stream limit, or failed."""

from __future__ import annotations

import asyncio
from typing import Any

from nocsoc.bus.config import BusConfig
from nocsoc.bus.nats_driver import NatsTransport
from nocsoc.bus.partition import stream_name, subject
from nocsoc.bus.transport import PublishFailed, PublishRefused
from nocsoc.bus.urls import parse_bus_url
from tests.bus.test_faults import _stream_messages
from tests.servers.nats import NatsCluster, nats_single  # noqa: F401


def _run(bus: BusConfig, work: Any) -> Any:
    async def go() -> Any:
        t = NatsTransport(bus, parse_bus_url(bus.url or ""), "test-publish-many")
        await t.connect()
        try:
            await t.ensure("logs", 1)
            return await work(t)
        finally:
            await t.close()
    return asyncio.run(go())


def test_window_stored_in_order_and_deduplicated(nats_single: NatsCluster) -> None:  # noqa: F811
    bus = BusConfig(url=nats_single.url, replicas=1, log_partitions=1, stream_max_bytes=1 << 20)
    subj = subject(bus.prefix, "logs", 0, "192.0.2.1")
    jobs = [(subj, f"m-{i}", b"payload %d" % i) for i in range(40)]
    jobs.insert(20, (subj, "m-3", b"a resend of m-3"))  # same message id: dropped by the stream

    async def work(t: NatsTransport) -> Any:
        first = await t.publish_many(jobs)
        second = await t.publish_many(jobs[:5])  # the next window: the same subscription
        return first, second, len(t._ack_waiting)
    first, second, left = _run(bus, work)
    assert first == [None] * 41 and second == [None] * 5 and left == 0
    got = _stream_messages(nats_single.url, stream_name(bus.prefix, "logs", 0))
    assert [data for _s, data, _h in got] == [b"payload %d" % i for i in range(40)]
    assert [h["Nats-Msg-Id"] for _s, _d, h in got] == [f"m-{i}" for i in range(40)]


def test_stream_at_its_limit_refuses_the_rest(nats_single: NatsCluster) -> None:  # noqa: F811
    bus = BusConfig(url=nats_single.url, replicas=1, log_partitions=1, discard="new",
                    stream_max_bytes=1 << 20)
    subj = subject(bus.prefix, "logs", 0, "192.0.2.1")
    jobs = [(subj, f"m-{i}", bytes(100_000)) for i in range(30)]  # ~10 fit in 1 MB

    async def work(t: NatsTransport) -> Any:
        many = await t.publish_many(jobs)
        one = None
        try:
            await t.publish_subject(subj, bytes(100_000), "m-one")
        except PublishFailed as exc:
            one = exc
        return many, one
    many, one = _run(bus, work)
    stored = len(_stream_messages(nats_single.url, stream_name(bus.prefix, "logs", 0)))
    assert 0 < stored < 30
    assert many[:stored] == [None] * stored
    assert all(type(r) is PublishRefused for r in many[stored:])
    assert type(one) is PublishRefused and str(one) == str(many[-1])


def test_no_stream_for_the_subject_fails(nats_single: NatsCluster) -> None:  # noqa: F811
    bus = BusConfig(url=nats_single.url, replicas=1, log_partitions=1, stream_max_bytes=1 << 20)

    async def work(t: NatsTransport) -> Any:
        many = await t.publish_many([("nostream.here", "x-1", b"1"), ("nostream.here", "x-2", b"2")])
        try:
            await t.publish_subject("nostream.here", b"3", "x-3")
        except PublishFailed as exc:
            return many, exc
        return many, None
    many, one = _run(bus, work)
    assert [type(r) for r in many] == [PublishFailed, PublishFailed]
    assert str(many[0]) == str(one) == "nostream.here: NoStreamResponseError"
