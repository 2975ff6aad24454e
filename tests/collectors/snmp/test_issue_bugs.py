"""The SNMP bugs found on real devices, each pinned on a real recording or a minimal table."""

from __future__ import annotations

from pathlib import Path

import pytest

from nocsoc.collectors.snmp import oids as O
from nocsoc.collectors.snmp.mibs import interfaces, sensors
from nocsoc.collectors.snmp.offline import poll_walk
from nocsoc.schema import Point
from tests.collectors.snmp import walkcheck

TAGS = {"device": "d", "site": "s", "role": "core"}
E = sensors.CISCO_ENTITY_SENSOR


def _walk(stem: str) -> Path:
    path = walkcheck.walks_dir() / "snmprec" / f"{stem}.snmprec"
    if not path.exists():
        pytest.skip(f"{path} absent: the walks live in ../shared/snmp-walks (set NOCSOC_SHARED_DIR)")
    return path


def of(points: list[Point], measurement: str) -> list[Point]:
    return [p for p in points if p.measurement == measurement]


def test_1_unreadable_interface_row_is_skipped_and_counted_not_fatal() -> None:
    problems: list[tuple[str, str]] = []
    tables = {
        O.IF_NAME: {(1,): b"Gi0/1", (2,): b"Gi0/2"},  # ifXTable rows...
        O.IF_OPER_STATUS: {(1,): 1},  # ...but only row 1 in ifTable
    }
    points, _ = interfaces.build(
        TAGS, tables, {}, interfaces.InterfaceState(), 1, problem=lambda k, m: problems.append((k, m))
    )
    assert [p.tags["ifname"] for p in points] == ["Gi0/1"]
    assert [k for k, _ in problems] == ["bad_rows"] and "ifIndex 2" in problems[0][1]


def test_1_on_the_recording_with_ifdescr_only_the_device_answers() -> None:
    out = poll_walk(_walk("junos"))
    assert out.result.ok and out.poller.counters.get("bad_rows") == 141
    assert of(out.points, "device")[0].fields["reachable"] == 1


def test_2_alias_line_protocol_cannot_carry_keeps_its_point() -> None:
    """A trailing backslash or a newline in ifAlias (this recording has "DCI: to LAU-DC01\\n20 67 ...")
    is repaired and counted; the interface point is kept and every point encodes."""
    from nocsoc.lineproto import encode

    out = poll_walk(_walk("junos_vmx"))
    assert out.poller.counters.get("unsafe_values") == 1
    aliases = [p.tags.get("ifalias", "") for p in of(out.points, "interface")]
    assert [a for a in aliases if a.startswith("DCI: to LAU-DC01 20 67")]
    for p in out.points:
        encode(p)
    edge = interfaces.build(
        TAGS,
        {O.IF_NAME: {(1,): b"Et1"}, O.IF_OPER_STATUS: {(1,): 1}, O.IF_ALIAS: {(1,): b"uplink to core\\"}},
        {},
        interfaces.InterfaceState(),
        1,
    )[0]
    from nocsoc.collectors.snmp.safety import safe_points

    (fixed,), repaired = safe_points(edge)
    assert repaired == 1 and fixed.tags["ifalias"] == "uplink to core"
    encode(fixed)


def test_3_sensor_names_from_entphysicaldescr_and_watts_optics() -> None:
    out = poll_walk(_walk("arista_eos_vrf"))
    names = {p.tags["sensor"] for p in of(out.points, "sensor")}
    assert "Cpu temp sensor" in names and not any(n.startswith("sensor ") for n in names)
    optics = {p.tags["ifname"]: p.fields for p in of(out.points, "optics")}
    assert optics["Ethernet21"]["tx_dbm"] == pytest.approx(-6.556, abs=0.001)  # 0.000221 W
    assert optics["Ethernet21"]["bias_ma"] == pytest.approx(16.56)


def test_4_optics_typed_other_are_recognised_by_name_and_names_never_collide() -> None:
    names = {(10,): "subslot 0/0 transceiver 1", (20,): "subslot 0/0 transceiver 2"}
    parent: dict[tuple[int, ...], int] = {}
    tables: dict[str, dict[tuple[int, ...], int | bytes | str]] = {f"{E}.{c}": {} for c in (1, 2, 3, 4, 5)}
    for n, xcvr in ((11, 10), (12, 10), (13, 10), (21, 20), (22, 20), (23, 20)):
        parent[(n,)] = xcvr
    specs = {
        11: ("Transceiver Rx Power Sensor", 1, -23),
        12: ("Transceiver Tx Power Sensor", 1, -19),
        13: ("Transceiver Temperature Sensor", 8, 31),
        21: ("Transceiver Rx Power Sensor", 1, -41),
        22: ("Transceiver Tx Power Sensor", 1, -25),
        23: ("Transceiver Temperature Sensor", 8, 33),
    }
    for n, (name, kind, value) in specs.items():
        names[(n,)] = name
        tables[f"{E}.1"][(n,)] = kind  # other(1) for power, as IOS-XE says
        tables[f"{E}.2"][(n,)] = 9
        tables[f"{E}.3"][(n,)] = 1
        tables[f"{E}.4"][(n,)] = value
        tables[f"{E}.5"][(n,)] = 1
    ents = sensors.Entities(names=names, parent=parent)
    points = sensors.points(TAGS, tables, ents, {}, 1, base=E)
    optics = {p.tags["sensor"]: p.fields for p in points if p.measurement == "optics"}
    assert optics == {
        "subslot 0/0 transceiver 1": pytest.approx({"rx_dbm": -2.3, "tx_dbm": -1.9, "temperature_c": 3.1}),
        "subslot 0/0 transceiver 2": pytest.approx({"rx_dbm": -4.1, "tx_dbm": -2.5, "temperature_c": 3.3}),
    }


def test_5_memory_without_buffers_and_cache() -> None:
    out = poll_walk(_walk("arista_eos_vrf"))
    dev = of(out.points, "device")[0].fields
    # hrStorage RAM used 3174044 kB of 3956120, of which buffers 192108 and cache 2145960
    assert dev["mem_used_pct"] == pytest.approx((3174044 - 192108 - 2145960) / 3956120 * 100)


def test_6_junos_cpu_from_jnxoperatingtable() -> None:
    out = poll_walk(_walk("junos_vmx"))
    dev = of(out.points, "device")[0].fields
    assert dev["cpu_pct"] == pytest.approx((7 + 26) / 2)  # FPC 7 %, routing engine 26 %
    loads = {p.tags["processor"]: p.fields["load_pct"] for p in of(out.points, "processor")}
    assert {k: loads[k] for k in ("FPC: Virtual FPC @ 0/*/*", "Routing Engine 0")} == {
        "FPC: Virtual FPC @ 0/*/*": 7.0,
        "Routing Engine 0": 26.0,
    }


def test_7_duplicate_ifname_keeps_both_series() -> None:
    out = poll_walk(_walk("dnos_s4048"))
    names = [p.tags["ifname"] for p in of(out.points, "interface")]
    assert len(names) == len(set(names))
    assert "TenGigabitEthernet 1/33" in names and "TenGigabitEthernet 1/33 #2113540" in names
