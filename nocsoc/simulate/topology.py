"""The simulated backbone derived from an inventory: devices, their interfaces and the traffic
channels between them.

A *channel* is one direction of traffic on one link (a->b or b->a), or the private traffic of an
interface with no link (a management port). The a-side's out-octets and the b-side's in-octets
of a link read the same channel, so both ends of a simulated link agree, as on a real fiber.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from nocsoc.inventory.model import Device, Inventory, Link, Role
from nocsoc.simulate.clock import stream_seed

# Default port speeds when a link has no speed_mbps.
DEFAULT_SPEED_MBPS = {
    Role.CORE: 10000,
    Role.DISTRIBUTION: 10000,
    Role.FIREWALL: 10000,
    Role.ACCESS: 1000,
    Role.SERVER: 10000,
    Role.UPS: 100,
}
# Distance from the data-center core; traffic flowing "down" (toward users) is the heavy direction.
TIER = {Role.SERVER: 0, Role.CORE: 1, Role.FIREWALL: 1, Role.DISTRIBUTION: 2, Role.ACCESS: 3, Role.UPS: 4}
MGMT_PEAK_BPS = 60_000.0


@dataclass
class SimInterface:
    device: str
    name: str
    if_index: int
    speed_mbps: int
    alias: str
    in_channel: int
    out_channel: int
    fiber: bool
    link: str | None = None
    peer_device: str | None = None
    peer_interface: str | None = None
    mac: bytes = b""


@dataclass
class SimDevice:
    device: Device
    index: int
    interfaces: list[SimInterface] = field(default_factory=list)
    mac: bytes = b""

    @property
    def name(self) -> str:
        return self.device.name

    @property
    def role(self) -> Role:
        return self.device.role

    def interface(self, name: str) -> SimInterface:
        for i in self.interfaces:
            if i.name == name:
                return i
        raise KeyError(f"{self.name} has no interface {name}")


@dataclass
class Channel:
    """One direction of traffic: its peak rate (bps) and mean packet size."""

    peak_bps: float
    packet_bytes: float
    link: str | None


def _mac(seed: int, *parts: object) -> bytes:
    """A stable locally-administered unicast MAC address."""
    raw = stream_seed(seed, "mac", *parts).to_bytes(8, "big")[:6]
    return bytes([(raw[0] & 0xFC) | 0x02, *raw[1:]])


def _peak_util(link: Link, a: Device, b: Device, rng: random.Random) -> float:
    roles = {a.role, b.role}
    if roles == {Role.CORE}:
        base = 0.45
    elif Role.SERVER in roles:
        base = 0.30
    elif Role.FIREWALL in roles:
        base = 0.40
    elif roles == {Role.CORE, Role.DISTRIBUTION}:
        base = 0.35
    elif Role.UPS in roles:
        base = 0.001
    else:
        base = 0.25
    return base * rng.uniform(0.7, 1.3)


def _direction_share(src: Device, dst: Device) -> float:
    """Heavy direction (toward users, away from servers) 1.0, the reverse 0.35."""
    ts, td = TIER[src.role], TIER[dst.role]
    if ts == td:
        return 0.8
    return 1.0 if ts < td else 0.35


@dataclass
class Topology:
    devices: list[SimDevice]
    channels: list[Channel]
    by_name: dict[str, SimDevice]

    def device(self, name: str) -> SimDevice:
        try:
            return self.by_name[name]
        except KeyError:
            raise KeyError(f"no simulated device {name!r}") from None

    def link_interfaces(self, link_name: str) -> list[SimInterface]:
        return [i for d in self.devices for i in d.interfaces if i.link == link_name]

    def servers(self) -> list[SimDevice]:
        return [d for d in self.devices if d.role is Role.SERVER]


def build_topology(inv: Inventory, seed: int) -> Topology:
    """Devices with interfaces from the inventory links (plus a management port each)."""
    rng = random.Random(stream_seed(seed, "topology"))
    devices = [SimDevice(d, n, mac=_mac(seed, d.name)) for n, d in enumerate(inv.devices)]
    by_name = {d.name: d for d in devices}
    channels: list[Channel] = []
    pending: dict[str, list[tuple[str, int, int, Link, str, str]]] = {d.name: [] for d in devices}

    for link in inv.links:
        if link.a.device not in by_name or link.b.device not in by_name:
            continue  # the inventory validator reports dangling links; the lab just skips them
        a, b = by_name[link.a.device].device, by_name[link.b.device].device
        speed = link.speed_mbps or min(DEFAULT_SPEED_MBPS[a.role], DEFAULT_SPEED_MBPS[b.role])
        util = _peak_util(link, a, b, rng)
        size_ab, size_ba = rng.uniform(700, 1100), rng.uniform(250, 600)
        ab = len(channels)
        channels.append(Channel(speed * 1e6 * util * _direction_share(a, b), size_ab, link.name))
        ba = len(channels)
        channels.append(Channel(speed * 1e6 * util * _direction_share(b, a), size_ba, link.name))
        pending[a.name].append((link.a.interface, ba, ab, link, b.name, link.b.interface))
        pending[b.name].append((link.b.interface, ab, ba, link, a.name, link.a.interface))

    for dev in devices:
        if_index = 0
        for ifname, ch_in, ch_out, link, peer, peer_if in pending[dev.name]:
            if_index += 1
            speed = link.speed_mbps or DEFAULT_SPEED_MBPS[dev.role]
            alias = link.description or f"{link.name}: to {peer} {peer_if}"
            dev.interfaces.append(
                SimInterface(
                    dev.name,
                    ifname,
                    if_index,
                    speed,
                    alias,
                    ch_in,
                    ch_out,
                    link.kind == "fiber",
                    link.name,
                    peer,
                    peer_if,
                    _mac(seed, dev.name, ifname),
                )
            )
        taken = {i.name for i in dev.interfaces}
        mgmt = "eth0" if dev.role in (Role.SERVER, Role.UPS) and "eth0" not in taken else "mgmt0"
        if mgmt not in taken:
            ch_in = len(channels)
            channels.append(Channel(MGMT_PEAK_BPS * rng.uniform(0.5, 1.5), 300.0, None))
            ch_out = len(channels)
            channels.append(Channel(MGMT_PEAK_BPS * rng.uniform(0.5, 1.5), 400.0, None))
            dev.interfaces.append(
                SimInterface(
                    dev.name,
                    mgmt,
                    if_index + 1,
                    1000 if dev.role is not Role.UPS else 100,
                    "management",
                    ch_in,
                    ch_out,
                    False,
                    mac=_mac(seed, dev.name, mgmt),
                )
            )
    return Topology(devices, channels, by_name)
