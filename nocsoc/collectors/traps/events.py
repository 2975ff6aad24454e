"""A decoded trap as nocsoc sees it: the device it came from, the catalogue's event, the
interface it is about, and what it becomes downstream (schema points, an alert detection)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from nocsoc.collectors.traps.decode import SNMP_TRAP_OID, SYS_UPTIME, RawTrap
from nocsoc.collectors.trapspec import TrapEntry, VarbindRef
from nocsoc.detections.engine import Detection
from nocsoc.events import LogEvent
from nocsoc.inventory.model import Device
from nocsoc.schema import INTERFACE, SNMP_TRAP, Point

IF_INDEX = "1.3.6.1.2.1.2.2.1.1."
IF_DESCR = "1.3.6.1.2.1.2.2.1.2."
IF_ADMIN_STATUS = "1.3.6.1.2.1.2.2.1.7."
IF_OPER_STATUS = "1.3.6.1.2.1.2.2.1.8."
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1."
IF_ALIAS = "1.3.6.1.2.1.31.1.1.1.18."
_HIDDEN = (SYS_UPTIME, SNMP_TRAP_OID)  # shown as their own fields, not among the varbinds


def _valid_index(i: int) -> bool:
    """IF-MIB InterfaceIndex is 1..2147483647; anything else is not an interface to look up."""
    return 0 < i <= 2_147_483_647


def _column(trap: RawTrap, prefix: str) -> tuple[int, Any] | None:
    """(instance index, value) of the first varbind in an IF-MIB column."""
    for oid, _t, v in trap.varbinds:
        if oid.startswith(prefix):
            rest = oid[len(prefix):]
            if rest.isdigit():
                return int(rest), v
    return None


def _find(trap: RawTrap, ref: VarbindRef) -> Any:
    """The value an entry's varbind reference points at (None when the trap does not carry it):
    the varbind's value, or an arc of its instance (`part: index`)."""
    prefix = ref.oid
    for oid, _t, v in trap.varbinds:
        if oid == prefix or oid.startswith(prefix + "."):
            if ref.part == "value":
                if ref.scale != 1.0 and isinstance(v, int | float) and not isinstance(v, bool):
                    return v * ref.scale
                return v
            arcs = oid[len(prefix) + 1:].split(".") if len(oid) > len(prefix) else []
            try:
                return int(arcs[ref.index_arc])
            except (IndexError, ValueError):
                return None
    return None


def _number(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _text(v: Any) -> str:
    return v if isinstance(v, str) else ("" if v is None or isinstance(v, bytes) else str(v))


@dataclass
class TrapEvent:
    time: float
    source: str
    trap: RawTrap
    entry: TrapEntry | None
    device: Device | None = None
    ifindex: int | None = None
    admin_status: int | None = None
    oper_status: int | None = None
    ifname: str = ""
    ifalias: str = ""
    ifdescr: str = ""
    entity_index: int | None = None
    entity: str = ""  # the component (power supply, fan, sensor, board) by name, else "entity N"
    value: float | None = None
    state: int | None = None
    peer: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, time: float, source: str, trap: RawTrap, entry: TrapEntry | None,
              device: Device | None) -> TrapEvent:
        ev = cls(time, source, trap, entry, device)
        if entry is not None and entry.interface:
            got = _column(trap, IF_INDEX)
            if got is not None and isinstance(got[1], int) and _valid_index(got[1]):
                ev.ifindex = got[1]
            for prefix, attr in ((IF_OPER_STATUS, "oper_status"), (IF_ADMIN_STATUS, "admin_status")):
                got = _column(trap, prefix)
                if got is not None and isinstance(got[1], int):
                    setattr(ev, attr, got[1])
                    if ev.ifindex is None and _valid_index(got[0]):
                        ev.ifindex = got[0]
            for prefix, attr in ((IF_NAME, "ifname"), (IF_ALIAS, "ifalias"), (IF_DESCR, "ifdescr")):
                got = _column(trap, prefix)
                if got is not None and isinstance(got[1], str) and (ev.ifindex in (None, got[0])):
                    setattr(ev, attr, got[1])
            if ev.oper_status is None and entry.event in ("link_down", "link_up"):
                ev.oper_status = 2 if entry.event == "link_down" else 1  # RFC 2863: the trap says so
        if entry is not None and entry.varbinds:
            ev._apply(entry)
        return ev

    def _apply(self, entry: TrapEntry) -> None:
        """Read what the entry's `varbinds:` name (vendor traps: JUNIPER-MIB's jnxContentsDescr
        is the power supply, CISCO-ENTITY-SENSOR-MIB's entSensorValue instance the sensor)."""
        got = {role: _find(self.trap, ref) for role, ref in entry.varbinds.items()}
        idx = got.get("ifindex")
        if (isinstance(idx, int) and not isinstance(idx, bool) and _valid_index(idx)
                and self.ifindex in (None, idx)):
            self.ifindex = idx
        if _text(got.get("ifname")):
            self.ifname = _text(got["ifname"])
        ent = got.get("entity")
        if isinstance(ent, int) and not isinstance(ent, bool):
            self.entity_index = ent
        self.entity = _text(got.get("entity_name")) or (
            f"entity {self.entity_index}" if self.entity_index is not None else "")
        self.value = _number(got.get("value"))
        state = got.get("state")
        self.state = state if isinstance(state, int) and not isinstance(state, bool) else None
        self.peer = _text(got.get("peer"))

    @property
    def entity_is_index(self) -> bool:
        """The component is known only by its index ("entity N"): the trap carried no name."""
        return self.entity_index is not None and self.entity == f"entity {self.entity_index}"

    @property
    def event(self) -> str:
        return self.entry.event if self.entry else "unknown"

    @property
    def kind(self) -> str:
        return self.entry.kind if self.entry else "other"

    @property
    def recovered(self) -> bool:
        """A status-change trap whose state varbind says normal (the entry's `ok_states`)."""
        return self.entry is not None and self.state is not None and self.state in self.entry.ok_states

    @property
    def severity(self) -> str:
        if self.entry is None or self.recovered:
            return "informational"
        return self.entry.severity

    @property
    def device_name(self) -> str:
        return self.device.name if self.device else self.source

    def tags(self) -> dict[str, str]:
        d = self.device
        return {"device": self.device_name, "site": d.site if d else "",
                "role": d.role.value if d else ""}

    def varbinds(self) -> list[list[Any]]:
        return [[o, t, v] for o, t, v in self.trap.varbinds if o not in _HIDDEN]

    @property
    def message(self) -> str:
        what = self.entry.title.en if self.entry else f"unknown trap {self.trap.trap_oid}"
        iface = self.ifname or self.ifdescr or (f"ifIndex {self.ifindex}" if self.ifindex else "")
        where = iface or self.entity
        return (f"{self.device_name}: {what}" + (f" on {where}" if where else "")
                + (f", value {self.value:g}" if self.value is not None else "")
                + (f", peer {self.peer}" if self.peer else ""))

    def to_dict(self) -> dict[str, Any]:
        """The event as `nocsoc traps listen --json` prints it."""
        return {
            "time": self.time, "source": self.source, "device": self.device_name,
            "site": self.device.site if self.device else None, "version": self.trap.version,
            "security_name": self.trap.security_name, "inform": self.trap.inform,
            "trap_oid": self.trap.trap_oid, "trap_name": self.entry.name if self.entry else None,
            "event": self.event, "kind": self.kind, "severity": self.severity,
            "uptime_s": self.trap.uptime_s, "ifindex": self.ifindex, "ifname": self.ifname or None,
            "oper_status": self.oper_status, "admin_status": self.admin_status,
            "entity": self.entity or None, "value": self.value, "state": self.state,
            "peer": self.peer or None, "message": self.message, "varbinds": self.varbinds(),
        }

    def points(self, time_ns: int) -> list[Point]:
        """The `snmp_trap` event point, and for a link trap whose interface is known by name the
        interface's oper/admin status at once (the poller writes the same series later)."""
        out = [SNMP_TRAP.point(time_ns, {**self.tags(), "event": self.event, "kind": self.kind,
                                         "severity": self.severity, "version": self.trap.version,
                                         "ifname": self.ifname},
                               {"count": 1, "trap_oid": self.trap.trap_oid,
                                "trap_name": self.entry.name if self.entry else None,
                                "source": self.source, "ifindex": self.ifindex,
                                "oper_status": self.oper_status, "uptime_s": self.trap.uptime_s,
                                "entity": self.entity or None, "value": self.value,
                                "varbinds": json.dumps(self.varbinds(), ensure_ascii=False,
                                                       default=str),
                                "message": self.message})]
        if self.ifname and self.device is not None and self.oper_status is not None:
            out.append(INTERFACE.point(time_ns, {**self.tags(), "ifname": self.ifname,
                                                 "ifalias": self.ifalias,
                                                 "link": self.extra.get("link")},
                                       {"oper_status": self.oper_status,
                                        "admin_status": self.admin_status}))
        return out

    def group_key(self) -> str:
        e = self.entry
        key = self.device_name
        if e is None or e.group == "device":
            return key
        if e.group == "interface":
            return f"{key}|{self.ifname or self.ifindex or ''}"
        if e.group == "entity":
            return f"{key}|{self.entity}"
        got = next((v for o, _t, v in self.trap.varbinds if o.startswith(e.group + ".") or o == e.group),
                   None)
        return f"{key}|{got if got is not None else ''}"

    def detection(self) -> Detection | None:
        """The alert this trap raises (or increments: same rule and group within the store's
        dedup window), None for traps the catalogue does not mark as alerts."""
        e = self.entry
        if e is None or not e.alert or self.recovered:
            return None
        sample = LogEvent(self.message, {"trap_oid": self.trap.trap_oid, "trap_name": e.name,
                                         "source": self.source, "ifindex": self.ifindex,
                                         "ifname": self.ifname or None,
                                         "entity": self.entity or None, "value": self.value,
                                         "peer": self.peer or None, "varbinds": self.varbinds()},
                          host=self.device_name, time=self.time, product="snmp",
                          services=("trap",), parser="snmp_trap", source="snmp_trap")
        return Detection(rule_id=f"snmp-trap-{e.event.replace('_', '-')}", title=e.title.en,
                         level=e.severity, tags=(), kind="trap", group_key=self.group_key(),
                         new=True, count=1, first_seen=self.time, last_seen=self.time,
                         host=self.device_name, samples=[sample])
