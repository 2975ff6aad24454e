"""The registry of SNMP MIB areas: what the poller reads, each area describing itself.

An area names the scalars and table columns it needs and turns the fetched values into schema
points with a pure function (`build`); the poller does all the I/O. Adding an area is one module
under `nocsoc.collectors.snmp.mibs` that calls `register(...)` at import, plus its test: the
registry imports every module of that package (`load()`), so nothing else is edited. The vendor
profiles (`nocsoc.collectors.snmp.profiles`, YAML data) come in through one table-driven area,
`profiles`, which applies the profile matched to the device's sysObjectID/sysDescr.

Why a registry and not if-branches: the poller used to know each area by name (a `Literal` and
one branch per area in `_collect`), so every new MIB touched the poller, its config and tests.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nocsoc.collectors.snmp.session import Column, Index, RowTime, Value
from nocsoc.schema import Point

if TYPE_CHECKING:
    from nocsoc.collectors.snmp.profiles import Match

log = logging.getLogger(__name__)


@dataclass
class System:
    """What the device said about itself (SNMPv2-MIB system group)."""

    object_id: str = ""
    descr: str = ""
    name: str = ""


@dataclass
class Context:
    """What an area may know of the device this cycle (filled by the poller, read by areas).

    `interfaces` ({ifIndex: ifName}) is filled by the interfaces area, which runs first, so the
    areas after it can tie optics and counters to ports. `problems` collects bad rows and unsafe
    values an area skipped or repaired: the poller counts them and logs each kind once per device.
    """

    tags: dict[str, str]
    time_ns: int
    cycle: int = 1
    rates: bool = True
    links: Mapping[str, str] = field(default_factory=dict)
    system: System = field(default_factory=System)
    profile: Match | None = None  # the device profile matched to the device, with its tables
    interfaces: dict[int, str] = field(default_factory=dict)
    ifdescr: dict[int, str] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (kind, message)

    def problem(self, kind: str, message: str) -> None:
        self.problems.append((kind, message))


@dataclass
class Fetched:
    """Values fetched for the areas of one cycle: scalars by OID, table columns by column OID."""

    scalars: Mapping[str, Value]
    tables: Mapping[str, Column]
    times: Mapping[str, Mapping[Index, RowTime]] = field(default_factory=dict)


@dataclass
class Output:
    """What an area made: schema points, fields for the device point (cpu_pct, mem_*...), and the
    number of interfaces (for the poll result)."""

    points: list[Point] = field(default_factory=list)
    device: dict[str, object] = field(default_factory=dict)
    interfaces: int = 0


class Area:
    """Base of every MIB area. Subclasses set `name` and override what they need.

    - `scalars`/`columns`: OIDs read every cycle (absent ones are re-asked only every
      `absent_reprobe_cycles`; the poller handles that).
    - `slow_columns`: read on the first cycle and then every `absent_reprobe_cycles` (names,
      containment: they rarely change); the poller keeps the last values in `Fetched.tables`.
    - `timed`: the columns are walked in their own GETBULKs carrying sysUpTime (counter rates).
    - `followup`: more columns to read once the first fetch is seen (e.g. 32-bit counters on a
      device with no ifXTable).
    - `build`: pure; never raises for a device's data (skip the row, `ctx.problem(...)`).
    """

    name: str = ""
    order: int = 50  # build order: interfaces 10, host 20, sensors 30, profiles 40, ups 50
    timed: bool = False
    description: str = ""

    def new_state(self) -> Any:
        return None

    def applies(self, ctx: Context) -> bool:
        return True

    def scalars(self, ctx: Context, state: Any) -> Sequence[str]:
        return ()

    def columns(self, ctx: Context, state: Any) -> Sequence[str]:
        return ()

    def slow_columns(self, ctx: Context, state: Any) -> Sequence[str]:
        return ()

    def followup(self, ctx: Context, state: Any, fetched: Fetched) -> Sequence[str]:
        return ()

    def build(self, ctx: Context, state: Any, fetched: Fetched) -> Output:
        raise NotImplementedError


_AREAS: dict[str, Area] = {}
_lock = threading.Lock()
_loaded = False


def register(area: Area) -> Area:
    """Add an area (at import of its module). A second area with the same name is a bug."""
    if not area.name:
        raise ValueError(f"{type(area).__name__}: an area needs a name")
    with _lock:
        old = _AREAS.get(area.name)
        if old is not None and type(old) is not type(area):
            raise ValueError(f"SNMP area {area.name!r} registered twice ({type(old).__name__})")
        _AREAS[area.name] = area
    return area


def load() -> dict[str, Area]:
    """Every registered area by name, importing each module of `nocsoc.collectors.snmp.mibs`."""
    global _loaded
    if not _loaded:
        from nocsoc.collectors.snmp import mibs

        for mod in pkgutil.iter_modules(mibs.__path__):
            importlib.import_module(f"{mibs.__name__}.{mod.name}")
        _loaded = True
    with _lock:
        return dict(sorted(_AREAS.items(), key=lambda kv: (kv[1].order, kv[0])))


def names() -> list[str]:
    return list(load())


def selected(wanted: Sequence[str]) -> list[Area]:
    """The areas named in the config, in build order (unknown names are refused by the config)."""
    areas = load()
    want = set(wanted)
    return [a for n, a in areas.items() if n in want]
