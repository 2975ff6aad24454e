"""Sampling rates: where they come from, and saying so when there is none.

Order of trust, per record: what the exporter says about that record (a sampling element in the
record itself, or the sampler it names), then what it says about the record's interface (v9/IPFIX
options data scoped to an interface: routers sample per interface, e.g. 1:100 on an uplink and
1:1000 on a core link), then what it says about the whole exporter/domain (v5 header; options
data scoped to the system, observation domain, metering process...), then the inventory
(`Device.flow_sampling_rate`). With none, records are left unscaled and marked `unknown` and
counted, never silently treated as unsampled: that silent guess is what made volumes 1000x too
small in Akvorado #89 and goflow2 #206. Keying rates by exporter and domain alone (last
announcement wins) scaled one interface's volumes by another's rate: hence the interface keys,
as Akvorado and goflow2 key by exporter, domain and interface/sampler.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable, Mapping

import numpy as np

from nocsoc.collectors.flows import fields as ie
from nocsoc.collectors.flows.records import SCALED, UNKNOWN, UNSAMPLED
from nocsoc.collectors.flows.templates import IPFIX_SCOPE, V9_SCOPE

log = logging.getLogger(__name__)

DomainKey = tuple[str, int]  # (exporter, source id / observation domain)

INGRESS, EGRESS = "in", "out"  # which interface of a record an interface-scoped rate applies to
# Scope fields that make an options record's rate an interface's (see templates.decode_options for
# the key spaces). v9 (RFC 3954 6.1) only says "Interface": its samplers are configured on an
# interface's input, so it is read as the input interface.
INTERFACE_SCOPES = ((V9_SCOPE | 2, INGRESS), (IPFIX_SCOPE | 10, INGRESS), (IPFIX_SCOPE | 14, EGRESS))


# PSAMP selector algorithms (IANA "Packet Sampling" registry, RFC 5477 section 8.2.1)
SYSTEMATIC_COUNT, SYSTEMATIC_TIME, RANDOM_N_OF_N, UNIFORM_PROBABILISTIC = 1, 2, 3, 4
# time-based selection and filtering (property match, hash) select no fixed share of packets
NO_PACKET_RATE = frozenset((SYSTEMATIC_TIME, 5, 6, 7))


MIN_PROBABILITY = 2.0**-32  # 1 in 2**32: below it, garbage (and 1/p may overflow)


def _probability(bits: int | None) -> float | None:
    """samplingProbability (IE 311, float64) from the integer the options decoder read."""
    if not bits:
        return None
    try:
        p = float(struct.unpack("!d", bits.to_bytes(8, "big"))[0])
    except (OverflowError, struct.error):
        return None
    return p if MIN_PROBABILITY <= p <= 1 else None  # (NaN fails both)


def _announced_rate(rec: Mapping[int, int]) -> int | None:
    """The 1-in-N rate an options data record announces, if it announces one.

    Cisco v9 and IPFIX samplingInterval / samplerRandomInterval say N themselves. A PSAMP
    selector says it by algorithm: systematic count-based selects samplingPacketInterval packets
    then skips samplingPacketSpace (N = (interval + space) / interval); random n-out-of-N selects
    samplingSize of every samplingPopulation (N = population / size); uniform probabilistic selects
    each packet with samplingProbability (N = 1 / p). IOS XR announces random 1-out-of-256 with
    samplingPacketInterval 1 beside size 1 and population 256: population/size wins whenever the
    algorithm is random or unnamed and both are present, never the interval's 1:1."""
    for el in (ie.SAMPLING_INTERVAL, ie.SAMPLER_RANDOM_INTERVAL):
        v = rec.get(el)
        if v:
            return v
    algorithm = rec.get(ie.SELECTOR_ALGORITHM)
    if algorithm in NO_PACKET_RATE:
        return None
    size, population = rec.get(ie.SAMPLING_SIZE), rec.get(ie.SAMPLING_POPULATION)
    interval, space = rec.get(ie.PACKET_INTERVAL), rec.get(ie.PACKET_SPACE)
    if size and population and algorithm != SYSTEMATIC_COUNT:
        return max(1, round(population / size))
    if interval:
        return max(1, round((interval + (space or 0)) / interval))
    if size and population:
        return max(1, round(population / size))
    p = _probability(rec.get(ie.SAMPLING_PROBABILITY))
    if p is not None:
        return max(1, round(1 / p))
    return None


MAX_RATE = 1 << 32  # above 1 in 2**32 a rate is garbage (and would overflow int64 columns)


def rate_from_options(rec: Mapping[int, int]) -> int | None:
    """The 1-in-N rate an options data record announces, if it announces a sane one (see
    `_announced_rate`)."""
    rate = _announced_rate(rec)
    return rate if rate is not None and rate <= MAX_RATE else None


def unsupported_selector(rec: Mapping[int, int]) -> bool:
    """A selector announced (algorithm or sampler/selector id with a sampling element) whose
    selection gives no packet rate: its records stay at the domain's rate, and it is counted."""
    algorithm = rec.get(ie.SELECTOR_ALGORITHM)
    return algorithm is not None and rate_from_options(rec) is None and (
        algorithm in NO_PACKET_RATE or algorithm > UNIFORM_PROBABILISTIC or algorithm == 0)


def interface_scope(rec: Mapping[int, int]) -> tuple[str, int] | None:
    """(INGRESS | EGRESS, ifIndex) when the record is scoped to an interface, else None. ifIndex 0
    is no interface (RFC 2863 numbers from 1): softflowd's v9 options say "interface 0" for its
    whole export, which stays a domain-wide rate."""
    for key, direction in INTERFACE_SCOPES:
        ifindex = rec.get(key)
        if ifindex:
            return direction, ifindex
    return None


class _Lookup:
    """One id -> rate map, with the sorted arrays a whole column is looked up in at once."""

    __slots__ = ("keys", "rates", "table")

    def __init__(self, table: Mapping[int, int]) -> None:
        self.table = dict(table)
        order = sorted(self.table)
        self.keys = np.array(order, dtype=np.uint64)
        self.rates = np.array([self.table[k] for k in order], dtype=np.int64)

    def __bool__(self) -> bool:
        return bool(self.table)

    def find(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mask of the ids that have a rate, the rate of each id: valid where masked)."""
        ids = ids.astype(np.uint64, copy=False)
        if not self.table:
            return np.zeros(ids.shape[0], dtype=bool), np.ones(ids.shape[0], dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.keys, ids), len(self.keys) - 1)
        return self.keys[pos] == ids, self.rates[pos]


class ScopedRates:
    """The per-record rates of one exporter/domain: by sampler id, by input and by output ifIndex.

    Never changed once made (learning replaces it), so records queued for decoding under one keep
    the rates that were valid when they arrived, even when options data later in the same decode
    call (or the same datagram) changes them."""

    __slots__ = ("egress", "ingress", "sampler")

    def __init__(self, sampler: Mapping[int, int] | None = None, ingress: Mapping[int, int] | None = None,
                 egress: Mapping[int, int] | None = None) -> None:
        self.sampler = _Lookup(sampler or {})
        self.ingress = _Lookup(ingress or {})
        self.egress = _Lookup(egress or {})

    def __bool__(self) -> bool:
        return bool(self.sampler or self.ingress or self.egress)

    def interfaces(self, direction: str) -> _Lookup:
        return self.ingress if direction == INGRESS else self.egress

    def with_rates(self, sampler: int | None, interface: tuple[str, int] | None, rate: int) -> ScopedRates:
        """This, with `rate` for the sampler and/or interface; `self` when that changes nothing."""
        tables = {"sampler": self.sampler.table, INGRESS: self.ingress.table, EGRESS: self.egress.table}
        updates = ([("sampler", sampler)] if sampler is not None else []) + ([interface] if interface else [])
        changed = False
        for name, key in updates:
            if tables[name].get(key) != rate:
                tables[name] = {**tables[name], key: rate}
                changed = True
        return ScopedRates(tables["sampler"], tables[INGRESS], tables[EGRESS]) if changed else self


NO_SCOPED_RATES = ScopedRates()


class SamplingTable:
    """Known sampling rates per exporter/domain, per sampler id and per interface, plus the
    inventory fallback."""

    def __init__(self, fallback: Callable[[str], int | None] | None = None) -> None:
        self.fallback = fallback or (lambda exporter: None)
        self.domain_rate: dict[DomainKey, int] = {}
        self._scoped: dict[DomainKey, ScopedRates] = {}
        self._warned: set[str] = set()
        self._unsupported: set[tuple[str, int, int | None]] = set()
        self._warned_selectors: set[str] = set()  # exporters told about such a selector
        # (exporter, version) of selectors seen for the first time without a packet rate: the
        # decoder counts them (`sampling_unsupported`), once per selector whichever path saw it
        self.new_unsupported: list[tuple[str, str]] = []

    @staticmethod
    def _announced(rec: Mapping[int, int]) -> tuple[int, int | None, tuple[str, int] | None] | None:
        """(rate, sampler id, interface) an options record announces; None without a rate."""
        rate = rate_from_options(rec)
        if rate is None:
            return None
        return rate, rec.get(ie.SAMPLER_ID, rec.get(ie.SELECTOR_ID)), interface_scope(rec)

    def learn(self, exporter: str, domain: int, rec: Mapping[int, int], version: str = "10") -> bool:
        """Take an options data record; True when it carried a sampling rate."""
        got = self._announced(rec)
        if got is None:
            if unsupported_selector(rec):
                key3 = (exporter, domain, rec.get(ie.SELECTOR_ID, rec.get(ie.SAMPLER_ID)))
                if key3 not in self._unsupported and len(self._unsupported) < 65536:
                    self._unsupported.add(key3)
                    self.new_unsupported.append((exporter, version))
                warned = self._warned_selectors
                if exporter not in warned and len(warned) < 4096:
                    warned.add(exporter)
                    log.warning("flow exporter %s announces selector %s with algorithm %s, which "
                                "gives no packet sampling rate: its records are scaled by the "
                                "domain's rate, if any", exporter, key3[2], rec.get(ie.SELECTOR_ALGORITHM))
            return False
        rate, sampler, interface = got
        key = (exporter, domain)
        old = self._scoped.get(key, NO_SCOPED_RATES)
        new = old.with_rates(sampler, interface, rate)
        if new is not old:
            self._scoped[key] = new
        if interface is None:
            # One sampler per domain is the common case; with several, records name theirs.
            self.domain_rate[key] = rate
        return True

    def would_change(self, exporter: str, domain: int, rec: Mapping[int, int]) -> bool:
        """Whether `learn(exporter, domain, rec)` would change any rate (the bulk decoder only
        takes batches whose options data repeats what is known)."""
        got = self._announced(rec)
        if got is None:
            return False
        rate, sampler, interface = got
        old = self._scoped.get((exporter, domain), NO_SCOPED_RATES)
        if old.with_rates(sampler, interface, rate) is not old:
            return True
        return interface is None and self.domain_rate.get((exporter, domain)) != rate

    def resolve(self, exporter: str, domain: int) -> tuple[int, int]:
        """(rate, state) for records of this exporter/domain that no per-record rate (their own
        element, sampler, interface: see `scoped`) applies to: the domain's, else the inventory's,
        else (1, UNKNOWN)."""
        rate = self.domain_rate.get((exporter, domain))
        if rate is None:
            rate = self.fallback(exporter)
        if rate is None:
            return 1, UNKNOWN
        return rate, (SCALED if rate > 1 else UNSAMPLED)

    def scoped(self, exporter: str, domain: int) -> ScopedRates:
        """The per-record rates of this exporter/domain as they are now (an unchanging object)."""
        return self._scoped.get((exporter, domain), NO_SCOPED_RATES)

    def warn_unknown(self, exporter: str, domain: int) -> None:
        """Log once per exporter that some of its records could not be scaled (they are counted)."""
        if exporter in self._warned:
            return
        self._warned.add(exporter)
        if self.scoped(exporter, domain):
            log.warning("flow exporter %s announces sampling rates for some interfaces or samplers "
                        "only, none for its whole domain %d, and the inventory has no "
                        "flow_sampling_rate for it: volumes of its other records are NOT scaled "
                        "(sampled=unknown)", exporter, domain)
        else:
            log.warning("flow exporter %s sends no sampling rate and the inventory has no "
                        "flow_sampling_rate for it: its volumes are NOT scaled (sampled=unknown)",
                        exporter)

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
        return self.scoped(exporter, domain).sampler.table.get(sampler_id)

    def interface(self, exporter: str, domain: int, ifindex: int, direction: str = INGRESS) -> int | None:
        return self.scoped(exporter, domain).interfaces(direction).table.get(ifindex)

    # --- persistence (rows: [exporter, domain, rate] for a domain, [..., sampler id] for a
    # sampler, [..., "in" | "out", ifIndex] for an interface; older files hold the first two) ----

    def to_json(self) -> list[list[object]]:
        rows: list[list[object]] = [[e, d, r] for (e, d), r in self.domain_rate.items()]
        for (e, d), scoped in self._scoped.items():
            rows += [[e, d, r, s] for s, r in scoped.sampler.table.items()]
            for direction in (INGRESS, EGRESS):
                rows += [[e, d, r, direction, i] for i, r in scoped.interfaces(direction).table.items()]
        return rows

    def load_json(self, rows: list[list]) -> None:
        """Rows of `to_json`, all or none: ValueError/TypeError/IndexError on a malformed row."""
        domain_rate = dict(self.domain_rate)
        scoped = dict(self._scoped)
        for row in rows:
            key = (str(row[0]), int(row[1]))
            rate = int(row[2])
            if len(row) == 3:
                domain_rate[key] = rate
            elif len(row) == 4:
                scoped[key] = scoped.get(key, NO_SCOPED_RATES).with_rates(int(row[3]), None, rate)
            elif len(row) == 5 and row[3] in (INGRESS, EGRESS):
                scoped[key] = scoped.get(key, NO_SCOPED_RATES).with_rates(None, (str(row[3]), int(row[4])),
                                                                           rate)
            else:
                raise ValueError(f"sampling row {row!r} is neither [exporter, domain, rate], "
                                 "[..., sampler id] nor [..., 'in' | 'out', ifIndex]")
        self.domain_rate, self._scoped = domain_rate, scoped
