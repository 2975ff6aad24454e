"""What one SNMP notification means to nocsoc, as data: the trap catalogue's entries.

Shared by the trap catalogue (`collectors.traps`, the receiver) and the device profiles
(`collectors.snmp.profiles`, whose YAML carries each vendor's notifications under `traps:`), so
neither package imports the other for it. The model only validates; resolving an entry against a
received trap (which varbind is the interface, the component, the reading) is the receiver's.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Severity = Literal["informational", "low", "medium", "high", "critical"]
# What a trap is about, one word a dashboard can group by (a bounded tag of `snmp_trap`).
TrapKind = Literal[
    "link", "optics", "power", "fan", "temperature", "hardware", "cpu", "memory", "config",
    "auth", "routing", "ups", "vpn", "ha", "security", "system", "other",
]
# The parts of a trap an entry can point at (`varbinds:`): the interface, the component
# (entity: its index; entity_name: its name), a reading and a state, the remote peer.
VarbindRole = Literal["ifindex", "ifname", "entity", "entity_name", "value", "state", "peer"]

_NUMERIC = re.compile(r"^\d+(\.\d+)+$")


def numeric_oid(value: object) -> str:
    """A numeric OID without its leading dot; ValueError naming it otherwise."""
    text = str(value).strip().lstrip(".")
    if not _NUMERIC.match(text):
        raise ValueError(f"{value!r} is not a numeric OID")
    return text


class Title(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    en: str = Field(min_length=1)
    vi: str = Field(min_length=1)


class VarbindRef(BaseModel):
    """Where a value is in a trap: the varbind whose OID is `oid` or lies under it (a column or
    a scalar), and whether the value is the varbind's value or an arc of its instance (the row
    index: entSensorValue.<entPhysicalIndex> gives the sensor's entity by `part: index`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    oid: str
    part: Literal["value", "index"] = "value"
    index_arc: int = Field(default=0, description="part: index, which arc of the instance (0 first, -1 last)")
    scale: float = Field(default=1.0, description="value: the raw number times this (0.1 for tenths)")

    @field_validator("oid", mode="before")
    @classmethod
    def _numeric(cls, v: object) -> str:
        return numeric_oid(v)


class TrapEntry(BaseModel):
    """snmpTrapOID -> event name, kind, severity, alert or not, titles; optionally which varbinds
    name the interface, the component, a reading (see `VarbindRole`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    oid: str
    name: str = Field(min_length=1, description="the NOTIFICATION-TYPE (or TRAP-TYPE) name in its MIB")
    mib: str = ""
    event: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: TrapKind = "other"
    severity: Severity = "informational"
    alert: bool = False
    # device | interface | entity | an OID prefix whose varbind value tells the alerts apart
    group: str = "device"
    interface: bool = Field(default=False, description="carries ifIndex/ifOperStatus varbinds")
    varbinds: dict[VarbindRole, VarbindRef] = Field(default_factory=dict)
    ok_states: list[int] = Field(
        default_factory=list,
        description="values of the `state` varbind that mean normal: a status-change trap reporting "
        "one is informational and raises no alert (CISCO-ENVMON-MIB normal(1))",
    )
    title: Title

    @field_validator("oid", mode="before")
    @classmethod
    def _numeric(cls, v: object) -> str:
        return numeric_oid(v)

    @field_validator("group")
    @classmethod
    def _group(cls, v: str) -> str:
        if v in ("device", "interface", "entity"):
            return v
        return numeric_oid(v)

    @model_validator(mode="after")
    def _consistent(self) -> TrapEntry:
        if self.group == "entity" and not ({"entity", "entity_name"} & set(self.varbinds)):
            raise ValueError(f"{self.name}: group: entity needs varbinds.entity or varbinds.entity_name")
        if self.ok_states and "state" not in self.varbinds:
            raise ValueError(f"{self.name}: ok_states needs varbinds.state")
        if {"ifindex", "ifname"} & set(self.varbinds) and not self.interface:
            raise ValueError(f"{self.name}: varbinds.ifindex/ifname need interface: true")
        return self
