"""sFlow v5 datagrams built per the spec, sent over UDP to a running FlowCollector."""

from __future__ import annotations

import socket
from pathlib import Path

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Dot1Q, Ether
from scapy.packet import Raw

from nocsoc.collectors.flows.collector import FlowCollector
from nocsoc.collectors.flows.config import FlowsConfig
from nocsoc.collectors.flows.sflow import SflowDecoder
from nocsoc.schema.flows import SFLOW_INTERFACE
from nocsoc.sinks.memory import MemorySink
from tests.collectors.flows import craft
from tests.servers.base import wait_until

MAC = {"src": "02:00:00:00:00:01", "dst": "02:00:00:00:00:02"}


def headers() -> tuple[bytes, int, bytes, int]:
    v4 = (
        Ether(**MAC)
        / Dot1Q(vlan=10)
        / IP(src="10.1.0.5", dst="10.9.0.1")
        / TCP(sport=40001, dport=443)
        / Raw(b"a" * 1400)
    )
    v6 = (
        Ether(**MAC)
        / IPv6(src="2001:db8:1::5", dst="2001:db8:9::1")
        / UDP(sport=5000, dport=53)
        / Raw(b"b" * 80)
    )
    raw4, raw6 = bytes(v4), bytes(v6)
    # agents send the first 128 bytes of each packet; the IP header still says the full length
    return raw4[:128], len(raw4), raw6[:128], len(raw6)


def sample_datagram(seq: int = 1) -> bytes:
    h4, len4, h6, len6 = headers()
    return craft.sflow_datagram(
        [
            craft.sflow_flow_sample(1, 256, 3, 7, [craft.sflow_raw_header_record(h4, len4)]),
            craft.sflow_flow_sample(2, 1024, 4, 8, [craft.sflow_raw_header_record(h6, len6)], expanded=True),
            craft.sflow_counter_sample(
                3,
                3,
                [
                    craft.sflow_generic_counters(
                        3,
                        10_000_000_000,
                        3,
                        123_456_789_012,
                        1000,
                        20,
                        3,
                        4,
                        5,
                        987_654_321,
                        900,
                        10,
                        1,
                        2,
                        6,
                    )
                ],
            ),
        ],
        seq=seq,
    )


def test_flow_and_counter_samples_decode() -> None:
    dec = SflowDecoder()
    batches = dec.decode([(sample_datagram(), "127.0.0.9", 10.0)])
    rows = [r for b in batches for r in b.rows()]
    ip4_len = 20 + 20 + 1400  # IP total length: what NetFlow counts too
    ip6_len = 40 + 8 + 80
    assert rows == [
        {
            "exporter": "127.0.0.9",
            "version": "sflow",
            "ip_version": 4,
            "src": "10.1.0.5",
            "dst": "10.9.0.1",
            "sport": 40001,
            "dport": 443,
            "proto": 6,
            "in_if": 3,
            "out_if": 7,
            "bytes": ip4_len * 256,
            "packets": 256,
            "sampling_rate": 256,
            "sampled": "true",
        },
        {
            "exporter": "127.0.0.9",
            "version": "sflow",
            "ip_version": 6,
            "src": "2001:db8:1::5",
            "dst": "2001:db8:9::1",
            "sport": 5000,
            "dport": 53,
            "proto": 17,
            "in_if": 4,
            "out_if": 8,
            "bytes": ip6_len * 1024,
            "packets": 1024,
            "sampling_rate": 1024,
            "sampled": "true",
        },
    ]
    (c,) = dec.take_counters()
    assert (c.ifindex, c.speed_bps, c.admin_up, c.oper_up) == (3, 10_000_000_000, True, True)
    assert (c.in_octets, c.in_packets, c.in_discards, c.in_errors) == (123_456_789_012, 1023, 4, 5)
    assert (c.out_octets, c.out_packets, c.out_discards, c.out_errors) == (987_654_321, 911, 2, 6)


def test_sflow_sequence_loss_and_bad_datagrams() -> None:
    dec = SflowDecoder()
    dec.decode([(sample_datagram(seq=s), "127.0.0.9", 1.0) for s in (1, 2, 5)])
    assert dec.stats.get("127.0.0.9", "sflow", "sequence_lost") == 2
    good = sample_datagram(seq=6)
    dec.decode([(good[:-7], "127.0.0.9", 1.0), (good[:30], "127.0.0.9", 1.0)])
    assert dec.stats.get("127.0.0.9", "sflow", "decode_errors") == 2
    assert len(dec.take_counters()) == 3  # counters of a broken datagram are not kept


def test_collector_receives_sflow_over_udp(tmp_path: Path) -> None:
    sink = MemorySink()
    config = FlowsConfig(bind="127.0.0.1:0", sflow_bind="127.0.0.1:0", interval_s=3600)
    collector = FlowCollector(config, None, sink, state_dir=tmp_path)
    collector.start()
    try:
        sflow_port = collector.addresses()[1][1]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for seq in (1, 2):
                s.sendto(sample_datagram(seq), ("127.0.0.1", sflow_port))
        wait_until(
            lambda: collector.stats.get("127.0.0.1", "sflow", "records") == 4,
            timeout=10,
            what="4 sFlow records",
        )
    finally:
        collector.stop()
    totals = {p.tags["ip_version"]: p.fields for p in sink.of("flow_total")}
    assert totals["4"]["bytes"] == 2 * 1440 * 256 and totals["4"]["packets"] == 512
    assert totals["6"]["bytes"] == 2 * 128 * 1024 and totals["6"]["packets"] == 2048
    counters = sink.of(SFLOW_INTERFACE.name)
    assert [(p.tags["ifindex"], p.fields["in_octets"], p.fields["oper_up"]) for p in counters] == [
        ("3", 123_456_789_012, True)
    ] * 2
    assert collector.stats.get("127.0.0.1", "sflow", "sequence_lost") == 0
