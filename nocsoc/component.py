"""The contract every long-running part of nocsoc follows (after Akvorado's components).

A component takes a typed config (with defaults) and the sink it writes to, has `start()` and
`stop()`, and counts everything that moves in a `Counters`, which `self_points()` turns into
schema self-metrics.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Protocol

from nocsoc.schema import Measurement, Point


class Counters:
    """Thread-safe named integer counters (received, decoded, dropped, errors, ...)."""

    def __init__(self, *names: str) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, int] = dict.fromkeys(names, 0)

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._values[name] = self._values.get(name, 0) + n

    def set(self, name: str, value: int) -> None:
        with self._lock:
            self._values[name] = value

    def get(self, name: str) -> int:
        with self._lock:
            return self._values.get(name, 0)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._values)

    def to_point(self, measurement: Measurement, tags: Mapping[str, object],
                 time_ns: int | None = None) -> Point:
        """A self-metric point with the counters this measurement declares."""
        names = set(measurement.field_names)
        values = {k: v for k, v in self.snapshot().items() if k in names}
        return measurement.point(time_ns if time_ns is not None else time.time_ns(), tags, values)


class Component(Protocol):
    """What the supervisor (`nocsoc run`) needs from each service."""

    name: str

    def start(self) -> None: ...

    def stop(self, timeout: float = 10.0) -> None: ...

    def self_points(self) -> list[Point]:
        """Current counters as schema self-metric points."""
        ...

    # Optional: `reload(inventory)` applies a new inventory (SIGHUP); `status() -> dict`
    # feeds `nocsoc status`. The worker calls them when a component has them.
