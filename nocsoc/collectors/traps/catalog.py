"""The trap catalogue: snmpTrapOID -> event name, kind, severity, alert or not (data, not code).

Three layers, later ones winning for the same OID:
1. the built-in table (`catalog.yaml`): the generic traps and a few standard MIBs;
2. the vendor notifications named in the SNMP device profiles (`traps:` of each profile YAML,
   shipped and `snmp.profiles_dir`), which apply to any sender. When two profiles of different
   vendors give the same OID different meanings (a user profile re-using an arc), the entry of
   the sender's vendor (the inventory device's `vendor`) wins; otherwise the first profile in load
   order (the shipped ones by name, then the user directory's);
3. the files listed in `traps.catalog`, so a site can re-grade any trap (for every sender).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from nocsoc.collectors.trapspec import Severity, Title, TrapEntry, TrapKind, VarbindRef
from nocsoc.errors import ConfigError

if TYPE_CHECKING:
    from nocsoc.collectors.snmp.profiles import Catalog as ProfileCatalog

BUILTIN = Path(__file__).with_name("catalog.yaml")

__all__ = ["BUILTIN", "Severity", "Title", "TrapCatalog", "TrapEntry", "TrapKind", "VarbindRef",
           "event_name"]


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    traps: list[TrapEntry]


class TrapCatalog:
    def __init__(self, entries: Iterable[TrapEntry] = ()) -> None:
        self._by_oid: dict[str, TrapEntry] = {}
        # OID -> vendor -> entry, for the OIDs profiles of different vendors define differently
        self._by_vendor: dict[str, dict[str, TrapEntry]] = {}
        self._source: dict[str, str] = {}  # OID -> where its entry came from (shown by the CLI)
        self.extend(entries)

    def extend(self, entries: Iterable[TrapEntry], source: str = "catalogue") -> None:
        """Add or replace entries for every sender (built-in table, `traps.catalog` files)."""
        for e in entries:
            self._by_oid[e.oid] = e
            self._by_vendor.pop(e.oid, None)
            self._source[e.oid] = source

    def add_profile(self, profile: str, vendor: str, entries: Iterable[TrapEntry]) -> None:
        """A device profile's notifications. The first profile to name an OID gives the entry
        every sender gets; each vendor's own entry is also kept for that vendor's devices."""
        for e in entries:
            if not self._source.get(e.oid, "").startswith("profile "):
                self._by_oid[e.oid] = e
                self._source[e.oid] = f"profile {profile}"
            self._by_vendor.setdefault(e.oid, {}).setdefault(vendor, e)

    def lookup(self, trap_oid: str, vendor: str = "") -> TrapEntry | None:
        """The entry for a trap from a device of `vendor` (the inventory's vendor, may be empty)."""
        if vendor:
            alt = self._by_vendor.get(trap_oid)
            if alt is not None and vendor in alt:
                return alt[vendor]
        return self._by_oid.get(trap_oid)

    def source(self, trap_oid: str) -> str:
        return self._source.get(trap_oid, "")

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
        try:
            return _File.model_validate(data).traps
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"trap catalogue: {where}: {first['msg']}", file=path) from None

    @classmethod
    def load(cls, extra: Iterable[Path] = (), profiles: ProfileCatalog | None = None) -> TrapCatalog:
        """Built-in table, then every profile's `traps:` (`profiles`, e.g.
        `nocsoc.collectors.snmp.profiles.load_catalog(user_dir)`), then the `extra` files."""
        cat = cls()
        cat.extend(cls.read(BUILTIN), source="built-in")
        if profiles is not None:
            for p in profiles.profiles.values():  # load order: shipped by name, then the user's
                cat.add_profile(p.name, p.vendor, p.traps)
        for path in extra:
            cat.extend(cls.read(path), source=str(path))
        return cat


def event_name(text: str) -> str:
    """A MIB name as an event tag value: `fooBarBaz` -> `foo_bar_baz`."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", text).lower()
