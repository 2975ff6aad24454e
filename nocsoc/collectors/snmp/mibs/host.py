"""Server health: HOST-RESOURCES-MIB (CPU load per processor, storage) and UCD-SNMP-MIB (memory, load)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from nocsoc.collectors.snmp import areas
from nocsoc.collectors.snmp import oids as O
from nocsoc.collectors.snmp.mibs import FixedArea, num, text
from nocsoc.collectors.snmp.session import Column, Value
from nocsoc.schema import MEMORY, PROCESSOR, STORAGE, Point

HR_DEVICE_DESCR = "1.3.6.1.2.1.25.3.2.1.3"  # hrDeviceDescr, names the hrProcessorTable rows

COLUMNS = (
    O.HR_PROCESSOR_LOAD,
    O.HR_STORAGE_TYPE,
    O.HR_STORAGE_DESCR,
    O.HR_STORAGE_UNITS,
    O.HR_STORAGE_SIZE,
    O.HR_STORAGE_USED,
    O.UCD_LA_LOAD_INT,
)
SCALARS = O.UCD_SCALARS

STORAGE_KINDS = {
    1: "other",
    2: "ram",
    3: "virtual_memory",
    4: "fixed_disk",
    5: "removable_disk",
    6: "floppy",
    7: "compact_disc",
    8: "ram_disk",
    9: "flash",
    10: "network_disk",
}


def storage_kind(type_oid: Value | None) -> str:
    """hrStorageType (an OID under hrStorageTypes) as a short name."""
    if isinstance(type_oid, str) and type_oid.startswith(O.HR_STORAGE_TYPES + "."):
        return STORAGE_KINDS.get(int(type_oid.rsplit(".", 1)[1]), "other")
    return "other"


def health_fields(scalars: Mapping[str, Value], tables: Mapping[str, Column]) -> dict[str, object]:
    """DEVICE fields from whatever the device has: hrProcessorLoad, UCD memory/load, hrStorage RAM."""
    fields: dict[str, object] = {}
    loads = [v for v in tables.get(O.HR_PROCESSOR_LOAD, {}).values() if isinstance(v, int)]
    if loads:
        fields["cpu_pct"] = sum(loads) / len(loads)
    elif (idle := num(scalars.get(O.UCD_SS_CPU_IDLE))) is not None:
        fields["cpu_pct"] = 100 - idle
    total = num(scalars.get(O.UCD_MEM_TOTAL_REAL))
    avail = num(scalars.get(O.UCD_MEM_AVAIL_REAL))
    if total and avail is not None:
        # net-snmp's memAvailReal is free memory; buffers and page cache are reclaimable, not used.
        free = avail + (num(scalars.get(O.UCD_MEM_BUFFER)) or 0) + (num(scalars.get(O.UCD_MEM_CACHED)) or 0)
        used = max(total - free, 0)
        fields.update(
            mem_total_bytes=total * 1024, mem_used_bytes=used * 1024, mem_used_pct=used / total * 100
        )
    else:
        ram = physical_memory(tables)
        if ram is not None:
            _name, total_b, used_b = ram
            fields.update(mem_total_bytes=total_b, mem_used_bytes=used_b, mem_used_pct=used_b / total_b * 100)
    for la_index, name in ((1, "load1"), (2, "load5"), (3, "load15")):
        v = num(tables.get(O.UCD_LA_LOAD_INT, {}).get((la_index,)))
        if v is not None:
            fields[name] = v / 100
    return fields


_RECLAIMABLE = re.compile(r"buffer|cache", re.I)
_NOT_RAM = re.compile(r"swap|virtual|shared|buffer|cache|descriptor|packet", re.I)


def _bytes(tables: Mapping[str, Column], index: tuple[int, ...], col: str) -> int | None:
    v = num(tables.get(col, {}).get(index))
    if v is None:
        return None
    return v * (num(tables.get(O.HR_STORAGE_UNITS, {}).get(index)) or 1)


def physical_memory(tables: Mapping[str, Column]) -> tuple[str, int, int] | None:
    """(name, total bytes, used bytes) of the RAM in hrStorageTable, buffers and cache not counted
    as used: net-snmp and most embedded agents count them in the RAM row's hrStorageUsed (a
    Linux box then looks 97% full at 34%), and list them as their own rows ("Memory buffers",
    "Cached memory", "RAM (Buffers)"), which are subtracted here."""
    main: tuple[str, int, int] | None = None
    reclaim = 0
    for index, t in tables.get(O.HR_STORAGE_TYPE, {}).items():
        kind = storage_kind(t)
        if kind not in ("ram", "other"):
            continue
        descr = text(tables.get(O.HR_STORAGE_DESCR, {}).get(index))
        size = _bytes(tables, index, O.HR_STORAGE_SIZE)
        used = _bytes(tables, index, O.HR_STORAGE_USED)
        if not size or used is None:
            continue
        if _RECLAIMABLE.search(descr):
            reclaim += used
        elif kind == "ram" and main is None and not _NOT_RAM.search(descr):
            main = (descr or "RAM", size, used)
    if main is None:
        return None
    name, size, used = main
    return name, size, max(used - reclaim, 0) if reclaim <= used else used


def processor_points(tags: Mapping[str, str], tables: Mapping[str, Column], time_ns: int) -> list[Point]:
    """One PROCESSOR point per hrProcessorTable row."""
    names = tables.get(HR_DEVICE_DESCR, {})
    out = []
    for index, load in sorted(tables.get(O.HR_PROCESSOR_LOAD, {}).items()):
        if isinstance(load, int):
            label = ".".join(map(str, index))
            name = f"{text(names.get(index)) or 'cpu'} #{label}"
            out.append(PROCESSOR.point(time_ns, {**tags, "processor": name}, {"load_pct": load}))
    return out


def storage_points(tags: Mapping[str, str], tables: Mapping[str, Column], time_ns: int) -> list[Point]:
    """One STORAGE point per hrStorageTable row with a size."""
    points = []
    for index, size in tables.get(O.HR_STORAGE_SIZE, {}).items():
        if not isinstance(size, int) or size <= 0:
            continue
        units = num(tables.get(O.HR_STORAGE_UNITS, {}).get(index)) or 1
        used = num(tables.get(O.HR_STORAGE_USED, {}).get(index)) or 0
        descr = text(tables.get(O.HR_STORAGE_DESCR, {}).get(index)) or ".".join(map(str, index))
        points.append(
            STORAGE.point(
                time_ns,
                {
                    **tags,
                    "storage": descr,
                    "kind": storage_kind(tables.get(O.HR_STORAGE_TYPE, {}).get(index)),
                },
                {"size_bytes": size * units, "used_bytes": used * units, "used_pct": used / size * 100},
            )
        )
    return points


class HostArea(FixedArea):
    """HOST-RESOURCES-MIB and UCD-SNMP-MIB: CPU, RAM (without buffers/cache), storage, load."""

    name = "host"
    order = 20
    description = "HOST-RESOURCES-MIB, UCD-SNMP-MIB: cpu, memory, load (device, processor, memory, storage)"
    scalar_oids = SCALARS
    column_oids = COLUMNS
    slow_column_oids = (HR_DEVICE_DESCR,)

    def build(self, ctx: areas.Context, state: Any, fetched: areas.Fetched) -> areas.Output:
        t = fetched.tables
        points = storage_points(ctx.tags, t, ctx.time_ns) + processor_points(ctx.tags, t, ctx.time_ns)
        ram = physical_memory(t)
        if ram is not None:
            name, total_b, used_b = ram
            points.append(
                MEMORY.point(
                    ctx.time_ns,
                    {**ctx.tags, "pool": name},
                    {"total_bytes": total_b, "used_bytes": used_b, "used_pct": used_b / total_b * 100},
                )
            )
        return areas.Output(points, health_fields(fetched.scalars, t))


areas.register(HostArea())
