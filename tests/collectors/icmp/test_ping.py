"""ICMP reachability with real echo requests, only inside 127.0.0.0/8: loopback answers every
127.x address; the unreachable cases live in network namespaces these tests create (a /32 routed
out of a veth where nothing answers: a real timeout; a blackhole route: sending fails)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from nocsoc.collectors.icmp.config import IcmpConfig
from nocsoc.collectors.icmp.prober import IcmpProber, ping_devices
from nocsoc.collectors.icmp.sockets import IcmpPermissionError, choose_mode, group_range_allows
from nocsoc.inventory.model import Inventory
from nocsoc.schema import ICMP_PROBE, PING
from nocsoc.sinks.memory import MemorySink
from nocsoc.sinks.sqlite import SqliteReader
from tests.servers.base import wait_until

ROOT = Path(__file__).resolve().parents[3]
SILENT, BLACKHOLE = "127.66.0.11", "127.66.0.9"
FAST = IcmpConfig(count=3, packet_interval_s=0.02, timeout_s=0.5, interval_s=0.3)


def inventory(addresses: dict[str, str]) -> Inventory:
    return Inventory.model_validate({
        "version": 1,
        "sites": [{"id": "dc1", "name": "DC 1"}, {"id": "dist", "name": "District"}],
        "snmp_profiles": [{"name": "v2", "version": "2c", "community": "env:NOCSOC_UNUSED"}],
        "devices": [{"name": n, "address": a, "role": "access", "site": "dc1" if i % 2 == 0 else "dist",
                     "profile": "v2"} for i, (n, a) in enumerate(addresses.items())],
    })


def test_loopback_addresses_answer_with_rtts() -> None:
    inv = inventory({"core-01": "127.0.0.1", "sw-02": "127.0.0.3"})
    mode = choose_mode("auto")
    assert mode == ("datagram" if group_range_allows() else "raw")
    results = ping_devices(inv.devices, FAST, mode)
    assert [(r.device, r.address, r.sent, r.received, r.loss_pct, r.reachable, r.error) for r in results] == [
        ("core-01", "127.0.0.1", 3, 3, 0.0, True, ""), ("sw-02", "127.0.0.3", 3, 3, 0.0, True, "")]
    for r in results:
        assert r.rtt_min_ms is not None and r.rtt_avg_ms is not None and r.rtt_max_ms is not None
        assert 0 < r.rtt_min_ms <= r.rtt_avg_ms <= r.rtt_max_ms < FAST.timeout_s * 1000
        p = r.point(1)
        assert p.measurement == PING.name and p.tags == {"device": r.device, "site": r.site, "role": "access"}
        assert (p.fields["reachable"], p.fields["sent"], p.fields["received"]) == (1, 3, 3)


def test_choose_mode_explains_what_is_missing() -> None:
    assert choose_mode("auto", datagram_ok=True, raw_ok=False) == "datagram"
    assert choose_mode("auto", datagram_ok=False, raw_ok=True) == "raw"
    assert choose_mode(True, datagram_ok=True, raw_ok=True) == "raw"
    with pytest.raises(IcmpPermissionError, match=r"ping_group_range.*CAP_NET_RAW"):
        choose_mode("auto", datagram_ok=False, raw_ok=False)
    with pytest.raises(IcmpPermissionError, match="ping_group_range"):
        choose_mode(False, datagram_ok=False, raw_ok=True)
    with pytest.raises(IcmpPermissionError, match="CAP_NET_RAW"):
        choose_mode(True, datagram_ok=True, raw_ok=False)


def test_the_service_pings_every_device_each_interval() -> None:
    sink = MemorySink()
    prober = IcmpProber(FAST, inventory({"core-01": "127.0.0.1", "sw-02": "127.0.0.4"}), sink)
    prober.start()
    try:
        wait_until(lambda: prober.counters.get("rounds") >= 2, timeout=20, what="two probe rounds")
    finally:
        prober.stop()
    rounds = prober.counters.get("rounds")
    points = sink.of(PING.name)
    assert len(points) == 2 * rounds
    assert {p.tags["device"] for p in points} == {"core-01", "sw-02"}
    assert all(p.fields["received"] == 3 for p in points)
    [counters] = prober.counter_sets()
    self_point = counters.point()
    assert self_point.measurement == ICMP_PROBE.name
    assert (self_point.fields["probes"], self_point.fields["reachable"]) == (2 * rounds, 2 * rounds)


# --- inside network namespaces -------------------------------------------------------------------

def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


@pytest.fixture
def netns() -> Iterator[str]:
    """A namespace with lo up, SILENT routed out of a veth where nothing answers, and BLACKHOLE
    a blackhole route (both more specific than the local 127.0.0.0/8 route)."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("network namespaces need root and iproute2")
    name = f"nocsoc-icmp-{uuid.uuid4().hex[:8]}"
    _ip("netns", "add", name)
    try:
        for cmd in (["link", "set", "lo", "up"], ["link", "add", "v0", "type", "veth", "peer", "name", "v1"],
                    ["link", "set", "v0", "up"], ["link", "set", "v1", "up"],
                    ["route", "add", "unicast", f"{SILENT}/32", "dev", "v0", "table", "local"],
                    ["route", "add", "blackhole", f"{BLACKHOLE}/32", "table", "local"]):
            _ip("netns", "exec", name, "ip", *cmd)
        _ip("netns", "exec", name, "sysctl", "-qw", "net.ipv4.conf.v0.route_localnet=1")
        yield name
    finally:
        _ip("netns", "del", name)


def _install(tmp_path: Path) -> Path:
    (tmp_path / "inventory.yaml").write_text(yaml.safe_dump({
        "version": 1, "sites": [{"id": "dc1", "name": "DC 1"}],
        "snmp_profiles": [{"name": "v2", "version": "2c", "community": "env:NOCSOC_UNUSED"}],
        "devices": [{"name": n, "address": a, "role": "core", "site": "dc1", "profile": "v2"}
                    for n, a in (("core-01", "127.0.0.1"), ("silent-01", SILENT), ("gone-01", BLACKHOLE))],
    }))
    cfg = tmp_path / "nocsoc.yaml"
    cfg.write_text(yaml.safe_dump({"sinks": [{"type": "sqlite", "path": "./var/nocsoc.db"}],
                                   "icmp": {"count": 2, "packet_interval_s": 0.02, "timeout_s": 0.5}}))
    return cfg


def _ping_in(netns: str, cfg: Path, group_range: str) -> tuple[int, dict[str, object]]:
    subprocess.run(["ip", "netns", "exec", netns, "sysctl", "-qw",
                    f"net.ipv4.ping_group_range={group_range}"], check=True, timeout=30)
    proc = subprocess.run(["ip", "netns", "exec", netns, sys.executable, "-m", "nocsoc", "-c",
                           str(cfg), "ping", "--once", "--json"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT)
    return proc.returncode, json.loads(proc.stdout) if proc.stdout.strip() else {"stderr": proc.stderr}


@pytest.mark.parametrize(("group_range", "mode"), [("1 0", "raw"), ("0 2147483647", "datagram")])
def test_cli_in_a_namespace_reports_answers_timeouts_and_unroutable(
        netns: str, tmp_path: Path, group_range: str, mode: str) -> None:
    code, out = _ping_in(netns, _install(tmp_path), group_range)
    assert out.get("mode") == mode, out
    rows = {r["device"]: r for r in out["results"]}  # type: ignore[attr-defined]
    got = {d: (r["sent"], r["received"], r["loss_pct"], r["reachable"]) for d, r in rows.items()}
    assert got == {"core-01": (2, 2, 0.0, True), "silent-01": (2, 0, 100.0, False),
                   "gone-01": (0, 0, 100.0, False)}
    assert rows["gone-01"]["error"] == "no echo request could be sent (no route to the address?)"
    assert [rows["silent-01"][k] for k in ("rtt_min_ms", "rtt_avg_ms", "rtt_max_ms")] == [None] * 3
    assert code == 1  # some device did not answer
    stored = SqliteReader(tmp_path / "var" / "nocsoc.db").query(PING.name, ["reachable", "received"])
    assert {r.tags["device"]: (r.fields["reachable"], r.fields["received"]) for r in stored} == {
        "core-01": (1, 2), "silent-01": (0, 0), "gone-01": (0, 0)}
