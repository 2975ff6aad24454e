"""The table-driven area: applies the device profile matched to the device (vendor MIB tables).

Profiles are data (`nocsoc.collectors.snmp.profiles`, one YAML file per vendor/OS family); this
module is the one piece of code that reads any of them: per table, per row, convert each column
to its field's unit, tie the row to an interface, and make OPTICS, PROCESSOR, MEMORY and SENSOR
points; the device point gets cpu_pct (mean of the processors) and memory (sum of the pools).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from nocsoc.collectors.snmp import areas
from nocsoc.collectors.snmp.mibs import num, sensors, text
from nocsoc.collectors.snmp.profiles import Match, TableSpec
from nocsoc.collectors.snmp.session import Column, Index
from nocsoc.schema import MEMORY, PROCESSOR, SENSOR, UPS, Point, SchemaError

SENSOR_KIND = {
    "temperature": "celsius",
    "fan": "rpm",
    "psu": "watts",
    "voltage": "volts_dc",
    "current": "amperes",
    "power": "watts",
}
STATUS_KIND = {"fan": "fan", "psu": "psu"}


def _dotted(index: Index) -> str:
    return ".".join(map(str, index))


def number(value: object) -> float | None:
    """A numeric value: integers as they are, text such as "0.313681" or "42.5 C" parsed (some
    vendor tables carry readings as DisplayString)."""
    if isinstance(value, int):
        return float(value)
    if isinstance(value, bytes):
        m = _NUMBER.match(value.decode("ascii", errors="replace"))
        return float(m.group(0)) if m else None
    return None


_NUMBER = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")


def _key(index: Index, part: int) -> int | None:
    try:
        return index[part]
    except IndexError:
        return None


class _Device:
    """The device's interfaces and entities as a table row needs them."""

    def __init__(
        self, ctx: areas.Context, tables: Mapping[str, Column], entities: sensors.Entities | None
    ) -> None:
        self.ctx = ctx
        self.entities = entities
        by_name: dict[str, str] = {}
        for i, name in ctx.ifdescr.items():
            if name and i in ctx.interfaces:
                by_name.setdefault(name.lower(), ctx.interfaces[i])
        for name in ctx.interfaces.values():
            by_name[name.lower()] = name
        self.by_name = by_name

    def port(self, table: TableSpec, index: Index, tables: Mapping[str, Column]) -> str | None:
        key = _key(index, table.index_part)
        if key is None:
            return None
        if table.index == "ifindex":
            port = self.ctx.interfaces.get(key)
            if port is None and table.name_column:  # the row's own name for the port ("sfp1")
                name = text(tables.get(table.name_column, {}).get(index))
                port = self.by_name.get(name.lower()) if name else None
            return port
        if table.index == "entity":
            if self.entities is None:
                return None
            ifindex = self.entities.if_index.get((key,))
            if ifindex is not None and ifindex in self.ctx.interfaces:
                return self.ctx.interfaces[ifindex]
            name = self.entities.names.get((key,), "")
            return self.by_name.get(name.lower()) if name else None
        if table.index == "name" and table.name_column:
            name = text(tables.get(table.name_column, {}).get(index))
            return self.by_name.get(name.lower()) if name else None
        return None

    def label(self, table: TableSpec, index: Index, tables: Mapping[str, Column], port: str | None) -> str:
        key = _key(index, table.index_part)
        if table.entity_column:  # at the row's index, else at its first arc (a core's CPU)
            col = tables.get(table.entity_column, {})
            key = num(col.get(index, col.get(index[:1])))
        entity = ""
        if self.entities is not None and key is not None:
            entity = self.entities.names.get((key,), "")
        label = text(tables.get(table.label_column, {}).get(index)) if table.label_column else ""
        template = table.label or (
            "{label}"
            if table.label_column
            else "{entity}"
            if table.index == "entity"
            else "{ifname}"
            if port
            else "{table} {index}"
        )
        out = template.format(
            label=label, entity=entity, index=_dotted(index), ifname=port or "", table=table.name
        ).strip()
        return out or f"{table.name} {_dotted(index)}"


def _rows(table: TableSpec, tables: Mapping[str, Column]) -> list[Index]:
    rows: set[Index] = set()
    for _f, _lane, spec in table.specs():
        rows.update(tables.get(spec.oid, {}))
    return sorted(rows)


def _values(
    table: TableSpec, index: Index, tables: Mapping[str, Column], targets: Mapping[str, str]
) -> list[tuple[str, str, float, bool]]:
    """(field, lane, value, is_status) of one row: absent markers and unconvertible values left out."""
    out = []
    for f, lane, spec in table.specs():
        value_in = tables.get(spec.oid, {}).get(index)
        if spec.pattern is not None:
            m = re.search(spec.pattern, text(value_in)) if value_in is not None else None
            raw = number(m.group(1).encode()) if m else None
        else:
            raw = number(value_in)
        if raw is None or raw in spec.absent:
            continue
        if spec.map is not None:
            if int(raw) not in spec.map:
                continue
            raw = spec.map[int(raw)]
        if f == "status":
            out.append((f, lane, raw, True))
            continue
        value = spec.parsed_unit.convert(raw, targets[f])
        if value is not None:
            out.append((f, lane, value, False))
    return out


def _needs_entities(t: TableSpec) -> bool:
    return t.index == "entity" or t.kind == "entity-sensor" or "{entity}" in t.label or bool(t.entity_column)


def build(ctx: areas.Context, match: Match, tables: Mapping[str, Column]) -> areas.Output:
    """The points of every table of the matched profile (pure: values in, points out)."""
    from nocsoc.collectors.snmp.profiles import FIELDS

    needs_entities = any(_needs_entities(t) for t in match.tables)
    entities = sensors.entities_of(tables) if needs_entities else None
    dev = _Device(ctx, tables, entities)
    tags = ctx.tags
    t_ns = ctx.time_ns
    points: list[Point] = []
    readings: list[sensors.Reading] = []
    loads: list[float] = []
    mem_total = mem_used = 0
    mem_pcts: list[float] = []
    used_names: set[tuple[str, str]] = set()
    produced: set[str] = set()  # kinds that gave rows (for only_if_empty tables)
    ups: dict[str, object] = {}

    def unique(name: str, index: Index, kind: str) -> str:
        out = name if (kind, name) not in used_names else f"{name} #{_dotted(index)}"
        used_names.add((kind, out))
        return out

    for table in match.tables:
        if table.kind == "entity-sensor":
            assert table.oid is not None
            points += sensors.points(
                tags, tables, entities or sensors.Entities(), ctx.interfaces, t_ns, base=table.oid.lstrip(".")
            )
            continue
        if table.only_if_empty and table.kind in produced:
            continue
        targets = FIELDS[table.kind]
        device_label = re.compile(table.device_label) if table.device_label else None
        where_index = re.compile(table.where_index) if table.where_index else None
        where_label = re.compile(table.where_label) if table.where_label else None
        skip_label = re.compile(table.skip_label) if table.skip_label else None
        for index in _rows(table, tables):
            if where_index is not None and not where_index.search(_dotted(index)):
                continue
            port = dev.port(table, index, tables)
            label = dev.label(table, index, tables, port)
            if where_label is not None and not where_label.search(label):
                continue
            if skip_label is not None and skip_label.search(label):
                continue
            if any(not number(tables.get(c, {}).get(index)) for c in table.require):
                continue
            values = _values(table, index, tables, targets)
            if not values:
                continue
            produced.add(table.kind)
            counts = device_label is None or bool(device_label.search(label))
            try:
                if table.kind == "ups":
                    ups.update({f: v for f, _lane, v, _st in values})
                elif table.kind == "optics":
                    for f, lane, v, _st in values:
                        readings.append(sensors.Reading((port or label, lane), port, f, v))
                elif table.kind == "processor":
                    for _f, _lane, v, _st in values:
                        if counts:
                            loads.append(v)
                        points.append(
                            PROCESSOR.point(
                                t_ns,
                                {**tags, "processor": unique(label, index, "processor")},
                                {"load_pct": v},
                            )
                        )
                elif table.kind == "memory":
                    got = {f: v for f, _lane, v, _st in values}
                    total, used, free, pct = (
                        got.get(k) for k in ("total_bytes", "used_bytes", "free_bytes", "used_pct")
                    )
                    if total is None and used is not None and free is not None:
                        total = used + free
                    if used is None and total is not None and free is not None:
                        used = total - free
                    if pct is None and total and used is not None:
                        pct = used / total * 100
                    if used is None and total and pct is not None:
                        used = total * pct / 100
                    if pct is None:
                        continue
                    fields: dict[str, object] = {"used_pct": pct}
                    if total and used is not None:
                        fields.update(total_bytes=int(total), used_bytes=int(used))
                        if counts:
                            mem_total += int(total)
                            mem_used += int(used)
                    elif counts:
                        mem_pcts.append(pct)
                    points.append(
                        MEMORY.point(t_ns, {**tags, "pool": unique(label, index, "memory")}, fields)
                    )
                else:
                    value = next((v for f, _l, v, st in values if not st), None)
                    status = next((v for f, _l, v, st in values if st), None)
                    kind = SENSOR_KIND[table.kind]
                    sfields: dict[str, object] = {}
                    if status is not None and table.kind in STATUS_KIND:
                        kind = STATUS_KIND[table.kind] if value is None else kind
                        ok_values = next(s.ok for f, _l, s in table.specs() if f == "status")
                        sfields["ok"] = int(int(status) in ok_values) if ok_values else None
                    sfields["value"] = value if value is not None else status
                    points.append(
                        SENSOR.point(
                            t_ns,
                            {**tags, "sensor": unique(label, index, f"sensor:{kind}"), "kind": kind},
                            sfields,
                        )
                    )
            except SchemaError as exc:
                ctx.problem(
                    "bad_values",
                    f"profile {match.profile.name} table {table.name} row {_dotted(index)} skipped: {exc}",
                )
    points = sensors.optics_points(tags, readings, t_ns) + points
    if ups:
        try:
            points.append(UPS.point(t_ns, tags, ups))
        except SchemaError as exc:
            ctx.problem("bad_values", f"profile {match.profile.name}: UPS values skipped: {exc}")
    device: dict[str, object] = {}
    if loads:
        device["cpu_pct"] = sum(loads) / len(loads)
    if mem_total:
        device.update(
            mem_total_bytes=mem_total, mem_used_bytes=mem_used, mem_used_pct=mem_used / mem_total * 100
        )
    elif mem_pcts:
        device["mem_used_pct"] = sum(mem_pcts) / len(mem_pcts)
    return areas.Output(points, device)


class ProfilesArea(areas.Area):
    """Vendor tables of the device profile matched by sysObjectID/sysDescr (data, not code)."""

    name = "profiles"
    order = 40
    description = "vendor MIB tables from the device profiles: optics, processor, memory, sensor"

    def applies(self, ctx: areas.Context) -> bool:
        return ctx.profile is not None

    def columns(self, ctx: areas.Context, state: Any) -> Sequence[str]:
        match: Match | None = ctx.profile
        if match is None:
            return ()
        return list(dict.fromkeys(o for t in match.tables for o in t.column_oids()))

    def slow_columns(self, ctx: areas.Context, state: Any) -> Sequence[str]:
        match: Match | None = ctx.profile
        if match is None:
            return ()
        out = list(dict.fromkeys(o for t in match.tables for o in t.name_oids()))
        if any(_needs_entities(t) for t in match.tables):
            out += sensors.ENTITY_COLUMNS
        return out

    def build(self, ctx: areas.Context, state: Any, fetched: areas.Fetched) -> areas.Output:
        match: Match | None = ctx.profile
        if match is None:
            return areas.Output()
        return build(ctx, match, fetched.tables)


areas.register(ProfilesArea())
