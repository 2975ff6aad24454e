"""Generator of the simulated devices' .snmprec files (snmpsim's recording format).

The checked-in files in `data/` were written by `python -m tests.collectors.snmp.snmprec`; the
benchmark calls `router()` for its 48-port devices. Interface i's ifHCInOctets grows at
`in_rate(i)` octets/s through snmpsim's numeric variation (`rate=...,initial=...`, no
`cumulative`: then the value is initial + rate x seconds since the agent started, independent of
how often it is polled) - the ground truth the rate test compares against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(__file__).parent / "data"

IFX = "1.3.6.1.2.1.31.1.1.1"
IF = "1.3.6.1.2.1.2.2.1"
ENTS = "1.3.6.1.2.1.99.1.1.1"
LLDP_LOC = "1.0.8802.1.1.2.1.3.7.1"
LLDP_REM = "1.0.8802.1.1.2.1.4.1.1"


def in_rate(i: int) -> int:
    """Inbound octets per second of interface i (distinct per port, above 2^32 per hour)."""
    return 1_000_000 * i + 18_134_063


def out_rate(i: int) -> int:
    return 500_000 * i + 7_654_321


INITIAL_IN = 930_157_647_946  # above 2^32: exercises Counter64 decoding
INITIAL_OUT = 5_000_000_000


@dataclass
class Neighbour:
    local_port: int
    remote_name: str
    remote_port: str
    remote_mac: str


@dataclass
class Router:
    name: str
    descr: str
    object_id: str
    ports: int = 48
    prefix: str = "Te0/0/"
    down: tuple[int, ...] = ()
    optics_ports: tuple[int, ...] = ()
    # sensor names: "port" = "Te0/0/1 Rx Power" (Cisco), "dom" = "DOM Rx Power for transceiver 1"
    # (no port in the name: only ENTITY-MIB's containment and alias mapping tell the port)
    sensor_names: str = "port"
    neighbours: list[Neighbour] = field(default_factory=list)
    uptime_ticks: int = 123456789
    # lldpLocChassisId: the MAC table below by name where empty (the test backbone's devices)
    chassis_mac: str = ""


def _line(oid: str, tag: str, value: object) -> str:
    return f"{oid}|{tag}|{value}"


def router(r: Router) -> str:
    """Records of a router or switch: system, ifTable/ifXTable, optics sensors, LLDP."""
    rec: list[tuple[tuple[int, ...], str]] = []

    def add(oid: str, tag: str, value: object) -> None:
        rec.append((tuple(int(x) for x in oid.split(".")), _line(oid, tag, value)))

    add("1.3.6.1.2.1.1.1.0", "4", r.descr)
    add("1.3.6.1.2.1.1.2.0", "6", r.object_id)
    # sysUpTime runs like a real agent's clock (100 ticks/s): the poller dates counters by it.
    add("1.3.6.1.2.1.1.3.0", "67:numeric", f"rate=100,initial={r.uptime_ticks}")
    add("1.3.6.1.2.1.1.5.0", "4", r.name)
    add("1.3.6.1.2.1.2.1.0", "2", r.ports)
    for i in range(1, r.ports + 1):
        name = f"{r.prefix}{i}"
        oper = 2 if i in r.down else 1
        add(f"{IF}.1.{i}", "2", i)
        add(f"{IF}.2.{i}", "4", f"TenGigabitEthernet{name[2:]}")
        add(f"{IF}.3.{i}", "2", 6)
        add(f"{IF}.5.{i}", "66", 4294967295)
        add(f"{IF}.7.{i}", "2", 1)
        add(f"{IF}.8.{i}", "2", oper)
        add(f"{IF}.10.{i}", "65", 0)
        add(f"{IF}.13.{i}", "65", 3 * i)
        add(f"{IF}.14.{i}", "65", 7 * i)
        add(f"{IF}.16.{i}", "65", 0)
        add(f"{IF}.19.{i}", "65", 0)
        add(f"{IF}.20.{i}", "65", i)
        add(f"{IFX}.1.{i}", "4", name)
        add(f"{IFX}.6.{i}", "70:numeric", f"rate={in_rate(i)},initial={INITIAL_IN}")
        add(f"{IFX}.7.{i}", "70:numeric", f"rate={in_rate(i) // 1000},initial=1000000")
        add(f"{IFX}.8.{i}", "70", 0)
        add(f"{IFX}.9.{i}", "70", 0)
        add(f"{IFX}.10.{i}", "70:numeric", f"rate={out_rate(i)},initial={INITIAL_OUT}")
        add(f"{IFX}.11.{i}", "70:numeric", f"rate={out_rate(i) // 1000},initial=2000000")
        add(f"{IFX}.12.{i}", "70", 0)
        add(f"{IFX}.13.{i}", "70", 0)
        add(f"{IFX}.15.{i}", "66", 10000)
        add(f"{IFX}.18.{i}", "4", f"port {i} of {r.name}")
    # Optics: rx/tx power in dBm (type 14, units, precision 2) and the transceiver temperature,
    # contained in a transceiver, contained in a port entity that entAliasMapping ties to ifIndex.
    for n, port in enumerate(r.optics_ports):
        name = f"{r.prefix}{port}"
        port_entity, xcvr_entity = 100 + port, 200 + port
        add(f"1.3.6.1.2.1.47.1.1.1.1.4.{port_entity}", "2", 1)
        add(f"1.3.6.1.2.1.47.1.1.1.1.4.{xcvr_entity}", "2", port_entity)
        add(f"1.3.6.1.2.1.47.1.1.1.1.7.{port_entity}", "4", name)
        add(f"1.3.6.1.2.1.47.1.1.1.1.7.{xcvr_entity}", "4", f"transceiver {n + 1}")
        add(f"1.3.6.1.2.1.47.1.3.2.1.2.{port_entity}.0", "6", f"{IF}.1.{port}")
        for k, (label, kind, scale, precision, value) in enumerate(
            (
                ("Rx Power", 14, 9, 2, -523 - 10 * port),
                ("Tx Power", 14, 9, 2, -210 - port),
                ("Temperature", 8, 9, 1, 365 + port),
            )
        ):
            idx = 1000 + 10 * n + k
            add(f"1.3.6.1.2.1.47.1.1.1.1.4.{idx}", "2", xcvr_entity)
            dom_name = f"DOM {label} for transceiver {n + 1}"
            sensor_name = f"{name} {label}" if r.sensor_names == "port" else dom_name
            add(f"1.3.6.1.2.1.47.1.1.1.1.7.{idx}", "4", sensor_name)
            add(f"{ENTS}.1.{idx}", "2", kind)
            add(f"{ENTS}.2.{idx}", "2", scale)
            add(f"{ENTS}.3.{idx}", "2", precision)
            add(f"{ENTS}.4.{idx}", "2", value)
            add(f"{ENTS}.5.{idx}", "2", 1)
    if r.optics_ports:  # a chassis sensor, not an optic
        add("1.3.6.1.2.1.47.1.1.1.1.7.1", "4", "Chassis Inlet Temperature")
        add(f"{ENTS}.1.1", "2", 8)
        add(f"{ENTS}.2.1", "2", 9)
        add(f"{ENTS}.3.1", "2", 0)
        add(f"{ENTS}.4.1", "2", 31)
        add(f"{ENTS}.5.1", "2", 1)
    if r.neighbours:
        add("1.0.8802.1.1.2.1.3.1.0", "2", 4)  # lldpLocChassisIdSubtype: macAddress
        add("1.0.8802.1.1.2.1.3.2.0", "4x", (r.chassis_mac or MAC[r.name]).replace(":", ""))
        add("1.0.8802.1.1.2.1.3.3.0", "4", r.name)
        for i in range(1, r.ports + 1):
            add(f"{LLDP_LOC}.2.{i}", "2", 5)  # interfaceName
            add(f"{LLDP_LOC}.3.{i}", "4", f"{r.prefix}{i}")
            add(f"{LLDP_LOC}.4.{i}", "4", f"TenGigabitEthernet{r.prefix[2:]}{i}")
        for k, nb in enumerate(r.neighbours, start=1):
            rem = f"0.{nb.local_port}.{k}"
            add(f"{LLDP_REM}.4.{rem}", "2", 4)  # macAddress
            add(f"{LLDP_REM}.5.{rem}", "4x", nb.remote_mac.replace(":", ""))
            add(f"{LLDP_REM}.6.{rem}", "2", 5)
            add(f"{LLDP_REM}.7.{rem}", "4", nb.remote_port)
            add(f"{LLDP_REM}.8.{rem}", "4", f"to {r.name}")
            add(f"{LLDP_REM}.9.{rem}", "4", nb.remote_name)
    rec.sort()
    return "\n".join(line for _, line in rec) + "\n"


def ups(name: str) -> str:
    """An RFC 1628 UPS running on battery: the values the UPS test expects."""
    lines = [
        _line("1.3.6.1.2.1.1.1.0", "4", "Eaton 9PX 6000i network card"),
        _line("1.3.6.1.2.1.1.2.0", "6", "1.3.6.1.4.1.534.1"),
        _line("1.3.6.1.2.1.1.3.0", "67", 8640000),
        _line("1.3.6.1.2.1.1.5.0", "4", name),
        _line("1.3.6.1.2.1.2.2.1.1.1", "2", 1),
        _line("1.3.6.1.2.1.2.2.1.2.1", "4", "eth0"),
        _line("1.3.6.1.2.1.2.2.1.5.1", "66", 100000000),
        _line("1.3.6.1.2.1.2.2.1.7.1", "2", 1),
        _line("1.3.6.1.2.1.2.2.1.8.1", "2", 1),
        _line("1.3.6.1.2.1.2.2.1.10.1", "65", 123456),
        _line("1.3.6.1.2.1.2.2.1.16.1", "65", 654321),
        _line("1.3.6.1.2.1.33.1.2.1.0", "2", 2),  # batteryNormal
        _line("1.3.6.1.2.1.33.1.2.2.0", "2", 420),  # 7 min on battery
        _line("1.3.6.1.2.1.33.1.2.3.0", "2", 38),
        _line("1.3.6.1.2.1.33.1.2.4.0", "2", 87),
        _line("1.3.6.1.2.1.33.1.2.7.0", "2", 29),
        _line("1.3.6.1.2.1.33.1.3.3.1.3.1", "2", 0),
        _line("1.3.6.1.2.1.33.1.4.1.0", "2", 5),  # output source: battery
        _line("1.3.6.1.2.1.33.1.4.4.1.2.1", "2", 230),
        _line("1.3.6.1.2.1.33.1.4.4.1.5.1", "2", 41),
    ]
    return "\n".join(lines) + "\n"


EDGE_RATE = 500_000_000  # octets/s: Counter32 wraps every 8.6 s


def edge_switch(name: str) -> str:
    """An old access switch with only the 32-bit ifTable: its ifInOctets wraps every 8.6 s."""
    lines = [
        _line("1.3.6.1.2.1.1.1.0", "4", "HP J9021A Switch 2810-24G"),
        _line("1.3.6.1.2.1.1.2.0", "6", "1.3.6.1.4.1.11.2.3.7.11.73"),
        _line("1.3.6.1.2.1.1.3.0", "67:numeric", "rate=100,initial=5000"),
        _line("1.3.6.1.2.1.1.5.0", "4", name),
        _line(f"{IF}.1.1", "2", 1),
        _line(f"{IF}.2.1", "4", "uplink"),
        _line(f"{IF}.5.1", "66", 4294967295),
        _line(f"{IF}.7.1", "2", 1),
        _line(f"{IF}.8.1", "2", 1),
        _line(f"{IF}.10.1", "65:numeric", f"rate={EDGE_RATE},initial={2**32 - 10**9},wrap=1"),
        _line(f"{IF}.16.1", "65", 77),
    ]
    return "\n".join(lines) + "\n"


MAC = {"dx-core-1": "00:1b:54:00:00:01", "dx-core-2": "00:1b:54:00:00:02", "bl-dist-1": "00:1b:54:00:00:03"}


def _build() -> dict[str, str]:
    return {
        "core1": router(
            Router(
                "dx-core-1",
                "Cisco IOS XR Software, Version 7.3.2",
                "1.3.6.1.4.1.9.1.2494",
                ports=48,
                down=(48,),
                optics_ports=(1, 2),
                neighbours=[
                    Neighbour(1, "dx-core-2", "Te0/0/1", MAC["dx-core-2"]),
                    Neighbour(2, "bl-dist-1", "Gi0/1", MAC["bl-dist-1"]),
                ],
            )
        ),
        "core2": router(
            Router(
                "dx-core-2",
                "Cisco IOS XR Software, Version 7.3.2",
                "1.3.6.1.4.1.9.1.2494",
                ports=8,
                optics_ports=(1,),
                sensor_names="dom",
                neighbours=[Neighbour(1, "dx-core-1", "Te0/0/1", MAC["dx-core-1"])],
            )
        ),
        "dist1": router(
            Router(
                "bl-dist-1",
                "Juniper Networks, Inc. mx204 internet router, kernel JUNOS 21.4R3",
                "1.3.6.1.4.1.2636.1.1.1.2.150",
                ports=4,
                prefix="Gi0/",
                neighbours=[Neighbour(1, "dx-core-1", "Te0/0/2", MAC["dx-core-1"])],
            )
        ),
        "ups1": ups("dx-ups-1"),
        "edge1": edge_switch("pl-acc-1"),
    }


def main() -> None:
    DATA.mkdir(exist_ok=True)
    for name, content in _build().items():
        (DATA / f"{name}.snmprec").write_text(content)
        print(f"wrote {DATA / name}.snmprec ({content.count(chr(10))} records)")


if __name__ == "__main__":
    main()
