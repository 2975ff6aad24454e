"""Sampling rates: where they come from, and saying so when there is none.

Order of trust: what the exporter says (v5 header; v9/IPFIX options data or a sampling element in
the data record itself), then the inventory (`Device.flow_sampling_rate`). With neither, records
are left unscaled and marked `unknown` and counted, never silently treated as unsampled: that
silent guess is what made volumes 1000x too small in Akvorado #89 and goflow2 #206.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from nocsoc.collectors.flows import fields as ie
from nocsoc.collectors.flows.records import SCALED, UNKNOWN, UNSAMPLED

log = logging.getLogger(__name__)

DomainKey = tuple[str, int]  # (exporter, source id / observation domain)


def rate_from_options(rec: dict[int, int]) -> int | None:
    """The 1-in-N rate an options data record announces, if it announces one."""
    for el in (ie.SAMPLING_INTERVAL, ie.SAMPLER_RANDOM_INTERVAL):
        v = rec.get(el)
        if v:
            return v
    interval, space = rec.get(ie.PACKET_INTERVAL), rec.get(ie.PACKET_SPACE)
    if interval:
        return max(1, round((interval + (space or 0)) / interval))
    size, population = rec.get(ie.SAMPLING_SIZE), rec.get(ie.SAMPLING_POPULATION)
    if size and population:
        return max(1, round(population / size))
    return None


class SamplingTable:
    """Known sampling rates per exporter/domain (and per sampler id), plus the inventory fallback."""

    def __init__(self, fallback: Callable[[str], int | None] | None = None) -> None:
        self.fallback = fallback or (lambda exporter: None)
        self.domain_rate: dict[DomainKey, int] = {}
        self.sampler_rate: dict[tuple[str, int, int], int] = {}
        self._warned: set[str] = set()

    def learn(self, exporter: str, domain: int, rec: dict[int, int]) -> bool:
        """Take an options data record; True when it carried a sampling rate."""
        rate = rate_from_options(rec)
        if rate is None:
            return False
        sampler = rec.get(ie.SAMPLER_ID, rec.get(ie.SELECTOR_ID))
        if sampler is not None:
            self.sampler_rate[(exporter, domain, sampler)] = rate
        # One sampler per domain is the common case; with several, records name theirs.
        self.domain_rate[(exporter, domain)] = rate
        return True

    def would_change(self, exporter: str, domain: int, rec: dict[int, int]) -> bool:
        """Whether `learn(exporter, domain, rec)` would change any rate (the bulk decoder only
        takes batches whose options data repeats what is known)."""
        rate = rate_from_options(rec)
        if rate is None:
            return False
        sampler = rec.get(ie.SAMPLER_ID, rec.get(ie.SELECTOR_ID))
        if sampler is not None and self.sampler_rate.get((exporter, domain, sampler)) != rate:
            return True
        return self.domain_rate.get((exporter, domain)) != rate

    def resolve(self, exporter: str, domain: int) -> tuple[int, int]:
        """(rate, state) for records of this exporter/domain without a per-record sampling element."""
        rate = self.domain_rate.get((exporter, domain))
        if rate is None:
            rate = self.fallback(exporter)
        if rate is None:
            if exporter not in self._warned:
                self._warned.add(exporter)
                log.warning("flow exporter %s sends no sampling rate and the inventory has no "
                            "flow_sampling_rate for it: its volumes are NOT scaled (sampled=unknown)",
                            exporter)
            return 1, UNKNOWN
        return rate, (SCALED if rate > 1 else UNSAMPLED)

    def resolve_v5(self, exporter: str, header_interval: int) -> tuple[int, int]:
        """v5: the low 14 bits of the header's sampling field; 0 means not sampled (RFC-less but
        universal), unless the inventory says the device samples."""
        rate = header_interval & 0x3FFF
        if rate:
            return rate, (SCALED if rate > 1 else UNSAMPLED)
        fb = self.fallback(exporter)
        if fb is not None:
            return fb, (SCALED if fb > 1 else UNSAMPLED)
        return 1, UNSAMPLED

    def sampler(self, exporter: str, domain: int, sampler_id: int) -> int | None:
        return self.sampler_rate.get((exporter, domain, sampler_id))

    def to_json(self) -> list[list[object]]:
        return [[e, d, r] for (e, d), r in self.domain_rate.items()] + \
               [[e, d, r, s] for (e, d, s), r in self.sampler_rate.items()]

    def load_json(self, rows: list[list]) -> None:
        for row in rows:
            if len(row) == 3:
                self.domain_rate[(str(row[0]), int(row[1]))] = int(row[2])
            elif len(row) == 4:
                self.sampler_rate[(str(row[0]), int(row[1]), int(row[3]))] = int(row[2])
