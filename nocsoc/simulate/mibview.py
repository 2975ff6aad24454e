"""One simulated device's MIB: a sorted table of numeric OIDs, each with a value function.

GET is a dict lookup, GETNEXT a bisect, and each GETBULK repetition just steps one row down the
sorted table, so a 50-varbind bulk reply costs a few microseconds of lookup; the rest is BER.
Values are computed from a per-request `Snapshot` so every varbind of one reply describes the
same instant, as on a real agent.
"""

from __future__ import annotations

import bisect
import contextlib
from collections.abc import Callable
from typing import Any

from pysnmp.proto.api import v2c

from nocsoc.inventory.model import Role
from nocsoc.simulate.lab import Lab
from nocsoc.simulate.topology import SimDevice, SimInterface
from nocsoc.simulate.traffic import IfCounters

OID = tuple[int, ...]
Getter = Callable[["Snapshot"], Any]

SYSTEM = (1, 3, 6, 1, 2, 1, 1)
IF_NUMBER = (1, 3, 6, 1, 2, 1, 2, 1)
IF_TABLE = (1, 3, 6, 1, 2, 1, 2, 2, 1)
IFX_TABLE = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)
HR_STORAGE = (1, 3, 6, 1, 2, 1, 25, 2, 3, 1)
HR_PROCESSOR_LOAD = (1, 3, 6, 1, 2, 1, 25, 3, 3, 1, 2)
HR_DEVICE = (1, 3, 6, 1, 2, 1, 25, 3, 2, 1)
UCD_MEM = (1, 3, 6, 1, 4, 1, 2021, 4)
UCD_LA = (1, 3, 6, 1, 4, 1, 2021, 10, 1)
UCD_SS_CPU_IDLE = (1, 3, 6, 1, 4, 1, 2021, 11, 11)
ENT_PHYSICAL = (1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1)
ENT_ALIAS = (1, 3, 6, 1, 2, 1, 47, 1, 3, 2, 1, 2)
ENT_SENSOR = (1, 3, 6, 1, 2, 1, 99, 1, 1, 1)
UPS_MIB = (1, 3, 6, 1, 2, 1, 33, 1)
LLDP_LOC = (1, 0, 8802, 1, 1, 2, 1, 3)
LLDP_REM = (1, 0, 8802, 1, 1, 2, 1, 4, 1, 1)
LLDP_REM_MAN = (1, 0, 8802, 1, 1, 2, 1, 4, 2, 1)

# ENTITY-SENSOR-MIB codes
SENSOR_CELSIUS, SENSOR_DBM, SCALE_UNITS = 8, 14, 9
ENT_CLASS_CHASSIS, ENT_CLASS_SENSOR, ENT_CLASS_MODULE, ENT_CLASS_PORT = 3, 8, 9, 10

_VENDORS: dict[str, tuple[str, OID]] = {
    "cisco": (
        "Cisco IOS XE Software, {model} Software, Version 17.9.4a, RELEASE SOFTWARE (fc5)",
        (1, 3, 6, 1, 4, 1, 9, 1, 2571),
    ),
    "juniper": (
        "Juniper Networks, Inc. {model} internet router, kernel JUNOS 22.4R3-S2",
        (1, 3, 6, 1, 4, 1, 2636, 1, 1, 1, 2, 155),
    ),
    "huawei": (
        "Huawei Versatile Routing Platform Software VRP (R) software, Version 8.210 ({model})",
        (1, 3, 6, 1, 4, 1, 2011, 2, 224, 279),
    ),
    "fortinet": ("{model} v7.2.8,build1639,240313 (GA.M)", (1, 3, 6, 1, 4, 1, 12356, 101, 1, 6004)),
    "apc": (
        "APC Web/SNMP Management Card (MB:v4.1.0 PF:v6.9.6 PN:apc_hw05_aos_696.bin {model})",
        (1, 3, 6, 1, 4, 1, 318, 1, 3, 27),
    ),
    "linux": (
        "Linux {name} 6.1.0-27-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1 (2024-11-01) x86_64",
        (1, 3, 6, 1, 4, 1, 8072, 3, 2, 10),
    ),
}
_DEFAULT_VENDOR = {
    Role.CORE: "cisco",
    Role.DISTRIBUTION: "cisco",
    Role.ACCESS: "cisco",
    Role.FIREWALL: "linux",
    Role.SERVER: "linux",
    Role.UPS: "apc",
}


def vendor_key(dev: SimDevice) -> str:
    v = dev.device.vendor.lower()
    for key in _VENDORS:
        if key in v:
            return key
    if "forti" in v:
        return "fortinet"
    if "debian" in v or "ubuntu" in v or "red hat" in v:
        return "linux"
    return _DEFAULT_VENDOR[dev.role]


def sys_descr_oid(dev: SimDevice) -> tuple[str, OID]:
    fmt, oid = _VENDORS[vendor_key(dev)]
    return fmt.format(model=dev.device.model or dev.role.value, name=dev.name), oid


class Snapshot:
    """Everything one request may read, computed lazily for one instant `t`."""

    def __init__(self, lab: Lab, dev: SimDevice, t: float) -> None:
        self.lab, self.dev, self.t = lab, dev, t
        self._cum: Any = None
        self._ifc: dict[int, IfCounters] = {}
        self._cache: dict[str, Any] = {}

    def counters(self, iface: SimInterface) -> IfCounters:
        got = self._ifc.get(iface.if_index)
        if got is None:
            if self._cum is None:
                self._cum = self.lab.traffic.cumulative(self.t)
            got = self.lab.traffic.interface_counters(iface, self.t, self._cum)
            self._ifc[iface.if_index] = got
        return got

    def cached(self, key: str, fn: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    def uptime_ticks(self) -> int:
        return int(self.cached("uptime", lambda: self.lab.uptime_s(self.dev.name, self.t) * 100)) % 2**32

    def oper_status(self, iface: SimInterface) -> int:
        k = self.lab.clock.tick_index(self.t)
        return 2 if self.lab.timeline.interface_down(self.dev.name, iface.name, k) else 1

    def last_change(self, iface: SimInterface) -> int:
        lab, k = self.lab, self.lab.clock.tick_index(self.t)
        lc = lab.timeline.last_change_tick(self.dev.name, iface.name, k)
        boot = lab.boot_time(self.dev.name, self.t)
        if lc is None or lab.clock.tick_start(lc) < boot:
            return min(3000, self.uptime_ticks())
        return int((lab.clock.tick_start(lc) - boot) * 100) % 2**32

    def optics(self, iface: SimInterface) -> tuple[float, float, float]:
        levels = self.cached(
            f"optics{iface.if_index}",
            lambda: self.lab.traffic.optics.levels(self.dev.name, iface.name, self.t),
        )
        assert levels is not None  # only fiber ports get optics rows
        return levels


def _text(s: str) -> v2c.OctetString:
    """DisplayString from text: UTF-8 bytes (site names are Vietnamese; pyasn1 defaults to latin-1)."""
    return v2c.OctetString(s.encode("utf-8"))


def _const(value: Any) -> Getter:
    """A getter for a value that never changes (built once, shared by every reply)."""

    def get(_snap: Snapshot) -> Any:
        return value

    return get


def _cpu_getter(lab: Lab, key: str, role: Role) -> Getter:
    return lambda s: v2c.Integer(lab.health.cpu_pct(key, role, s.t))


def _load_getter(lab: Lab, name: str, role: Role, n: int, text: bool) -> Getter:
    if text:  # laLoad is a DisplayString such as "0.52"
        return lambda s: _text(f"{lab.health.load(name, role, s.t)[n]:.2f}")
    return lambda s: v2c.Integer(int(lab.health.load(name, role, s.t)[n] * 100))


def _attr_getter(table: Callable[[Snapshot], Any], key: int, attr: str) -> Getter:
    return lambda s: v2c.Integer(getattr(table(s)[key], attr))


def _optics_getter(iface: SimInterface, n: int) -> Callable[[Snapshot], float]:
    return lambda s: s.optics(iface)[n]


def _ups_getter(ups: Callable[[Snapshot], Any], attr: str) -> Getter:
    return lambda s: v2c.Integer(getattr(ups(s), attr))


def _c32(v: int) -> v2c.Counter32:
    return v2c.Counter32(v % 2**32)


class DeviceMib:
    """The OID table of one device."""

    def __init__(self, lab: Lab, dev: SimDevice) -> None:
        self.lab, self.dev = lab, dev
        rows: dict[OID, Getter] = {}
        self._objects: set[OID] = set()
        self._add_system(rows)
        self._add_interfaces(rows)
        if dev.role is Role.UPS:
            self._add_ups(rows)
        else:
            self._add_host(rows)
            self._add_entity(rows)
            self._add_lldp(rows)
        self.oids: list[OID] = sorted(rows)
        self.getters: list[Getter] = [rows[o] for o in self.oids]
        self.names = [v2c.ObjectIdentifier(o) for o in self.oids]
        self.position = {o: n for n, o in enumerate(self.oids)}

    def __len__(self) -> int:
        return len(self.oids)

    # --- lookups ------------------------------------------------------------------------------
    def get(self, oid: OID, snap: Snapshot) -> tuple[Any, Any]:
        pos = self.position.get(oid)
        if pos is not None:
            return self.names[pos], self.getters[pos](snap)
        for n in range(len(oid) - 1, 0, -1):
            if oid[:n] in self._objects:
                return v2c.ObjectIdentifier(oid), v2c.NoSuchInstance("")
        return v2c.ObjectIdentifier(oid), v2c.NoSuchObject("")

    def next_position(self, oid: OID) -> int:
        return bisect.bisect_right(self.oids, oid)

    def at(self, pos: int, snap: Snapshot) -> tuple[Any, Any]:
        return self.names[pos], self.getters[pos](snap)

    # --- building -----------------------------------------------------------------------------
    def _put(self, rows: dict[OID, Getter], obj: OID, index: OID, getter: Getter) -> None:
        self._objects.add(obj)
        rows[obj + index] = getter

    def _static(self, rows: dict[OID, Getter], obj: OID, index: OID, value: Any) -> None:
        self._put(rows, obj, index, _const(value))

    def _add_system(self, rows: dict[OID, Getter]) -> None:
        d = self.dev
        descr, objid = sys_descr_oid(d)
        site = d.device.site
        with contextlib.suppress(KeyError):  # sysLocation: the site's name, else its id
            site = self.lab.inventory.site(d.device.site).name
        self._static(rows, (*SYSTEM, 1), (0,), _text(descr))
        self._static(rows, (*SYSTEM, 2), (0,), v2c.ObjectIdentifier(objid))
        self._put(rows, (*SYSTEM, 3), (0,), lambda s: v2c.TimeTicks(s.uptime_ticks()))
        self._static(rows, (*SYSTEM, 4), (0,), _text("IOC NOC <noc@ioc.example>"))
        self._static(rows, (*SYSTEM, 5), (0,), _text(d.name))
        self._static(rows, (*SYSTEM, 6), (0,), _text(site))
        self._static(rows, (*SYSTEM, 7), (0,), v2c.Integer(72 if d.role is Role.SERVER else 6))

    def _add_interfaces(self, rows: dict[OID, Getter]) -> None:
        ifs = self.dev.interfaces
        self._static(rows, IF_NUMBER, (0,), v2c.Integer(len(ifs)))
        for iface in ifs:
            self._add_interface(rows, iface)

    def _add_interface(self, rows: dict[OID, Getter], i: SimInterface) -> None:
        ix = (i.if_index,)

        def col(n: int, fn: Getter, table: OID = IF_TABLE) -> None:
            self._put(rows, (*table, n), ix, fn)

        def ctr(attr: str, wide: bool) -> Getter:
            if wide:
                return lambda s: v2c.Counter64(getattr(s.counters(i), attr))
            return lambda s: _c32(getattr(s.counters(i), attr))

        col(1, _const(v2c.Integer(i.if_index)))
        col(2, _const(_text(i.name)))
        col(3, _const(v2c.Integer(6)))
        col(4, _const(v2c.Integer(9216 if i.link else 1500)))
        col(5, _const(v2c.Gauge32(min(i.speed_mbps * 10**6, 2**32 - 1))))
        col(6, _const(v2c.OctetString(i.mac)))
        col(7, _const(v2c.Integer(1)))
        col(8, lambda s: v2c.Integer(s.oper_status(i)))
        col(9, lambda s: v2c.TimeTicks(s.last_change(i)))
        col(10, ctr("in_octets", False))
        col(11, ctr("in_ucast", False))
        col(13, ctr("in_discards", False))
        col(14, ctr("in_errors", False))
        col(15, lambda _s: v2c.Counter32(0))
        col(16, ctr("out_octets", False))
        col(17, ctr("out_ucast", False))
        col(19, ctr("out_discards", False))
        col(20, ctr("out_errors", False))
        x = IFX_TABLE
        col(1, _const(_text(i.name)), x)
        # IF-MIB ifXTable: 2-5 ifIn/OutMulticast/BroadcastPkts (32-bit), 6-13 the ifHC* (64-bit) of
        # in octets, ucast, mcast, bcast, then out the same
        mcast_bcast = ("in_mcast", "in_bcast", "out_mcast", "out_bcast")
        for n, attr in enumerate(mcast_bcast, start=2):
            col(n, ctr(attr, False), x)
        hc = [f"{way}_{what}" for way in ("in", "out") for what in ("octets", "ucast", "mcast", "bcast")]
        for n, attr in enumerate(hc, start=6):
            col(n, ctr(attr, True), x)
        col(14, _const(v2c.Integer(1)), x)
        col(15, _const(v2c.Gauge32(i.speed_mbps)), x)
        col(16, _const(v2c.Integer(2)), x)
        col(17, _const(v2c.Integer(1)), x)
        col(18, _const(_text(i.alias)), x)
        col(19, lambda _s: v2c.TimeTicks(0), x)

    def _add_host(self, rows: dict[OID, Getter]) -> None:
        lab, d = self.lab, self.dev
        role, name = d.role, d.name
        ncpu = lab.health.cpu_count(role)
        for n in range(ncpu):
            idx = (196608 + n,)
            self._static(rows, (*HR_DEVICE, 2), idx, v2c.ObjectIdentifier((1, 3, 6, 1, 2, 1, 25, 3, 1, 3)))
            self._static(rows, (*HR_DEVICE, 3), idx, _text(f"CPU {n}"))
            self._put(
                rows,
                HR_PROCESSOR_LOAD,
                idx,
                _cpu_getter(lab, f"{name}/{n}", role),
            )

        def storages(s: Snapshot) -> Any:
            return s.cached("storage", lambda: {x.index: x for x in lab.health.storages(name, role, s.t)})

        for st in lab.health.storages(name, role, lab.clock.anchor):
            ix = (st.index,)
            self._static(rows, (*HR_STORAGE, 1), ix, v2c.Integer(st.index))
            self._static(rows, (*HR_STORAGE, 2), ix, v2c.ObjectIdentifier(st.type_oid))
            self._static(rows, (*HR_STORAGE, 3), ix, _text(st.descr))
            self._static(rows, (*HR_STORAGE, 4), ix, v2c.Integer(st.unit))
            self._put(rows, (*HR_STORAGE, 5), ix, _attr_getter(storages, st.index, "size"))
            self._put(rows, (*HR_STORAGE, 6), ix, _attr_getter(storages, st.index, "used"))
        if role is not Role.SERVER:
            return
        # UCD-SNMP-MIB, as net-snmp on the Linux servers answers it.
        for n, label in enumerate(("Load-1", "Load-5", "Load-15")):
            ix = (n + 1,)
            self._static(rows, (*UCD_LA, 1), ix, v2c.Integer(n + 1))
            self._static(rows, (*UCD_LA, 2), ix, _text(label))
            self._put(rows, (*UCD_LA, 3), ix, _load_getter(lab, name, role, n, text=True))
            self._put(
                rows,
                (*UCD_LA, 5),
                ix,
                _load_getter(lab, name, role, n, text=False),
            )

        def mem_kb(s: Snapshot) -> tuple[int, int]:
            total, used = s.cached("mem", lambda: lab.health.memory(name, role, s.t))
            return total // 1024, used // 1024

        self._put(rows, (*UCD_MEM, 3), (0,), lambda _s: v2c.Integer(8 * 1024 * 1024))
        self._put(rows, (*UCD_MEM, 4), (0,), lambda _s: v2c.Integer(8 * 1024 * 1024))
        self._put(rows, (*UCD_MEM, 5), (0,), lambda s: v2c.Integer(mem_kb(s)[0]))
        self._put(rows, (*UCD_MEM, 6), (0,), lambda s: v2c.Integer(mem_kb(s)[0] - mem_kb(s)[1]))
        self._put(rows, (*UCD_MEM, 11), (0,), lambda s: v2c.Integer(mem_kb(s)[0] - mem_kb(s)[1]))
        self._put(rows, (*UCD_MEM, 14), (0,), lambda s: v2c.Integer(mem_kb(s)[0] // 50))
        self._put(rows, (*UCD_MEM, 15), (0,), lambda s: v2c.Integer(mem_kb(s)[0] // 8))
        self._put(
            rows,
            UCD_SS_CPU_IDLE,
            (0,),
            lambda s: v2c.Integer(100 - lab.health.cpu_pct(f"{name}/0", role, s.t)),
        )

    def _add_entity(self, rows: dict[OID, Getter]) -> None:
        lab, d = self.lab, self.dev
        model = d.device.model or d.role.value

        def phys(idx: int, descr: str, parent: int, cls: int, pos: int, name: str) -> None:
            ix = (idx,)
            self._static(rows, (*ENT_PHYSICAL, 2), ix, _text(descr))
            self._static(rows, (*ENT_PHYSICAL, 3), ix, v2c.ObjectIdentifier((0, 0)))
            self._static(rows, (*ENT_PHYSICAL, 4), ix, v2c.Integer(parent))
            self._static(rows, (*ENT_PHYSICAL, 5), ix, v2c.Integer(cls))
            self._static(rows, (*ENT_PHYSICAL, 6), ix, v2c.Integer(pos))
            self._static(rows, (*ENT_PHYSICAL, 7), ix, _text(name))

        def sensor(idx: int, kind: int, units: str, fn: Callable[[Snapshot], float]) -> None:
            ix = (idx,)
            self._static(rows, (*ENT_SENSOR, 1), ix, v2c.Integer(kind))
            self._static(rows, (*ENT_SENSOR, 2), ix, v2c.Integer(SCALE_UNITS))
            self._static(rows, (*ENT_SENSOR, 3), ix, v2c.Integer(1))
            self._put(rows, (*ENT_SENSOR, 4), ix, lambda s: v2c.Integer(round(fn(s) * 10)))
            self._static(rows, (*ENT_SENSOR, 5), ix, v2c.Integer(1))
            self._static(rows, (*ENT_SENSOR, 6), ix, _text(units))

        phys(1, f"{model} chassis", 0, ENT_CLASS_CHASSIS, -1, "Chassis")
        phys(2, "Chassis temperature sensor", 1, ENT_CLASS_SENSOR, 1, "Chassis Temperature Sensor")
        sensor(2, SENSOR_CELSIUS, "C", lambda s: lab.health.chassis_temp_c(d.name, s.t))
        for pos, i in enumerate((i for i in d.interfaces if i.fiber), start=2):
            port = 1000 * i.if_index
            phys(port, f"{i.name} port", 1, ENT_CLASS_PORT, pos, i.name)
            self._static(rows, ENT_ALIAS, (port, 0), v2c.ObjectIdentifier((*IF_TABLE, 1, i.if_index)))
            phys(port + 1, "10GBASE-LR SFP+ transceiver", port, ENT_CLASS_MODULE, 1, f"{i.name} transceiver")
            phys(
                port + 2,
                f"{i.name} Receive Power Sensor",
                port + 1,
                ENT_CLASS_SENSOR,
                1,
                f"{i.name} Receive Power Sensor",
            )
            phys(
                port + 3,
                f"{i.name} Transmit Power Sensor",
                port + 1,
                ENT_CLASS_SENSOR,
                2,
                f"{i.name} Transmit Power Sensor",
            )
            phys(
                port + 4,
                f"{i.name} Temperature Sensor",
                port + 1,
                ENT_CLASS_SENSOR,
                3,
                f"{i.name} Temperature Sensor",
            )
            sensor(port + 2, SENSOR_DBM, "dBm", _optics_getter(i, 0))
            sensor(port + 3, SENSOR_DBM, "dBm", _optics_getter(i, 1))
            sensor(port + 4, SENSOR_CELSIUS, "C", _optics_getter(i, 2))

    def _add_lldp(self, rows: dict[OID, Getter]) -> None:
        d, topo = self.dev, self.lab.topo
        self._static(rows, (*LLDP_LOC, 1), (0,), v2c.Integer(4))
        self._static(rows, (*LLDP_LOC, 2), (0,), v2c.OctetString(d.mac))
        self._static(rows, (*LLDP_LOC, 3), (0,), _text(d.name))
        self._static(rows, (*LLDP_LOC, 4), (0,), _text(sys_descr_oid(d)[0]))
        for i in d.interfaces:
            ix = (i.if_index,)
            self._static(rows, (*LLDP_LOC, 7, 1, 2), ix, v2c.Integer(5))  # interfaceName
            self._static(rows, (*LLDP_LOC, 7, 1, 3), ix, _text(i.name))
            self._static(rows, (*LLDP_LOC, 7, 1, 4), ix, _text(i.alias))
            if not (i.peer_device and i.peer_interface):
                continue
            peer = topo.device(i.peer_device)
            if peer.role is Role.UPS:
                continue  # a UPS management card does not speak LLDP
            rix = (0, i.if_index, 1)
            self._static(rows, (*LLDP_REM, 4), rix, v2c.Integer(4))
            self._static(rows, (*LLDP_REM, 5), rix, v2c.OctetString(peer.mac))
            self._static(rows, (*LLDP_REM, 6), rix, v2c.Integer(5))
            self._static(rows, (*LLDP_REM, 7), rix, _text(i.peer_interface))
            self._static(rows, (*LLDP_REM, 8), rix, _text(peer.interface(i.peer_interface).alias))
            self._static(rows, (*LLDP_REM, 9), rix, _text(peer.name))
            self._static(rows, (*LLDP_REM, 10), rix, _text(sys_descr_oid(peer)[0]))
            addr = tuple(int(x) for x in peer.device.address.split("."))
            if len(addr) == 4:
                max_ = (*rix, 1, 4, *addr)
                self._static(rows, (*LLDP_REM_MAN, 3), max_, v2c.Integer(2))  # ifIndex
                self._static(rows, (*LLDP_REM_MAN, 4), max_, v2c.Integer(0))
                self._static(rows, (*LLDP_REM_MAN, 5), max_, v2c.ObjectIdentifier((0, 0)))

    def _add_ups(self, rows: dict[OID, Getter]) -> None:
        lab, d = self.lab, self.dev

        def ups(s: Snapshot) -> Any:
            return s.cached("ups", lambda: lab.health.ups(d.name, s.t))

        u = UPS_MIB
        self._static(rows, (*u, 1, 1), (0,), _text(d.device.vendor or "APC"))
        self._static(rows, (*u, 1, 2), (0,), _text(d.device.model or "Smart-UPS SRT 10000"))
        self._static(rows, (*u, 1, 5), (0,), _text(d.name))
        for n, attr in (
            (1, "battery_status"),
            (2, "seconds_on_battery"),
            (3, "minutes_remaining"),
            (4, "charge_pct"),
            (5, "battery_voltage_dv"),
            (7, "battery_temp_c"),
        ):
            self._put(rows, (*u, 2, n), (0,), _ups_getter(ups, attr))
        self._static(rows, (*u, 3, 2), (0,), v2c.Integer(1))
        self._static(rows, (*u, 3, 3, 1, 1), (1,), v2c.Integer(1))
        self._put(rows, (*u, 3, 3, 1, 2), (1,), lambda s: v2c.Integer(ups(s).input_freq_dhz))
        self._put(rows, (*u, 3, 3, 1, 3), (1,), lambda s: v2c.Integer(ups(s).input_voltage))
        self._put(rows, (*u, 4, 1), (0,), lambda s: v2c.Integer(ups(s).output_source))
        self._static(rows, (*u, 4, 2), (0,), v2c.Integer(500))
        self._static(rows, (*u, 4, 3), (0,), v2c.Integer(1))
        self._static(rows, (*u, 4, 4, 1, 1), (1,), v2c.Integer(1))
        for n, attr in (
            (2, "output_voltage"),
            (3, "output_current_da"),
            (4, "output_power_w"),
            (5, "output_load_pct"),
        ):
            self._put(rows, (*u, 4, 4, 1, n), (1,), _ups_getter(ups, attr))
