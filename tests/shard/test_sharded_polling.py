"""Two sharded SNMP pollers on one inventory of snmpsim devices, through a 3-node nats-server
JetStream cluster on loopback (issue #19 items 2 and 6).

Each poller is its own process (tests/shard/poller_proc.py) so that killing one is a real
SIGKILL: no clean leave, its heartbeat just stops. The ground truth is the pollers' sinks: one
snmp_poll point per device cycle, each cycle placed on the shared grid (nocsoc.shard.slots).
Checked: every device polled exactly once per cycle, by its rendezvous owner; a killed poller's
devices polled by the survivor from the very next cycle (none skipped, none twice); a killed
NATS node (the leader of the leases bucket) does not stop polling.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nats
import pytest

from nocsoc.shard import rendezvous, slots
from tests.collectors.snmp.conftest import SECRET_ENV, profiles
from tests.servers.base import wait_until
from tests.servers.nats import NatsCluster, nats_cluster  # noqa: F401  (fixture)
from tests.servers.snmp import SNMP_DATA, SnmpSim

ROOT = Path(__file__).resolve().parents[2]
# Poller kill: a dead poller is seen within member_ttl_s + heartbeat_s (2.5 s), under the 4 s
# (catchup_fraction x interval) in which a cycle it missed is still polled late.
INTERVAL = 8.0
SHARD = {"heartbeat_s": 0.5, "member_ttl_s": 2.0, "replicas": 3, "request_timeout_s": 1.0,
         "catchup_fraction": 0.5}
# NATS node kill: the buckets' stream leaders are re-elected in 4-9 s (raft election timeouts of
# nats-server 2.9), during which no heartbeat or lease write lands. A member TTL above that keeps
# the membership still, and a cycle may start up to 0.7 x 14 = 9.8 s late: none is lost.
NODE_INTERVAL = 14.0
NODE_SHARD = {**SHARD, "heartbeat_s": 1.0, "member_ttl_s": 12.0, "catchup_fraction": 0.7}
# small recordings: snmpsim shares the 2 cores with everything else
RECORDINGS = ["core2", "dist1", "edge1", "ups1"]
DEVICES = [f"dx-sw{i}" for i in range(1, 9)]
IDS = ("poller-a", "poller-b")
MAX_POLL_S = 1.5  # a poll of these small devices ends well within this after its slot


@pytest.fixture(scope="module")
def sim() -> Iterator[SnmpSim]:
    s = SnmpSim({d: SNMP_DATA / f"{RECORDINGS[i % len(RECORDINGS)]}.snmprec" for i, d in enumerate(DEVICES)})
    yield s
    s.stop()


def inventory(sim: SnmpSim) -> dict[str, Any]:
    return {
        "version": 1,
        "sites": [{"id": "dongxoai", "name": "Đồng Xoài"}],
        "snmp_profiles": profiles()[:1],
        "devices": [{"name": d, "address": sim.addresses[d], "snmp_port": sim.ports[d], "profile": "sim",
                     "role": "access", "site": "dongxoai"} for d in DEVICES],
    }


def slot_of(device: str, time_ns: int, interval: float) -> int:
    return slots.slot_id(slots.slot_start(time_ns / 1e9, interval, slots.offset(device, interval)))


class Pollers:
    """The poller processes of one test and what their sinks received."""

    def __init__(self, root: Path, sim: SnmpSim, url: str) -> None:
        self.root, self.sim, self.url = root, sim, url
        self.interval, self.shard = INTERVAL, SHARD
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, pid: str) -> None:
        spec = {"inventory": inventory(self.sim), "out": str(self.root / f"{pid}.jsonl"), "id": pid,
                "url": self.url, "interval_s": self.interval, "shard": self.shard}
        path = self.root / f"{pid}.json"
        path.write_text(json.dumps(spec))
        log = (self.root / f"{pid}.log").open("ab")
        self.procs[pid] = subprocess.Popen(
            [sys.executable, "-m", "tests.shard.poller_proc", str(path)], cwd=ROOT, stdout=log,
            stderr=subprocess.STDOUT, env={**os.environ, **SECRET_ENV, "PYTHONPATH": str(ROOT)})

    def counters(self, pid: str) -> dict[str, int]:
        """Stop one poller cleanly, when none of its polls is in flight, and read its shard
        counters."""
        wait_until(lambda: self.quiet(DEVICES), timeout=self.interval * 4, interval=0.02,
                   what="no poll in flight")
        proc = self.procs[pid]
        proc.terminate()
        proc.wait(20)
        data: dict[str, int] = json.loads((self.root / f"{pid}.jsonl.counters.json").read_text())
        return data

    def kill(self, pid: str) -> None:
        proc = self.procs[pid]
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)

    def logs(self) -> str:
        return "\n".join(f"--- {p}\n{(self.root / f'{p}.log').read_text(errors='replace')[-3000:]}"
                         for p in self.procs)

    def polls(self) -> list[dict[str, Any]]:
        out = []
        for pid in self.procs:
            path = self.root / f"{pid}.jsonl"
            if path.exists():
                out += [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]
        return out

    def cycles(self) -> dict[str, dict[int, list[str]]]:
        """{device: {cycle: [pollers that polled it]}}"""
        out: dict[str, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
        for p in self.polls():
            out[p["device"]][slot_of(p["device"], p["time_ns"], self.interval)].append(p["poller"])
        return out

    def view(self, pid: str) -> tuple[float, list[str]]:
        """(since when, members) of a poller's latest view of the membership."""
        path = self.root / f"{pid}.jsonl.members"
        lines = path.read_text().splitlines() if path.exists() else []
        last = json.loads(lines[-1]) if lines and lines[-1].endswith("}") else {"time": 0.0, "members": []}
        return float(last["time"]), list(last["members"])

    def quiet(self, devices: list[str]) -> bool:
        """True when none of `devices` is in the middle of a poll and each has been polled in
        its current cycle."""
        now = time.time()
        c = self.cycles()
        for d in devices:
            slot = slots.slot_start(now, self.interval, slots.offset(d, self.interval))
            if not (MAX_POLL_S <= now - slot <= self.interval - 0.5) or slots.slot_id(slot) not in c[d]:
                return False
        return True

    def cycles_after(self, t: float) -> dict[str, int]:
        """How many cycles of each device that started after `t` were polled."""
        c = self.cycles()
        return {d: sum(1 for s in c.get(d, {}) if s / 1000 > t) for d in DEVICES}


def grid(first: int, last: int, interval: float = INTERVAL) -> list[int]:
    """Every cycle of a device from `first` to `last` (slot ids)."""
    return list(range(first, last + 1, round(interval * 1000)))


@pytest.fixture
def pollers(tmp_path: Path, sim: SnmpSim, nats_cluster: NatsCluster) -> Iterator[Pollers]:  # noqa: F811
    p = Pollers(tmp_path, sim, nats_cluster.url)
    yield p
    p.stop()


def await_steady(p: Pollers) -> float:
    """Start both pollers; wait until both see both, then until every device was polled in 2
    whole cycles after that. Returns when both saw both."""
    for pid in IDS:
        p.start(pid)
    try:
        wait_until(lambda: all(p.view(pid)[1] == list(IDS) for pid in IDS), timeout=60, interval=0.1,
                   what="both pollers seeing both")
        t0 = max(p.view(pid)[0] for pid in IDS)
        wait_until(lambda: min(p.cycles_after(t0).values()) >= 2, timeout=p.interval * 5, interval=0.2,
                   what="every device polled in 2 cycles")
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n{p.logs()}") from None
    return t0


def assert_once_per_cycle(p: Pollers) -> None:
    twice = {(d, s): who for d, cs in p.cycles().items() for s, who in cs.items() if len(who) > 1}
    assert twice == {}, f"device cycles polled more than once: {twice}"


def test_two_pollers_split_the_inventory_and_take_over_a_killed_one(pollers: Pollers) -> None:
    owners = rendezvous.assign(DEVICES, IDS)
    a_devices = sorted(d for d in DEVICES if owners[d] == "poller-a")
    assert 2 <= len(a_devices) <= 6  # the split the test relies on (pinned by the names)
    t0 = await_steady(pollers)

    # steady state: each device by its owner, once per cycle
    for d, cs in pollers.cycles().items():
        for s, who in cs.items():
            if s / 1000 > t0:
                assert who == [owners[d]], (d, s, who, pollers.logs())
    assert_once_per_cycle(pollers)

    # Kill poller-a at a moment when none of its devices is in the middle of a poll (a poller
    # that dies after leasing a cycle, before writing it, loses that one cycle by design: a
    # lease is never taken twice) and each has been polled in its current cycle; and when one
    # of them has its next cycle due within 1 s, before poller-b can see poller-a dead (its key
    # lives 2 s after its last heartbeat, 0.5 s apart): that cycle is then polled late, a catch-up.
    def due_soon() -> bool:
        now = time.time()
        return any(slots.slot_start(now, INTERVAL, slots.offset(d, INTERVAL)) + INTERVAL - now <= 1.0
                   for d in a_devices)
    wait_until(lambda: pollers.quiet(a_devices) and due_soon(), timeout=INTERVAL * 4, interval=0.02,
               what="no poll of poller-a in flight, one of its cycles due soon")
    t_kill = time.time()
    pollers.kill("poller-a")
    last_a = {d: max(s for s, who in pollers.cycles()[d].items() if "poller-a" in who) for d in a_devices}

    try:
        wait_until(lambda: min(pollers.cycles_after(t_kill + INTERVAL).values()) >= 2,
                   timeout=INTERVAL * 6, interval=0.2, what="every device polled 2 cycles after the kill")
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n{pollers.logs()}") from None
    assert_once_per_cycle(pollers)
    c = pollers.cycles()
    for d in a_devices:
        after = sorted(s for s in c[d] if s > last_a[d])
        # the very next cycle and every one after it, by poller-b: none skipped
        assert after == grid(last_a[d], after[-1])[1:], (d, last_a[d], after)
        assert all(c[d][s] == ["poller-b"] for s in after)
    for d in set(DEVICES) - set(a_devices):  # poller-b's own devices never missed a cycle
        seen = sorted(s for s in c[d] if s / 1000 > t0)
        assert seen == grid(seen[0], seen[-1]), (d, seen)
    # A device whose first cycle after the kill began before poller-b saw poller-a gone was
    # polled late, as a catch-up; one that began after, on time. (The view is logged within
    # 50 ms of the change: a cycle closer than 0.2 s to it could be either.)
    t_gone = pollers.view("poller-b")[0]
    firsts = [min(s for s in c[d] if s > last_a[d]) / 1000 for d in a_devices]
    surely = sum(1 for f in firsts if f < t_gone - 0.2)
    maybe = sum(1 for f in firsts if abs(f - t_gone) <= 0.2)
    counted = pollers.counters("poller-b")
    assert 1 <= surely <= counted["catchup_polls"] <= surely + maybe, (firsts, t_gone, counted)
    assert counted["takeovers"] == len(a_devices)
    assert counted["assigned_devices"] == len(DEVICES) and counted["members"] == 1
    c = pollers.cycles()
    polled_b = sum(1 for cs in c.values() for who in cs.values() if who == ["poller-b"])
    assert counted["leases_won"] == polled_b  # every lease won was polled, and written


def _leases_leader(url: str) -> str:
    async def ask() -> str:
        nc = await nats.connect(servers=url.split(","))
        try:
            info = await nc.jetstream().stream_info("KV_nocsoc_snmp_leases")
            assert info.cluster is not None and info.cluster.leader
            return str(info.cluster.leader)
        finally:
            await nc.close()
    return asyncio.run(ask())


def test_polling_continues_when_the_leases_leader_node_dies(
        pollers: Pollers, nats_cluster: NatsCluster) -> None:  # noqa: F811
    pollers.interval, pollers.shard = NODE_INTERVAL, NODE_SHARD
    t0 = await_steady(pollers)
    leader = _leases_leader(nats_cluster.url)
    index = [n.name for n in nats_cluster.nodes].index(leader)
    t_kill = time.time()
    nats_cluster.kill(index)
    try:
        wait_until(lambda: min(pollers.cycles_after(t_kill + NODE_INTERVAL).values()) >= 2,
                   timeout=NODE_INTERVAL * 6, interval=0.2,
                   what="every device polled 2 cycles after the node kill")
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n{pollers.logs()}\n{nats_cluster.logs()}") from None
    assert_once_per_cycle(pollers)
    owners = rendezvous.assign(DEVICES, IDS)
    c = pollers.cycles()
    for d in DEVICES:
        seen = sorted(s for s in c[d] if s / 1000 > t0)
        assert seen == grid(seen[0], seen[-1], NODE_INTERVAL), (
            f"{d}: a cycle was missed across the node kill at {t_kill:.3f}: {seen}\n{pollers.logs()}")
        assert all(c[d][s] == [owners[d]] for s in seen)
    # the fault hit the leases: their stream has a new leader
    assert _leases_leader(nats_cluster.url) != leader
    # and the membership is whole again (read from poller-a, stopped first: its leave would
    # shrink poller-b's view)
    assert pollers.counters("poller-a")["members"] == 2


def test_a_reload_under_sharding_polls_the_new_devices(sim: SnmpSim, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """In one process: a poller alone on the bus, its inventory grown by a reload (SIGHUP)."""
    from nocsoc.collectors.snmp.config import SnmpConfig
    from nocsoc.collectors.snmp.poller import SnmpPoller
    from nocsoc.inventory.model import Inventory
    from nocsoc.shard.member import ShardMember
    from nocsoc.sinks.memory import MemorySink
    from tests.servers.nats import NatsSingle

    interval = 3.0
    full = inventory(sim)
    small = {**full, "devices": full["devices"][:2]}
    sink = MemorySink()
    for k, v in SECRET_ENV.items():
        monkeypatch.setenv(k, v)
    with NatsSingle(tmp_path / "nats") as server:
        config = SnmpConfig(interval_s=interval, shard={**SHARD, "replicas": 1})
        member = ShardMember(config.shard, [server.url], "solo")
        poller = SnmpPoller(config, Inventory.model_validate(small), sink, shard=member)

        def polled() -> dict[str, list[int]]:
            out: dict[str, list[int]] = defaultdict(list)
            for p in sink.of("snmp_poll"):
                out[p.tags["device"]].append(slot_of(p.tags["device"], p.time_ns, interval))
            return out
        poller.start()
        try:
            wait_until(lambda: len(polled()) == 2, timeout=interval * 4, what="the first 2 devices polled")
            poller.update_inventory(Inventory.model_validate(full))
            t_reload = time.time()
            wait_until(lambda: all(any(s / 1000 > t_reload for s in polled().get(d, [])) for d in DEVICES),
                       timeout=interval * 4, interval=0.1, what="every device polled after the reload")
            assert member.assigned == set(DEVICES)
            assert member.counters.get("takeovers") == 0  # a reload is no takeover
        finally:
            poller.stop()
    for d, cycles in polled().items():
        assert len(cycles) == len(set(cycles)), (d, cycles)  # never twice in a cycle
