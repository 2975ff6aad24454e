"""IF-MIB: traffic, packet, error and discard rates, speed, status and status-change events.

64-bit ifXTable counters (ifHC*) are used where the device has them; the 32-bit ifTable
octet/packet counters are walked only for a device whose ifXTable is empty. Errors and discards
exist only as 32-bit counters (ifTable).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nocsoc.collectors.snmp import areas
from nocsoc.collectors.snmp import oids as O
from nocsoc.collectors.snmp.mibs import num, text
from nocsoc.collectors.snmp.rates import CounterTracker
from nocsoc.collectors.snmp.session import Column, Index, RowTime
from nocsoc.schema import INTERFACE, INTERFACE_EVENT, Point, SchemaError

HC_COUNTERS = {
    O.IF_HC_IN_OCTETS: "in_octets",
    O.IF_HC_OUT_OCTETS: "out_octets",
    O.IF_HC_IN_UCAST: "in_ucast",
    O.IF_HC_IN_MCAST: "in_mcast",
    O.IF_HC_IN_BCAST: "in_bcast",
    O.IF_HC_OUT_UCAST: "out_ucast",
    O.IF_HC_OUT_MCAST: "out_mcast",
    O.IF_HC_OUT_BCAST: "out_bcast",
}
LEGACY_COUNTERS = {
    O.IF_IN_OCTETS: "in_octets",
    O.IF_OUT_OCTETS: "out_octets",
    O.IF_IN_UCAST: "in_ucast",
    O.IF_IN_NUCAST: "in_nucast",
    O.IF_OUT_UCAST: "out_ucast",
    O.IF_OUT_NUCAST: "out_nucast",
}
ERROR_COUNTERS = {
    O.IF_IN_ERRORS: "in_errors",
    O.IF_OUT_ERRORS: "out_errors",
    O.IF_IN_DISCARDS: "in_discards",
    O.IF_OUT_DISCARDS: "out_discards",
}
IFX_INFO = (O.IF_NAME, O.IF_HIGH_SPEED, O.IF_ALIAS)
IF_INFO = (O.IF_DESCR, O.IF_SPEED, O.IF_OPER_STATUS, O.IF_ADMIN_STATUS)

# The octet counter first: its reply times are the row's sample times.
HC_COLUMNS = (*HC_COUNTERS, *IFX_INFO)
BASE_COLUMNS = (*ERROR_COUNTERS, *IF_INFO)
LEGACY_COLUMNS = tuple(LEGACY_COUNTERS)
TIMED = (O.IF_HC_IN_OCTETS, O.IF_IN_OCTETS)

_PKT_PARTS = {
    "in": (("in_ucast", "in_mcast", "in_bcast"), ("in_ucast", "in_nucast")),
    "out": (("out_ucast", "out_mcast", "out_bcast"), ("out_ucast", "out_nucast")),
}


@dataclass
class InterfaceState:
    """What one device's interfaces remember between polls."""

    counters: CounterTracker = field(default_factory=CounterTracker)
    oper: dict[Index, int] = field(default_factory=dict)
    has_hc: bool | None = None  # None until the first poll tells


def ifname(tables: Mapping[str, Column], index: Index) -> str:
    """An interface's name as the points carry it: ifName, else ifDescr, else its index."""
    return (
        text(tables.get(O.IF_NAME, {}).get(index))
        or text(tables.get(O.IF_DESCR, {}).get(index))
        or ".".join(map(str, index))
    )


def names(tables: Mapping[str, Column]) -> dict[int, str]:
    """ifIndex -> the name points carry (shared with the flow collector: nocsoc.collectors.ifnames)."""
    rows = {i for c in (O.IF_NAME, O.IF_DESCR) for i in tables.get(c, {}) if len(i) == 1}
    return {i[0]: ifname(tables, i) for i in sorted(rows)}


def columns(state: InterfaceState) -> tuple[str, ...]:
    """Columns for this cycle: ifXTable + ifTable, or ifTable with 32-bit counters."""
    if state.has_hc is False:
        return (*LEGACY_COLUMNS, *BASE_COLUMNS)
    return (*HC_COLUMNS, *BASE_COLUMNS)


def build(
    tags: Mapping[str, str],
    tables: Mapping[str, Column],
    times: Mapping[str, Mapping[Index, RowTime]],
    state: InterfaceState,
    time_ns: int,
    links: Mapping[str, str] | None = None,
    rates: bool = True,
    problem: Callable[[str, str], None] | None = None,
    names: dict[int, str] | None = None,
) -> tuple[list[Point], list[Point]]:
    """INTERFACE points (rates when a previous reading exists) and INTERFACE_EVENT points.

    `rates=False` records the readings without computing rates (first cycle after a reboot).
    A row with nothing readable (an ifXTable row without its ifTable row) is skipped and
    reported through `problem(kind, message)`, never failing the device. Two ifIndexes with one
    ifName (it happens: sub-interfaces, stack members) keep distinct series: the later index is
    named "<ifName> #<ifIndex>". `names` receives {ifIndex: the name the points carry}.
    """
    seen: set[str] = set()
    hc = bool(tables.get(O.IF_HC_IN_OCTETS))
    counter_cols = HC_COUNTERS if hc else LEGACY_COUNTERS
    bits = 64 if hc else 32
    timed = times.get(O.IF_HC_IN_OCTETS if hc else O.IF_IN_OCTETS, {})
    default_t: RowTime = (time_ns / 1e9, None)
    indexes: set[Index] = set()
    for col in (O.IF_OPER_STATUS, O.IF_DESCR, O.IF_NAME, O.IF_HC_IN_OCTETS, O.IF_IN_OCTETS):
        indexes.update(tables.get(col, {}))
    points: list[Point] = []
    events: list[Point] = []
    tracker = state.counters
    for index in sorted(indexes):
        name = ifname(tables, index)
        if name in seen:
            new = f"{name} #{'.'.join(map(str, index))}"
            if problem is not None:
                problem("duplicate_ifname", f"ifIndex {'.'.join(map(str, index))} has the ifName "
                        f"{name!r} of another interface: written as {new!r}")
            name = new
        seen.add(name)
        speed = num(tables.get(O.IF_HIGH_SPEED, {}).get(index))
        if not speed:
            raw = num(tables.get(O.IF_SPEED, {}).get(index))
            speed = raw // 1_000_000 if raw else None
        t, agent_t = timed.get(index, default_t)
        max_octets = speed * 1e6 / 8 * 1.1 if speed else None
        fields: dict[str, object] = {"speed_mbps": speed}
        counter_rates: dict[str, float | None] = {}
        for col, key in counter_cols.items():
            v = num(tables.get(col, {}).get(index))
            if v is None:
                continue
            if key == "in_octets" or key == "out_octets":
                fields[key] = v
            r = tracker.rate(
                (index, key), v, t, bits, max_octets if key.endswith("octets") else None, agent_t
            )
            counter_rates[key] = r if rates else None
        for col, key in ERROR_COUNTERS.items():
            v = num(tables.get(col, {}).get(index))
            if v is not None:
                r = tracker.rate((index, key), v, t, 32, agent_t=agent_t)
                counter_rates[key] = r if rates else None
        for direction in ("in", "out"):
            octets = counter_rates.get(f"{direction}_octets")
            if octets is not None:
                fields[f"{direction}_bps"] = octets * 8
                if speed:
                    fields[f"{direction}_util_pct"] = octets * 8 / (speed * 1e6) * 100
            for parts in _PKT_PARTS[direction]:
                if all(p in counter_rates for p in parts):
                    vals = [counter_rates[p] for p in parts]
                    if all(v is not None for v in vals):
                        fields[f"{direction}_pps"] = sum(v for v in vals if v is not None)
                    break
            for kind in ("errors", "discards"):
                r = counter_rates.get(f"{direction}_{kind}")
                if r is not None:
                    fields[f"{direction}_{kind}_ps"] = r
        oper = num(tables.get(O.IF_OPER_STATUS, {}).get(index))
        admin = num(tables.get(O.IF_ADMIN_STATUS, {}).get(index))
        fields["oper_status"] = oper
        fields["admin_status"] = admin
        alias = text(tables.get(O.IF_ALIAS, {}).get(index))
        itags = {**tags, "ifname": name, "ifalias": alias, "link": (links or {}).get(name)}
        if names is not None and len(index) == 1:
            names[index[0]] = name
        try:
            points.append(INTERFACE.point(time_ns, itags, fields))
        except SchemaError as exc:
            if problem is not None:
                problem("bad_rows", f"interface row ifIndex {'.'.join(map(str, index))} skipped: {exc}")
            continue
        if oper is not None:
            previous = state.oper.get(index)
            state.oper[index] = oper
            if previous is not None and previous != oper:
                event = "up" if oper == 1 else "down"
                events.append(
                    INTERFACE_EVENT.point(
                        time_ns,
                        {**tags, "ifname": name, "event": event},
                        {
                            "oper_status": oper,
                            "previous_status": previous,
                            "message": f"{tags.get('device', '')} {name} oper-status "
                            f"{previous} -> {oper} ({event})",
                        },
                    )
                )
    if state.has_hc is None:
        state.has_hc = hc if indexes else None
    return points, events


class InterfacesArea(areas.Area):
    """IF-MIB ifTable/ifXTable: counters walked with the agent's clock for exact rates."""

    name = "interfaces"
    order = 10
    timed = True
    description = "IF-MIB ifTable/ifXTable: traffic, errors, status (interface, interface_event)"

    def new_state(self) -> InterfaceState:
        return InterfaceState()

    def columns(self, ctx: areas.Context, state: Any) -> Sequence[str]:
        return columns(state)

    def followup(self, ctx: areas.Context, state: Any, fetched: areas.Fetched) -> Sequence[str]:
        t = fetched.tables
        has_rows = t.get(O.IF_OPER_STATUS) or t.get(O.IF_DESCR)
        if state.has_hc is None and not t.get(O.IF_HC_IN_OCTETS) and has_rows:
            # No ifXTable counters on this device: read the 32-bit ifTable ones (from now on only those).
            return LEGACY_COLUMNS
        return ()

    def build(self, ctx: areas.Context, state: Any, fetched: areas.Fetched) -> areas.Output:
        points, events = build(
            ctx.tags, fetched.tables, fetched.times, state, ctx.time_ns, ctx.links,
            rates=ctx.rates, problem=ctx.problem, names=ctx.interfaces,
        )
        for i, v in fetched.tables.get(O.IF_DESCR, {}).items():
            if len(i) == 1:
                ctx.ifdescr[i[0]] = text(v)
        return areas.Output(points + events, interfaces=len(points))


areas.register(InterfacesArea())
