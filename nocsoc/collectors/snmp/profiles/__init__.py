"""Device profiles: what a vendor's device is and which of its vendor-MIB tables to poll, as data.

A profile is one YAML file in this package (shipped) or in the user's directory (`snmp:
profiles_dir` in nocsoc.yaml; a user file with a shipped profile's name replaces it). It matches
devices by sysObjectID prefix and optionally a sysDescr pattern, gives vendor, OS and default
role, and lists tables: optics (rx/tx dBm, bias, voltage, module temperature, tied to the
ifIndex), processor, memory, temperature, fan, psu, voltage, current, power, or an
ENTITY-SENSOR-shaped table (`entity-sensor`, e.g. CISCO-ENTITY-SENSOR-MIB). Each column names
its numeric OID and its unit ("0.01 dBm", "0.1 uW", "mW", "0.1 C", "kB", "%"...); each table
says how its row index reaches an interface (`ifindex`, `entity` through ENTITY-MIB's
entAliasMapping, or `name` through a name column matched to ifName/ifDescr).

A profile also names the vendor's notifications (`traps:`, the trap catalogue's entries: OID,
event, kind, severity, which varbinds give the interface, component or reading, titles in
English and Vietnamese); the trap receiver merges every profile's into its catalogue.

Adding a vendor = one YAML file (citing its MIB) plus a walk-based test; no code changes. The
table-driven area that applies profiles is `nocsoc.collectors.snmp.mibs.vendor`.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from nocsoc.collectors.trapspec import TrapEntry
from nocsoc.errors import NocsocError
from nocsoc.inventory.model import Role
from nocsoc.yamlio import parse_yaml, validation_problems

TableKind = Literal[
    "optics",
    "processor",
    "memory",
    "temperature",
    "fan",
    "psu",
    "voltage",
    "current",
    "power",
    "entity-sensor",
    "ups",
]
IndexKind = Literal["ifindex", "entity", "name", "none"]

_OID = re.compile(r"^\.?\d+(\.\d+)+$")


class ProfileError(NocsocError):
    """A profile file that does not load, naming the file, the line and what is wrong."""


# ---- units ---------------------------------------------------------------------------------------
# symbol -> (dimension, factor to the dimension's base unit)
_SYMBOLS: dict[str, tuple[str, float]] = {
    "dBm": ("dbm", 1.0),
    "W": ("power", 1.0),
    "mW": ("power", 1e-3),
    "uW": ("power", 1e-6),
    "µW": ("power", 1e-6),
    "nW": ("power", 1e-9),
    "C": ("celsius", 1.0),
    "A": ("current", 1.0),
    "mA": ("current", 1e-3),
    "uA": ("current", 1e-6),
    "µA": ("current", 1e-6),
    "V": ("voltage", 1.0),
    "mV": ("voltage", 1e-3),
    "uV": ("voltage", 1e-6),
    "µV": ("voltage", 1e-6),
    "%": ("percent", 1.0),
    "B": ("bytes", 1.0),
    "kB": ("bytes", 1024.0),
    "KB": ("bytes", 1024.0),
    "KiB": ("bytes", 1024.0),
    "MB": ("bytes", 1048576.0),
    "MiB": ("bytes", 1048576.0),
    "GB": ("bytes", 1073741824.0),
    "rpm": ("rpm", 1.0),
    "s": ("time", 1.0),
    "min": ("time", 60.0),
    "h": ("time", 3600.0),
    "Hz": ("hertz", 1.0),
    "": ("number", 1.0),
}
_UNIT = re.compile(r"^\s*(?:(?P<num>[0-9.eE+-]+)(?:/(?P<den>[0-9.]+))?\s+)?(?P<sym>[^\s0-9][^\s]*)?\s*$")


@dataclass(frozen=True)
class Unit:
    """A raw value's unit: factor x symbol, e.g. "0.01 dBm", "0.1 uW", "1/256 C", "kB"."""

    text: str
    factor: float
    dimension: str
    base: float  # the symbol's factor to the dimension's base unit (W, A, V, bytes)

    @classmethod
    def parse(cls, text: str) -> Unit:
        m = _UNIT.match(text)
        if not m:
            raise ValueError(f"unit {text!r}: expected '[factor] symbol', e.g. '0.01 dBm', 'uW', '0.1 C'")
        factor = float(m.group("num")) if m.group("num") else 1.0
        if m.group("den"):
            factor /= float(m.group("den"))
        sym = m.group("sym") or ""
        if sym not in _SYMBOLS:
            raise ValueError(
                f"unit {text!r}: unknown symbol {sym!r} (known: {', '.join(s for s in _SYMBOLS if s)})"
            )
        dim, base = _SYMBOLS[sym]
        return cls(text, factor, dim, base)

    def convert(self, raw: float, target: str) -> float | None:
        """`raw` in the target unit (dBm, mA, V, C, %, bytes, rpm); None when power <= 0 (no
        light: log10 has no answer) or the dimensions do not convert."""
        value = raw * self.factor
        if target == "dBm":
            if self.dimension == "dbm":
                return value
            if self.dimension == "power":
                watts = value * self.base
                return 10 * math.log10(watts * 1000) if watts > 0 else None
            return None
        dim, base = _SYMBOLS[target]
        if dim != self.dimension and self.dimension != "number":
            return None
        return value * self.base / base


# What each table kind's fields are, in which unit they are written.
FIELDS: dict[str, dict[str, str]] = {
    "optics": {"rx_dbm": "dBm", "tx_dbm": "dBm", "bias_ma": "mA", "voltage_v": "V", "temperature_c": "C"},
    "processor": {"load_pct": "%"},
    "memory": {"used_pct": "%", "used_bytes": "B", "free_bytes": "B", "total_bytes": "B"},
    "temperature": {"value": "C", "status": ""},
    "fan": {"value": "rpm", "status": ""},
    "psu": {"value": "W", "status": ""},
    "voltage": {"value": "V", "status": ""},
    "current": {"value": "A", "status": ""},
    "power": {"value": "W", "status": ""},
    "entity-sensor": {},
    # one UPS point per device: vendor UPS MIBs (APC PowerNet) in UPS-MIB's terms
    "ups": {
        "battery_status": "",
        "battery_charge_pct": "%",
        "runtime_min": "min",
        "seconds_on_battery": "s",
        "on_battery": "",
        "output_load_pct": "%",
        "input_voltage": "V",
        "output_voltage": "V",
        "battery_temperature_c": "C",
    },
}


class ColumnSpec(BaseModel):
    """One column: its numeric OID, the unit of its raw values, raw values meaning "no reading"."""

    model_config = ConfigDict(extra="forbid")

    oid: str
    unit: str = ""
    absent: list[int] = Field(default_factory=list, description="raw values that mean no reading")
    ok: list[int] = Field(default_factory=list, description="status values meaning normal (status columns)")
    pattern: str | None = Field(
        default=None, description="regex whose first group is the number, for readings inside text"
    )
    map: dict[int, float] | None = Field(
        default=None, description="an enumeration's values mapped to the field's (unmapped: no reading)"
    )

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, v: str | None) -> str | None:
        if v is not None and re.compile(v).groups < 1:
            raise ValueError(f"pattern {v!r} needs a group around the number")
        return v

    @field_validator("oid")
    @classmethod
    def _numeric(cls, v: str) -> str:
        if not _OID.match(v):
            raise ValueError(f"{v!r} is not a numeric OID")
        return v.lstrip(".")

    @field_validator("unit")
    @classmethod
    def _unit(cls, v: str) -> str:
        Unit.parse(v)
        return v

    @cached_property
    def parsed_unit(self) -> Unit:
        return Unit.parse(self.unit)


class TableSpec(BaseModel):
    """One vendor table: its kind, columns, how its index reaches an interface, its labels."""

    model_config = ConfigDict(extra="forbid")

    kind: TableKind
    name: str = Field(description="the MIB table's name (documentation and messages)")
    oid: str | None = Field(default=None, description="entity-sensor: the table's entry OID")
    index: IndexKind = "none"
    index_part: int = Field(default=-1, description="which arc of a multi-arc row index is the key")
    name_column: str | None = Field(
        default=None,
        description="the column naming the port (index: name; with ifindex, when the ifIndex is unknown)",
    )
    label_column: str | None = Field(default=None, description="a text column naming each row")
    label: str = Field(default="", description="label template: {label} {entity} {index} {ifname}")
    where_index: str | None = Field(default=None, description="regex the dotted row index must match")
    where_label: str | None = Field(default=None, description="regex the row's label must match")
    skip_label: str | None = Field(default=None, description="regex: rows whose label matches are skipped")
    entity_column: str | None = Field(default=None, description="a column holding the row's entPhysicalIndex")
    require: list[str] = Field(
        default_factory=list, description="columns that must be non-zero for a row to count"
    )
    only_if_empty: bool = Field(
        default=False, description="read this table only when the tables of its kind before it gave nothing"
    )
    device_label: str | None = Field(
        default=None,
        description="regex: only rows whose label matches count in the device's cpu/memory figure",
    )
    columns: dict[str, ColumnSpec | list[ColumnSpec]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> TableSpec:
        allowed = FIELDS[self.kind]
        for f in self.columns:
            if f not in allowed:
                raise ValueError(
                    f"table {self.name}: a {self.kind} table has no field {f!r} "
                    f"(fields: {', '.join(allowed) or 'none, give oid'})"
                )
        if self.kind == "entity-sensor" and not self.oid:
            raise ValueError(f"table {self.name}: an entity-sensor table needs its entry `oid`")
        if self.kind != "entity-sensor" and not self.columns:
            raise ValueError(f"table {self.name}: no columns")
        if self.index == "name" and not self.name_column:
            raise ValueError(f"table {self.name}: index: name needs name_column")
        for col in (self.oid, self.name_column, self.label_column, self.entity_column, *self.require):
            if col is not None and not _OID.match(col):
                raise ValueError(f"table {self.name}: {col!r} is not a numeric OID")
        for rx in (self.where_index, self.where_label, self.skip_label, self.device_label):
            if rx is not None:
                re.compile(rx)
        return self

    def specs(self) -> Iterable[tuple[str, str, ColumnSpec]]:
        """(field, lane, column) of every column; lanes number 1.. for a list of columns."""
        for f, spec in self.columns.items():
            if isinstance(spec, list):
                for n, s in enumerate(spec, start=1):
                    yield f, str(n), s
            else:
                yield f, "", spec

    def column_oids(self) -> list[str]:
        """The columns read every cycle: the readings (and what decides whether a row counts)."""
        out = [s.oid for _f, _lane, s in self.specs()]
        if self.kind == "entity-sensor" and self.oid:
            out += [f"{self.oid.lstrip('.')}.{c}" for c in (1, 2, 3, 4, 5)]
        out += [c.lstrip(".") for c in self.require]
        return out

    def name_oids(self) -> list[str]:
        """The columns that name rows and tie them to ports: they rarely change, so the poller
        reads them with the other slow columns (first cycle, then every absent_reprobe_cycles)."""
        return [c.lstrip(".") for c in (self.name_column, self.label_column, self.entity_column) if c]


class MatchRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sys_object_id: str
    sys_descr: str | None = Field(default=None, description="regex searched in sysDescr")

    @field_validator("sys_object_id")
    @classmethod
    def _numeric(cls, v: str) -> str:
        if not re.match(r"^\.?\d+(\.\d+)*$", v):
            raise ValueError(f"{v!r} is not a numeric OID prefix")
        return v.lstrip(".")

    @field_validator("sys_descr")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            re.compile(v)
        return v

    def matches(self, object_id: str, descr: str) -> bool:
        oid = object_id.lstrip(".")
        if not (oid == self.sys_object_id or oid.startswith(self.sys_object_id + ".")):
            return False
        return self.sys_descr is None or re.search(self.sys_descr, descr) is not None


class DeviceProfile(BaseModel):
    """One vendor/OS family (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    vendor: str
    os: str = ""
    role: Role | None = None
    mibs: list[str] = Field(description="the vendor MIBs the tables come from (cited)")
    match: list[MatchRule] = Field(default_factory=list)
    include: list[str] = Field(default_factory=list, description="profiles whose tables are added")
    tables: list[TableSpec] = Field(default_factory=list)
    traps: list[TrapEntry] = Field(
        default_factory=list, description="the vendor's notifications (trap catalogue entries, MIB cited)"
    )
    notes: str = ""
    source: str = Field(default="", exclude=True)


@dataclass(frozen=True)
class Match:
    """The profile a device matched, with its included profiles' tables flattened."""

    profile: DeviceProfile
    tables: tuple[TableSpec, ...]
    rule: MatchRule


class Catalog:
    """Every profile (shipped + user), and matching of a device to the most specific one."""

    def __init__(self, profiles: dict[str, DeviceProfile]) -> None:
        self.profiles = profiles
        for p in profiles.values():
            for inc in p.include:
                if inc not in profiles:
                    raise ProfileError(f"include {inc!r}: no such profile", file=p.source, key="include")

    def tables_of(self, profile: DeviceProfile, _seen: frozenset[str] = frozenset()) -> tuple[TableSpec, ...]:
        out = list(profile.tables)
        for inc in profile.include:
            if inc not in _seen:
                out += self.tables_of(self.profiles[inc], _seen | {profile.name})
        return tuple(out)

    def match(self, object_id: str, descr: str) -> Match | None:
        """The profile whose matching rule has the longest sysObjectID prefix (a rule with a
        sysDescr pattern wins a tie); None when nothing matches."""
        best: tuple[tuple[int, int], DeviceProfile, MatchRule] | None = None
        for p in self.profiles.values():
            for rule in p.match:
                if rule.matches(object_id, descr):
                    score = (len(rule.sys_object_id.split(".")), int(rule.sys_descr is not None))
                    if best is None or score > best[0]:
                        best = (score, p, rule)
        if best is None:
            return None
        return Match(best[1], self.tables_of(best[1]), best[2])


def load_file(path: Path, text: str | None = None) -> DeviceProfile:
    """One profile file, or ProfileError naming file:line:key for every problem in it."""
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ProfileError(f"cannot read the profile: {exc}", file=path) from None
    doc = parse_yaml(text, path, ProfileError)
    if not isinstance(doc.data, dict):
        raise ProfileError("a profile is a mapping (name, vendor, mibs, match, tables)", file=path)
    try:
        profile = DeviceProfile.model_validate(doc.data)
    except ValidationError as exc:
        raise ProfileError(problems=validation_problems(exc, doc, DeviceProfile)) from None
    profile.source = str(path)
    return profile


def shipped() -> dict[str, DeviceProfile]:
    out: dict[str, DeviceProfile] = {}
    for entry in sorted(resources.files(__name__).iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".yaml", ".yml")):
            p = load_file(Path(str(entry)), entry.read_text(encoding="utf-8"))
            if p.name in out:
                raise ProfileError(f"profile name {p.name!r} also in {out[p.name].source}", file=str(entry))
            out[p.name] = p
    return out


def load_catalog(user_dir: Path | None = None) -> Catalog:
    profiles = shipped()
    if user_dir is not None:
        if not user_dir.is_dir():
            raise ProfileError("snmp.profiles_dir: not a directory", file=user_dir)
        for path in sorted(user_dir.glob("*.y*ml")):
            p = load_file(path)
            profiles[p.name] = p
    return Catalog(profiles)


_cache: dict[Path | None, Catalog] = {}
_lock = threading.Lock()


def catalog(user_dir: Path | None = None) -> Catalog:
    """The catalog, loaded once per user directory (`reload()` reads it again)."""
    with _lock:
        if user_dir not in _cache:
            _cache[user_dir] = load_catalog(user_dir)
        return _cache[user_dir]


def reload(user_dir: Path | None = None) -> Catalog:
    """Read the profiles again (SIGHUP); on error the cached catalog stays and ProfileError says why."""
    fresh = load_catalog(user_dir)
    with _lock:
        _cache[user_dir] = fresh
    return fresh


def user_dir(configured: Path | None, base: Path | None) -> Path | None:
    """`snmp.profiles_dir` made absolute: `~` expanded, relative to nocsoc.yaml's directory."""
    if configured is None:
        return None
    p = Path(configured).expanduser()
    return p if p.is_absolute() or base is None else (base / p)
