"""Fuzzing: >= 100k mutated datagrams through decoder and rollup, and no exception escapes.

Hypothesis draws the seeds (and shrinks one on failure); each example mutates 1,000 datagrams
from real-shaped seeds (v5, v9 with options, IPFIX with variable-length and enterprise fields and
withdrawals, sFlow) by bit flips, lying length fields, truncation, splicing and garbage. The
decoder must count bad input, never raise, and never hit an unexpected (non-input) error.
"""

from __future__ import annotations

import random
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scapy.contrib.mpls import MPLS
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrRouting
from scapy.layers.l2 import Dot1Q, Ether
from scapy.layers.vxlan import VXLAN
from scapy.packet import Raw

from nocsoc.collectors.flows import speedups
from nocsoc.collectors.flows.decoder import NetflowDecoder
from nocsoc.collectors.flows.rollup import Rollups
from nocsoc.collectors.flows.sflow import SflowDecoder
from nocsoc.collectors.flows.templates import EarlyData, TemplateCache
from tests.collectors.flows import craft
from tests.collectors.flows.test_decoder import V4_FIELDS, v4_rows
from tests.collectors.flows.test_sflow import sample_datagram

PER_EXAMPLE = 1000
EXAMPLES = 100


def seeds() -> list[bytes]:
    opt_scope, opt = [(1, 4)], [(34, 4), (35, 1)]
    var = [(8, 4), (82, 0xFFFF), (12, 4), (1, 3), (9999, 2, 4242), (2, 6), (4, 1)]
    v6 = [(27, 16), (28, 16), (1, 8), (2, 8), (4, 1), (7, 2), (11, 2), (302, 4)]
    return [
        craft.v5(
            [{"src": "10.0.0.1", "dst": "10.0.0.2", "packets": 3, "bytes": 300, "dport": 80}] * 5, seq=1
        ),
        craft.v9([craft.v9_template_set(300, V4_FIELDS), craft.data_set(300, V4_FIELDS, v4_rows(6))], seq=2),
        craft.v9(
            [
                craft.v9_options_template_set(400, opt_scope, opt),
                craft.data_set(400, [*opt_scope, *opt], [[0, 100, 2]]),
                craft.data_set(300, V4_FIELDS, v4_rows(3)),
            ],
            seq=3,
        ),
        craft.ipfix(
            [
                craft.ipfix_template_set(800, var),
                craft.data_set(
                    800,
                    var,
                    [
                        [
                            craft.ip4("10.0.0.1"),
                            b"ge-0/0/1",
                            craft.ip4("10.0.0.2"),
                            70_000,
                            b"\xff\xff",
                            5,
                            17,
                        ],
                        [craft.ip4("10.0.0.3"), b"x" * 300, craft.ip4("10.0.0.4"), 1, b"\x00\x01", 2, 6],
                    ],
                ),
            ],
            seq=4,
        ),
        craft.ipfix(
            [
                craft.ipfix_options_template_set(500, [(302, 4)], [(305, 4), (306, 4)]),
                craft.data_set(500, [(302, 4), (305, 4), (306, 4)], [[1, 1, 9]]),
                craft.ipfix_template_set(900, v6),
                craft.data_set(
                    900, v6, [[craft.ip6("2001:db8::1"), craft.ip6("2001:db8::2"), 10, 1, 17, 53, 53, 1]] * 3
                ),
            ],
            seq=5,
        ),
        craft.ipfix([craft.ipfix_withdrawal_set(800), craft.ipfix_withdrawal_set(3, options=True)], seq=9),
        sample_datagram(),
        *quirk_seeds(),
    ]


def quirk_seeds() -> list[bytes]:
    """What real exporters send beyond the textbook (test_exporter_quirks): header sections,
    tunnel templates, PSAMP selectors, NSEL and biflow counters, zero-length and v9
    variable-length fields, padding, messages back to back, sFlow format bits and drop samples."""
    frame = bytes(
        Ether()
        / Dot1Q(vlan=7)
        / MPLS(label=16)
        / IP(src="10.0.0.1", dst="10.0.0.2")
        / UDP(sport=5, dport=4789)
        / VXLAN(vni=9)
        / Ether()
        / IPv6(src="2001:db8::1", dst="2001:db8::2")
        / IPv6ExtHdrRouting()
        / TCP(sport=1, dport=2)
    )
    sec = [(10, 4), (312, 2), (315, 0xFFFF)]
    fixed = [(10, 4), (315, 64)]
    tunnel = [
        (27, 16),
        (28, 16),
        (1, 4),
        (2, 4),
        (8, 4),
        (12, 4),
        (7, 2),
        (11, 2),
        (4, 1),
        (252, 2),
        (253, 2),
    ]
    nsel = [(8, 4), (12, 4), (231, 4), (232, 4), (298, 4), (299, 4), (225, 4), (227, 2), (40005, 1)]
    biflow = [(8, 4), (12, 4), (85, 4), (85, 4, 29305), (86, 4), (86, 4, 29305), (3, 8, 15397)]
    psamp_scope, psamp = [(302, 4)], [(304, 2), (305, 4), (309, 4), (310, 4), (311, 8)]
    zero = [(0, 0), (8, 4), (12, 4), (1, 4), (2, 4), (236, 0xFFFF)]
    v4 = [craft.ip4("10.0.0.1"), craft.ip4("10.0.0.2")]
    header = bytes(Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / TCP() / Raw(b"z" * 40))
    rec = craft.sflow_raw_header_record(header, len(header))
    drop_body = struct.pack("!IIIIIII", 7, 0, 3, 1, 3, 9, 263) + struct.pack("!I", 1) + rec
    ipfix_msg = craft.ipfix(
        [craft.ipfix_template_set(801, sec), craft.data_set(801, sec, [[1, 1514, frame]])]
    )
    return [
        ipfix_msg + ipfix_msg,
        craft.ipfix(
            [
                craft.ipfix_template_set(802, fixed),
                craft.data_set(802, fixed, [[2, frame[:64]]]),
                craft.ipfix_template_set(803, tunnel),
                craft.data_set(
                    803,
                    tunnel,
                    [[craft.ip6("2001:db8::9"), craft.ip6("2001:db8::a"), 10, 1, *v4, 1, 2, 17, 3, 4]],
                ),
                craft.ipfix_template_set(804, biflow),
                craft.data_set(804, biflow, [[*v4, 1, 2, 3, 4, 5]]),
            ],
            seq=11,
        ),
        craft.ipfix(
            [
                craft.ipfix_options_template_set(805, psamp_scope, psamp),
                craft.data_set(805, [*psamp_scope, *psamp], [[1, 3, 1, 1, 256, 0]]),
            ],
            seq=12,
        ),
        craft.v9(
            [
                craft.v9_template_set(806, nsel),
                craft.data_set(806, nsel, [[*v4, 1, 2, 3, 4, v4[0], 5, 2]]),
                craft.v9_template_set(807, zero),
                craft.data_set(807, zero, [[0, *v4, 1, 2, b"vrf"]]),
            ],
            seq=13,
        )
        + bytes(64),
        craft.sflow_datagram(
            [
                craft.sflow_flow_sample(1, 10, 0x3FFFFFFF, 0x80000007, [rec]),
                craft.sflow_flow_sample(2, 10, 1, 0x40000001, [rec], expanded=True),
                struct.pack("!II", 5, len(drop_body)) + drop_body,
            ],
            seq=1,
            agent="127.0.0.9",
        ),
    ]


def mutate(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(8)
        if op == 0 and b:  # flip bits
            for _ in range(rng.randint(1, 8)):
                b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        elif op == 1 and len(b) > 2:  # a length/count/id field that lies
            i = rng.randrange(len(b) - 1)
            b[i : i + 2] = rng.choice([0, 1, 3, 4, 255, 256, 0x7FFF, 0xFFFF, rng.randrange(65536)]).to_bytes(
                2, "big"
            )
        elif op == 2:  # truncate
            del b[rng.randrange(len(b) + 1) :]
        elif op == 3:  # garbage appended
            b += rng.randbytes(rng.randint(1, 64))
        elif op == 4:  # splice with another seed
            other = rng.choice(pool)
            cut = rng.randrange(len(b) + 1)
            b = b[:cut] + other[rng.randrange(len(other) + 1) :]
        elif op == 5 and len(b) > 4:  # 32-bit field set to an extreme
            i = rng.randrange(len(b) - 3)
            b[i : i + 4] = rng.choice([0, 1, 0xFFFFFFFF, 0x80000000, rng.randrange(1 << 32)]).to_bytes(
                4, "big"
            )
        elif op == 6:  # pure garbage keeping the version
            b = bytearray(b[:2] + rng.randbytes(rng.randint(0, 200)))
        elif op == 7 and b:  # duplicate a slice (sets repeated, loops)
            i = rng.randrange(len(b))
            b[i:i] = b[i : i + rng.randint(1, 64)]
    return bytes(b)


def test_decoder_survives_100k_mutated_datagrams() -> None:
    pool = seeds()
    sflow = SflowDecoder()
    decoder = NetflowDecoder(TemplateCache(), early=EarlyData(max_sets=256), sflow=sflow)
    sflow.vxlan = decoder.vxlan = True
    rollups = Rollups(interval_s=60, top_n=10)
    seen = {"datagrams": 0}

    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(st.integers(min_value=0, max_value=2**64 - 1))
    def run(seed: int) -> None:
        rng = random.Random(seed)
        batch = []
        for i in range(PER_EXAMPLE):
            data = mutate(rng, rng.choice(pool), pool)
            batch.append((data, f"127.0.0.{1 + i % 4}", 1000.0))
            if i % 10 == 0:  # keep real templates arriving so data sets do get decoded
                batch.append((rng.choice(pool), f"127.0.0.{1 + i % 4}", 1000.0))
        ext = speedups.ext
        if ext is not None and seed % 2:  # as the collector's worker takes a receiver's bursts
            decoded: list = decoder.decode_for_rollup(ext.Datagrams(batch))
        else:
            decoded = decoder.decode(batch)
        for b in decoded:
            rollups.add(b)
        seen["datagrams"] += PER_EXAMPLE
        assert decoder.unexpected_errors == 0

    run()
    points = rollups.flush_all()
    assert seen["datagrams"] >= 100_000
    assert decoder.unexpected_errors == 0
    errors = decoder.stats.total("decode_errors")
    assert errors > 10_000, "the mutations should mostly be caught as bad input"
    assert decoder.stats.total("records") > 0 and points
    # the new paths were taken, and their bad input counted (not raised)
    for name in (
        "frame_sections",
        "frame_errors",
        "tunnel_records",
        "reverse_records",
        "template_lenient",
        "padding",
        "trailing_data",
    ):
        assert decoder.stats.total(name) > 0, name
    for name in ("drop_samples", "if_multiple", "if_discarded", "if_internal"):
        assert sflow.stats.total(name) > 0, name
