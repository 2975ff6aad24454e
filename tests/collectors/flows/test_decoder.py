"""NetFlow v9 / IPFIX / v5 decoding with hand-built datagrams: every value sent is known."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from nocsoc.collectors.flows.collector import FlowPipeline
from nocsoc.collectors.flows.config import FlowsConfig
from nocsoc.collectors.flows.decoder import NetflowDecoder
from nocsoc.collectors.flows.records import SCALED, UNKNOWN, UNSAMPLED, FlowBatch
from nocsoc.collectors.flows.templates import EarlyData
from nocsoc.inventory.model import Device, Inventory, Role, Site, SnmpProfile
from tests.collectors.flows import craft

EXP = "127.0.0.5"
V4_FIELDS = [(8, 4), (12, 4), (1, 4), (2, 4), (4, 1), (7, 2), (11, 2), (10, 4), (14, 4)]


def v4_rows(n: int, base_bytes: int = 1000) -> list[list[int | bytes]]:
    return [
        [craft.ip4(f"10.0.0.{i + 1}"), craft.ip4("10.9.9.9"), base_bytes + i, 10 + i, 6, 40000 + i, 443, 3, 7]
        for i in range(n)
    ]


def decode(dec: NetflowDecoder, *datagrams: bytes, exporter: str = EXP) -> list[FlowBatch]:
    return dec.decode([(d, exporter, 100.0) for d in datagrams])


def totals(batches: list[FlowBatch]) -> tuple[int, int, int]:
    return (
        sum(int(b.bytes.sum()) for b in batches),
        sum(int(b.packets.sum()) for b in batches),
        sum(len(b) for b in batches),
    )


def test_v9_template_and_data_decode_every_field() -> None:
    dec = NetflowDecoder()
    rows = v4_rows(5)
    batches = decode(
        dec, craft.v9([craft.v9_template_set(300, V4_FIELDS), craft.data_set(300, V4_FIELDS, rows)])
    )
    assert len(batches) == 1
    got = batches[0].rows()
    assert [r["src"] for r in got] == [f"10.0.0.{i}" for i in range(1, 6)]
    assert [r["bytes"] for r in got] == [1000, 1001, 1002, 1003, 1004]
    assert {(r["dst"], r["proto"], r["dport"], r["in_if"], r["out_if"]) for r in got} == {
        ("10.9.9.9", 6, 443, 3, 7)
    }
    # no sampling information at all: unscaled, marked unknown, counted
    assert {r["sampled"] for r in got} == {"unknown"}
    assert dec.stats.get(EXP, "9", "unsampled") == 5
    assert dec.stats.get(EXP, "9", "records") == 5


def test_v9_options_data_scales_volumes() -> None:
    dec = NetflowDecoder()
    opt_scope, opt_fields = [(1, 4)], [(34, 4), (35, 1)]
    before = craft.v9(
        [craft.v9_template_set(300, V4_FIELDS), craft.data_set(300, V4_FIELDS, v4_rows(2))], seq=0
    )
    options = craft.v9(
        [
            craft.v9_options_template_set(400, opt_scope, opt_fields),
            craft.data_set(400, [*opt_scope, *opt_fields], [[0, 100, 2]]),
        ],
        seq=1,
    )
    after = craft.v9([craft.data_set(300, V4_FIELDS, v4_rows(3))], seq=2)
    batches = decode(dec, before, options, after)
    by_state = {int(b.state[0]): b for b in batches}
    assert by_state[UNKNOWN].bytes.tolist() == [1000, 1001]  # before the rate was known: not guessed
    assert by_state[SCALED].bytes.tolist() == [100_000, 100_100, 100_200]
    assert by_state[SCALED].packets.tolist() == [1000, 1100, 1200]
    assert by_state[SCALED].rate.tolist() == [100, 100, 100]
    assert dec.stats.get(EXP, "9", "unsampled") == 2


def test_ipfix_options_packet_interval_and_selector_per_record() -> None:
    """RFC 5477 samplingPacketInterval/Space; data records name their selector (selectorId 302)."""
    dec = NetflowDecoder()
    scope, opts = [(302, 4)], [(305, 4), (306, 4)]
    fields = [*V4_FIELDS, (302, 4)]
    rows = [[*r, sel] for r, sel in zip(v4_rows(4), [1, 2, 1, 3], strict=True)]
    msg = craft.ipfix(
        [
            craft.ipfix_options_template_set(500, scope, opts),
            craft.data_set(500, [*scope, *opts], [[1, 1, 9], [2, 1, 999]]),  # 1 in 10, 1 in 1000
            craft.ipfix_template_set(600, fields),
            craft.data_set(600, fields, rows),
        ]
    )
    (batch,) = decode(dec, msg)
    # selector 3 is unknown: the domain default (the last rate announced, 1000) applies
    assert batch.rate.tolist() == [10, 1000, 10, 1000]
    assert batch.bytes.tolist() == [10_000, 1_001_000, 10_020, 1_003_000]
    assert batch.state.tolist() == [SCALED] * 4


def test_sampling_interval_inside_data_records_wins() -> None:
    dec = NetflowDecoder()
    fields = [*V4_FIELDS, (34, 4)]
    rows = [[*r, rate] for r, rate in zip(v4_rows(3), [1, 0, 50], strict=True)]
    (batch,) = decode(
        dec, craft.ipfix([craft.ipfix_template_set(700, fields), craft.data_set(700, fields, rows)])
    )
    assert batch.rate.tolist() == [1, 1, 50]
    assert batch.state.tolist() == [UNSAMPLED, UNKNOWN, SCALED]


def _inventory(rate: int | None) -> Inventory:
    return Inventory(
        sites=[Site(id="dx", name="Đồng Xoài", kind="datacenter")],
        snmp_profiles=[SnmpProfile(name="p", community="env:C")],
        devices=[
            Device(
                name="core-01",
                address="127.0.1.1",
                role=Role.CORE,
                site="dx",
                profile="p",
                flow_exporter=EXP,
                flow_sampling_rate=rate,
            )
        ],
    )


def test_inventory_fallback_rate_and_enrichment() -> None:
    pipe = FlowPipeline(FlowsConfig(interval_s=60), _inventory(512))
    pipe.ifnames.update("core-01", {3: "xe-0/0/3"})  # what the SNMP collector learns
    pipe.process(
        [
            (
                craft.v9([craft.v9_template_set(300, V4_FIELDS), craft.data_set(300, V4_FIELDS, v4_rows(2))]),
                EXP,
                120.5,
            )
        ]
    )
    points = pipe.rollups.flush_all()
    (total,) = [p for p in points if p.measurement == "flow_total"]
    assert total.tags == {
        "exporter": EXP,
        "device": "core-01",
        "site": "dx",
        "ip_version": "4",
        "sampled": "true",
    }
    assert total.fields["bytes"] == (1000 + 1001) * 512
    assert total.time_ns == 120 * 10**9
    ifaces = {
        (p.tags["direction"], p.tags.get("ifname")): p.fields["bytes"]
        for p in points
        if p.measurement == "flow_interface"
    }
    # an interface the poller has not named keeps its own series, named by its index
    assert ifaces == {("in", "xe-0/0/3"): 2001 * 512, ("out", "ifIndex 7"): 2001 * 512}


def test_v5_header_sampling_interval() -> None:
    dec = NetflowDecoder()
    recs = [{"src": "10.0.0.1", "dst": "10.0.0.2", "packets": 3, "bytes": 300, "sport": 1, "dport": 80}]
    (batch,) = decode(dec, craft.v5(recs, sampling=(1 << 14) | 64))
    assert (batch.bytes.tolist(), batch.packets.tolist(), batch.state.tolist()) == ([19200], [192], [SCALED])
    (batch,) = decode(dec, craft.v5(recs, seq=1, sampling=0), exporter="127.0.0.6")
    assert batch.state.tolist() == [UNSAMPLED]


def test_variable_length_enterprise_and_reduced_size_fields() -> None:
    dec = NetflowDecoder()
    fields = [(8, 4), (82, 0xFFFF), (12, 4), (1, 3), (9999, 2, 4242), (2, 6), (83, 0xFFFF), (4, 1)]
    rows = [
        [craft.ip4("10.0.0.1"), b"ge-0/0/1", craft.ip4("10.0.0.2"), 70_000, b"\xff\xff", 5, b"x" * 300, 17],
        [craft.ip4("10.0.0.3"), b"", craft.ip4("10.0.0.4"), 16_777_215, b"\x00\x01", 2**40, b"", 6],
    ]
    (batch,) = decode(
        dec, craft.ipfix([craft.ipfix_template_set(800, fields), craft.data_set(800, fields, rows)])
    )
    assert batch.bytes.tolist() == [70_000, 16_777_215]
    assert batch.packets.tolist() == [5, 2**40]
    assert batch.proto.tolist() == [17, 6]
    assert [r["dst"] for r in batch.rows()] == ["10.0.0.2", "10.0.0.4"]
    fixed = [(8, 4), (9999, 8, 4242), (12, 4), (1, 5), (2, 7)]
    (batch,) = decode(
        dec,
        craft.ipfix(
            [
                craft.ipfix_template_set(801, fixed),
                craft.data_set(
                    801, fixed, [[craft.ip4("10.0.0.1"), 7, craft.ip4("10.0.0.2"), 2**39 + 1, 2**49 + 3]]
                ),
            ]
        ),
    )
    assert (batch.bytes.tolist(), batch.packets.tolist()) == ([2**39 + 1], [2**49 + 3])


def test_ipv6_records() -> None:
    dec = NetflowDecoder()
    fields = [(27, 16), (28, 16), (1, 4), (2, 4), (4, 1), (7, 2), (11, 2)]
    rows = [[craft.ip6("2001:db8::1"), craft.ip6("2001:db8::53"), 120, 1, 17, 5353, 53]]
    (batch,) = decode(
        dec, craft.ipfix([craft.ipfix_template_set(900, fields), craft.data_set(900, fields, rows)])
    )
    assert batch.ip_version == 6
    (row,) = batch.rows()
    assert (row["src"], row["dst"], row["bytes"], row["dport"]) == ("2001:db8::1", "2001:db8::53", 120, 53)


def test_data_before_template_is_held_then_decoded() -> None:
    dec = NetflowDecoder()
    early = craft.v9([craft.data_set(300, V4_FIELDS, v4_rows(3))], seq=0)
    assert decode(dec, early) == []
    assert dec.stats.get(EXP, "9", "template_missing") == 1
    assert len(dec.early) == 1
    batches = decode(dec, craft.v9([craft.v9_template_set(300, V4_FIELDS)], seq=1))
    assert totals(batches) == (1000 + 1001 + 1002, 10 + 11 + 12, 3)
    assert len(dec.early) == 0
    assert dec.stats.get(EXP, "9", "records") == 3


def test_early_data_buffer_is_bounded() -> None:
    dec = NetflowDecoder(early=EarlyData(max_sets=3))
    for i in range(5):
        decode(dec, craft.v9([craft.data_set(300 + i, V4_FIELDS, v4_rows(1))], seq=i))
    assert len(dec.early) == 3
    assert dec.stats.get(EXP, "9", "template_missing") == 5
    # the two oldest (templates 300, 301) were evicted: their template finds nothing held
    assert decode(dec, craft.v9([craft.v9_template_set(300, V4_FIELDS)], seq=5)) == []
    assert len(decode(dec, craft.v9([craft.v9_template_set(304, V4_FIELDS)], seq=6))) == 1


def test_template_cache_is_keyed_by_exporter_and_domain() -> None:
    dec = NetflowDecoder()
    decode(dec, craft.v9([craft.v9_template_set(300, V4_FIELDS)], source_id=1))
    data = craft.data_set(300, V4_FIELDS, v4_rows(1))
    assert decode(dec, craft.v9([data], source_id=2, seq=1)) == []  # other domain: no template
    assert decode(dec, craft.v9([data], source_id=1), exporter="127.0.0.7") == []  # other exporter
    assert len(decode(dec, craft.v9([data], source_id=1, seq=2))) == 1


def test_ipfix_template_withdrawal() -> None:
    dec = NetflowDecoder()
    data = craft.data_set(600, V4_FIELDS, v4_rows(1))
    assert len(decode(dec, craft.ipfix([craft.ipfix_template_set(600, V4_FIELDS), data]))) == 1
    assert decode(dec, craft.ipfix([craft.ipfix_withdrawal_set(600), data], seq=1)) == []
    assert dec.stats.get(EXP, "10", "template_missing") == 1
    # withdraw-all (template id 2) removes every data template of the domain
    decode(
        dec, craft.ipfix([craft.ipfix_template_set(601, V4_FIELDS), craft.ipfix_template_set(602, V4_FIELDS)])
    )
    decode(dec, craft.ipfix([craft.ipfix_withdrawal_set(2)]))
    assert len(dec.templates) == 0


def test_templates_and_sampling_persist_across_restart(tmp_path: Path) -> None:
    scope, opts = [(1, 4)], [(34, 4)]
    first = FlowPipeline(FlowsConfig(), state_dir=tmp_path)
    first.process(
        [
            (
                craft.v9(
                    [
                        craft.v9_template_set(300, V4_FIELDS),
                        craft.v9_options_template_set(400, scope, opts),
                        craft.data_set(400, [*scope, *opts], [[0, 20]]),
                    ]
                ),
                EXP,
                1.0,
            )
        ]
    )
    first.save_state()
    second = FlowPipeline(FlowsConfig(), state_dir=tmp_path)
    second.load_state()
    got: list[FlowBatch] = []
    second.process(
        [(craft.v9([craft.data_set(300, V4_FIELDS, v4_rows(2))], seq=1), EXP, 2.0)], on_batch=got.append
    )
    assert totals(got) == ((1000 + 1001) * 20, (10 + 11) * 20, 2)


def test_broken_persisted_state_is_reported_not_fatal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "templates.json").write_text("{not json")
    pipe = FlowPipeline(FlowsConfig(), state_dir=tmp_path)
    pipe.load_state()
    assert "templates.json: cannot read persisted templates" in caplog.text
    assert len(pipe.templates) == 0


@pytest.mark.parametrize(("version", "lost"), [(5, 4), (9, 1), (10, 4)])
def test_sequence_loss_counts_the_right_unit(version: int, lost: int) -> None:
    """v5 counts flows, v9 export packets, IPFIX data records (RFC 7011)."""
    dec = NetflowDecoder()
    msgs = []
    for i in range(4):
        if version == 5:
            recs = [{"src": "10.0.0.1", "dst": "10.0.0.2", "packets": 1, "bytes": 100}] * 4
            msgs.append(craft.v5(recs, seq=4 * i))
        elif version == 9:
            msgs.append(
                craft.v9(
                    [craft.v9_template_set(300, V4_FIELDS), craft.data_set(300, V4_FIELDS, v4_rows(4))], seq=i
                )
            )
        else:
            msgs.append(
                craft.ipfix(
                    [craft.ipfix_template_set(300, V4_FIELDS), craft.data_set(300, V4_FIELDS, v4_rows(4))],
                    seq=4 * i,
                )
            )
    decode(dec, msgs[0], msgs[1], msgs[3])  # the third is lost on the way
    assert dec.stats.get(EXP, str(version), "sequence_lost") == lost
    assert dec.stats.get(EXP, str(version), "records") == 12


BAD = {
    "truncated header": craft.v9([])[:11],
    "set length lies": craft.v9([struct.pack("!HH", 300, 400) + bytes(8)]),
    "set length below 4": craft.v9([struct.pack("!HH", 300, 2)]),
    "unknown version": struct.pack("!H", 7) + bytes(30),
    "every field zero-length": craft.v9([craft.v9_template_set(300, [(8, 0), (1, 0)])]),
    "template id below 256": craft.v9([craft.v9_template_set(7, V4_FIELDS)]),
    "ipfix length lies": craft.ipfix([craft.ipfix_template_set(300, V4_FIELDS)])[:-3],
    "v5 count lies": craft.v5([{"src": "1.1.1.1", "dst": "2.2.2.2", "packets": 1, "bytes": 1}])[:-10],
    "varlen runs past the set": craft.ipfix(
        [craft.ipfix_template_set(300, [(82, 0xFFFF)]), craft.data_set(300, [(82, 4)], [[0xC8000000]])]
    ),
    "empty": b"",
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_is_counted_per_exporter_and_dropped(name: str) -> None:
    dec = NetflowDecoder()
    assert decode(dec, BAD[name], exporter="127.0.0.66") == []
    snap = dec.stats.snapshot()
    # a bad template is a template error (the rest of its datagram is kept), the rest decode errors
    mine = [v for (e, _), v in snap.items() if e == "127.0.0.66"]
    assert sum(v["decode_errors"] + v["template_errors"] for v in mine) == 1
    # the decoder keeps working for everyone
    good = craft.v9([craft.v9_template_set(300, V4_FIELDS), craft.data_set(300, V4_FIELDS, v4_rows(2))])
    assert totals(decode(dec, good)) == (2001, 21, 2)


def test_joined_padded_sets_stay_aligned() -> None:
    """v9 pads flowsets to 4 bytes; sets of one template are joined before decoding."""
    fields = [(8, 4), (12, 4), (1, 4), (2, 4), (4, 1), (5, 1)]  # 18-byte records: odd counts pad by 2
    dec = NetflowDecoder()
    msgs = [craft.v9([craft.v9_template_set(300, fields)], seq=0)]
    rows = [[craft.ip4("10.0.0.1"), craft.ip4("10.0.0.2"), 100 + i, 1, 6, 0] for i in range(3)]
    msgs += [craft.v9([craft.data_set(300, fields, rows)], seq=i) for i in range(1, 6)]
    batches = decode(dec, *msgs)
    assert np.concatenate([b.bytes for b in batches]).tolist() == [100, 101, 102] * 5


def test_impossible_counts_are_dropped_and_counted() -> None:
    """A petabyte in one record (or one that would overflow when scaled) is garbage, not traffic."""
    fields = [(8, 4), (12, 4), (1, 8), (2, 8)]
    rows = [
        [craft.ip4("10.0.0.1"), craft.ip4("10.0.0.2"), 1500, 1],
        [craft.ip4("10.0.0.1"), craft.ip4("10.0.0.2"), 2**60, 1],
    ]
    dec = NetflowDecoder()
    batches = decode(
        dec, craft.ipfix([craft.ipfix_template_set(300, fields), craft.data_set(300, fields, rows)])
    )
    assert totals(batches) == (1500, 1, 1)
    assert dec.stats.get(EXP, "10", "decode_errors") == 1


def test_inventory_reload_changes_enrichment_and_fallback() -> None:
    pipe = FlowPipeline(FlowsConfig(interval_s=60), _inventory(None))
    msg = craft.v9([craft.v9_template_set(300, V4_FIELDS), craft.data_set(300, V4_FIELDS, v4_rows(1))])
    pipe.process([(msg, EXP, 1.0)])
    pipe.set_inventory(_inventory(100))
    pipe.process([(craft.v9([craft.data_set(300, V4_FIELDS, v4_rows(1))], seq=1), EXP, 2.0)])
    totals_by_state = {
        p.tags["sampled"]: p.fields["bytes"]
        for p in pipe.rollups.flush_all()
        if p.measurement == "flow_total"
    }
    assert totals_by_state == {"unknown": 1000, "true": 100_000}


def test_ipfix_loss_with_softflowd_numbering() -> None:
    """softflowd numbers IPFIX messages by the records up to and including each message (not
    before it, as RFC 7011 says) and leaves options records out: loss is still exact."""
    dec = NetflowDecoder()
    opt_scope, opt = [(1, 4)], [(34, 4)]
    msgs = []
    for i in range(6):
        sets = [craft.ipfix_template_set(300, V4_FIELDS), craft.data_set(300, V4_FIELDS, v4_rows(3 + i))]
        if i % 2 == 0:  # an options record now and then, which the numbering leaves out
            sets = [
                craft.ipfix_options_template_set(400, opt_scope, opt),
                craft.data_set(400, [*opt_scope, *opt], [[0, 1]]),
                *sets,
            ]
        msgs.append((craft.ipfix(sets, seq=sum(3 + j for j in range(i + 1))), i))
    decode(dec, *[m for m, i in msgs if i != 3])  # the 4th message (6 records) is lost
    assert dec.stats.get(EXP, "10", "sequence_lost") == 6


def test_v5_batch_spanning_intervals_rolls_up_each_interval_exactly() -> None:
    """One process() call whose datagrams cross two interval boundaries (the worker's batch at a
    minute's turn): each interval gets exactly its own records, with or without on_batch."""
    times = [10.0 + 7.0 * i for i in range(24)]  # 10 .. 171 s: intervals 0, 1 and 2 of 60 s
    datagrams = [(craft.v5([{"src": f"10.0.{i}.{r + 1}", "dst": "10.9.9.9", "packets": 1 + r,
                             "bytes": 100 * (i + 1), "in_if": 1, "out_if": 2} for r in range(10)],
                            seq=10 * i), EXP, t) for i, t in enumerate(times)]
    for keep in (False, True):
        got: list[FlowBatch] = []
        pipe = FlowPipeline(FlowsConfig(interval_s=60))
        assert pipe.process(datagrams, on_batch=got.append if keep else None) == 240
        assert pipe.records == 240
        points = pipe.rollups.flush_all()
        totals = {p.time_ns // 10**9: p.fields for p in points if p.measurement == "flow_total"}
        want = {k: {"bytes": 0, "packets": 0, "flows": 0} for k in (0, 60, 120)}
        for i, t in enumerate(times):
            w = want[int(t // 60) * 60]
            w["bytes"] += 10 * 100 * (i + 1)
            w["packets"] += sum(1 + r for r in range(10))
            w["flows"] += 10
        assert {k: {f: v[f] for f in ("bytes", "packets", "flows")} for k, v in totals.items()} == want
        assert pipe.stats.total("sequence_lost") == 0
        assert sum(len(b) for b in got) == (240 if keep else 0)
