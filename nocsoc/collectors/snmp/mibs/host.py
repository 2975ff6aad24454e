"""Server health: HOST-RESOURCES-MIB (CPU load per processor, storage) and UCD-SNMP-MIB (memory, load)."""

from __future__ import annotations

from collections.abc import Mapping

from nocsoc.collectors.snmp import oids as O
from nocsoc.collectors.snmp.mibs import num, text
from nocsoc.collectors.snmp.session import Column, Value
from nocsoc.schema import STORAGE, Point

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
        for index, t in tables.get(O.HR_STORAGE_TYPE, {}).items():
            if storage_kind(t) == "ram":
                units = num(tables.get(O.HR_STORAGE_UNITS, {}).get(index)) or 1
                size = num(tables.get(O.HR_STORAGE_SIZE, {}).get(index))
                used_units = num(tables.get(O.HR_STORAGE_USED, {}).get(index))
                if size and used_units is not None:
                    fields.update(
                        mem_total_bytes=size * units,
                        mem_used_bytes=used_units * units,
                        mem_used_pct=used_units / size * 100,
                    )
                break
    for la_index, name in ((1, "load1"), (2, "load5"), (3, "load15")):
        v = num(tables.get(O.UCD_LA_LOAD_INT, {}).get((la_index,)))
        if v is not None:
            fields[name] = v / 100
    return fields


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
