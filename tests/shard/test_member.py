"""A poller's membership and leases against a real nats-server (JetStream key-value buckets).

The lease properties are what makes "no device polled twice in a cycle" hold whatever the
pollers believe about the membership: exactly one claim per device cycle wins, whoever races;
an older cycle is never taken again; a write whose answer was lost is found on the retry.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from nocsoc.config import Config
from nocsoc.context import Context
from nocsoc.inventory.model import Inventory
from nocsoc.shard import rendezvous
from nocsoc.shard.config import ShardConfig
from nocsoc.shard.member import ShardMember, lease_key
from nocsoc.sinks.memory import MemorySink
from tests.servers.base import free_port
from tests.servers.nats import NatsCluster, NatsSingle

DEVICES = [f"hcm-sw{i}" for i in range(30)]


@pytest.fixture(scope="module")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = NatsSingle(tmp_path_factory.mktemp("nats"))
    try:
        server.start()
        yield server.url
    finally:
        server.stop()


_n = 0


def cfg(**kw: Any) -> ShardConfig:
    """A config with buckets of their own (tests share one server)."""
    global _n
    _n += 1
    base: dict[str, Any] = {"heartbeat_s": 0.3, "member_ttl_s": 1.2, "request_timeout_s": 1.0,
                            "members_bucket": f"m{_n}", "leases_bucket": f"l{_n}"}
    return ShardConfig(**{**base, **kw})


async def until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


def test_exactly_one_claim_per_device_cycle_wins(nats_url: str) -> None:
    async def go() -> None:
        c = cfg()
        a, b = ShardMember(c, [nats_url], "a"), ShardMember(c, [nats_url], "b")
        await a.beat()
        await b.beat()
        later = time.time() + 10
        for slot in (1000.0, 1010.0):  # two cycles, both members racing for every device
            got = await asyncio.gather(*(m.claim(d, slot, later) for d in DEVICES for m in (a, b)))
            for i, d in enumerate(DEVICES):
                assert got[2 * i] != got[2 * i + 1], (d, slot, got[2 * i : 2 * i + 2])
        # an older cycle is never taken again, by anyone; the same cycle not twice
        assert not any(await asyncio.gather(*(m.claim(d, 1000.0, later) for d in DEVICES for m in (a, b))))
        won = a.counters.get("leases_won") + b.counters.get("leases_won")
        lost = a.counters.get("leases_lost") + b.counters.get("leases_lost")
        assert (won, lost) == (2 * len(DEVICES), 2 * len(DEVICES) + 2 * len(DEVICES))
        await a.stop()
        await b.stop()
    asyncio.run(go())


def test_a_lease_whose_answer_was_lost_is_found_on_the_retry(nats_url: str) -> None:
    async def go() -> None:
        c = cfg()
        a, b = ShardMember(c, [nats_url], "a"), ShardMember(c, [nats_url], "b")
        await a.beat()
        await b.beat()
        later = time.time() + 10
        kv = a._leases_kv
        assert kv is not None
        real_create = kv.create
        calls = []

        async def create_then_lose_the_answer(key: str, value: bytes) -> int:
            calls.append(key)
            rev = await real_create(key, value)
            if len(calls) == 1:
                raise TimeoutError  # the write landed; its answer did not come back
            return rev

        kv.create = create_then_lose_the_answer  # type: ignore[method-assign]
        assert await a.claim("dx-core-1", 50.0, later)
        assert calls == ["n.dx-core-1"] and a.counters.get("leases_won") == 1
        assert not await a.claim("dx-core-1", 50.0, later)  # held already: never twice
        a._revisions.clear()
        assert not await a.claim("dx-core-1", 50.0, later)  # read from the bucket: still never twice
        assert not await b.claim("dx-core-1", 50.0, later)
        assert await b.claim("dx-core-1", 60.0, later)  # the next cycle is anyone's
        assert not await a.claim("dx-core-1", 60.0, later)
        await a.stop()
        await b.stop()
    asyncio.run(go())


def test_any_device_name_has_its_own_lease(nats_url: str) -> None:
    names = ["Đồng Xoài sw1", "a..b", ".x", "x.", "n.x", "x", "h." + b"x".hex(), "core 1/0"]
    assert len({lease_key(n) for n in names}) == len(names)

    async def go() -> None:
        a = ShardMember(cfg(), [nats_url], "a")
        await a.beat()
        later = time.time() + 10
        assert all(await asyncio.gather(*(a.claim(n, 7.0, later) for n in names)))
        assert not any(await asyncio.gather(*(a.claim(n, 7.0, later) for n in names)))
        await a.stop()
    asyncio.run(go())


def test_members_see_each_other_and_split_the_devices(nats_url: str) -> None:
    async def go() -> None:
        c = cfg(member_ttl_s=30.0)  # a leave must be seen at once, never by the TTL
        ms = [ShardMember(c, [nats_url], n) for n in ("p1", "p2", "p3")]
        for m in ms:
            await m.start(DEVICES)
        await until(lambda: all(m.members == ("p1", "p2", "p3") for m in ms), 10, "3 members")
        parts = [m.assigned for m in ms]
        assert parts == [frozenset(rendezvous.owned_by(m.id, DEVICES, ("p1", "p2", "p3"))) for m in ms]
        assert sum(map(len, parts)) == len(DEVICES) and frozenset().union(*parts) == set(DEVICES)
        gone = ms[2].assigned
        await ms[2].stop()  # a clean leave purges its key
        await until(lambda: all(m.members == ("p1", "p2") for m in ms[:2]), 10, "the leave seen")
        assert ms[0].assigned | ms[1].assigned == set(DEVICES)
        assert sum(m.counters.get("takeovers") for m in ms[:2]) == len(gone)
        for m in ms[:2]:
            assert m.counters.get("assigned_devices") == len(m.assigned)
            assert m.counters.get("members") == 2
            await m.stop()
    asyncio.run(go())


def test_a_crashed_member_expires_by_the_ttl_and_its_devices_are_taken_over(nats_url: str) -> None:
    async def go() -> None:
        c = cfg()
        a, b = ShardMember(c, [nats_url], "a"), ShardMember(c, [nats_url], "b")
        await a.start(DEVICES)
        await b.start(DEVICES)
        await until(lambda: a.members == b.members == ("a", "b"), 10, "2 members")
        b_had = b.assigned
        assert b_had
        await b.stop(leave=False)  # a crash: no leave, the heartbeat just stops
        await until(lambda: a.members == ("a",), 10, "b expired")
        assert a.assigned == set(DEVICES)
        assert a.counters.get("takeovers") == len(b_had)
        assert a.counters.get("membership_changes") >= 1
        await a.stop()
    asyncio.run(go())


def test_two_pollers_with_one_id_are_told(nats_url: str, caplog: pytest.LogCaptureFixture) -> None:
    async def go() -> None:
        c = cfg()
        a, b = ShardMember(c, [nats_url], "dx-poller"), ShardMember(c, [nats_url], "dx-poller")
        b.started = a.started + 1  # another process (same host and pid here, a test)
        with caplog.at_level(logging.ERROR, "nocsoc.shard.member"):
            for _ in range(2):
                await a.beat()
                await b.beat()
        assert a.counters.get("id_conflicts") + b.counters.get("id_conflicts") >= 2
        assert "poller id 'dx-poller' is used by another poller too" in caplog.text
        solo = ShardMember(c, [nats_url], "solo")
        for _ in range(3):  # its own heartbeats are no conflict
            await solo.beat()
        assert solo.counters.get("id_conflicts") == 0 and solo.counters.get("heartbeats") == 3
        for m in (a, b, solo):
            await m.stop()
    asyncio.run(go())


def test_a_lease_that_is_not_ours_is_said_and_taken_over(
        nats_url: str, caplog: pytest.LogCaptureFixture) -> None:
    async def go() -> None:
        a = ShardMember(cfg(), [nats_url], "a")
        await a.beat()
        assert a._leases_kv is not None
        await a._leases_kv.put("n.odd", b"\x00garbage\n")
        with caplog.at_level(logging.WARNING, "nocsoc.shard.member"):
            assert await a.claim("odd", 5.0, time.time() + 5)
        assert "lease n.odd holds b'\\x00garbage\\n', not a nocsoc lease: taken over" in caplog.text
        await a.stop()
    asyncio.run(go())


def test_an_unreachable_bus_means_owning_and_polling_nothing() -> None:
    async def go() -> None:
        m = ShardMember(cfg(request_timeout_s=0.3), [f"nats://127.0.0.1:{free_port()}"], "lonely")
        await m.start(DEVICES)  # does not raise: keeps trying in the background
        await until(lambda: m.counters.get("heartbeat_failures") >= 2, 10, "failed heartbeats")
        assert m.assigned == frozenset() and m.members == ()
        assert not await m.claim("hcm-sw1", 1.0, until=time.time() + 0.5)
        assert m.counters.get("lease_errors") == 1
        await m.stop()
    asyncio.run(go())


def test_an_existing_bucket_is_used_with_its_own_ttl_and_said(
        nats_url: str, caplog: pytest.LogCaptureFixture) -> None:
    async def go() -> None:
        c = cfg()
        a = ShardMember(c, [nats_url], "a")
        await a.beat()
        await a.stop()
        b = ShardMember(c.model_copy(update={"member_ttl_s": 9.0}), [nats_url], "b")
        with caplog.at_level(logging.WARNING, "nocsoc.shard.member"):
            await b.beat()
        assert b.members == ("b",)
        assert f"bucket {c.members_bucket} exists with a TTL of 1.2s, not the configured 9s" in caplog.text
        await b.stop()
    asyncio.run(go())


def test_replicated_buckets_on_a_cluster(tmp_path: Path) -> None:
    with NatsCluster(tmp_path) as cluster:
        async def go() -> None:
            c = cfg(replicas=3)
            a, b = ShardMember(c, cluster.urls, "a"), ShardMember(c, cluster.urls[::-1], "b")
            await a.beat()
            await b.beat()
            await a.beat()
            assert a.members == b.members == ("a", "b")
            info = await a._js.stream_info(f"KV_{c.leases_bucket}")
            assert info.config.num_replicas == 3
            assert await a.claim("x", 1.0, time.time() + 5) and not await b.claim("x", 1.0, time.time() + 5)
            await a.stop()
            await b.stop()
        asyncio.run(go())


def test_config() -> None:
    with pytest.raises(ValidationError, match=r"member_ttl_s \(6\) must be at least twice heartbeat_s"):
        ShardConfig(heartbeat_s=5, member_ttl_s=6)
    assert ShardConfig().servers(None) == []
    assert ShardConfig().servers("nats://a:4222, nats://b:4222") == ["nats://a:4222", "nats://b:4222"]
    assert ShardConfig(url="nats://c:1").servers("nats://a:4222") == ["nats://c:1"]
    assert ShardConfig(enabled=False).servers("nats://a:4222") == []
    assert ShardConfig().servers("nats://a:4222,b:4222") == ["nats://a:4222", "b:4222"]
    with pytest.raises(ValueError, match=r"needs a NATS bus, and bus.url is kafka://"):
        ShardConfig().servers("kafka://k1:9092")
    assert ShardConfig(url="nats://n:4222").servers("kafka://k1:9092") == ["nats://n:4222"]
    assert ShardConfig(enabled=False).servers("kafka://k1:9092") == []


def _snmp_component(config: Config) -> Any:
    from nocsoc.service.registry import SERVICES, ServiceContext

    ctx = Context(config, None)
    return SERVICES["snmp"].build(ServiceContext(ctx, MemorySink(), Inventory()))


def test_the_service_shards_only_with_a_bus() -> None:
    assert _snmp_component(Config()).shard is None  # single machine: unchanged
    sharded = _snmp_component(Config.model_validate({"snmp": {"shard": {"url": "nats://127.0.0.1:1"}}}))
    assert sharded.shard is not None and sharded.shard.servers == ["nats://127.0.0.1:1"]
    assert [c.measurement.name for c in sharded.counter_sets()] == ["snmp_poller", "snmp_shard"]


def test_the_national_inventory_across_four_pollers(nats_url: str) -> None:
    """34 provinces x 50 devices, 4 pollers: each cycle every device is leased exactly once, by
    its owner; with every poller claiming every device (views as far apart as can be) still
    once; a crashed poller's quarter is covered by the other three from the next cycle. (One
    process plays the 4 pollers: their claims share one event loop, so each keeps at most 64 in
    flight, as a poller's max_concurrency does, lest the burst starve the heartbeats.)"""
    national = [f"p{p:02d}-dev{d:02d}" for p in range(34) for d in range(50)]

    async def cycle(ms: list[ShardMember], slot: float, everyone: bool = False) -> dict[str, list[str]]:
        later = time.time() + 60
        gates = {m.id: asyncio.Semaphore(64) for m in ms}

        async def claim(m: ShardMember, d: str) -> bool:
            async with gates[m.id]:
                return await m.claim(d, slot, later)
        todo = [(m, d) for m in ms for d in (national if everyone else sorted(m.assigned))]
        won = await asyncio.gather(*(claim(m, d) for m, d in todo))
        out: dict[str, list[str]] = {d: [] for d in national}
        for (m, d), w in zip(todo, won, strict=True):
            if w:
                out[d].append(m.id)
        return out

    async def go() -> None:
        c = cfg(heartbeat_s=0.5, member_ttl_s=4.0, request_timeout_s=2.0)
        ids = ["p0", "p1", "p2", "p3"]
        ms = [ShardMember(c, [nats_url], i) for i in ids]
        try:
            await four(ms, ids)
        finally:
            for m in ms:
                await m.stop()

    async def four(ms: list[ShardMember], ids: list[str]) -> None:
        for m in ms:
            await m.start(national)
        await until(lambda: all(m.members == tuple(ids) for m in ms), 15, "4 members")
        owners = rendezvous.assign(national, ids)
        assert await cycle(ms, 60.0) == {d: [owners[d]] for d in national}
        once = await cycle(ms, 120.0, everyone=True)
        assert all(len(w) == 1 for w in once.values())
        dead = ms.pop()
        dead_had = {d for d in national if owners[d] == "p3"}
        taken0 = sum(m.counters.get("takeovers") for m in ms)
        await dead.stop(leave=False)
        try:
            await until(lambda: all(m.members == tuple(ids[:3]) for m in ms), 30, "p3 expired")
        except AssertionError as exc:
            raise AssertionError(f"{exc}: views {[m.members for m in ms]}, "
                                 f"counters {[m.counters.snapshot() for m in ms]}") from None
        owners3 = rendezvous.assign(national, ids[:3])
        assert await cycle(ms, 180.0) == {d: [owners3[d]] for d in national}
        assert sum(m.counters.get("takeovers") for m in ms) - taken0 == len(dead_had)
        assert {d for d in national if owners[d] != owners3[d]} == dead_had  # only p3's moved
    asyncio.run(go())
