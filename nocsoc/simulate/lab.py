"""The simulated backbone's shared state: one object every emitter (SNMP, flows, syslog) reads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nocsoc.inventory.model import Inventory
from nocsoc.simulate.clock import SimClock, stream_seed
from nocsoc.simulate.events import Script, Timeline, default_script, validate_script
from nocsoc.simulate.health import HealthModel
from nocsoc.simulate.topology import Topology, build_topology
from nocsoc.simulate.traffic import TrafficModel


class ScriptError(ValueError):
    """The event script names devices, links or interfaces the inventory does not have."""


@dataclass
class Lab:
    inventory: Inventory
    seed: int
    clock: SimClock
    topo: Topology
    script: Script
    timeline: Timeline
    traffic: TrafficModel
    health: HealthModel
    initial_uptime_s: dict[str, float]

    @classmethod
    def build(cls, inventory: Inventory, seed: int, clock: SimClock, script: Script | None = None) -> Lab:
        topo = build_topology(inventory, seed)
        script = script if script is not None else default_script(topo)
        problems = validate_script(script, topo)
        if problems:
            raise ScriptError("; ".join(problems))
        timeline = Timeline(clock, topo, script)
        uptimes = {
            d.name: float(np.random.default_rng(stream_seed(seed, "uptime", d.name)).uniform(3, 200)) * 86400
            for d in topo.devices
        }
        return cls(
            inventory,
            seed,
            clock,
            topo,
            script,
            timeline,
            TrafficModel(topo, timeline, clock, seed),
            HealthModel(clock, seed),
            uptimes,
        )

    def boot_time(self, device: str, t: float) -> float:
        """Real epoch second at which `device` last booted, as seen at real time `t`."""
        k = self.clock.tick_index(t)
        b = self.timeline.last_boot_tick(device, k)
        if b is None:
            return self.clock.anchor - self.initial_uptime_s[device]
        return self.clock.tick_start(b)

    def uptime_s(self, device: str, t: float) -> float:
        return t - self.boot_time(device, t)

    def reachable(self, device: str, t: float) -> bool:
        return not self.timeline.device_down(device, self.clock.tick_index(t))
