"""The event script: what goes wrong during a simulation, and when (in simulated seconds).

Network events (a link flap, a degrading optic, a device reboot) change what the SNMP agents
answer and what traffic flows; attacks become syslog lines. The script is a pydantic model so a
trainer can write their own exercise as YAML (`nocsoc simulate --script FILE`); the default
script picks its targets from the inventory so it works on any backbone that has the roles.

`Timeline` turns the script into per-tick state (interfaces down, devices unreachable, boots).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from nocsoc.inventory.model import Role
from nocsoc.simulate.clock import SimClock
from nocsoc.simulate.topology import SimDevice, SimInterface, Topology


class _Ev(BaseModel):
    """One scripted event, `at_s` simulated seconds from the start of the run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at_s: float = Field(ge=0)

    def end_s(self) -> float:
        """Simulated second at which the event is over."""
        return self.at_s


class _Outage(_Ev):
    down_s: float = Field(gt=0)

    def end_s(self) -> float:
        return self.at_s + self.down_s


class LinkFlap(_Outage):
    link: str


class Reboot(_Outage):
    device: str


class OpticsDegrade(_Ev):
    device: str
    interface: str
    ramp_s: float = Field(gt=0)
    to_dbm: float = -28.0
    threshold_dbm: float = -20.0

    def end_s(self) -> float:
        return self.at_s + self.ramp_s


class _Attack(_Ev):
    """Traffic or log lines from `source` against the device named `target`."""

    target: str
    source: str


class SshBruteForce(_Attack):
    attempts: int = Field(default=30, ge=1)
    interval_s: float = Field(default=4.0, gt=0)
    users: list[str] = Field(default_factory=lambda: ["root", "admin", "oracle", "test", "ubuntu"])
    success_user: str | None = "admin"
    success_after_s: float = 60.0

    def end_s(self) -> float:
        return self.at_s + self.attempts * self.interval_s + self.success_after_s


class WebAttack(_Attack):
    kind: str = Field(pattern="^(sqli|traversal)$")
    count: int = Field(default=10, ge=1)
    interval_s: float = Field(default=3.0, gt=0)

    def end_s(self) -> float:
        return self.at_s + self.count * self.interval_s


class PortScan(_Attack):
    ports: int = Field(default=50, ge=1, le=1000)
    interval_s: float = Field(default=0.4, gt=0)

    def end_s(self) -> float:
        return self.at_s + self.ports * self.interval_s


class RouterLoginFailures(_Attack):
    count: int = Field(default=8, ge=1)
    interval_s: float = Field(default=5.0, gt=0)
    users: list[str] = Field(default_factory=lambda: ["admin", "cisco", "enable"])

    def end_s(self) -> float:
        return self.at_s + self.count * self.interval_s


class Script(BaseModel):
    """A whole exercise. Times are simulated seconds from the start of the run."""

    model_config = ConfigDict(extra="forbid")

    link_flaps: list[LinkFlap] = Field(default_factory=list)
    optics: list[OpticsDegrade] = Field(default_factory=list)
    reboots: list[Reboot] = Field(default_factory=list)
    ssh_brute_force: list[SshBruteForce] = Field(default_factory=list)
    web_attacks: list[WebAttack] = Field(default_factory=list)
    port_scans: list[PortScan] = Field(default_factory=list)
    router_login_failures: list[RouterLoginFailures] = Field(default_factory=list)

    def end_s(self) -> float:
        """Simulated second at which the last scripted thing has happened."""
        events: list[_Ev] = [*self.link_flaps, *self.optics, *self.reboots, *self.ssh_brute_force,
                             *self.web_attacks, *self.port_scans, *self.router_login_failures]
        return max([0.0, *(e.end_s() for e in events)])


# --- choosing targets in an arbitrary inventory -------------------------------------------------


def _named(devs: list[SimDevice], *words: str) -> list[SimDevice]:
    return [d for d in devs if any(w in (d.name + " " + " ".join(d.device.tags)).lower() for w in words)]


def portal_servers(topo: Topology) -> list[SimDevice]:
    """The public-service portal (by name or tag `portal`), else the first server."""
    servers = topo.servers()
    return _named(servers, "portal", "dvc", "dichvucong") or servers[:1]


def ioc_servers(topo: Topology) -> list[SimDevice]:
    """The IOC platform servers (by name or tag `ioc`), else the second and third servers."""
    servers = topo.servers()
    found = _named(servers, "ioc")
    portal = {d.name for d in portal_servers(topo)}
    return [d for d in found if d.name not in portal] or [d for d in servers if d.name not in portal][:2]


def _first(topo: Topology, role: Role) -> SimDevice | None:
    return next((d for d in topo.devices if d.role is role), None)


def _fiber_link_between(topo: Topology, ra: Role, rb: Role, skip: set[str]) -> SimInterface | None:
    """An interface on the `rb` side of a fiber link between roles ra and rb."""
    for d in topo.devices:
        if d.role is not rb:
            continue
        for i in d.interfaces:
            if (
                i.link
                and i.link not in skip
                and i.fiber
                and i.peer_device
                and topo.device(i.peer_device).role is ra
            ):
                return i
    return None


def default_script(topo: Topology) -> Script:
    """About 55 simulated minutes of incidents, targets picked by role from the inventory."""
    s = Script()
    portal = portal_servers(topo)
    ioc = {d.name for d in ioc_servers(topo)}
    others = [d for d in topo.servers() if d.name not in ioc and d not in portal]
    dc_server = (_named(others, "db", "app", "srv") or others or topo.servers())[:1]
    if dc_server:
        s.ssh_brute_force.append(SshBruteForce(target=dc_server[0].name, source="203.0.113.45", at_s=300))
    if portal:
        s.web_attacks.append(WebAttack(target=portal[0].name, source="198.51.100.77", kind="sqli", at_s=600))
        s.web_attacks.append(
            WebAttack(target=portal[0].name, source="198.51.100.78", kind="traversal", at_s=660, count=8)
        )
    fw = _first(topo, Role.FIREWALL)
    if fw:
        s.port_scans.append(PortScan(target=fw.name, source="192.0.2.66", at_s=900))
    flap = _fiber_link_between(topo, Role.CORE, Role.DISTRIBUTION, set()) or next(
        (i for d in topo.devices for i in d.interfaces if i.link), None
    )
    if flap and flap.link:
        s.link_flaps.append(LinkFlap(link=flap.link, at_s=1200, down_s=120))
    core = _first(topo, Role.CORE)
    if core:
        s.router_login_failures.append(
            RouterLoginFailures(target=core.name, source="203.0.113.99", at_s=1500)
        )
    skip = {flap.link} if flap and flap.link else set()
    optic = _fiber_link_between(topo, Role.CORE, Role.DISTRIBUTION, skip) or _fiber_link_between(
        topo, Role.DISTRIBUTION, Role.ACCESS, skip
    )
    if optic:
        s.optics.append(OpticsDegrade(device=optic.device, interface=optic.name, at_s=1800, ramp_s=1500))
    access = _first(topo, Role.ACCESS) or _first(topo, Role.DISTRIBUTION)
    if access:
        s.reboots.append(Reboot(device=access.name, at_s=2400, down_s=90))
    return s


def validate_script(script: Script, topo: Topology) -> list[str]:
    """Problems with a script against this backbone (unknown devices, links, interfaces)."""
    problems: list[str] = []
    links = {i.link for d in topo.devices for i in d.interfaces if i.link}
    for f in script.link_flaps:
        if f.link not in links:
            problems.append(f"link_flaps: unknown link {f.link!r}")
    for o in script.optics:
        try:
            topo.device(o.device).interface(o.interface)
        except KeyError as exc:
            problems.append(f"optics: {exc.args[0]}")
    names = set(topo.by_name)
    for group in (
        script.reboots,
        script.ssh_brute_force,
        script.web_attacks,
        script.port_scans,
        script.router_login_failures,
    ):
        for ev in group:
            dev = getattr(ev, "device", None) or getattr(ev, "target", "")
            if dev not in names:
                problems.append(f"{type(ev).__name__}: unknown device {dev!r}")
    return problems


# --- per-tick state ----------------------------------------------------------------------------


@dataclass
class Timeline:
    """Script state by tick: which interfaces are down, which devices unreachable, boot ticks."""

    clock: SimClock
    topo: Topology
    script: Script
    if_down: dict[tuple[str, str], list[tuple[int, int]]] = field(default_factory=dict)
    dev_down: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    boots: dict[str, list[int]] = field(default_factory=dict)
    channel_down: dict[int, list[tuple[int, int]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        c = self.clock
        for f in self.script.link_flaps:
            k0, k1 = c.tick_of_sim(f.at_s), c.tick_of_sim(f.at_s + f.down_s)
            for i in self.topo.link_interfaces(f.link):
                self.if_down.setdefault((i.device, i.name), []).append((k0, k1))
        for r in self.script.reboots:
            k0, k1 = c.tick_of_sim(r.at_s), c.tick_of_sim(r.at_s + r.down_s)
            self.dev_down.setdefault(r.device, []).append((k0, k1))
            self.boots.setdefault(r.device, []).append(k1)
            for i in self.topo.device(r.device).interfaces:
                self.if_down.setdefault((i.device, i.name), []).append((k0, k1))
                if i.peer_device and i.peer_interface:
                    self.if_down.setdefault((i.peer_device, i.peer_interface), []).append((k0, k1))
        for d in self.topo.devices:
            for i in d.interfaces:
                for iv in self.if_down.get((d.name, i.name), []):
                    self.channel_down.setdefault(i.in_channel, []).append(iv)
                    self.channel_down.setdefault(i.out_channel, []).append(iv)
        for v in self.boots.values():
            v.sort()

    def interface_down(self, device: str, ifname: str, k: int) -> bool:
        return any(k0 <= k < k1 for k0, k1 in self.if_down.get((device, ifname), ()))

    def device_down(self, device: str, k: int) -> bool:
        return any(k0 <= k < k1 for k0, k1 in self.dev_down.get(device, ()))

    def last_boot_tick(self, device: str, k: int) -> int | None:
        """The tick of the latest in-run boot at or before k (None: still the original boot)."""
        last = None
        for b in self.boots.get(device, ()):
            if b <= k:
                last = b
        return last

    def last_change_tick(self, device: str, ifname: str, k: int) -> int | None:
        """The latest oper-status transition tick at or before k."""
        last = None
        for k0, k1 in self.if_down.get((device, ifname), ()):
            for t in (k0, k1):
                if t <= k and (last is None or t > last):
                    last = t
        return last

    def boot_ticks(self) -> set[int]:
        return {b for v in self.boots.values() for b in v}

    def channels_down_at(self, k: int) -> list[int]:
        return [ch for ch, ivs in self.channel_down.items() if any(k0 <= k < k1 for k0, k1 in ivs)]

    def optics_offset_db(self, device: str, ifname: str, sim_s: float) -> tuple[float, float] | None:
        """(fraction of the ramp done, target dBm) for a degrading optic at sim second `sim_s`."""
        for o in self.script.optics:
            if o.device == device and o.interface == ifname and sim_s >= o.at_s:
                return min(1.0, (sim_s - o.at_s) / o.ramp_s), o.to_dbm
        return None
