"""The contract every long-running part of nocsoc follows (after Akvorado's components).

A component takes a typed config (with defaults) and the sink it writes to, has `start()` and
`stop()`, and counts everything that moves in `Counters` whose names are declared, with their
help text, as the fields of a self-metrics measurement (nocsoc.schema.selfmetrics).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from typing import Protocol

from nocsoc.schema import Measurement, Point


class Counters:
    """Thread-safe counters of one self-metrics measurement (and one set of its tags).

    The names are the measurement's fields (declared once, with their help text, in
    nocsoc.schema.selfmetrics), or the subset `only` of them: counting a name that is not
    declared raises KeyError, so a typo is a test failure, not a new silent counter. Every
    declared name is in `snapshot()` and `point()` from the start (zero until counted).
    """

    def __init__(self, measurement: Measurement, tags: Mapping[str, object] | None = None, *,
                 only: Iterable[str] | None = None) -> None:
        declared = measurement.field_names
        names = tuple(declared) if only is None else tuple(only)
        missing = [n for n in names if n not in declared]
        if missing:
            raise KeyError(f"counter(s) {', '.join(missing)} not declared in {measurement.name} "
                           "(nocsoc/schema/selfmetrics.py)")
        self.measurement = measurement
        self.tags = {k: str(v) for k, v in (tags or {}).items()}
        self._lock = threading.Lock()
        self._values: dict[str, int | float] = dict.fromkeys(names, 0)

    def _undeclared(self, name: str) -> KeyError:
        return KeyError(f"counter {name!r} is not declared for {self.measurement.name} "
                        f"(declared: {', '.join(self._values)})")

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            if name not in self._values:
                raise self._undeclared(name)
            self._values[name] += n

    def set(self, name: str, value: int | float) -> None:
        with self._lock:
            if name not in self._values:
                raise self._undeclared(name)
            self._values[name] = value

    def get(self, name: str) -> int:
        with self._lock:
            return int(self._values[name])

    def snapshot(self) -> dict[str, int | float]:
        with self._lock:
            return dict(self._values)

    def point(self, time_ns: int | None = None) -> Point:
        """This set as a self-metric point (every declared name, zeros included)."""
        return self.measurement.point(time_ns if time_ns is not None else time.time_ns(), self.tags,
                                      self.snapshot())

    def to_point(self, measurement: Measurement, tags: Mapping[str, object],
                 time_ns: int | None = None) -> Point:
        """A point of another measurement with the values it declares (shared counters)."""
        names = set(measurement.field_names)
        values = {k: v for k, v in self.snapshot().items() if k in names}
        return measurement.point(time_ns if time_ns is not None else time.time_ns(), tags, values)


def counter_points(sets: Iterable[Counters], time_ns: int | None = None) -> list[Point]:
    """The one path from counters to self-metric points."""
    now = time_ns if time_ns is not None else time.time_ns()
    return [c.point(now) for c in sets]


def component_points(component: object, time_ns: int | None = None) -> list[Point]:
    """All self-metrics of a component: its declared counters, then its other points."""
    now = time_ns if time_ns is not None else time.time_ns()
    points: list[Point] = []
    sets = getattr(component, "counter_sets", None)
    if callable(sets):
        points.extend(counter_points(sets(), now))
    extra = getattr(component, "self_points", None)
    if callable(extra):
        points.extend(extra())
    return points


class Component(Protocol):
    """What a worker (`nocsoc run`, and the foreground commands) needs from each service."""

    name: str

    def start(self) -> None:
        """Open sockets, files and threads (nothing of the kind happens before)."""
        ...

    def stop(self, timeout: float = 10.0) -> None: ...

    def counter_sets(self) -> Iterable[Counters]:
        """Every counter set the component keeps: written as self-metrics and shown by
        `nocsoc status` through one generic path (the first set unprefixed)."""
        ...

    # Optional: `self_points() -> list[Point]` for self-metrics that are not counters (per
    # device, per exporter); `reload(inventory)` applies a new inventory (SIGHUP);
    # `status() -> dict` adds gauges (queue lengths, addresses) to `nocsoc status`.
