"""The poller against real agents: snmpsim (generated routers, a UPS, a recorded Linux server)
and Debian's snmpd (v3 authPriv, this machine's interfaces), with a dead device in the mix.

One poll (two readings 5 s apart) feeds every assertion of the module. The gap matters: the
poller's reading times carry the event loop's queueing (a few ms to ~25 ms with every device
answering at once on 2 cores), which is +-1.3% of a 2 s gap but +-0.5% of 5 s (and ~0.04% of
a real 60 s interval).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nocsoc.collectors.snmp.config import SnmpConfig
from nocsoc.collectors.snmp.poller import PollResult, SnmpPoller
from nocsoc.schema import Point
from nocsoc.sinks.memory import MemorySink
from tests.collectors.snmp.conftest import inventory
from tests.collectors.snmp.snmprec import in_rate, out_rate
from tests.servers.snmp import Snmpd, SnmpSim, shipped_recording

pytestmark = pytest.mark.servers


@pytest.fixture(scope="module")
def polled(snmpsim: SnmpSim, snmpd: Snmpd, snmp_secrets: None) -> tuple[dict[str, PollResult], MemorySink]:
    sink = MemorySink()
    poller = SnmpPoller(SnmpConfig(), inventory(snmpsim, snmpd, dead=True), sink)
    results = poller.run_once(samples=2, gap_s=5.0)
    return {r.device: r for r in results}, sink


def points(sink: MemorySink, measurement: str, device: str) -> list[Point]:
    return [p for p in sink.of(measurement) if p.tags["device"] == device]


def test_interface_rates_equal_the_simulated_rates(polled: tuple[dict[str, PollResult], MemorySink]) -> None:
    results, sink = polled
    assert results["core1"].ok and results["core1"].interfaces == 48
    by_if = {p.tags["ifname"]: p for p in points(sink, "interface", "core1")}
    assert len(by_if) == 48
    for i in range(1, 48):
        f = by_if[f"Te0/0/{i}"].fields
        assert f["in_bps"] == pytest.approx(in_rate(i) * 8, rel=0.01), i
        assert f["out_bps"] == pytest.approx(out_rate(i) * 8, rel=0.01), i
        assert f["in_pps"] == pytest.approx(in_rate(i) // 1000, rel=0.01), i
        assert f["in_util_pct"] == pytest.approx(in_rate(i) * 8 / 10e9 * 100, rel=0.01)
        assert int(f["in_octets"]) > 2**32  # Counter64 decoded whole
        assert f["in_errors_ps"] == 0.0 and f["speed_mbps"] == 10000 and f["oper_status"] == 1
    assert by_if["Te0/0/48"].fields["oper_status"] == 2
    assert by_if["Te0/0/1"].tags["link"] == "core-ring-1"
    assert by_if["Te0/0/3"].tags["ifalias"] == "port 3 of dx-core-1"


def test_optics_and_sensors(polled: tuple[dict[str, PollResult], MemorySink]) -> None:
    _, sink = polled
    optics = {p.tags["ifname"]: p.fields for p in points(sink, "optics", "core1")}
    assert optics == {
        "Te0/0/1": {"rx_dbm": -5.33, "tx_dbm": -2.11, "temperature_c": 36.6},
        "Te0/0/2": {"rx_dbm": -5.43, "tx_dbm": -2.12, "temperature_c": 36.7},
    }
    (chassis,) = points(sink, "sensor", "core1")
    assert chassis.tags["sensor"] == "Chassis Inlet Temperature" and chassis.fields == {"value": 31.0}
    # core2 names its sensors "DOM Rx Power for transceiver 1": the port comes from ENTITY-MIB
    # (sensor -> transceiver -> port entity -> entAliasMapping -> ifIndex 1 -> ifName)
    (optic,) = points(sink, "optics", "core2")
    assert (optic.tags["ifname"], optic.tags["sensor"], optic.fields) == (
        "Te0/0/1", "Te0/0/1", {"rx_dbm": -5.33, "tx_dbm": -2.11, "temperature_c": 36.6})
    assert [p.tags["sensor"] for p in points(sink, "sensor", "core2")] == ["Chassis Inlet Temperature"]


def test_ups_fields(polled: tuple[dict[str, PollResult], MemorySink]) -> None:
    _, sink = polled
    (ups,) = points(sink, "ups", "ups1")
    assert ups.fields == {
        "battery_status": 2,
        "battery_charge_pct": 87.0,
        "runtime_min": 38.0,
        "seconds_on_battery": 420.0,
        "on_battery": 1,
        "output_load_pct": 41.0,
        "input_voltage": 0.0,
        "output_voltage": 230.0,
        "battery_temperature_c": 29.0,
    }
    assert not points(sink, "ups", "core1")  # no UPS-MIB there: skipped quietly


def _recording() -> dict[str, str]:
    out = {}
    for line in Path(shipped_recording()).read_text().splitlines():
        oid, _tag, value = line.split("|", 2)
        out[oid] = value
    return out


def test_recorded_linux_server_health_and_32_bit_counters(
    polled: tuple[dict[str, PollResult], MemorySink],
) -> None:
    _results, sink = polled
    rec = _recording()
    loads = [int(v) for k, v in rec.items() if k.startswith("1.3.6.1.2.1.25.3.3.1.2.")]
    total = int(rec["1.3.6.1.4.1.2021.4.5.0"])
    free = sum(int(rec[f"1.3.6.1.4.1.2021.4.{n}.0"]) for n in (6, 14, 15))
    (dev,) = points(sink, "device", "server")
    assert dev.fields["reachable"] == 1
    assert dev.fields["uptime_s"] == int(rec["1.3.6.1.2.1.1.3.0"]) / 100
    assert dev.fields["cpu_pct"] == sum(loads) / len(loads)
    assert dev.fields["mem_total_bytes"] == total * 1024
    assert dev.fields["mem_used_bytes"] == (total - free) * 1024
    assert dev.fields["load1"] == int(rec["1.3.6.1.4.1.2021.10.1.5.1"]) / 100
    sizes = [k for k, v in rec.items() if k.startswith("1.3.6.1.2.1.25.2.3.1.5.") and int(v) > 0]
    assert len(points(sink, "storage", "server")) == len(sizes)
    eth0 = next(p for p in points(sink, "interface", "server") if p.tags["ifname"] == "eth0")
    assert eth0.fields["in_octets"] == int(rec["1.3.6.1.2.1.31.1.1.1.6.2"])  # ifHCInOctets, > 2^32
    assert eth0.fields["in_bps"] == 0.0 and eth0.fields["speed_mbps"] == 100


def test_32_bit_counters_where_the_device_has_no_ifXTable(
    polled: tuple[dict[str, PollResult], MemorySink],
) -> None:
    _, sink = polled
    (eth0,) = points(sink, "interface", "ups1")
    assert eth0.tags["ifname"] == "eth0"  # ifDescr stands in for the missing ifName
    assert eth0.fields["in_octets"] == 123456 and eth0.fields["out_octets"] == 654321
    assert eth0.fields["in_bps"] == 0.0 and eth0.fields["speed_mbps"] == 100


def test_v3_authpriv_reads_the_real_interfaces(polled: tuple[dict[str, PollResult], MemorySink]) -> None:
    results, sink = polled
    real = sorted(os.listdir("/sys/class/net"))
    for name in ("local-v3", "local-v3-512", "local-v2c"):
        assert results[name].ok, results[name].error
        assert results[name].sys_name == os.uname().nodename
        assert sorted(p.tags["ifname"] for p in points(sink, "interface", name)) == real
    lo = next(p for p in points(sink, "interface", "local-v3") if p.tags["ifname"] == "lo")
    assert "in_bps" in lo.fields and float(lo.fields["in_bps"]) >= 0


def test_wrong_v3_password_is_a_clear_per_device_error(
    polled: tuple[dict[str, PollResult], MemorySink],
) -> None:
    results, sink = polled
    bad = results["local-wrong"]
    assert not bad.ok and bad.error_kind == "auth"
    assert "local-wrong" in bad.error and "profile v3-wrong" in bad.error  # type: ignore[operator]
    assert "not-the-password" not in bad.error  # type: ignore[operator]
    (dev,) = points(sink, "device", "local-wrong")
    assert dev.fields == {"reachable": 0}
    (ev,) = points(sink, "device_event", "local-wrong")
    assert ev.tags["event"] == "unreachable"


def test_dead_device_is_reported_and_the_others_are_polled(
    polled: tuple[dict[str, PollResult], MemorySink],
) -> None:
    results, sink = polled
    dead = results["dead"]
    assert not dead.ok and dead.error_kind == "timeout" and "no answer" in (dead.error or "")
    assert [r.device for r in results.values() if not r.ok] == ["local-wrong", "dead"]
    # snmp_poll self-metrics for every device, the dead one included.
    polls = {p.tags["device"]: p.fields for p in sink.of("snmp_poll")}
    assert polls["dead"]["reachable"] == 0 and polls["dead"]["errors"] == 1
    assert polls["core1"]["reachable"] == 1 and int(polls["core1"]["varbinds"]) > 48 * 19


STATIC_FIELDS = (
    "speed_mbps",
    "oper_status",
    "admin_status",
    "rx_dbm",
    "tx_dbm",
    "temperature_c",
    "battery_charge_pct",
    "runtime_min",
    "size_bytes",
    "value",
)


def static_view(sink: MemorySink, devices: set[str]) -> list[tuple[str, tuple[tuple[str, str], ...], dict]]:
    """Points minus what moves between two polls (rates, counters, uptime, used bytes)."""
    out = []
    for p in sink.points:
        if p.tags.get("device") in devices and p.measurement in ("interface", "optics", "sensor", "ups"):
            out.append(
                (
                    p.measurement,
                    tuple(sorted(p.tags.items())),
                    {k: v for k, v in p.fields.items() if k in STATIC_FIELDS},
                )
            )
    return sorted(out, key=repr)


def test_lean_v2c_client_reads_what_pysnmp_reads(snmpsim: SnmpSim, snmpd: Snmpd, snmp_secrets: None) -> None:
    """The hand-written v2c client and pysnmp, same agents (snmpsim, real snmpd), same answers."""
    devices = {"core1", "ups1", "server", "local-v2c"}
    inv = inventory(snmpsim, snmpd)
    views = []
    for client in ("lean", "pysnmp"):
        sink = MemorySink()
        results = SnmpPoller(SnmpConfig(v2c_client=client), inv, sink, devices=sorted(devices)).run_once()
        assert all(r.ok for r in results), [r.error for r in results]
        views.append(static_view(sink, devices))
    assert views[0] == views[1]
    assert len(views[0]) > 48 + 2
