"""sFlow v5 datagrams built per the spec, sent over UDP to a running FlowCollector.

A datagram belongs to the agent address in its header, not its UDP source: the tests send several
agents through one source (a relay or NAT) and check every output is keyed by the agent."""

from __future__ import annotations

import ipaddress
import logging
import socket
import struct
from pathlib import Path

import pytest
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Dot1Q, Ether
from scapy.packet import Raw

from nocsoc.collectors.flows.collector import FlowCollector, FlowPipeline
from nocsoc.collectors.flows.config import FlowsConfig
from nocsoc.collectors.flows.sflow import SflowDecoder
from nocsoc.collectors.flows.stats import FIELDS
from nocsoc.inventory.model import Device, Inventory, Role, Site, SnmpProfile
from nocsoc.schema import Point
from nocsoc.schema.flows import SFLOW_INTERFACE
from nocsoc.sinks.memory import MemorySink
from tests.collectors.flows import craft
from tests.servers.base import wait_until

MAC_SRC, MAC_DST = "02:00:00:00:00:01", "02:00:00:00:00:02"


def headers() -> tuple[bytes, int, bytes, int]:
    v4 = (
        Ether(src=MAC_SRC, dst=MAC_DST)
        / Dot1Q(vlan=10)
        / IP(src="10.1.0.5", dst="10.9.0.1")
        / TCP(sport=40001, dport=443)
        / Raw(b"a" * 1400)
    )
    v6 = (
        Ether(src=MAC_SRC, dst=MAC_DST)
        / IPv6(src="2001:db8:1::5", dst="2001:db8:9::1")
        / UDP(sport=5000, dport=53)
        / Raw(b"b" * 80)
    )
    raw4, raw6 = bytes(v4), bytes(v6)
    # agents send the first 128 bytes of each packet; the IP header still says the full length
    return raw4[:128], len(raw4), raw6[:128], len(raw6)


def agent_datagram(samples: list[bytes], seq: int, agent: str | None, sub_agent: int = 0) -> bytes:
    """craft.sflow_datagram for any agent address: IPv4 (type 1), IPv6 (type 2, 16 bytes) or
    None (type 0, unknown: no address bytes), per sflow_version_5.txt's address union."""
    if agent is not None and ipaddress.ip_address(agent).version == 4:
        return craft.sflow_datagram(samples, seq=seq, agent=agent, sub_agent=sub_agent)
    if agent is None:
        addr = struct.pack("!I", 0)
    else:
        addr = struct.pack("!I", 2) + ipaddress.IPv6Address(agent).packed
    return (struct.pack("!I", 5) + addr + struct.pack("!IIII", sub_agent, seq, 123456, len(samples))
            + b"".join(samples))


def samples(rate4: int = 256) -> list[bytes]:
    """An IPv4 flow sample (1 in `rate4`, in 3 out 7), an expanded IPv6 one (1 in 1024, in 4 out 8)
    and a generic interface counter sample (ifindex 3)."""
    h4, len4, h6, len6 = headers()
    return [
        craft.sflow_flow_sample(1, rate4, 3, 7, [craft.sflow_raw_header_record(h4, len4)]),
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
    ]


def sample_datagram(seq: int = 1, agent: str | None = "127.0.0.9", sub_agent: int = 0) -> bytes:
    return agent_datagram(samples(), seq, agent, sub_agent)


IP4_LEN = 20 + 20 + 1400  # IP total length of the sampled IPv4 packet (what NetFlow counts too)
IP6_LEN = 40 + 8 + 80


def test_flow_and_counter_samples_decode() -> None:
    dec = SflowDecoder()
    batches = dec.decode([(sample_datagram(), "127.0.0.9", 10.0)])
    rows = [r for b in batches for r in b.rows()]
    ip4_len, ip6_len = IP4_LEN, IP6_LEN
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


def send_to_collector(tmp_path: Path, datagrams: list[bytes], agent: str, records: int) -> tuple[
        FlowCollector, MemorySink]:
    """A FlowCollector on 127.0.0.1 sent `datagrams` from 127.0.0.1, stopped (its rollups written)
    once `records` records of `agent` were taken."""
    sink = MemorySink()
    config = FlowsConfig(bind="127.0.0.1:0", sflow_bind="127.0.0.1:0", interval_s=3600)
    collector = FlowCollector(config, None, sink, state_dir=tmp_path)
    collector.start()
    try:
        sflow_port = collector.addresses()[1][1]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for d in datagrams:
                s.sendto(d, ("127.0.0.1", sflow_port))
        wait_until(lambda: collector.stats.get(agent, "sflow", "records") == records, timeout=30,
                   what=f"{records} sFlow records of agent {agent}")
    finally:
        collector.stop()
    return collector, sink


def test_collector_receives_sflow_over_udp(tmp_path: Path) -> None:
    # 127.0.0.9: the agent address in sample_datagram's header
    collector, sink = send_to_collector(tmp_path, [sample_datagram(seq) for seq in (1, 2)], "127.0.0.9", 4)
    totals = {p.tags["ip_version"]: p.fields for p in sink.of("flow_total")}
    assert totals["4"]["bytes"] == 2 * 1440 * 256 and totals["4"]["packets"] == 512
    assert totals["6"]["bytes"] == 2 * 128 * 1024 and totals["6"]["packets"] == 2048
    counters = sink.of(SFLOW_INTERFACE.name)
    assert [(p.tags["ifindex"], p.fields["in_octets"], p.fields["oper_up"]) for p in counters] == [
        ("3", 123_456_789_012, True)
    ] * 2
    assert collector.stats.get("127.0.0.9", "sflow", "sequence_lost") == 0


# --- the agent address is the exporter ------------------------------------------------------------

RELAY = "127.0.0.1"  # the one UDP source every agent below comes through
AGENT4, AGENT6 = "10.20.0.1", "2001:db8:20::1"  # payload only: never a destination


def stats_of(pipe: FlowPipeline) -> dict[tuple[str, str], dict[str, int]]:
    """The non-zero per-exporter counters."""
    return {k: {f: n for f, n in v.items() if n} for k, v in pipe.stats.snapshot().items()}


def totals_by_exporter(points: list[Point]) -> dict[tuple[str, str], tuple[object, object]]:
    return {
        (p.tags["exporter"], p.tags["ip_version"]): (p.fields["bytes"], p.fields["packets"])
        for p in points
        if p.measurement == "flow_total"
    }


def test_two_agents_behind_one_udp_source_are_two_exporters(caplog: pytest.LogCaptureFixture) -> None:
    """IPv4 agent with sub-agents 0 and 1 and an IPv6 agent, interleaved, all from one source; the
    sub-agents and the agents number independently, and sub-agent 0 skips 4 and 5 (2 lost)."""
    caplog.set_level(logging.INFO, logger="nocsoc.collectors.flows.sflow")
    a0 = [sample_datagram(s, AGENT4, 0) for s in (1, 2, 3, 6)]
    a1 = [sample_datagram(s, AGENT4, 1) for s in (50, 51, 52)]
    b = [agent_datagram(samples(), s, "2001:0db8:0020:0000:0000:0000:0000:0001") for s in range(100, 105)]
    order = [a0[0], b[0], a1[0], a0[1], b[1], a1[1], a0[2], b[2], a1[2], a0[3], b[3], b[4]]
    pipe = FlowPipeline(FlowsConfig(interval_s=60))
    assert pipe.process([(d, RELAY, 120.0 + i / 100) for i, d in enumerate(order)]) == 24
    assert pipe.decoder.unexpected_errors == 0

    zero = dict.fromkeys(FIELDS, 0)
    assert pipe.stats.snapshot() == {
        (AGENT4, "sflow"): {**zero, "datagrams": 7, "records": 14, "sequence_lost": 2},
        (AGENT6, "sflow"): {**zero, "datagrams": 5, "records": 10},
    }
    assert totals_by_exporter(pipe.rollups.flush_all()) == {
        (AGENT4, "4"): (7 * IP4_LEN * 256, 7 * 256),
        (AGENT4, "6"): (7 * IP6_LEN * 1024, 7 * 1024),
        (AGENT6, "4"): (5 * IP4_LEN * 256, 5 * 256),
        (AGENT6, "6"): (5 * IP6_LEN * 1024, 5 * 1024),
    }
    counters = [p.tags["exporter"] for p in pipe.counter_points()]
    assert sorted(counters) == [AGENT4] * 7 + [AGENT6] * 5
    relayed = [r.getMessage() for r in caplog.records if "sends from" in r.getMessage()]
    assert relayed == [f"sFlow agent {a} sends from {RELAY}: its flows and counters are keyed by the "
                       "agent address (the inventory knows the device by it as flow_exporter)"
                       for a in (AGENT4, AGENT6)]  # once per pair


def test_agents_interleaved_with_independent_sequences_lose_nothing() -> None:
    dec = SflowDecoder()
    for s in range(1, 6):  # agent 4 counts from 1, agent 6 from 7000, sub-agent 2 from 10**9
        dec.decode([(sample_datagram(s, AGENT4), RELAY, 1.0),
                    (sample_datagram(7000 + s, "10.20.0.6"), RELAY, 1.0),
                    (sample_datagram(10**9 + s, AGENT4, 2), RELAY, 1.0)])
    assert dec.stats.total("sequence_lost") == 0
    assert dec.stats.get(AGENT4, "sflow", "datagrams") == 10
    assert dec.stats.get("10.20.0.6", "sflow", "datagrams") == 5
    assert dec.stats.get(RELAY, "sflow", "datagrams") == 0


def _inventory() -> Inventory:
    return Inventory(
        sites=[Site(id="dx", name="Đồng Xoài", kind="datacenter")],
        snmp_profiles=[SnmpProfile(name="p", community="env:C")],
        devices=[
            Device(name="core-01", address="127.0.1.1", role=Role.CORE, site="dx", profile="p",
                   flow_exporter=AGENT4, flow_sampling_rate=512),
        ],
    )


def test_inventory_enrichment_and_sampling_fallback_by_agent_address() -> None:
    """core-01's flow exporter address is its agent address; the datagrams come from 127.0.0.1,
    which the inventory does not know. Its IPv4 sample says rate 0: the inventory's 512 applies.
    An agent the inventory does not know, with the same samples, stays unscaled and unnamed."""
    pipe = FlowPipeline(FlowsConfig(interval_s=60), _inventory())
    pipe.ifnames.update("core-01", {3: "xe-0/0/3"})  # what the SNMP collector learns
    pipe.process([(agent_datagram(samples(rate4=0), 1, AGENT4), RELAY, 120.0),
                  (agent_datagram(samples(rate4=0), 1, "10.20.0.99"), RELAY, 120.0)])
    points = pipe.rollups.flush_all()
    totals = {(p.tags["exporter"], p.tags["ip_version"]): p for p in points if p.measurement == "flow_total"}
    known = totals[(AGENT4, "4")]
    assert known.tags == {"exporter": AGENT4, "device": "core-01", "site": "dx", "ip_version": "4",
                          "sampled": "true"}
    assert (known.fields["bytes"], known.fields["packets"]) == (IP4_LEN * 512, 512)
    assert totals[(AGENT4, "6")].fields["bytes"] == IP6_LEN * 1024  # the agent's own rate wins
    unknown = totals[("10.20.0.99", "4")]
    assert unknown.tags == {"exporter": "10.20.0.99", "ip_version": "4", "sampled": "unknown"}
    assert (unknown.fields["bytes"], unknown.fields["packets"]) == (IP4_LEN, 1)
    assert pipe.stats.get("10.20.0.99", "sflow", "unsampled") == 1
    assert pipe.stats.get(AGENT4, "sflow", "unsampled") == 0
    ifaces = {p.tags.get("ifname") for p in points
              if p.measurement == "flow_interface" and p.tags["exporter"] == AGENT4}
    assert "xe-0/0/3" in ifaces
    (counter,) = [p for p in pipe.counter_points() if p.tags["exporter"] == AGENT4]
    assert counter.tags == {"exporter": AGENT4, "device": "core-01", "site": "dx", "ifindex": "3",
                            "ifname": "xe-0/0/3"}


def test_header_cut_before_the_agent_address_counts_under_the_udp_source() -> None:
    good4, good6 = sample_datagram(1, AGENT4), agent_datagram(samples(), 1, AGENT6)
    cut = [good4[:6], good4[:10], good6[:20], good4[:3]]  # type half-read; mid-address (4, 6); version
    bad_type = good4[:4] + struct.pack("!I", 7) + good4[8:]  # an address type that is neither
    after = good4[:16]  # the agent is named, the sequence number is not
    pipe = FlowPipeline(FlowsConfig(interval_s=60))
    assert pipe.process([(d, RELAY, 1.0) for d in [*cut, bad_type, after]]) == 0  # nothing raised
    assert pipe.decoder.unexpected_errors == 0
    assert stats_of(pipe) == {
        (RELAY, "sflow"): {"datagrams": 5, "decode_errors": 5},
        (AGENT4, "sflow"): {"datagrams": 1, "decode_errors": 1},
    }


def test_agent_without_an_address_is_keyed_by_the_udp_source() -> None:
    """Address type 0 (unknown, no bytes) or 0.0.0.0 / :: name no device: the UDP source does."""
    dec = SflowDecoder()
    batches = dec.decode([(sample_datagram(1, None), "127.0.0.7", 1.0),
                          (sample_datagram(1, "0.0.0.0"), "127.0.0.8", 1.0),
                          (agent_datagram(samples(), 1, "::"), "127.0.0.8", 1.0)])
    assert sorted(b.exporter for b in batches) == ["127.0.0.7"] * 2 + ["127.0.0.8"] * 4
    assert dec.stats.get("127.0.0.7", "sflow", "records") == 2
    assert dec.stats.get("127.0.0.8", "sflow", "records") == 4
    assert dec.stats.total("decode_errors") == 0


def test_collector_over_udp_tags_rollups_with_the_agent_address(tmp_path: Path) -> None:
    """Sent from 127.0.0.1; 192.0.2.10 (TEST-NET-1) is only the agent address inside the payload."""
    agent = "192.0.2.10"
    sent = [sample_datagram(seq, agent) for seq in (1, 2, 3)]
    collector, sink = send_to_collector(tmp_path, sent, agent, 6)
    totals = sink.of("flow_total")
    assert {(p.tags["exporter"], p.tags["ip_version"], p.fields["packets"]) for p in totals} == {
        (agent, "4", 3 * 256), (agent, "6", 3 * 1024)}
    assert len(totals) == 2
    assert {p.tags["exporter"] for p in sink.of(SFLOW_INTERFACE.name)} == {agent}
    assert set(collector.stats.snapshot()) == {(agent, "sflow")}
    assert collector.stats.get(agent, "sflow", "datagrams") == 3
