"""The cycle grid of a device: when its cycles start, the same on every poller.

A sharded poller must know which cycle a poll belongs to, so that a lease taken for one cycle
by one poller stops another from polling that cycle again. Cycles are therefore placed on the
wall clock (pollers on different hosts share it through NTP), not on each process's monotonic
clock: cycle k of a device starts at `k * interval + offset`, the offset spreading devices over
the interval the same way on every host (a stable hash of the name, as the single-machine
poller spreads its first polls).
"""

from __future__ import annotations

import math
import zlib


def offset(name: str, interval_s: float, spread: bool = True) -> float:
    """Where in its interval a device's cycles start (0 when not spread)."""
    if not spread:
        return 0.0
    return (zlib.crc32(name.encode()) % 1000) / 1000 * interval_s


def slot_start(now: float, interval_s: float, offset_s: float) -> float:
    """Start (wall clock, seconds) of the cycle that contains `now`."""
    return math.floor((now - offset_s) / interval_s) * interval_s + offset_s


def slot_id(start: float) -> int:
    """A cycle's identity in a lease: its start in integer milliseconds (exact on every host,
    comparable across a change of interval)."""
    return round(start * 1000)
