"""Counters per exporter and protocol version (the `flow_collector` self-metrics)."""

from __future__ import annotations

import threading

from nocsoc.schema import FLOW_COLLECTOR

# the per-exporter counters: declared once, with their help text, in the schema
FIELDS = FLOW_COLLECTOR.field_names


class ExporterStats:
    """Thread-safe: the decoder adds, `self_points()` reads from another thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[tuple[str, str], dict[str, int]] = {}

    def add(self, exporter: str, version: str, name: str, n: int = 1) -> None:
        self.add_many(exporter, version, {name: n})

    def add_many(self, exporter: str, version: str, values: dict[str, int]) -> None:
        with self._lock:
            d = self._values.get((exporter, version))
            if d is None:
                d = self._values[(exporter, version)] = dict.fromkeys(FIELDS, 0)
            for k, v in values.items():
                if k not in d:
                    raise KeyError(f"counter {k!r} is not declared in flow_collector "
                                   "(nocsoc/schema/selfmetrics.py)")
                d[k] += v

    def get(self, exporter: str, version: str, name: str) -> int:
        with self._lock:
            return self._values.get((exporter, version), {}).get(name, 0)

    def total(self, name: str) -> int:
        with self._lock:
            return sum(d.get(name, 0) for d in self._values.values())

    def snapshot(self) -> dict[tuple[str, str], dict[str, int]]:
        with self._lock:
            return {k: dict(v) for k, v in self._values.items()}
