"""ENTITY-SENSOR-MIB: optics rx/tx power (dBm) and temperatures, other sensors by kind.

entPhySensorValue is an integer to be read as value x 10^-precision x 10^scale. Optics are
recognised by the dBm type (14, from CISCO-ENTITY-SENSOR-MIB's extension that vendors reuse) or
by a name saying rx/tx power. A sensor's port is found the standard way first: up its
entPhysicalContainedIn chain (sensor -> transceiver -> port) to an entity that ENTITY-MIB's
entAliasMappingTable maps to an ifIndex; only where a device has no such mapping, by its name
starting with an ifName ("Te0/0/1 Receive Power Sensor"), which vendors do not all follow
("DOM Rx Power for transceiver 3").
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from nocsoc.collectors.snmp import oids as O
from nocsoc.collectors.snmp.mibs import interfaces, num, text
from nocsoc.collectors.snmp.session import Column, Index
from nocsoc.schema import OPTICS, SENSOR, Point

COLUMNS = (
    O.ENT_SENSOR_TYPE,
    O.ENT_SENSOR_SCALE,
    O.ENT_SENSOR_PRECISION,
    O.ENT_SENSOR_VALUE,
    O.ENT_SENSOR_OPER_STATUS,
)
# walked when the sensors are first seen, then every `absent_reprobe_cycles` (they rarely change)
ENTITY_COLUMNS = (O.ENT_PHYSICAL_NAME, O.ENT_PHYSICAL_CONTAINED_IN, O.ENT_ALIAS_MAPPING_ID)
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
}
DBM, WATTS, CELSIUS = 14, 6, 8
_RX = re.compile(r"\b(rx|receive[rd]?|input)\b.*\bpower\b|\brx\s*power\b", re.I)
_TX = re.compile(r"\b(tx|transmit(ted|ter)?|output)\b.*\bpower\b|\btx\s*power\b", re.I)
_OPTIC_WORDS = re.compile(r"transceiver|xcvr|sfp|qsfp|optic|dom\b", re.I)
_STRIP = re.compile(
    r"\s*(\b(rx|tx|receive[rd]?|transmit(ted|ter)?|input|output)\b\s*)?\bpower\b.*$"
    r"|\s*\btemp(erature)?\b.*$|\s*\b(transceiver|xcvr|dom)\b.*$",
    re.I,
)


def scaled(raw: int, scale: int | None, precision: int | None) -> float:
    return raw * 10.0 ** (SCALE_EXPONENT.get(scale or 9, 0) - (precision or 0))


def _port_of(name: str, ifnames: Iterable[str]) -> str:
    lowered = name.lower()
    best = ""
    for ifname in ifnames:
        if ifname and lowered.startswith(ifname.lower()) and len(ifname) > len(best):
            best = ifname
    return best or _STRIP.sub("", name).strip() or name


@dataclass
class Entities:
    """What ENTITY-MIB says of the sensors: their names and the ifIndex of their port."""

    names: dict[Index, str] = field(default_factory=dict)
    if_index: dict[Index, int] = field(default_factory=dict)


def entities_of(tables: Mapping[str, Column]) -> Entities:
    names = {i: text(v) for i, v in tables.get(O.ENT_PHYSICAL_NAME, {}).items()}
    parent = {i: num(v) for i, v in tables.get(O.ENT_PHYSICAL_CONTAINED_IN, {}).items()}
    aliased: dict[int, int] = {}  # entPhysicalIndex -> ifIndex
    prefix = O.IF_INDEX + "."
    for index, value in tables.get(O.ENT_ALIAS_MAPPING_ID, {}).items():
        target = value if isinstance(value, str) else ""
        if index and target.startswith(prefix) and target[len(prefix):].isdigit():
            aliased.setdefault(index[0], int(target[len(prefix):]))
    if_index: dict[Index, int] = {}
    if aliased:
        for index in names:
            node: int | None = index[0] if len(index) == 1 else None
            for _ in range(_MAX_DEPTH):
                if node is None or node == 0:
                    break
                if node in aliased:
                    if_index[index] = aliased[node]
                    break
                node = parent.get((node,))
    return Entities(names, if_index)


def points(
    tags: Mapping[str, str],
    tables: Mapping[str, Column],
    entities: Entities,
    ifnames: Iterable[str],
    time_ns: int,
) -> list[Point]:
    """OPTICS points (one per port: rx/tx/temperature) and SENSOR points for everything else.
    `ifnames`: the device's interface names; `tables` may hold ifName (by ifIndex) for the
    entity mapping."""
    ifnames = list(ifnames)
    rows = {*tables.get(O.IF_NAME, {}), *tables.get(O.IF_DESCR, {})}
    by_index = {i[0]: interfaces.ifname(tables, i) for i in rows if len(i) == 1}
    names = entities.names
    optics: dict[str, dict[str, object]] = {}
    out: list[Point] = []
    for index, raw in tables.get(O.ENT_SENSOR_VALUE, {}).items():
        if not isinstance(raw, int):
            continue
        status = num(tables.get(O.ENT_SENSOR_OPER_STATUS, {}).get(index))
        if status in (2, 3):  # unavailable / nonoperational: the value means nothing
            continue
        kind = num(tables.get(O.ENT_SENSOR_TYPE, {}).get(index)) or 2
        value = scaled(
            raw,
            num(tables.get(O.ENT_SENSOR_SCALE, {}).get(index)),
            num(tables.get(O.ENT_SENSOR_PRECISION, {}).get(index)),
        )
        name = names.get(index) or f"sensor {'.'.join(map(str, index))}"
        is_rx, is_tx = bool(_RX.search(name)), bool(_TX.search(name))
        mapped = by_index.get(entities.if_index.get(index, -1))
        port = mapped if mapped in ifnames else _port_of(name, ifnames)
        if kind == DBM or (kind == WATTS and (is_rx or is_tx)):
            if kind == WATTS:
                if value <= 0:
                    continue
                value = 10 * math.log10(value * 1000)
            key = "tx_dbm" if is_tx and not is_rx else "rx_dbm"
            optics.setdefault(port, {})[key] = value
        elif kind == CELSIUS and (port in ifnames or _OPTIC_WORDS.search(name)):  # a transceiver's
            optics.setdefault(port, {})["temperature_c"] = value
        else:
            out.append(
                SENSOR.point(
                    time_ns, {**tags, "sensor": name, "kind": KINDS.get(kind, "other")}, {"value": value}
                )
            )
    for port, fields in sorted(optics.items()):
        out.append(
            OPTICS.point(
                time_ns, {**tags, "ifname": port if port in ifnames else None, "sensor": port}, fields
            )
        )
    return out
