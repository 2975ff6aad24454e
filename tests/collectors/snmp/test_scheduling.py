"""The poller as a service: each device on its own grid; a device that never answers overruns
its deadline, is reported, and neither delays the others nor piles up its own cycles."""

from __future__ import annotations

import itertools
import socket
import threading
from collections.abc import Iterator

import pytest

from nocsoc.collectors.snmp.config import SnmpConfig
from nocsoc.collectors.snmp.poller import PollResult, SnmpPoller
from nocsoc.inventory.model import Inventory
from nocsoc.sinks.memory import MemorySink
from tests.collectors.snmp.conftest import inventory_data
from tests.collectors.snmp.snmprec import EDGE_RATE
from tests.servers.base import wait_until
from tests.servers.snmp import SnmpSim, free_udp_port, loopback_net

pytestmark = pytest.mark.servers
INTERVAL = 2.0  # roomy: the 2-core CI machine is shared with other test processes


@pytest.fixture
def black_hole() -> Iterator[tuple[str, int]]:
    """A UDP socket that receives SNMP requests and never answers."""
    host = f"{loopback_net()}.1"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, free_udp_port(host)))
        yield host, s.getsockname()[1]


def starts(results: list[PollResult], device: str) -> list[float]:
    return [r.started for r in results if r.device == device]


def _with_silent_device(snmpsim: SnmpSim, black_hole: tuple[str, int]) -> dict:
    data = inventory_data(snmpsim)
    data["devices"] = [d for d in data["devices"] if d["name"] in ("core1", "ups1")]
    data["links"] = []
    # Retries that take 4 s, longer than the 2 s interval (unless fitted to the deadline).
    data["snmp_profiles"].append(
        {"name": "slow", "community": "env:NOCSOC_TEST_COMMUNITY", "timeout_s": 1.0, "retries": 3}
    )
    data["devices"].append(
        {
            "name": "silent",
            "address": black_hole[0],
            "snmp_port": black_hole[1],
            "profile": "slow",
            "role": "access",
            "site": "binhlong",
        }
    )
    return data


def _run(data: dict, config: SnmpConfig, sink: MemorySink) -> tuple[SnmpPoller, list[PollResult]]:
    """Four cycles of every device on its own grid, the others never held up by `silent`."""
    results: list[PollResult] = []
    lock = threading.Lock()

    def record(r: PollResult) -> None:
        with lock:
            results.append(r)

    poller = SnmpPoller(config, Inventory.model_validate(data), sink, on_result=record)
    poller.start()
    try:
        wait_until(
            lambda: len(starts(results, "silent")) >= 4 and len(starts(results, "core1")) >= 4,
            timeout=30,
            what="four cycles of every device",
        )
    finally:
        poller.stop()
    with lock:
        done = list(results)
    for device in ("core1", "ups1", "silent"):
        s = starts(done, device)
        gaps = [b - a for a, b in itertools.pairwise(s)]
        # On the device's own grid: every cycle starts one interval after the previous one.
        assert all(abs(g - INTERVAL) < 0.25 for g in gaps), (device, gaps)
    # The silent device never held the others up: they answered every cycle (the first, cold
    # one on a loaded machine excepted) well inside their deadline.
    for device in ("core1", "ups1"):
        later = [r for r in done if r.device == device][1:]
        assert later and all(r.ok and r.duration_s < INTERVAL * 0.9 for r in later), later
    return poller, done


def test_dead_device_overruns_without_delaying_others(
    snmpsim: SnmpSim, snmp_secrets: None, black_hole: tuple[str, int]
) -> None:
    """With the profile's own timeouts kept, only the deadline ends the silent device's cycle."""
    sink = MemorySink()
    config = SnmpConfig(interval_s=INTERVAL, spread_start=False, fit_timeouts=False)
    poller, done = _run(_with_silent_device(snmpsim, black_hole), config, sink)
    silent = [r for r in done if r.device == "silent"]
    assert all(not r.ok and r.error_kind == "overrun" for r in silent)
    assert "overran its deadline" in (silent[0].error or "")
    overruns = [p for p in sink.of("device_event") if p.tags["event"] == "poll_overrun"]
    assert len(overruns) == len(silent)
    last = [p for p in sink.of("snmp_poll") if p.tags["device"] == "silent"][-1]
    assert last.fields["overruns"] == len(silent) and last.fields["reachable"] == 0
    assert poller.counters.get("overruns") == len(silent)


def test_update_inventory_starts_and_stops_devices(snmpsim: SnmpSim, snmp_secrets: None) -> None:
    data = inventory_data(snmpsim)
    data["links"] = []
    all_devices = data["devices"]
    data["devices"] = [d for d in all_devices if d["name"] == "ups1"]
    results: list[PollResult] = []
    poller = SnmpPoller(
        SnmpConfig(interval_s=0.5, spread_start=False),
        Inventory.model_validate(data),
        MemorySink(),
        on_result=results.append,
    )
    poller.start()
    try:
        wait_until(lambda: any(r.device == "ups1" for r in results), timeout=30, what="ups1 polled")
        data["devices"] = [d for d in all_devices if d["name"] == "dist1"]
        poller.update_inventory(Inventory.model_validate(data))  # what SIGHUP does
        wait_until(lambda: sum(r.device == "dist1" for r in results) >= 2, timeout=30, what="dist1 polled")
        n_ups = sum(r.device == "ups1" for r in results)
        wait_until(lambda: sum(r.device == "dist1" for r in results) >= 4, timeout=30, what="dist1 again")
        assert sum(r.device == "ups1" for r in results) == n_ups  # removed: no more cycles
        assert poller.devices == ["dist1"]
    finally:
        poller.stop()


def test_counter32_wrapping_on_a_real_agent_gives_the_true_rate(snmpsim: SnmpSim, snmp_secrets: None) -> None:
    """edge1's 32-bit ifInOctets grows 500 MB/s and wraps every 8.6 s; polled every 2.5 s for 5
    cycles it wraps at least once, and every rate still equals the simulated one."""
    results: list[PollResult] = []
    sink = MemorySink()
    poller = SnmpPoller(
        SnmpConfig(interval_s=2.5, spread_start=False),
        Inventory.model_validate(inventory_data(snmpsim)),
        sink,
        devices=["edge1"],
        on_result=results.append,
    )
    poller.start()
    try:
        wait_until(lambda: len(results) >= 5, timeout=30, what="five cycles of edge1")
    finally:
        poller.stop()
    points = [p for p in sink.of("interface") if p.tags["device"] == "edge1"]
    octets = [int(p.fields["in_octets"]) for p in points]
    assert any(b < a for a, b in itertools.pairwise(octets)), octets  # it wrapped in between
    rates = [float(p.fields["in_bps"]) for p in points if "in_bps" in p.fields]
    assert len(rates) == len(points) - 1
    assert rates == pytest.approx([EDGE_RATE * 8] * len(rates), rel=0.01)


def test_dead_device_is_unreachable_within_its_cycle(
    snmpsim: SnmpSim, snmp_secrets: None, black_hole: tuple[str, int]
) -> None:
    """By default the timeout is fitted to the deadline: the silent device is reported down
    (reachable=0 and one `unreachable` event), which an overrun alone would not say."""
    sink = MemorySink()
    poller, done = _run(_with_silent_device(snmpsim, black_hole), SnmpConfig(interval_s=INTERVAL,
                                                                             spread_start=False), sink)
    silent = [r for r in done if r.device == "silent"]
    assert all(not r.ok and r.error_kind == "timeout" for r in silent)
    assert all(r.duration_s < INTERVAL * 0.9 for r in silent)
    assert "no answer to GET after 4 tries of 0.225s" in (silent[0].error or "")
    reach = [p.fields["reachable"] for p in sink.of("device") if p.tags["device"] == "silent"]
    assert reach and set(reach) == {0}
    down = [p for p in sink.of("device_event") if p.tags["device"] == "silent"]
    assert [p.tags["event"] for p in down] == ["unreachable"]
    assert poller.counters.get("overruns") == 0
