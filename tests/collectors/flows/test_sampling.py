"""Sampling rates scoped to an interface apply to that interface's records only.

Routers announce a rate per interface (v9 options scope Interface, IPFIX scope ingressInterface):
here 1:100 on ifIndex 1 and 1:1000 on ifIndex 2, with data records on ifIndex 1, 2 and 3, sets
mixing them. ifIndex 3 takes the domain-wide rate when one is announced, else the inventory's,
else stays unknown (counted). Every total is computed from the records sent, and each stream goes
through the per-datagram path and the bulk path, which must give the same rollup points.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from nocsoc.collectors.flows import speedups
from nocsoc.collectors.flows.collector import FlowPipeline
from nocsoc.collectors.flows.config import FlowsConfig
from nocsoc.collectors.flows.decoder import VECTOR_MIN, NetflowDecoder
from nocsoc.collectors.flows.records import SCALED, UNKNOWN, FlowBatch
from nocsoc.collectors.flows.sampling import SamplingTable
from nocsoc.collectors.flows.templates import IPFIX_SCOPE, V9_SCOPE, FieldSpec, Template
from nocsoc.inventory.model import Device, Inventory, Role, Site, SnmpProfile
from nocsoc.schema import Point
from tests.collectors.flows import craft

EXP = "127.0.0.31"
DOMAIN = 7
DATA_FIELDS = [(8, 4), (12, 4), (1, 4), (2, 4), (4, 1), (7, 2), (11, 2), (10, 4), (14, 4)]
OUT_IF = 9  # every record leaves by this interface
IF_RATES = {1: 100, 2: 1000}
IF_SCOPE = {9: craft.V9_SCOPE_INTERFACE, 10: 10}  # v9 scope Interface / IPFIX ingressInterface
# the domain-wide announcement: (scope type, scope value): v9 System / IPFIX observationDomainId
DOMAIN_SCOPE = {9: (craft.V9_SCOPE_SYSTEM, 0), 10: (149, DOMAIN)}
OPTIONS_TID, DOMAIN_OPTIONS_TID, DATA_TID = 400, 401, 300


@dataclass
class Sent:
    """One data record as sent, with the rate announced for it then (None: none)."""

    datagram: int
    in_if: int
    bytes: int
    packets: int
    rate: int | None


@dataclass
class Stream:
    datagrams: list[bytes]
    records: list[Sent]


def build(version: int, domain_rate: int | None = None, change: tuple[int, int, int] | None = None,
          n: int = 30, refresh: bool = True, seed: int = 1) -> Stream:
    """Datagram 0: the templates, the interface options (and the domain's with `domain_rate`),
    then data; every datagram after it: 1-3 data sets of 1-6 records on ifIndex 1, 2 or 3. With
    `refresh`, every 8th repeats the options unchanged (as routers do). `change` = (datagram,
    ifIndex, rate): that datagram carries data, then the interface's new rate, then data."""
    rnd = random.Random(seed * 100 + version)
    rates: dict[int, int] = dict(IF_RATES)
    tset = craft.ipfix_template_set if version == 10 else craft.v9_template_set
    datagrams: list[bytes] = []
    records: list[Sent] = []

    def data(i: int) -> bytes:
        rows: list[list[int | bytes]] = []
        for _ in range(rnd.randrange(1, 7)):
            in_if, b, p = rnd.choice((1, 2, 3)), rnd.randrange(40, 1500), rnd.randrange(1, 9)
            rows.append([craft.ip4(f"10.0.0.{rnd.randrange(1, 40)}"), craft.ip4("10.9.0.1"), b, p, 6,
                         rnd.randrange(1024, 65535), 443, in_if, OUT_IF])
            records.append(Sent(i, in_if, b, p, rates.get(in_if, domain_rate)))
        return craft.data_set(DATA_TID, DATA_FIELDS, rows)

    def interface_options(announce: dict[int, int]) -> list[bytes]:
        return craft.sampling_options(version, OPTIONS_TID, IF_SCOPE[version], announce)

    seq = 0
    for i in range(n):
        sets: list[bytes] = []
        if i == 0:
            sets += [tset(DATA_TID, DATA_FIELDS), *interface_options(IF_RATES)]
            if domain_rate is not None:
                scope, value = DOMAIN_SCOPE[version]
                sets += craft.sampling_options(version, DOMAIN_OPTIONS_TID, scope, {value: domain_rate})
            sets.append(data(i))
        elif change is not None and i == change[0]:
            sets.append(data(i))
            rates[change[1]] = change[2]
            sets += interface_options({change[1]: change[2]})
            sets.append(data(i))
        else:
            if refresh and i % 8 == 0:
                sets += interface_options({k: rates[k] for k in IF_RATES})
            sets += [data(i) for _ in range(rnd.randrange(1, 4))]
        datagrams.append(craft.netflow(version, sets, seq=seq, domain=DOMAIN))
        seq += 1 if version == 9 else sum(1 for r in records if r.datagram == i)
    return Stream(datagrams, records)


def inventory(rate: int) -> Inventory:
    return Inventory(
        sites=[Site(id="dx", name="Đồng Xoài", kind="datacenter")],
        snmp_profiles=[SnmpProfile(name="p", community="env:C")],
        devices=[Device(name="core-01", address="127.0.1.1", role=Role.CORE, site="dx", profile="p",
                        flow_exporter=EXP, flow_sampling_rate=rate)],
    )


Rollup = tuple[dict[str, tuple[int, int, int]], dict[tuple[str, str], int]]


def expected(records: list[Sent], fallback: int | None = None) -> Rollup:
    """flow_total (bytes, packets, flows) by `sampled`, flow_interface bytes by (direction,
    ifindex), from the records as they were sent and the rate each should get."""
    totals: dict[str, tuple[int, int, int]] = {}
    ifaces: dict[tuple[str, str], int] = {}
    for r in records:
        rate = r.rate if r.rate is not None else fallback
        sampled = "unknown" if rate is None else ("true" if rate > 1 else "false")
        k = rate or 1
        b, p, f = totals.get(sampled, (0, 0, 0))
        totals[sampled] = (b + r.bytes * k, p + r.packets * k, f + 1)
        for key in (("in", str(r.in_if)), ("out", str(OUT_IF))):
            ifaces[key] = ifaces.get(key, 0) + r.bytes * k
    return totals, ifaces


def rollup(points: list[Point]) -> Rollup:
    totals = {p.tags["sampled"]: (p.fields["bytes"], p.fields["packets"], p.fields["flows"])
              for p in points if p.measurement == "flow_total"}
    ifaces = {(p.tags["direction"], str(p.tags["ifindex"])): p.fields["bytes"]
              for p in points if p.measurement == "flow_interface"}
    return totals, ifaces  # type: ignore[return-value]


def run(datagrams: list[bytes], vectorized: bool, pipe: FlowPipeline | None = None,
        rate: int | None = None) -> tuple[list[Point], FlowPipeline, int]:
    """All datagrams in one `process` call (one rollup interval); returns the points, the
    pipeline and how many datagrams went the per-datagram way."""
    if pipe is None:
        pipe = FlowPipeline(FlowsConfig(interval_s=60), inventory(rate) if rate else None)
    pipe.decoder.vectorized = vectorized
    one_by_one = 0
    original: Callable[[bytes, str, float], list[FlowBatch]] = pipe.decoder._decode_one

    def counting(data: bytes, exporter: str, t: float) -> list[FlowBatch]:
        nonlocal one_by_one
        one_by_one += 1
        return original(data, exporter, t)

    pipe.decoder._decode_one = counting  # type: ignore[method-assign]
    pipe.process([(d, EXP, 120.5) for d in datagrams])
    assert pipe.decoder.unexpected_errors == 0
    return pipe.rollups.flush_all(), pipe, one_by_one


def both_paths(datagrams: list[bytes], rate: int | None = None) -> tuple[list[Point], FlowPipeline]:
    """The bulk path's points and pipeline, after checking that the per-datagram path gives the
    same points and counters, and that the bulk path took most datagrams."""
    assert len(datagrams) >= 2 * VECTOR_MIN
    slow_points, slow, _ = run(datagrams, vectorized=False, rate=rate)
    fast_points, fast, one_by_one = run(datagrams, vectorized=True, rate=rate)
    assert sorted(map(repr, fast_points)) == sorted(map(repr, slow_points))
    assert fast.stats.snapshot() == slow.stats.snapshot()
    if speedups.ext is None:  # without C the decoder is its reference path only
        assert one_by_one == len(datagrams)
    else:
        assert one_by_one < len(datagrams) / 2, f"{one_by_one} of {len(datagrams)} went one by one"
    return fast_points, fast


@pytest.mark.parametrize("version", [9, 10])
@pytest.mark.parametrize("ifindex3", ["domain", "inventory", "unknown"])
def test_interface_rates_scale_their_interfaces_only(version: int, ifindex3: str) -> None:
    domain_rate = 10 if ifindex3 == "domain" else None
    fallback = 512 if ifindex3 == "inventory" else None
    stream = build(version, domain_rate=domain_rate)
    assert {r.in_if for r in stream.records} == {1, 2, 3}
    points, pipe = both_paths(stream.datagrams, rate=fallback)
    totals, ifaces = rollup(points)
    assert (totals, ifaces) == expected(stream.records, fallback)
    # spelled out: each interface's bytes times its own rate, never another's
    raw = {i: sum(r.bytes for r in stream.records if r.in_if == i) for i in (1, 2, 3)}
    assert ifaces[("in", "1")] == raw[1] * 100
    assert ifaces[("in", "2")] == raw[2] * 1000
    if3 = {"domain": raw[3] * 10, "inventory": raw[3] * 512, "unknown": raw[3]}[ifindex3]
    assert ifaces[("in", "3")] == if3
    on3 = sum(1 for r in stream.records if r.in_if == 3)
    if ifindex3 == "unknown":
        assert totals["unknown"] == (raw[3], sum(r.packets for r in stream.records if r.in_if == 3), on3)
        assert pipe.stats.get(EXP, str(version), "unsampled") == on3
    else:
        assert set(totals) == {"true"}
        assert pipe.stats.get(EXP, str(version), "unsampled") == 0
    # the interface announcements did not become the domain's rate (last one wins, 1000)
    assert pipe.sampling.resolve(EXP, DOMAIN)[0] == {"domain": 10, "inventory": 512, "unknown": 1}[ifindex3]


@pytest.mark.parametrize("version", [9, 10])
def test_rate_change_mid_stream_scales_before_and_after_exactly(version: int) -> None:
    """ifIndex 1 goes 1:100 -> 1:50 in the middle of datagram 12 (data, options, data), all in
    one decode call: the records before keep 100, the ones after take 50."""
    stream = build(version, change=(12, 1, 50), domain_rate=10)
    on1 = [r for r in stream.records if r.in_if == 1]
    assert {r.rate for r in on1} == {100, 50}
    assert {r.rate for r in on1 if r.datagram == 12} == {100, 50}  # both within that datagram
    points, pipe = both_paths(stream.datagrams)
    totals, ifaces = rollup(points)
    assert (totals, ifaces) == expected(stream.records)
    assert ifaces[("in", "1")] == sum(r.bytes * r.rate for r in on1 if r.rate)
    assert pipe.sampling.interface(EXP, DOMAIN, 1) == 50
    assert pipe.sampling.interface(EXP, DOMAIN, 2) == 1000


@pytest.mark.parametrize("version", [9, 10])
def test_interface_rates_survive_a_restart(version: int, tmp_path: Path) -> None:
    stream = build(version, refresh=False)
    first = FlowPipeline(FlowsConfig(interval_s=60), state_dir=tmp_path)
    first.process([(stream.datagrams[0], EXP, 60.5)])
    first.save_state()
    rows = json.loads((tmp_path / "sampling.json").read_text())
    assert sorted(map(tuple, rows)) == [(EXP, DOMAIN, 100, "in", 1), (EXP, DOMAIN, 1000, "in", 2)]

    second = FlowPipeline(FlowsConfig(interval_s=60), state_dir=tmp_path)
    second.load_state()
    # data only, no templates and no options: the persisted ones apply
    second.process([(d, EXP, 120.5) for d in stream.datagrams[1:]])
    # then options data alone (its template is the persisted one): ifIndex 2 is now 1:500
    opt = [(IF_SCOPE[version], 4), (craft.SAMPLING_INTERVAL, 4)]
    rows_after = [[craft.ip4("10.0.0.1"), craft.ip4("10.9.0.1"), 1000, 2, 6, 1024, 443, 2, OUT_IF],
                  [craft.ip4("10.0.0.2"), craft.ip4("10.9.0.1"), 700, 3, 6, 1025, 443, 1, OUT_IF]]
    second.process([(craft.netflow(version, [craft.data_set(OPTIONS_TID, opt, [[2, 500]]),
                                             craft.data_set(DATA_TID, DATA_FIELDS, rows_after)],
                                   seq=999, domain=DOMAIN), EXP, 121.0)])
    after = [Sent(len(stream.datagrams), 2, 1000, 2, 500), Sent(len(stream.datagrams), 1, 700, 3, 100)]
    sent = [r for r in stream.records if r.datagram > 0] + after
    assert rollup(second.rollups.flush_all()) == expected(sent)
    # ifIndex 3 has no rate (none for the domain, no inventory): unknown, and counted
    assert second.stats.get(EXP, str(version), "unsampled") == sum(1 for r in sent if r.in_if == 3) > 0
    assert second.stats.get(EXP, str(version), "template_missing") == 0


def test_egress_scoped_rate_and_interface_zero() -> None:
    """IPFIX egressInterface scope applies by a record's output interface (its input interface's
    rate wins); a v9 "Interface 0" scope (softflowd's, for its whole export) is domain-wide."""
    dec = NetflowDecoder()
    opts = [*craft.sampling_options(10, 400, 10, {1: 100}), *craft.sampling_options(10, 401, 14, {9: 10})]
    rows = [[craft.ip4("10.0.0.1"), craft.ip4("10.9.0.1"), 1000 + i, 1, 6, 1024, 443, in_if, out_if]
            for i, (in_if, out_if) in enumerate([(1, 9), (3, 9), (3, 5)])]
    msg = craft.netflow(10, [*opts, craft.ipfix_template_set(DATA_TID, DATA_FIELDS),
                             craft.data_set(DATA_TID, DATA_FIELDS, rows)], domain=DOMAIN)
    (batch,) = dec.decode([(msg, EXP, 1.0)])
    assert batch.rate.tolist() == [100, 10, 1]
    assert batch.bytes.tolist() == [100_000, 10_010, 1002]
    assert batch.state.tolist() == [SCALED, SCALED, UNKNOWN]

    msg9 = craft.netflow(9, [*craft.sampling_options(9, 400, craft.V9_SCOPE_INTERFACE, {0: 20}),
                             craft.v9_template_set(DATA_TID, DATA_FIELDS),
                             craft.data_set(DATA_TID, DATA_FIELDS, rows)], domain=DOMAIN)
    (batch,) = dec.decode([(msg9, "127.0.0.32", 1.0)])
    assert batch.rate.tolist() == [20, 20, 20]
    assert dec.sampling.domain_rate[("127.0.0.32", DOMAIN)] == 20


def test_scope_fields_decode_under_their_own_keys() -> None:
    """v9 scope type 2 (Interface) is not element 2 (packets); IPFIX scope elements keep their
    id too. A template restored from its JSON decodes the same."""
    body = (5).to_bytes(4, "big") + (100).to_bytes(4, "big")
    v9 = Template(9, 400, (FieldSpec(2, 4), FieldSpec(34, 4)), scope_count=1, options=True)
    assert v9.decode_options(body) == [{V9_SCOPE | 2: 5, 34: 100}]
    ipfix = Template(10, 400, (FieldSpec(10, 4), FieldSpec(34, 4)), scope_count=1, options=True)
    assert ipfix.decode_options(body) == [{IPFIX_SCOPE | 10: 5, 10: 5, 34: 100}]
    for t in (v9, ipfix):
        assert Template.from_json(json.loads(json.dumps(t.to_json()))).decode_options(body) == \
            t.decode_options(body)
    # a v9 exporter using an element id as scope type (outside RFC 3954's 1-5) keeps that id
    sampler = Template(9, 401, (FieldSpec(48, 2), FieldSpec(50, 4)), scope_count=1, options=True)
    assert sampler.decode_options((3).to_bytes(2, "big") + (64).to_bytes(4, "big")) == \
        [{V9_SCOPE | 48: 3, 48: 3, 50: 64}]


def test_would_change_and_state_rows() -> None:
    table = SamplingTable()
    if1 = {V9_SCOPE | 2: 1, 34: 100}
    assert table.would_change(EXP, 0, if1)
    table.learn(EXP, 0, if1)
    assert not table.would_change(EXP, 0, if1)
    assert table.would_change(EXP, 0, {V9_SCOPE | 2: 1, 34: 50})  # a new rate
    assert table.would_change(EXP, 0, {V9_SCOPE | 2: 2, 34: 100})  # another interface
    assert table.would_change(EXP, 1, if1)  # another domain
    assert table.domain_rate == {}
    before = table.scoped(EXP, 0)
    table.learn(EXP, 0, if1)
    assert table.scoped(EXP, 0) is before  # a repeat changes nothing (queued records keep it)

    restored = SamplingTable()
    restored.load_json(json.loads(json.dumps(table.to_json())))
    assert restored.interface(EXP, 0, 1) == 100 and restored.interface(EXP, 0, 2) is None
    # older files: domain and sampler rows only
    restored.load_json([[EXP, 3, 64], [EXP, 3, 8, 5]])
    assert restored.domain_rate[(EXP, 3)] == 64 and restored.sampler(EXP, 3, 5) == 8
    with pytest.raises(ValueError, match="sampling row"):
        restored.load_json([[EXP, 4, 2], [EXP, 4, 10, "sideways", 1]])
    assert (EXP, 4) not in restored.domain_rate  # all or nothing
