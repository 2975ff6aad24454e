"""LLDP-MIB: the neighbours a device sees, for topology and discovery.

lldpRemTable is indexed by (TimeMark, LocalPortNum, Index); the local port number maps to a
port id/description through lldpLocPortTable. Port ids are read as interface names when their
subtype says so (interfaceName 5, local 7), else the port description is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from nocsoc.collectors.snmp import oids as O
from nocsoc.collectors.snmp.mibs import hexstr, num, text
from nocsoc.collectors.snmp.session import Column, Value

LOC_COLUMNS = (O.LLDP_LOC_PORT_ID_SUBTYPE, O.LLDP_LOC_PORT_ID, O.LLDP_LOC_PORT_DESC)
REM_COLUMNS = (
    O.LLDP_REM_CHASSIS_ID_SUBTYPE,
    O.LLDP_REM_CHASSIS_ID,
    O.LLDP_REM_PORT_ID_SUBTYPE,
    O.LLDP_REM_PORT_ID,
    O.LLDP_REM_PORT_DESC,
    O.LLDP_REM_SYS_NAME,
)
COLUMNS = (*LOC_COLUMNS, *REM_COLUMNS)

_NAME_SUBTYPES = {5, 7}  # interfaceName, local
_MAC_SUBTYPE = 3  # macAddress (port id) / 4 for chassis id


@dataclass(frozen=True, order=True)
class Neighbour:
    local_port: str
    remote_name: str
    remote_port: str
    remote_chassis: str


def _port_name(subtype: int | None, port_id: Value | None, descr: Value | None) -> str:
    if subtype in _NAME_SUBTYPES and text(port_id):
        return text(port_id)
    if text(descr):
        return text(descr)
    if subtype == _MAC_SUBTYPE:
        return hexstr(port_id)
    return text(port_id)


def chassis_id(subtype: int | None, value: Value | None) -> str:
    """A chassis id as text: a MAC address (subtype 4) as hex pairs, the others as they are."""
    return hexstr(value) if subtype == 4 else text(value)


def neighbours(tables: Mapping[str, Column]) -> list[Neighbour]:
    """Every remote system in lldpRemTable, with the local port named."""
    local: dict[int, str] = {}
    for index, pid in tables.get(O.LLDP_LOC_PORT_ID, {}).items():
        local[index[0]] = _port_name(
            num(tables.get(O.LLDP_LOC_PORT_ID_SUBTYPE, {}).get(index)),
            pid,
            tables.get(O.LLDP_LOC_PORT_DESC, {}).get(index),
        )
    out = []
    for index, name in tables.get(O.LLDP_REM_SYS_NAME, {}).items():
        if len(index) < 3:
            continue
        port_num = index[1]
        chassis_subtype = num(tables.get(O.LLDP_REM_CHASSIS_ID_SUBTYPE, {}).get(index))
        chassis = tables.get(O.LLDP_REM_CHASSIS_ID, {}).get(index)
        out.append(
            Neighbour(
                local_port=local.get(port_num, str(port_num)),
                remote_name=text(name),
                remote_port=_port_name(
                    num(tables.get(O.LLDP_REM_PORT_ID_SUBTYPE, {}).get(index)),
                    tables.get(O.LLDP_REM_PORT_ID, {}).get(index),
                    tables.get(O.LLDP_REM_PORT_DESC, {}).get(index),
                ),
                remote_chassis=chassis_id(chassis_subtype, chassis),
            )
        )
    return sorted(out)
