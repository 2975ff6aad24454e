"""The trap catalogue: snmpTrapOID -> event name, severity, alert or not (data, not code).

The built-in table (`catalog.yaml`) covers the generic traps and a few standard MIBs; vendor
profiles add theirs with `TrapCatalog.extend` or a YAML file listed in `traps.catalog`. A later
entry for the same OID replaces the earlier one, so a site can re-grade a trap.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nocsoc.errors import ConfigError

BUILTIN = Path(__file__).with_name("catalog.yaml")
Severity = Literal["informational", "low", "medium", "high", "critical"]


class Title(BaseModel):
    model_config = ConfigDict(extra="forbid")
    en: str
    vi: str


class TrapEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    oid: str = Field(pattern=r"^\d+(\.\d+)+$")
    name: str
    mib: str = ""
    event: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    severity: Severity = "informational"
    alert: bool = False
    # device | interface | an OID prefix whose varbind value tells the alerts apart (a BGP peer)
    group: str = "device"
    interface: bool = Field(default=False, description="carries ifIndex/ifOperStatus varbinds")
    title: Title


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    traps: list[TrapEntry]


def _oid(text: object) -> str:
    return str(text).lstrip(".")


class TrapCatalog:
    def __init__(self, entries: Iterable[TrapEntry] = ()) -> None:
        self._by_oid: dict[str, TrapEntry] = {}
        self.extend(entries)

    def extend(self, entries: Iterable[TrapEntry]) -> None:
        for e in entries:
            self._by_oid[e.oid] = e

    def lookup(self, trap_oid: str) -> TrapEntry | None:
        return self._by_oid.get(trap_oid)

    def entries(self) -> list[TrapEntry]:
        return list(self._by_oid.values())

    def __len__(self) -> int:
        return len(self._by_oid)

    @staticmethod
    def read(path: Path) -> list[TrapEntry]:
        """Entries of one catalogue file; ConfigError naming the file and entry otherwise."""
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"trap catalogue unreadable: {exc}", file=path) from None
        if isinstance(data, dict):
            for t in data.get("traps") or []:
                if isinstance(t, dict) and "oid" in t:
                    t["oid"] = _oid(t["oid"])  # YAML reads 1.3.6 as a string; a leading dot is common
        try:
            return _File.model_validate(data).traps
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"trap catalogue: {where}: {first['msg']}", file=path) from None

    @classmethod
    def load(cls, extra: Iterable[Path] = ()) -> TrapCatalog:
        cat = cls(cls.read(BUILTIN))
        for p in extra:
            cat.extend(cls.read(p))
        return cat


def event_name(text: str) -> str:
    """A MIB name as an event tag value: `fooBarBaz` -> `foo_bar_baz`."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", text).lower()
