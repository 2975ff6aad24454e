"""Discovery: probe addresses with an SNMP profile, guess vendor and role, propose inventory changes.

Probing is bounded (a semaphore), each probe has the profile's timeout and retries, and nothing
is written unless asked: `plan()` returns the changes, the CLI prints them as a diff and
applies them under the inventory lock (`InventoryStore.edit()`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from nocsoc.collectors.snmp import oids as O
from nocsoc.collectors.snmp import profiles
from nocsoc.collectors.snmp.enterprises import vendor_of
from nocsoc.collectors.snmp.mibs import lldp, text
from nocsoc.collectors.snmp.session import EnginePool, SnmpError, SnmpSession, build_credentials
from nocsoc.collectors.snmp.topology import links_from_lldp, new_links, read_chassis, read_neighbours
from nocsoc.inventory.model import Device, Inventory, Link, Role, SnmpProfile

MAX_ADDRESSES = 65536


@dataclass
class Probe:
    """What one address answered (or why it did not)."""

    address: str
    port: int
    ok: bool = False
    sys_name: str = ""
    sys_descr: str = ""
    sys_object_id: str = ""
    vendor: str = ""
    role: Role | None = None
    error: str = ""
    neighbours: list[lldp.Neighbour] = field(default_factory=list)
    chassis: str = ""  # its own LLDP chassis id, as its neighbours report it


def expand(cidrs: Iterable[str], limit: int = MAX_ADDRESSES) -> list[str]:
    """Host addresses of the given networks/addresses, in order, without duplicates."""
    out: dict[str, None] = {}
    for cidr in cidrs:
        try:
            net = ipaddress.ip_network(cidr, strict=False)
        except ValueError as exc:
            raise ValueError(f"{cidr!r} is not an address or CIDR network ({exc})") from None
        hosts = [net.network_address] if net.num_addresses == 1 else list(net.hosts())
        for h in hosts:
            out[str(h)] = None
            if len(out) > limit:
                raise ValueError(f"more than {limit} addresses to probe; narrow the networks")
    return list(out)


def guess_vendor(sys_object_id: str, sys_descr: str) -> str:
    """The vendor: the matched device profile's, else the IANA enterprise number's."""
    match = profiles.catalog().match(sys_object_id, sys_descr)
    if match is not None:
        return match.profile.vendor
    return vendor_of(sys_object_id, sys_descr)


_NAME_ROLES = (
    (re.compile(r"\b(fw|firewall)\b|-fw"), Role.FIREWALL),
    (re.compile(r"\bups\b|-ups"), Role.UPS),
    (re.compile(r"core"), Role.CORE),
    (re.compile(r"dist|-d\d|\bdr\b"), Role.DISTRIBUTION),
    (re.compile(r"\bacc(ess)?\b|-acc|-sw\d"), Role.ACCESS),
)


def guess_role(name: str, descr: str, vendor: str, sys_object_id: str = "") -> Role:
    """A best guess an admin can correct. The matched device profile says what kind of device it
    is (a firewall, a UPS, a router); among routers and switches the name tells core from
    distribution and access (names carry roles in most NOCs)."""
    match = profiles.catalog().match(sys_object_id, descr) if sys_object_id else None
    if match is not None and match.profile.role is not None:
        role = match.profile.role
        if role in (Role.CORE, Role.DISTRIBUTION, Role.ACCESS):
            for rx, named in _NAME_ROLES:
                if rx.search(name.lower()):
                    return named
        return role
    n, d = name.lower(), descr.lower()
    if vendor in ("eaton", "apc", "vertiv") or "ups" in n:
        return Role.UPS
    if vendor in ("fortinet", "paloalto") or re.search(r"\b(fw|firewall|asa)\b|-fw", n + " " + d):
        return Role.FIREWALL
    if "core" in n:
        return Role.CORE
    if re.search(r"dist|-d\d|\bdr\b", n) or "router" in d or "ios xr" in d or "junos" in d:
        return Role.DISTRIBUTION
    if vendor in ("linux", "net-snmp", "microsoft", "vmware") or re.search(r"linux|windows|srv", n + " " + d):
        return Role.SERVER
    return Role.ACCESS


def device_name(sys_name: str, address: str) -> str:
    """sysName made a valid inventory name (domain part dropped), else one made from the address."""
    base = sys_name.split(".")[0] if sys_name and not sys_name.replace(".", "").isdigit() else ""
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", base).strip("-.")
    return base or "dev-" + address.replace(".", "-").replace(":", "-")


async def probe_all(
    addresses: Sequence[str],
    profile: SnmpProfile,
    *,
    port: int | None = None,
    concurrency: int = 32,
    lldp_too: bool = True,
    progress: Callable[[Probe], None] | None = None,
    resolve: Callable[[str], str] | None = None,
) -> list[Probe]:
    """Probe every address (at most `concurrency` at once); results in address order."""
    engines = EnginePool()
    credentials = build_credentials(profile, resolve)
    sem = asyncio.Semaphore(concurrency)
    port = port or profile.port

    async def one(address: str) -> Probe:
        p = Probe(address, port)
        async with sem:
            session = SnmpSession(
                None if credentials.community is not None else engines.get(credentials.engine_key),
                address, address, port, profile, credentials,
            )
            try:
                values = await session.get([O.SYS_NAME, O.SYS_DESCR, O.SYS_OBJECT_ID])
                p.sys_name, p.sys_descr = text(values.get(O.SYS_NAME)), text(values.get(O.SYS_DESCR))
                p.sys_object_id = text(values.get(O.SYS_OBJECT_ID))
                p.vendor = guess_vendor(p.sys_object_id, p.sys_descr)
                p.role = guess_role(p.sys_name, p.sys_descr, p.vendor, p.sys_object_id)
                p.ok = True
                if lldp_too:
                    p.neighbours = await read_neighbours(session)
                    p.chassis = await read_chassis(session)
            except SnmpError as exc:
                p.error = str(exc)
            finally:
                session.close()
        if progress is not None:
            progress(p)
        return p

    try:
        return list(await asyncio.gather(*(one(a) for a in addresses)))
    finally:
        engines.close()


@dataclass
class Plan:
    """Proposed inventory changes: devices to add, fields to fill on known devices, links."""

    add: list[Device] = field(default_factory=list)
    update: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (device, {field: new})
    links: list[Link] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.add or self.update or self.links)

    def diff(self) -> list[str]:
        """Unified-diff-like lines (`+` added, `~` changed) an admin reads before --apply."""
        out = []
        for d in self.add:
            out.append(
                f"+ device {d.name}: address={d.address} role={d.role.value} site={d.site} "
                f"profile={d.profile} vendor={d.vendor or '?'}"
                + (f" snmp_port={d.snmp_port}" if d.snmp_port else "")
            )
        for name, changes in self.update:
            out.append(f"~ device {name}: " + " ".join(f"{k}={v}" for k, v in changes.items()))
        for link in self.links:
            out.append(
                f"+ link {link.name}: {link.a.device} {link.a.interface} <-> "
                f"{link.b.device} {link.b.interface}"
            )
        return out


def plan(inventory: Inventory, probes: Iterable[Probe], profile: str, site: str) -> Plan:
    """What discovery proposes: new devices by address, vendor where unknown, LLDP links."""
    result = Plan()
    # Known by address alone (the inventory holds one device per address), whatever the port
    # source: the device's snmp_port, its profile's port, or --port.
    by_address = {d.address: d for d in inventory.devices}
    probe_port = {p.name: p.port for p in inventory.snmp_profiles}
    names = {d.name for d in inventory.devices}
    lldp_names: dict[str, str] = {}
    chassis: dict[str, str] = {}
    neighbours: dict[str, list[lldp.Neighbour]] = {}
    for p in probes:
        if not p.ok:
            continue
        port = p.port if p.port != probe_port.get(profile, 161) else None
        known = by_address.get(p.address)
        if known is not None:
            if not known.vendor and p.vendor:
                result.update.append((known.name, {"vendor": p.vendor}))
            name = known.name
        else:
            name = device_name(p.sys_name, p.address)
            if name in names:
                name = f"{name}-{p.address.replace('.', '-')}"
            names.add(name)
            result.add.append(
                Device(
                    name=name,
                    address=p.address,
                    role=p.role or Role.ACCESS,
                    site=site,
                    profile=profile,
                    vendor=p.vendor,
                    snmp_port=port,
                )
            )
        if p.sys_name:
            lldp_names[p.sys_name] = name
        neighbours[name] = p.neighbours
        chassis[name] = p.chassis
    for d in inventory.devices:
        lldp_names.setdefault(d.name, d.name)
    result.links = new_links(inventory, links_from_lldp(neighbours, lldp_names, chassis))
    return result


def apply(inventory: Inventory, changes: Plan) -> None:
    """Apply a plan to an inventory in place (the caller holds the lock and writes atomically)."""
    for name, fields in changes.update:
        device = inventory.device(name)
        for k, v in fields.items():
            setattr(device, k, v)
    inventory.devices.extend(changes.add)
    inventory.links.extend(changes.links)
