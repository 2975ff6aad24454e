"""Interface traffic: a daily curve scaled to each link's speed, integrated into counters.

The rate of every channel is piecewise constant per tick: rate(k) = peak * curve(simulated time
of day at the middle of tick k) * noise(seed, k), or 0 while the link is down. Counters are the
exact integral of that rate, so a counter read at any instant is a pure function of the seed,
the speed, the anchor and the instant - never of when or how often someone polled. Flows for
tick k are cut from the same per-tick octets, which is what makes them agree with SNMP.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nocsoc.simulate.clock import SimClock, stream_seed
from nocsoc.simulate.events import Timeline
from nocsoc.simulate.topology import SimInterface, Topology

# Peaks (local hour, width in hours, height): office hours of provincial services, a lunch dip,
# and households in the evening; the night floor is ~12% of the peak.
_PEAKS = ((9.5, 1.6, 1.0), (14.5, 1.8, 0.95), (20.5, 1.5, 0.6))
NIGHT_FLOOR = 0.12
MCAST_SHARE, BCAST_SHARE = 0.009, 0.003
_CACHE_CELLS = 512
HISTORY_TICKS = 900  # cumulative values kept per tick boundary, for reads of the recent past


def daily_curve(tod_s: float) -> float:
    """Relative load in (0, 1] at local time of day `tod_s` (seconds); 1.0 near 09:30."""
    h = (tod_s / 3600.0) % 24.0
    bump = 0.0
    for centre, width, height in _PEAKS:
        d = min(abs(h - centre), 24.0 - abs(h - centre))
        bump += height * math.exp(-0.5 * (d / width) ** 2)
    return min(1.0, NIGHT_FLOOR + (1.0 - NIGHT_FLOOR) * bump)


@dataclass(frozen=True)
class IfCounters:
    in_octets: int
    out_octets: int
    in_ucast: int
    in_mcast: int
    in_bcast: int
    out_ucast: int
    out_mcast: int
    out_bcast: int
    in_errors: int
    out_errors: int
    in_discards: int
    out_discards: int


class TrafficModel:
    """Per-channel rates per tick and their running integrals (octets, errors, discards)."""

    def __init__(self, topo: Topology, timeline: Timeline, clock: SimClock, seed: int) -> None:
        self.topo, self.timeline, self.clock, self.seed = topo, timeline, clock, seed
        chans = topo.channels
        self.peak = np.array([c.peak_bps for c in chans], dtype=np.float64)
        self.packet_bytes = np.array([c.packet_bytes for c in chans], dtype=np.float64)
        n = len(chans)
        self._k = 0
        self._cum = np.zeros((3, n))  # octets, errors, discards up to the start of tick self._k
        self._snap: dict[int, np.ndarray] = {}
        self._history: dict[int, np.ndarray] = {0: self._cum.copy()}
        self._boot_ticks = timeline.boot_ticks()
        self._cells: dict[int, np.ndarray] = {}
        self._errors_in: dict[int, tuple[str, str]] = {}
        for d in topo.devices:
            for i in d.interfaces:
                if any(o.device == d.name and o.interface == i.name for o in timeline.script.optics):
                    self._errors_in[i.in_channel] = (d.name, i.name)
        self.optics = OpticsModel(topo, timeline, clock, seed)
        self._initial: dict[tuple[str, str], tuple[float, float]] = {}
        for d in topo.devices:
            for i in d.interfaces:
                rnd = np.random.default_rng(stream_seed(seed, "initial", d.name, i.name))
                self._initial[(d.name, i.name)] = (
                    float(rnd.uniform(1e9, 4e12)),
                    float(rnd.uniform(1e9, 4e12)),
                )

    # --- per-tick rates ------------------------------------------------------------------------
    def cell(self, k: int) -> np.ndarray:
        """Rates during tick k: rows bps, errors/s, discards/s (one column per channel)."""
        if k < 0:
            return np.zeros((3, len(self.peak)))
        got = self._cells.get(k)
        if got is not None:
            return got
        c = self.clock
        curve = daily_curve(c.time_of_day(c.tick_start(k) + c.tick_s / 2))
        rng = np.random.default_rng(stream_seed(self.seed, "traffic", k))
        noise = np.clip(1.0 + rng.normal(0.0, 0.03, len(self.peak)), 0.85, 1.15)
        bps = self.peak * curve * noise
        for ch in self.timeline.channels_down_at(k):
            bps[ch] = 0.0
        pps = bps / 8.0 / self.packet_bytes
        discards = pps * 2e-6 * max(0.0, curve - 0.85) / 0.15
        errors = np.zeros_like(bps)
        sim_mid = c.sim_offset(c.tick_start(k) + c.tick_s / 2)
        for ch, (dev, ifname) in self._errors_in.items():
            rx = self.optics.rx_dbm_at(dev, ifname, sim_mid, k)
            thr = self.optics.threshold(dev, ifname)
            if rx < thr:
                errors[ch] = pps[ch] * min(0.05, 1e-5 * 10 ** ((thr - rx) / 3.0))
        out = np.vstack([bps, errors, discards])
        if len(self._cells) >= _CACHE_CELLS:
            self._cells.pop(min(self._cells))
        self._cells[k] = out
        return out

    def cell_octets(self, k: int) -> np.ndarray:
        """Octets each channel carried during tick k."""
        return self.cell(k)[0] / 8.0 * self.clock.tick_s

    # --- integrals -----------------------------------------------------------------------------
    def _advance(self, k: int) -> None:
        while self._k < k:
            cell = self.cell(self._k)
            self._cum += np.vstack([cell[0] / 8.0, cell[1], cell[2]]) * self.clock.tick_s
            self._k += 1
            self._history[self._k] = self._cum.copy()
            self._history.pop(self._k - HISTORY_TICKS, None)
            if self._k in self._boot_ticks:
                self._snap[self._k] = self._cum.copy()

    def cumulative(self, t: float) -> np.ndarray:
        """Rows octets, errors, discards per channel from the anchor to real time `t`."""
        t = max(t, self.clock.anchor)
        k = self.clock.tick_index(t)
        self._advance(k)
        base = self._history.get(k)
        if base is None:
            raise ValueError(f"cumulative traffic before tick {self._k - HISTORY_TICKS} is no longer kept")
        frac = t - self.clock.tick_start(k)
        cell = self.cell(k)
        return base + np.vstack([cell[0] / 8.0, cell[1], cell[2]]) * frac

    def interface_counters(self, iface: SimInterface, t: float, cum: np.ndarray | None = None) -> IfCounters:
        """IF-MIB counters of one interface at real time `t` (reset by an in-run reboot)."""
        if cum is None:
            cum = self.cumulative(t)
        boot = self.timeline.last_boot_tick(iface.device, self.clock.tick_index(t))
        ci, co = iface.in_channel, iface.out_channel
        if boot is None:
            init_in, init_out = self._initial[(iface.device, iface.name)]
            vin, vout = cum[:, ci], cum[:, co]
        else:  # counters restart from zero at the boot; cumulative(t) already passed that tick
            init_in = init_out = 0.0
            base = self._snap.get(boot, np.zeros_like(cum))
            vin, vout = cum[:, ci] - base[:, ci], cum[:, co] - base[:, co]
        in_oct, out_oct = init_in + vin[0], init_out + vout[0]
        in_p, out_p = in_oct / self.packet_bytes[ci], out_oct / self.packet_bytes[co]
        return IfCounters(
            int(in_oct),
            int(out_oct),
            int(in_p * (1 - MCAST_SHARE - BCAST_SHARE)),
            int(in_p * MCAST_SHARE),
            int(in_p * BCAST_SHARE),
            int(out_p * (1 - MCAST_SHARE - BCAST_SHARE)),
            int(out_p * MCAST_SHARE),
            int(out_p * BCAST_SHARE),
            int(vin[1]),
            int(vout[1]),
            int(vin[2]),
            int(vout[2]),
        )

    def expected_octets(self, iface: SimInterface, t0: float, t1: float) -> tuple[float, float]:
        """Exact (in, out) octets the interface carried between real times t0 and t1."""
        a, b = self.cumulative(t0), self.cumulative(t1)
        return (
            float(b[0, iface.in_channel] - a[0, iface.in_channel]),
            float(b[0, iface.out_channel] - a[0, iface.out_channel]),
        )


class OpticsModel:
    """Transceiver levels: a stable per-port baseline, tiny noise, and scripted degradation."""

    def __init__(self, topo: Topology, timeline: Timeline, clock: SimClock, seed: int) -> None:
        self.timeline, self.clock, self.seed = timeline, clock, seed
        self._base: dict[tuple[str, str], tuple[float, float, float]] = {}
        for d in topo.devices:
            for i in d.interfaces:
                if i.fiber:
                    r = np.random.default_rng(stream_seed(seed, "optics", d.name, i.name))
                    self._base[(d.name, i.name)] = (
                        float(r.uniform(-7.0, -3.0)),
                        float(r.uniform(-3.0, 0.5)),
                        float(r.uniform(32, 45)),
                    )
        self._thresholds = {(o.device, o.interface): o.threshold_dbm for o in timeline.script.optics}

    def threshold(self, device: str, ifname: str) -> float:
        return self._thresholds.get((device, ifname), -20.0)

    def baseline(self, device: str, ifname: str) -> tuple[float, float, float]:
        return self._base[(device, ifname)]

    def rx_dbm_at(self, device: str, ifname: str, sim_s: float, k: int) -> float:
        rx, _, _ = self._base[(device, ifname)]
        deg = self.timeline.optics_offset_db(device, ifname, sim_s)
        if deg is not None:
            frac, target = deg
            rx = rx + (target - rx) * frac
        noise = np.random.default_rng(stream_seed(self.seed, "rx", device, ifname, k)).normal(0, 0.05)
        return float(rx + noise)

    def levels(self, device: str, ifname: str, t: float) -> tuple[float, float, float] | None:
        """(rx dBm, tx dBm, temperature C) at real time t, or None for a copper port / a dark link."""
        base = self._base.get((device, ifname))
        if base is None:
            return None
        k = self.clock.tick_index(t)
        if self.timeline.interface_down(device, ifname, k):
            return -40.0, base[1], base[2]  # no light received while the far end is down
        return self.rx_dbm_at(device, ifname, self.clock.sim_offset(t), k), base[1], base[2]

    def threshold_crossing_s(self, device: str, ifname: str) -> float | None:
        """Simulated second at which the scripted ramp crosses the threshold (without noise)."""
        for o in self.timeline.script.optics:
            if o.device == device and o.interface == ifname:
                rx0 = self._base[(device, ifname)][0]
                if o.to_dbm >= o.threshold_dbm or rx0 <= o.threshold_dbm:
                    return None
                return o.at_s + o.ramp_s * (rx0 - o.threshold_dbm) / (rx0 - o.to_dbm)
        return None
