"""Counters to rates: wraps, resets and reboots handled so that a graph never shows a spike.

The failures avoided: LibreNMS #1128 (a counter reset read as a 64-bit wrap gives an
exabit spike) and InfluxDB #5954 (non_negative_derivative across a reboot). Rules:

- a counter that went up: delta / elapsed time;
- a 32-bit counter that went down wrapped once: add 2^32 (Counter32 wraps in ~34 s at 1 Gb/s),
  unless that rate is beyond what the interface can carry (then it was a reset: no rate);
- a 64-bit counter that went down is a reset (it takes 5 years at 100 Gb/s to wrap), except when
  the previous value sat in the top 1/256 of the range;
- sysUpTime that went backwards means the device rebooted: every counter of the device is
  forgotten, no rate that cycle, and the poller writes a `device_reboot` event. sysUpTime is a
  32-bit TimeTicks that wraps after 497 days; a drop from near 2^32 to near what the elapsed
  time explains is that wrap, not a reboot.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

WRAP32 = 1 << 32
WRAP64 = 1 << 64
_TOP64 = WRAP64 - (WRAP64 >> 8)


def counter_delta(previous: int, current: int, bits: int) -> int | None:
    """Increase of a counter between two readings, or None when it was reset (not a wrap)."""
    if current >= previous:
        return current - previous
    if bits == 32:
        return current + WRAP32 - previous
    if previous >= _TOP64:
        return current + WRAP64 - previous
    return None


def uptime_rebooted(previous_ticks: int, current_ticks: int, elapsed_s: float) -> bool:
    """True when sysUpTime (hundredths of a second) went backwards for a reason other than its wrap."""
    if current_ticks >= previous_ticks:
        return False
    wrapped = current_ticks + WRAP32 - previous_ticks
    expected = elapsed_s * 100
    # A TimeTicks wrap advances by about the elapsed time; allow generous clock slack.
    return not (abs(wrapped - expected) <= max(expected * 0.5, 1000))


@dataclass
class RateStats:
    """What happened to counter readings (exposed as poller counters)."""

    rates: int = 0
    first: int = 0
    wraps: int = 0
    resets: int = 0
    implausible: int = 0
    agent_clock: int = 0  # rates timed by the agent's sysUpTime


@dataclass
class CounterTracker:
    """Last reading of every counter of one device, turning new readings into per-second rates."""

    stats: RateStats = field(default_factory=RateStats)
    _last: dict[Hashable, tuple[int, float, float | None]] = field(default_factory=dict)

    def rate(
        self,
        key: Hashable,
        value: int,
        t: float,
        bits: int = 64,
        max_rate: float | None = None,
        agent_t: float | None = None,
    ) -> float | None:
        """Per-second rate since the previous reading of `key`, or None (first, reset, implausible).

        `t` is the poller's clock; `agent_t`, when the reply carried it, the agent's sysUpTime in
        seconds. The agent's clock is preferred (it dates the counter exactly, 10 ms resolution)
        when it advanced plausibly (0.5x-2x the poller's elapsed time; a recording with a frozen
        sysUpTime does not). `max_rate` (counter units per second), when known, rejects a 32-bit
        "wrap" that would imply more than the line can carry: that was a counter reset.
        """
        previous = self._last.get(key)
        self._last[key] = (value, t, agent_t)
        if previous is None:
            self.stats.first += 1
            return None
        pv, pt, pa = previous
        elapsed = t - pt
        if agent_t is not None and pa is not None and elapsed > 0 and 0.5 < (agent_t - pa) / elapsed < 2:
            elapsed = agent_t - pa
            self.stats.agent_clock += 1
        if elapsed <= 0:
            return None
        delta = counter_delta(pv, value, bits)
        if delta is None:
            self.stats.resets += 1
            return None
        r = delta / elapsed
        if value < pv:
            if max_rate is not None and r > max_rate:
                self.stats.implausible += 1
                return None
            self.stats.wraps += 1
        self.stats.rates += 1
        return r

    def forget(self) -> None:
        """Drop every reading (after a reboot the counters start again from zero)."""
        self._last.clear()

    def __len__(self) -> int:
        return len(self._last)
