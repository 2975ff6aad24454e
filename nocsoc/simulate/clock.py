"""Simulated time versus real time.

`--speed N` makes the daily traffic curve and the event script run N times faster, but the
telemetry itself stays on the real clock: counters grow per *real* second at the rate the curve
gives for the current *simulated* moment, sysUpTime advances in real seconds, and flow and
syslog timestamps are real. A poller dividing counter deltas by sysUpTime deltas therefore sees
exactly the simulated rate, and its data lines up with flows and logs.

Everything the simulator emits is cut into ticks of `tick_s` real seconds anchored at `anchor`.
Tick k is a pure function of (seed, speed, anchor, k), which is what makes runs reproducible.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# Asia/Ho_Chi_Minh has no DST: a fixed +07:00 offset is exact for the province's daily curve.
LOCAL_UTC_OFFSET_S = 7 * 3600
DAY_S = 86400.0


def stream_seed(seed: int, *parts: object) -> int:
    """A stable 64-bit seed for one random stream (Python's hash() is salted per process)."""
    h = hashlib.blake2b(repr((seed, *parts)).encode(), digest_size=8)
    return int.from_bytes(h.digest(), "big")


@dataclass
class SimClock:
    """Maps real time to simulated time. `anchor` is the real epoch second where tick 0 starts."""

    speed: float = 1.0
    anchor: float = 0.0
    sim_start_tod_s: float = 8 * 3600.0  # simulated local time of day at the anchor (08:00)
    tick_s: float = 1.0
    now: Callable[[], float] = field(default=time.time, repr=False)

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError(f"speed must be > 0, got {self.speed}")
        if self.tick_s <= 0:
            raise ValueError(f"tick_s must be > 0, got {self.tick_s}")
        if self.anchor == 0.0:
            self.anchor = math.floor(self.now())

    def elapsed_real(self, t: float | None = None) -> float:
        return (self.now() if t is None else t) - self.anchor

    def sim_offset(self, t: float | None = None) -> float:
        """Simulated seconds since the start of the scenario at real time `t` (default now)."""
        return self.elapsed_real(t) * self.speed

    def real_at(self, sim_offset_s: float) -> float:
        """Real epoch time at which the scenario reaches `sim_offset_s`."""
        return self.anchor + sim_offset_s / self.speed

    def time_of_day(self, t: float | None = None) -> float:
        """Simulated local time of day in seconds [0, 86400) at real time `t`."""
        return (self.sim_start_tod_s + self.sim_offset(t)) % DAY_S

    def tick_index(self, t: float | None = None) -> int:
        """The tick containing real time `t` (negative before the anchor)."""
        return math.floor(self.elapsed_real(t) / self.tick_s)

    def tick_start(self, k: int) -> float:
        return self.anchor + k * self.tick_s

    def tick_of_sim(self, sim_offset_s: float) -> int:
        """First tick whose start is at or after the real time of `sim_offset_s`."""
        return math.ceil(round(sim_offset_s / self.speed / self.tick_s, 9))
