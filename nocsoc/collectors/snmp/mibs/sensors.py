"""ENTITY-SENSOR-MIB (RFC 3433) and tables of the same shape: optics (DOM), temperatures, others.

entPhySensorValue is an integer to be read as value x 10^-precision x 10^scale. CISCO-ENTITY-
SENSOR-MIB's entSensorValueTable has the same columns (type, scale, precision, value, status)
under another OID and adds the type dBm(14): `points()` reads either, given the table's base.

Optics are recognised by the dBm type, or by the name for the power sensors that vendors type
otherwise: IOS-XE types transceiver power other(1), IOS-XR and Arista report it in watts(6)
("power Tx 0/0/1/4", "DOM TX Power for Ethernet21"). Bias current, supply voltage and module
temperature belong to the transceiver when the sensor sits in a port.

A sensor's port is found the standard way first: up its entPhysicalContainedIn chain (sensor ->
transceiver -> port) to an entity that ENTITY-MIB's entAliasMappingTable maps to an ifIndex;
only where a device has no such mapping, by its name starting with an ifName ("Te0/0/1 Receive
Power Sensor"). Names come from entPhysicalName, else entPhysicalDescr (Arista and Extreme leave
the name empty). A transceiver's sensors not tied to a port are grouped by their parent entity,
never by a stripped name (seven transceivers on IOS-XE would collapse into one "subslot 0/0").
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nocsoc.collectors.snmp import areas
from nocsoc.collectors.snmp import oids as O
from nocsoc.collectors.snmp.mibs import FixedArea, num, text
from nocsoc.collectors.snmp.session import Column, Index
from nocsoc.schema import OPTICS, SENSOR, Point

ENTITY_SENSOR = "1.3.6.1.2.1.99.1.1.1"  # entPhySensorEntry
CISCO_ENTITY_SENSOR = "1.3.6.1.4.1.9.9.91.1.1.1.1"  # CISCO-ENTITY-SENSOR-MIB entSensorValueEntry
# column numbers of both tables: type, scale, precision, value, oper status
_TYPE, _SCALE, _PRECISION, _VALUE, _STATUS = 1, 2, 3, 4, 5


def columns_of(base: str) -> tuple[str, ...]:
    return tuple(f"{base}.{c}" for c in (_TYPE, _SCALE, _PRECISION, _VALUE, _STATUS))


COLUMNS = columns_of(ENTITY_SENSOR)
# walked when the sensors are first seen, then every `absent_reprobe_cycles` (they rarely change)
ENTITY_COLUMNS = (
    O.ENT_PHYSICAL_NAME,
    O.ENT_PHYSICAL_DESCR,
    O.ENT_PHYSICAL_CONTAINED_IN,
    O.ENT_ALIAS_MAPPING_ID,
)
_MAX_DEPTH = 8  # containment levels searched for a port (chassis > slot > card > port > xcvr > sensor)

# EntitySensorDataScale -> power of ten (exa(14) comes before peta(15) in the MIB).
SCALE_EXPONENT = {
    1: -24,
    2: -21,
    3: -18,
    4: -15,
    5: -12,
    6: -9,
    7: -6,
    8: -3,
    9: 0,
    10: 3,
    11: 6,
    12: 9,
    13: 12,
    14: 18,
    15: 15,
    16: 21,
    17: 24,
}
KINDS = {
    1: "other",
    2: "unknown",
    3: "volts_ac",
    4: "volts_dc",
    5: "amperes",
    6: "watts",
    7: "hertz",
    8: "celsius",
    9: "percent_rh",
    10: "rpm",
    11: "cmm",
    12: "truthvalue",
    13: "special",
    14: "dbm",
    15: "db",
}
OTHER, AMPERES, VOLTS_DC, WATTS, CELSIUS, DBM = 1, 5, 4, 6, 8, 14
_RX = re.compile(r"(?<![a-z])(rx|receive[rd]?|input)(?![a-z])", re.I)
_TX = re.compile(r"(?<![a-z])(tx|transmit(ted|ter)?|output)(?![a-z])", re.I)
_POWER = re.compile(r"\bpower\b", re.I)
_BIAS = re.compile(r"\bbias\b|(?<![a-z])(tx|laser)[ -]?(lane \d+ )?current\b", re.I)
_VOLT = re.compile(r"\bvolt(age)?s?\b|\bsupply\b|\bvcc\b", re.I)
_LANE = re.compile(r"\blane\s*(\d+)", re.I)
_OPTIC_WORDS = re.compile(r"transceiver|xcvr|sfp|qsfp|optic|\bdom\b|\bmau\b", re.I)


def scaled(raw: int, scale: int | None, precision: int | None) -> float:
    return raw * 10.0 ** (SCALE_EXPONENT.get(scale or 9, 0) - (precision or 0))


def watts_to_dbm(watts: float) -> float | None:
    """dBm of a power in watts; None for zero or less (no light, or the agent's 'no reading')."""
    if watts <= 0:
        return None
    return 10 * math.log10(watts * 1000)


def _port_of(name: str, ifnames: Iterable[str]) -> str:
    """The ifName a sensor's name starts with ("Te0/0/1 Receive Power Sensor"), else the longest
    ifName it contains as a whole word ("DOM RX Power for Ethernet21"); "" when none."""
    lowered = name.lower()
    best = ""
    inside = ""
    for ifname in ifnames:
        low = ifname.lower()
        if not low:
            continue
        starts = lowered.startswith(low) and (len(lowered) == len(low) or not lowered[len(low)].isalnum())
        if starts:
            if len(ifname) > len(best):
                best = ifname
        elif (
            len(low) >= 3
            and len(ifname) > len(inside)
            and low in lowered
            and re.search(rf"(?<![\w/.]){re.escape(low)}(?![\w/.])", lowered)
        ):
            inside = ifname
    return best or inside


@dataclass
class Entities:
    """What ENTITY-MIB says of the entities: names, parents and the ifIndex of their port."""

    names: dict[Index, str] = field(default_factory=dict)
    if_index: dict[Index, int] = field(default_factory=dict)
    parent: dict[Index, int] = field(default_factory=dict)
    descr: dict[Index, str] = field(default_factory=dict)

    def in_transceiver(self, index: Index, depth: int = 2) -> bool:
        """True when the entity or one of its `depth` ancestors is described as a transceiver
        (IOS-XR names a DOM sensor "0/0-PORT-2-Tx Lane 0 Power", its parent "SFP transceiver")."""
        node: Index | None = index
        for _ in range(depth + 1):
            if node is None:
                return False
            if _OPTIC_WORDS.search(self.names.get(node, "")) or _OPTIC_WORDS.search(self.descr.get(node, "")):
                return True
            p = self.parent.get(node)
            node = (p,) if p else None
        return False


def entities_of(tables: Mapping[str, Column]) -> Entities:
    names = {i: text(v) for i, v in tables.get(O.ENT_PHYSICAL_NAME, {}).items()}
    descr = {i: text(v) for i, v in tables.get(O.ENT_PHYSICAL_DESCR, {}).items()}
    for i, d in descr.items():
        if not names.get(i):  # Arista, Extreme: the name is empty, the description names it
            names[i] = d
    parent: dict[Index, int] = {}
    for i, raw in tables.get(O.ENT_PHYSICAL_CONTAINED_IN, {}).items():
        p = num(raw)
        if p is not None:
            parent[i] = p
    aliased: dict[int, int] = {}  # entPhysicalIndex -> ifIndex
    prefix = O.IF_INDEX + "."
    for index, value in tables.get(O.ENT_ALIAS_MAPPING_ID, {}).items():
        target = value if isinstance(value, str) else ""
        if index and target.startswith(prefix) and target[len(prefix) :].isdigit():
            aliased.setdefault(index[0], int(target[len(prefix) :]))
    if_index: dict[Index, int] = {}
    if aliased:
        for index in set(names) | set(parent):
            node: int | None = index[0] if len(index) == 1 else None
            for _ in range(_MAX_DEPTH):
                if node is None or node == 0:
                    break
                if node in aliased:
                    if_index[index] = aliased[node]
                    break
                node = parent.get((node,))
    return Entities(names, if_index, parent, descr)


def entity_names(tables: Mapping[str, Column]) -> dict[int, str]:
    """entPhysicalIndex -> the entity's name (entPhysicalName, else entPhysicalDescr, as the
    sensor points name it), for the trap receiver: a component trap carries only the index."""
    names = {i[0]: text(v) for i, v in tables.get(O.ENT_PHYSICAL_NAME, {}).items() if len(i) == 1}
    for i, v in tables.get(O.ENT_PHYSICAL_DESCR, {}).items():
        if len(i) == 1 and not names.get(i[0]):
            names[i[0]] = text(v)
    return {i: n for i, n in sorted(names.items()) if n}


@dataclass
class Reading:
    """One optics value on its way to an OPTICS point."""

    key: tuple[str, str]  # (port or transceiver name, lane)
    ifname: str | None
    field: str
    value: float


def optics_points(tags: Mapping[str, str], readings: Iterable[Reading], time_ns: int) -> list[Point]:
    """One OPTICS point per (transceiver, lane), fields merged."""
    merged: dict[tuple[str, str], dict[str, object]] = {}
    ifname: dict[tuple[str, str], str | None] = {}
    for r in readings:
        merged.setdefault(r.key, {})[r.field] = r.value
        if r.ifname:
            ifname[r.key] = r.ifname
    return [
        OPTICS.point(
            time_ns,
            {**tags, "ifname": ifname.get(key), "sensor": key[0], "lane": key[1] or None},
            fields,
        )
        for key, fields in sorted(merged.items())
    ]


def points(
    tags: Mapping[str, str],
    tables: Mapping[str, Column],
    entities: Entities,
    interfaces: Mapping[int, str],
    time_ns: int,
    base: str = ENTITY_SENSOR,
) -> list[Point]:
    """OPTICS points (per transceiver and lane) and SENSOR points for everything else, from an
    ENTITY-SENSOR-shaped table at `base`. `interfaces`: {ifIndex: ifName} of the device."""
    col = {c: tables.get(f"{base}.{c}", {}) for c in (_TYPE, _SCALE, _PRECISION, _VALUE, _STATUS)}
    ifnames = list(interfaces.values())
    names = entities.names
    readings: list[Reading] = []
    out: list[Point] = []
    used_names: set[str] = set()
    for index, raw in sorted(col[_VALUE].items()):
        if not isinstance(raw, int):
            continue
        status = num(col[_STATUS].get(index))
        if status in (2, 3):  # unavailable / nonoperational: the value means nothing
            continue
        kind = num(col[_TYPE].get(index)) or 2
        value = scaled(raw, num(col[_SCALE].get(index)), num(col[_PRECISION].get(index)))
        label = ".".join(map(str, index))
        name = names.get(index) or f"sensor {label}"
        port = interfaces.get(entities.if_index.get(index, -1)) or _port_of(name, ifnames) or None
        parent = entities.parent.get(index)
        is_rx, is_tx = bool(_RX.search(name)), bool(_TX.search(name))
        power_named = bool(_POWER.search(name)) and (is_rx or is_tx)
        optic = port is not None or bool(_OPTIC_WORDS.search(name)) or entities.in_transceiver(index)
        lane_m = _LANE.search(name)
        lane = lane_m.group(1) if lane_m else ""
        group = port or (names.get((parent,)) if parent else None) or name
        fld: str | None = None
        if kind == DBM or (kind == OTHER and power_named):
            fld = "tx_dbm" if is_tx and not is_rx else "rx_dbm"
        elif kind == WATTS and power_named and optic:
            dbm = watts_to_dbm(value)
            if dbm is None:
                continue
            fld, value = ("tx_dbm" if is_tx and not is_rx else "rx_dbm"), dbm
        elif optic and kind == CELSIUS and (port is not None or _OPTIC_WORDS.search(name)):
            fld = "temperature_c"
        elif optic and port is not None and kind == AMPERES and _BIAS.search(name):
            fld, value = "bias_ma", value * 1000
        elif optic and port is not None and kind == VOLTS_DC and _VOLT.search(name):
            fld = "voltage_v"
        if fld is not None:
            readings.append(Reading((group, lane), port, fld, value))
            continue
        sensor = name if name not in used_names else f"{name} #{label}"
        used_names.add(sensor)
        out.append(
            SENSOR.point(
                time_ns, {**tags, "sensor": sensor, "kind": KINDS.get(kind, "other")}, {"value": value}
            )
        )
    return optics_points(tags, readings, time_ns) + out


@dataclass
class SensorState:
    entities: Entities | None = None


class EntitySensorArea(FixedArea):
    """ENTITY-SENSOR-MIB entPhySensorTable: optics, temperatures, fans, voltages, currents."""

    name = "sensors"
    order = 30
    description = "ENTITY-SENSOR-MIB (+ ENTITY-MIB names/ports): optics, sensor"
    column_oids = COLUMNS
    slow_column_oids = ENTITY_COLUMNS

    def build(self, ctx: areas.Context, state: Any, fetched: areas.Fetched) -> areas.Output:
        t = fetched.tables
        if not t.get(f"{ENTITY_SENSOR}.{_VALUE}"):
            return areas.Output()
        return areas.Output(points(ctx.tags, t, entities_of(t), ctx.interfaces, ctx.time_ns))


areas.register(EntitySensorArea())
