"""LLDP neighbours to inventory links, and the backbone graph as a table, DOT or JSON.

A link seen from both ends (A sees B on port x, B sees A on port y) is one link; its name is
`<a>:<port>--<b>:<port>` with the ends in sorted order, so re-running discovery proposes nothing new.
A neighbour is recognised by its chassis id first (each device's own lldpLocChassisId: names
differ between LLDP and the inventory, a chassis MAC does not), then by its system name, as it is
or as a short host name ("DX-CORE-1.ioc.example.vn" is the inventory's "dx-core-1").
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from nocsoc.collectors.snmp import oids as O
from nocsoc.collectors.snmp.mibs import lldp, num
from nocsoc.collectors.snmp.session import SnmpSession
from nocsoc.collectors.snmp.topology_picture import SHAPES
from nocsoc.inventory.model import Endpoint, Inventory, Link


async def read_neighbours(session: SnmpSession) -> list[lldp.Neighbour]:
    """The LLDP neighbours a device reports (empty when it has no LLDP-MIB)."""
    return lldp.neighbours(await session.bulk_columns(lldp.COLUMNS))


async def read_chassis(session: SnmpSession) -> str:
    """The device's own LLDP chassis id ("" without LLDP-MIB): how its neighbours name it."""
    values = await session.get([O.LLDP_LOC_CHASSIS_ID_SUBTYPE, O.LLDP_LOC_CHASSIS_ID])
    return lldp.chassis_id(num(values.get(O.LLDP_LOC_CHASSIS_ID_SUBTYPE)), values.get(O.LLDP_LOC_CHASSIS_ID))


def _short(name: str) -> str:
    return name.split(".", 1)[0].lower()


def link_name(a: str, a_if: str, b: str, b_if: str) -> str:
    (x, xi), (y, yi) = sorted(((a, a_if), (b, b_if)))
    return f"{x}:{xi}--{y}:{yi}"


def links_from_lldp(
    neighbours: Mapping[str, Iterable[lldp.Neighbour]],
    names: Mapping[str, str] | None = None,
    chassis: Mapping[str, str] | None = None,
) -> list[Link]:
    """Links between known devices. `names` maps an LLDP system name to an inventory device name;
    `chassis` maps a device to its own chassis id. Neighbours that are not known devices are
    left out."""
    names = names or {}
    known = set(neighbours) | set(names.values())
    by_chassis = {c: d for d, c in (chassis or {}).items() if c and d in known}
    by_short: dict[str, str | None] = {}
    for d in sorted(known):  # a short name two devices share identifies neither
        by_short[_short(d)] = None if _short(d) in by_short else d

    def device_of(nb: lldp.Neighbour) -> str | None:
        if nb.remote_chassis in by_chassis:
            return by_chassis[nb.remote_chassis]
        if nb.remote_name in names:
            return names[nb.remote_name]
        if nb.remote_name in known:
            return nb.remote_name
        return by_short.get(_short(nb.remote_name)) if nb.remote_name else None

    seen: dict[frozenset[tuple[str, str]], Link] = {}
    for device, nbs in neighbours.items():
        for nb in nbs:
            remote = device_of(nb)
            if remote is None or remote == device:
                continue
            key = frozenset({(device, nb.local_port), (remote, nb.remote_port)})
            if key in seen:
                continue
            (a, a_if), (b, b_if) = sorted(((device, nb.local_port), (remote, nb.remote_port)))
            seen[key] = Link(
                name=link_name(a, a_if, b, b_if),
                a=Endpoint(device=a, interface=a_if),
                b=Endpoint(device=b, interface=b_if),
                kind="fiber",
                description="discovered by LLDP",
            )
    return sorted(seen.values(), key=lambda link: link.name)


def new_links(inventory: Inventory, found: Iterable[Link]) -> list[Link]:
    """Links not yet in the inventory (compared by their two endpoints, not by name)."""

    def ends(link: Link) -> frozenset[tuple[str, str]]:
        return frozenset({(link.a.device, link.a.interface), (link.b.device, link.b.interface)})

    existing = {ends(link) for link in inventory.links}
    return [link for link in found if ends(link) not in existing]


def graph_json(inventory: Inventory) -> dict[str, Any]:
    """Nodes (devices with site and role) and edges (links) for other tools."""
    return {
        "nodes": [
            {"id": d.name, "site": d.site, "role": d.role.value, "address": d.address}
            for d in inventory.devices
        ],
        "edges": [
            {
                "name": link.name,
                "a": link.a.device,
                "a_interface": link.a.interface,
                "b": link.b.device,
                "b_interface": link.b.interface,
                "kind": link.kind,
                "speed_mbps": link.speed_mbps,
            }
            for link in inventory.links
        ],
    }


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def graph_dot(inventory: Inventory) -> str:
    """Graphviz DOT: one cluster per site, devices shaped by role, links labelled with ports."""
    lines = ["graph backbone {", "  graph [overlap=false, splines=true];", "  node [fontsize=10];"]
    by_site: dict[str, list[str]] = {}
    for d in inventory.devices:
        by_site.setdefault(d.site, []).append(
            f"    {_q(d.name)} [shape={SHAPES.get(d.role.value, 'box')}, "
            f'label={_q(d.name)[:-1]}\\n{d.address}"];'
        )  # \n: DOT's line break in a label
    for i, (site, nodes) in enumerate(sorted(by_site.items())):
        lines.append(f"  subgraph cluster_{i} {{")
        lines.append(f"    label={_q(site)};")
        lines.extend(nodes)
        lines.append("  }")
    for link in inventory.links:
        lines.append(
            f"  {_q(link.a.device)} -- {_q(link.b.device)} "
            f"[label={_q(link.a.interface + ' - ' + link.b.interface)}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


class LldpScan(NamedTuple):
    neighbours: dict[str, list[lldp.Neighbour]]  # by device
    chassis: dict[str, str]  # each device's own chassis id
    errors: dict[str, str]  # by device


async def gather_neighbours(sessions: Mapping[str, SnmpSession], concurrency: int = 16) -> LldpScan:
    """LLDP neighbours and chassis ids of many devices at once (bounded); errors by device."""
    sem = asyncio.Semaphore(concurrency)
    found: dict[str, list[lldp.Neighbour]] = {}
    chassis: dict[str, str] = {}
    errors: dict[str, str] = {}

    async def one(name: str, session: SnmpSession) -> None:
        async with sem:
            try:
                found[name] = await read_neighbours(session)
                chassis[name] = await read_chassis(session)
            except Exception as exc:  # one unreachable device must not hide the others' links
                errors[name] = str(exc)
            finally:
                session.close()

    await asyncio.gather(*(one(n, s) for n, s in sessions.items()))
    return LldpScan(found, chassis, errors)
