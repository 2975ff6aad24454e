"""What real exporters do beyond the textbook, each decoded to its exact values and counted.

Every test runs on the C and numpy paths (conftest), and `run` decodes each stream twice, in bulk
and datagram by datagram, and requires the same records and counters from both.
"""

from __future__ import annotations

import struct
from typing import Any

import pytest
from scapy.contrib.mpls import MPLS
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrRouting
from scapy.layers.l2 import ARP, Dot1AD, Dot1Q, Ether
from scapy.layers.vxlan import VXLAN
from scapy.packet import Raw

from nocsoc.collectors.flows import headers
from nocsoc.collectors.flows.decoder import NetflowDecoder
from nocsoc.collectors.flows.rollup import Rollups
from nocsoc.collectors.flows.sflow import SflowDecoder
from tests.collectors.flows import craft

EXP = "192.0.2.1"
REPEAT = 10  # data datagrams per stream: enough for the bulk path (decoder.VECTOR_MIN)


def run(*datagrams: bytes, vxlan: bool = False) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Rows and counters of the datagrams (the last one repeated REPEAT times), equal in bulk and
    per datagram."""
    stream = [*datagrams, *[datagrams[-1]] * (REPEAT - 1)]
    results = []
    for vectorized in (True, False):
        dec = NetflowDecoder()
        dec.vectorized = vectorized
        dec.vxlan = vxlan
        rows = [r for b in dec.decode([(d, EXP, 100.0) for d in stream]) for r in b.rows()]
        counts: dict[str, int] = {}
        for values in dec.stats.snapshot().values():
            for k, v in values.items():
                if v and k not in ("datagrams", "sequence_lost"):
                    counts[k] = counts.get(k, 0) + v
        assert dec.unexpected_errors == 0
        results.append((sorted(rows, key=repr), counts))
    assert results[0] == results[1]
    return results[0]


def one(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The record the repeated datagram carries (REPEAT equal rows)."""
    assert len(rows) % REPEAT == 0 and all(r == rows[0] for r in rows[:REPEAT])
    return rows[0]


# --- PSAMP selectors --------------------------------------------------------------------------

FLOW_SEL = [(8, 4), (12, 4), (1, 4), (2, 4), (302, 4)]


def psamp(
    options: list[tuple[int, int]], values: list[list[int]], selectors: list[int]
) -> tuple[bytes, bytes]:
    scope = [(302, 4)]
    opt = craft.ipfix(
        [
            craft.ipfix_options_template_set(400, scope, options),
            craft.data_set(400, [*scope, *options], values),
            craft.ipfix_template_set(300, FLOW_SEL),
        ],
        seq=0,
    )
    data = craft.ipfix(
        [
            craft.data_set(
                300, FLOW_SEL, [[craft.ip4("10.0.0.1"), craft.ip4("10.0.0.2"), 100, 1, s] for s in selectors]
            )
        ],
        seq=1,
    )
    return opt, data


def test_psamp_random_n_out_of_N_with_interval_1_is_population_over_size() -> None:
    """IOS XR: selectorAlgorithm 3, samplingPacketInterval 1, samplingSize 1, population 256."""
    rows, counts = run(*psamp([(304, 2), (305, 4), (309, 4), (310, 4)], [[1, 3, 1, 1, 256]], [1]))
    assert {(r["sampling_rate"], r["sampled"], r["bytes"], r["packets"]) for r in rows} == {
        (256, "true", 25600, 256)
    }
    assert "unsampled" not in counts


def test_psamp_selectors_by_id_each_with_its_rate() -> None:
    rows, _ = run(
        *psamp([(304, 2), (309, 4), (310, 4)], [[1, 3, 1, 1], [2, 3, 1, 1024], [3, 3, 1, 4096]], [1, 2, 3])
    )
    assert sorted({r["sampling_rate"] for r in rows}) == [1, 1024, 4096]


@pytest.mark.parametrize(
    ("options", "values", "rate"),
    [
        ([(304, 2), (305, 4), (306, 4)], [[1, 1, 1, 99]], 100),  # systematic count-based
        ([(305, 4), (306, 4)], [[1, 1, 511]], 512),  # no algorithm named: interval/space
        (
            [(304, 2), (311, 8)],
            [[1, 4, struct.unpack("!Q", struct.pack("!d", 0.001))[0]]],
            1000,
        ),  # probabilistic
    ],
)
def test_psamp_systematic_and_probabilistic(options: list, values: list, rate: int) -> None:
    rows, _ = run(*psamp(options, values, [1]))
    assert {r["sampling_rate"] for r in rows} == {rate}


def test_psamp_time_based_selector_has_no_rate_and_is_counted() -> None:
    rows, counts = run(*psamp([(304, 2), (307, 4), (308, 4)], [[1, 2, 10, 990]], [1]))
    assert {r["sampled"] for r in rows} == {"unknown"}
    assert counts["sampling_unsupported"] == 1


# --- lenient templates, padding ---------------------------------------------------------------

V4 = [(8, 4), (12, 4), (1, 4), (2, 4)]
ROW = [craft.ip4("10.0.0.1"), craft.ip4("10.0.0.2"), 100, 1]


def test_zero_length_fields_are_skipped() -> None:
    fields = [(0, 0), *V4, (0, 0)]
    rows, counts = run(
        craft.v9([craft.v9_template_set(256, fields)]),
        craft.v9([craft.data_set(256, fields, [[0, *ROW, 0]])], seq=1),
    )
    assert (one(rows)["src"], one(rows)["bytes"]) == ("10.0.0.1", 100)
    assert counts["template_lenient"] == 1 and "decode_errors" not in counts


def test_zero_length_scope_of_an_options_template_is_skipped() -> None:
    """Juniper SRX: scope field of length 0 before sampling interval 1000."""
    scope, opt = [(1, 0)], [(34, 4)]
    rows, counts = run(
        craft.v9(
            [
                craft.v9_options_template_set(257, scope, opt),
                craft.data_set(257, [*scope, *opt], [[0, 1000]]),
                craft.v9_template_set(256, V4),
            ]
        ),
        craft.v9([craft.data_set(256, V4, [ROW])], seq=1),
    )
    assert one(rows)["sampling_rate"] == 1000
    assert counts["template_lenient"] == 1


def test_v9_variable_length_field_is_read() -> None:
    """H3C NetStream: a VRF name of length 65535 in a v9 template."""
    fields = [*V4, (236, 0xFFFF)]
    rows, counts = run(
        craft.v9([craft.v9_template_set(256, fields)]),
        craft.v9([craft.data_set(256, fields, [[*ROW, b"vrf-blue"]])], seq=1),
    )
    assert (one(rows)["dst"], one(rows)["packets"]) == ("10.0.0.2", 1)
    assert counts["template_lenient"] == 1


def test_a_bad_template_keeps_the_next_one_and_the_datagram() -> None:
    bad = [(8, 0), (1, 0)]  # every field of length 0: no record can be read
    one_set = craft._set(0, craft.template_record(256, bad, False) + craft.template_record(257, V4, False))
    rows, counts = run(craft.v9([one_set]), craft.v9([craft.data_set(257, V4, [ROW])], seq=1))
    assert one(rows)["bytes"] == 100
    assert counts["template_errors"] == 1 and "decode_errors" not in counts


def test_held_data_is_released_by_its_template_and_dropped_for_a_bad_one() -> None:
    dec = NetflowDecoder()
    data = craft.ipfix([craft.data_set(300, V4, [ROW]), craft.data_set(301, V4, [ROW])], seq=0)
    dec.decode([(data, EXP, 1.0)])
    assert len(dec.early) == 2
    templates = craft.ipfix(
        [craft.ipfix_template_set(300, V4), craft.ipfix_template_set(301, [(8, 0)])], seq=1
    )
    rows = [r for b in dec.decode([(templates, EXP, 2.0)]) for r in b.rows()]
    assert [r["bytes"] for r in rows] == [100]  # 300's held set, released
    assert len(dec.early) == 0  # 301's, dropped with its bad template
    assert dec.stats.get(EXP, "10", "template_errors") == 1


@pytest.mark.parametrize("pad", [64, 1220])
def test_zero_padding_after_the_last_flowset_is_not_an_error(pad: int) -> None:
    rows, counts = run(
        craft.v9([craft.v9_template_set(256, V4)]),
        craft.v9([craft.data_set(256, V4, [ROW])], seq=1) + bytes(pad),
    )
    assert len(rows) == REPEAT
    assert counts["padding"] == REPEAT and "decode_errors" not in counts


def test_bytes_after_an_ipfix_message_are_counted() -> None:
    msg = craft.ipfix([craft.ipfix_template_set(300, V4), craft.data_set(300, V4, [ROW])])
    rows, counts = run(msg, msg + msg)
    assert len(rows) == REPEAT + 1  # one message per datagram is read
    assert counts["trailing_data"] == REPEAT  # the ten datagrams of two messages


# --- header sections (IE 315, 313) ------------------------------------------------------------


def section_stream(
    frame: bytes, extra: list[tuple[int, int]] | None = None, values: list[int] | None = None
) -> tuple[bytes, bytes]:
    fields = [(10, 4), *(extra or []), (315, 0xFFFF)]
    tpl = craft.ipfix([craft.ipfix_template_set(320, fields)], seq=0)
    data = craft.ipfix([craft.data_set(320, fields, [[5, *(values or []), frame]])], seq=1)
    return tpl, data


def test_frame_section_ethernet_vlan_ipv4_tcp() -> None:
    frame = bytes(
        Ether()
        / Dot1Q(vlan=20)
        / IP(src="198.51.100.7", dst="203.0.113.9")
        / TCP(sport=51000, dport=443)
        / Raw(b"x" * 60)
    )[:96]
    rows, counts = run(*section_stream(frame, [(312, 2)], [1514]))
    r = one(rows)
    assert (r["src"], r["dst"], r["sport"], r["dport"], r["proto"], r["in_if"], r["bytes"], r["packets"]) == (
        "198.51.100.7",
        "203.0.113.9",
        51000,
        443,
        6,
        5,
        1514,
        1,
    )
    assert counts["frame_sections"] == REPEAT


def test_frame_section_qinq_mpls_ipv6_routing_header_udp() -> None:
    frame = bytes(
        Ether()
        / Dot1AD(vlan=100)
        / Dot1Q(vlan=200)
        / MPLS(label=16, s=0)
        / MPLS(label=17, s=1)
        / IPv6(src="2001:db8::1", dst="2001:db8::2")
        / IPv6ExtHdrRouting()
        / UDP(sport=4000, dport=53)
        / Raw(b"q" * 30)
    )
    r = one(run(*section_stream(frame))[0])
    assert (r["src"], r["dst"], r["sport"], r["dport"], r["proto"], r["bytes"]) == (
        "2001:db8::1",
        "2001:db8::2",
        4000,
        53,
        17,
        40 + 8 + 8 + 30,
    )


def test_frame_sections_malformed_or_without_ip_are_counted_and_dropped() -> None:
    ipv4 = bytes(Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / ICMP())
    for frame, counter in ((ipv4[:20], "frame_errors"), (bytes(Ether() / ARP()), "frame_not_ip")):
        rows, counts = run(*section_stream(frame))
        assert rows == [] and counts[counter] == REPEAT


def test_vxlan_is_decapsulated_only_when_configured() -> None:
    inner = Ether() / IP(src="192.168.1.10", dst="192.168.2.20") / TCP(sport=1234, dport=80)
    frame = bytes(
        Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=55555, dport=4789) / VXLAN(vni=42) / inner
    )
    r = one(run(*section_stream(frame))[0])
    assert (r["src"], r["dport"]) == ("10.0.0.1", 4789)
    rows, counts = run(*section_stream(frame), vxlan=True)
    r = one(rows)
    assert (r["src"], r["dst"], r["sport"], r["dport"], r["tunnel_src"], r["tunnel_dst"]) == (
        "192.168.1.10",
        "192.168.2.20",
        1234,
        80,
        "10.0.0.1",
        "10.0.0.2",
    )
    assert counts["vxlan_decapsulated"] == REPEAT


def test_header_walker_refuses_what_it_cannot_follow() -> None:
    assert headers.walk(bytes(Ether() / ARP())) is None  # not IP: nothing to report, no error
    with pytest.raises(headers.HeaderError, match="IPv4 header cut short at offset 14"):
        headers.walk(bytes(Ether() / IP())[:30])
    bad = bytearray(bytes(Ether() / IP()))
    bad[14] = 0x41  # header length 4
    with pytest.raises(headers.HeaderError, match="IPv4 header length 4"):
        headers.walk(bytes(bad))


# --- tunnels, interfaces, volumes ------------------------------------------------------------


def test_tunnel_template_reports_the_inner_flow_and_keeps_the_outer() -> None:
    """Huawei/IOS XR SRv6: outer IPv6 pair first, inner IPv4 pair, ports and protocol after."""
    fields = [(27, 16), (28, 16), (4, 1), (1, 4), (2, 4), (8, 4), (12, 4), (7, 2), (11, 2), (4, 1)]
    rows_in = [
        [
            craft.ip6("2001:db8:53::1"),
            craft.ip6("2001:db8:9:e140::"),
            4,
            500,
            5,
            craft.ip4("192.0.2.110"),
            craft.ip4("192.0.2.14"),
            2222,
            1111,
            17,
        ],
        [craft.ip6("2001:db8::a"), craft.ip6("2001:db8::b"), 6, 70, 1, 0, 0, 0, 0, 0],
    ]
    rows, counts = run(
        craft.ipfix([craft.ipfix_template_set(330, fields)]),
        craft.ipfix([craft.data_set(330, fields, rows_in)], seq=1),
    )
    got = {
        (r["src"], r["dst"], r["sport"], r["dport"], r["proto"], r.get("tunnel_src"), r.get("tunnel_dst"))
        for r in rows
    }
    assert got == {
        ("192.0.2.110", "192.0.2.14", 2222, 1111, 17, "2001:db8:53::1", "2001:db8:9:e140::"),
        ("2001:db8::a", "2001:db8::b", 0, 0, 6, None, None),
    }
    assert counts["tunnel_records"] == REPEAT


def test_same_elements_twice_inner_wins() -> None:
    fields = [(8, 4), (12, 4), (8, 4), (12, 4), (1, 4)]
    r = one(
        run(
            craft.ipfix([craft.ipfix_template_set(331, fields)]),
            craft.ipfix(
                [
                    craft.data_set(
                        331,
                        fields,
                        [
                            [
                                craft.ip4("10.1.1.1"),
                                craft.ip4("10.2.2.2"),
                                craft.ip4("172.16.0.1"),
                                craft.ip4("172.16.0.2"),
                                9,
                            ]
                        ],
                    )
                ],
                seq=1,
            ),
        )[0]
    )
    assert (r["src"], r["dst"], r["tunnel_src"], r["tunnel_dst"]) == (
        "172.16.0.1",
        "172.16.0.2",
        "10.1.1.1",
        "10.2.2.2",
    )


def test_physical_interfaces_when_logical_ones_are_absent() -> None:
    fields = [*V4, (252, 2), (253, 2)]
    rows, counts = run(
        craft.v9([craft.v9_template_set(256, fields)]),
        craft.v9([craft.data_set(256, fields, [[*ROW, 3, 4]])], seq=1),
    )
    assert (one(rows)["in_if"], one(rows)["out_if"]) == (3, 4)
    assert counts["if_fallback"] == 2 * REPEAT


def test_nsel_initiator_and_responder_are_two_records_nat_kept() -> None:
    fields = [
        (8, 4),
        (12, 4),
        (7, 2),
        (11, 2),
        (4, 1),
        (10, 2),
        (14, 2),
        (231, 4),
        (232, 4),
        (298, 4),
        (299, 4),
        (225, 4),
        (227, 2),
        (40005, 1),
    ]
    row = [
        craft.ip4("10.0.0.5"),
        craft.ip4("198.51.100.1"),
        40000,
        443,
        6,
        1,
        2,
        1200,
        64000,
        10,
        50,
        craft.ip4("203.0.113.5"),
        61000,
        2,
    ]
    rows, counts = run(
        craft.v9([craft.v9_template_set(260, fields)]), craft.v9([craft.data_set(260, fields, [row])], seq=1)
    )
    got = {
        (
            r["src"],
            r["dst"],
            r["sport"],
            r["dport"],
            r["in_if"],
            r["out_if"],
            r["bytes"],
            r["packets"],
            r.get("reverse", 0),
            r["nat_src"],
            r["nat_sport"],
            r["fw_event"],
        )
        for r in rows
    }
    assert got == {
        ("10.0.0.5", "198.51.100.1", 40000, 443, 1, 2, 1200, 10, 0, "203.0.113.5", 61000, 2),
        ("198.51.100.1", "10.0.0.5", 443, 40000, 2, 1, 64000, 50, 1, "203.0.113.5", 61000, 2),
    }
    assert counts["reverse_records"] == REPEAT


def test_biflow_reverse_elements_and_enterprise_octets() -> None:
    biflow = [(8, 4), (12, 4), (85, 4), (85, 4, 29305), (86, 4), (86, 4, 29305)]
    rows, counts = run(
        craft.ipfix([craft.ipfix_template_set(340, biflow)]),
        craft.ipfix([craft.data_set(340, biflow, [[*ROW[:2], 132, 200, 2, 3]])], seq=1),
    )
    assert sorted((r["src"], r["bytes"], r["packets"]) for r in rows[::REPEAT]) == [
        ("10.0.0.1", 132, 2),
        ("10.0.0.2", 200, 3),
    ]
    procera = [(8, 4), (12, 4), (3, 8, 15397), (4, 8, 15397)]
    rows, counts = run(
        craft.ipfix([craft.ipfix_template_set(341, procera)]),
        craft.ipfix([craft.data_set(341, procera, [[*ROW[:2], 7076, 3310]])], seq=1),
    )
    assert one(rows)["bytes"] == 7076 + 3310
    assert counts["enterprise_octets"] == REPEAT


def test_event_records_without_volume_are_counted() -> None:
    fields = [(8, 4), (12, 4), (230, 1)]
    rows, counts = run(
        craft.ipfix([craft.ipfix_template_set(342, fields)]),
        craft.ipfix([craft.data_set(342, fields, [[*ROW[:2], 1]])], seq=1),
    )
    assert (one(rows)["nat_event"], one(rows)["kind"]) == (1, "event")
    assert counts["volume_missing"] == REPEAT
    dec = NetflowDecoder()
    rollups = Rollups(60.0, 10)
    for batch in dec.decode(
        [
            (d, EXP, 1.0)
            for d in (
                craft.ipfix([craft.ipfix_template_set(342, fields)]),
                craft.ipfix([craft.data_set(342, fields, [[*ROW[:2], 1]])]),
            )
        ]
    ):
        rollups.add(batch)
    assert rollups.flush_all() == []  # no 0-byte flows


# --- sFlow -------------------------------------------------------------------------------------


def sflow(samples: list[bytes]) -> bytes:
    return craft.sflow_datagram(samples, seq=1, agent="192.0.2.9")


HEADER = bytes(Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=1, dport=2) / Raw(b"z" * 100))


@pytest.mark.parametrize(
    ("out_if", "status", "counter"),
    [(0x3FFFFFFF, 1, "if_internal"), (0x40000001, 2, "if_discarded"), (0x80000007, 3, "if_multiple")],
)
def test_sflow_interface_format_bits(out_if: int, status: int, counter: str) -> None:
    dec = SflowDecoder()
    rec = craft.sflow_raw_header_record(HEADER, len(HEADER))
    batches = dec.decode([(sflow([craft.sflow_flow_sample(1, 10, 3, out_if, [rec])]), "192.0.2.9", 1.0)])
    r = batches[0].rows()[0]
    assert (r["in_if"], r["out_if"], r["fwd_status"]) == (3, 0, status)
    assert dec.stats.get("192.0.2.9", "sflow", counter) == 1


def test_sflow_drop_samples_are_kept_counted_and_not_traffic() -> None:
    rec = craft.sflow_raw_header_record(HEADER, len(HEADER))
    body = struct.pack("!IIIIIII", 7, 0, 3, 1, 3, 9, 263) + struct.pack("!I", 1) + rec
    drop = struct.pack("!II", 5, len(body)) + body
    dec = SflowDecoder()
    batches = dec.decode([(sflow([drop]), "192.0.2.9", 1.0)])
    r = batches[0].rows()[0]
    assert (r["kind"], r["src"], r["in_if"], r["out_if"], r["drop_reason"], r["fwd_status"]) == (
        "drop",
        "10.0.0.1",
        3,
        9,
        263,
        2,
    )
    assert dec.stats.get("192.0.2.9", "sflow", "drop_samples") == 1
    rollups = Rollups(60.0, 10)
    rollups.add(batches[0])
    assert rollups.flush_all() == []


def test_garbage_rates_are_refused() -> None:
    """A probability of 1e-320 or a population of 2**40 is no sampling rate (the fuzz found the
    first raising OverflowError)."""
    from nocsoc.collectors.flows.sampling import rate_from_options

    tiny = struct.unpack("!Q", struct.pack("!d", 1e-320))[0]
    assert rate_from_options({304: 4, 311: tiny}) is None
    assert rate_from_options({304: 3, 309: 1, 310: 1 << 40}) is None
    assert rate_from_options({304: 3, 309: 1, 310: 1 << 32}) == 1 << 32
