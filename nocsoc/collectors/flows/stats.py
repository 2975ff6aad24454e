"""Counters per exporter and protocol version (the `flow_collector` self-metrics)."""

from __future__ import annotations

import threading

FIELDS = ("datagrams", "records", "decode_errors", "sequence_lost", "template_missing", "unsampled",
          # what real exporters do that the decoder tolerates or maps (each declared with its
          # description in schema/selfmetrics.py FLOW_COLLECTOR)
          "padding", "trailing_data", "template_errors", "template_lenient", "sampling_unsupported",
          "if_fallback", "enterprise_octets", "volume_missing", "reverse_records", "tunnel_records",
          "frame_sections", "frame_errors", "frame_not_ip", "vxlan_decapsulated",
          "drop_samples", "if_internal", "if_discarded", "if_multiple")


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
                d[k] = d.get(k, 0) + v

    def get(self, exporter: str, version: str, name: str) -> int:
        with self._lock:
            return self._values.get((exporter, version), {}).get(name, 0)

    def total(self, name: str) -> int:
        with self._lock:
            return sum(d.get(name, 0) for d in self._values.values())

    def snapshot(self) -> dict[tuple[str, str], dict[str, int]]:
        with self._lock:
            return {k: dict(v) for k, v in self._values.items()}
