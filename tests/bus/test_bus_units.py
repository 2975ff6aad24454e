"""The bus's parts that need no server: envelope, partitions, URLs, disk buffer, the Kafka
driver's settings and its one-line error on an unreachable broker, roles."""

from __future__ import annotations

import asyncio
import socket
import zlib
from pathlib import Path

import pytest
from pydantic import ValidationError

from nocsoc.bus import envelope
from nocsoc.bus.config import BusConfig
from nocsoc.bus.diskbuffer import BufferFull, DiskBuffer
from nocsoc.bus.kafka_driver import KafkaTransport
from nocsoc.bus.partition import partition_of, stream_name, subject
from nocsoc.bus.publish import BusPublisher
from nocsoc.bus.transport import BusError, make_transport
from nocsoc.bus.urls import parse_bus_url
from nocsoc.config import Config
from nocsoc.service.registry import role_services
from tests.servers.base import free_port


def test_envelope_round_trip_and_errors() -> None:
    recs = [(b"\x00\x05abc", "10.0.0.1", 1700000000.25), (b"", "2001:db8::1", 1.5), (b"x" * 70000, "h", 2.0)]
    assert envelope.decode(envelope.encode(recs)) == recs
    one = [(b"a", "10.0.0.1", 1.0), (b"bc", "10.0.0.1", 2.0)]  # the usual batch: one source
    assert envelope.decode(envelope.encode(one)) == one
    assert envelope.decode(envelope.encode([])) == []
    data = envelope.encode(recs)
    bad_index = bytearray(data)
    table = 9 + sum(1 + len(s) for s in ("10.0.0.1", "2001:db8::1", "h"))
    bad_index[table + 8 * 3] = 7  # the first record's source index: 7 of 3
    for bad, what in ((b"", "shorter than the header"), (b"XX\x01" + bytes(6), "not a nocsoc bus batch"),
                      (data[:-1], "payloads end at"), (data + b"z", "payloads end at"),
                      (data[:table + 5], "do not fit"), (bytes(bad_index), "names source 7 of 3")):
        with pytest.raises(envelope.EnvelopeError, match=what):
            envelope.decode(bad)


def test_partition_is_stable_and_named() -> None:
    # CRC-32: the same on every host and Python (hash() is salted per process)
    assert partition_of("192.0.2.1", 8) == zlib.crc32(b"192.0.2.1") % 8
    assert stream_name("nocsoc", "flows", 3) == "NOCSOC_FLOWS_P003"
    assert subject("nocsoc", "flows", 3, "2001:db8::1") == "nocsoc.flows.p003.2001-db8--1"
    assert subject("nocsoc", "logs", 0, "10.0.0.1") == "nocsoc.logs.p000.10_0_0_1"


def test_bus_urls() -> None:
    u = parse_bus_url("nats://a:4223,b")
    assert u.scheme == "nats" and u.hosts == (("a", 4223), ("b", 4222))
    assert parse_bus_url("kafka://k1,k2:9093").servers() == ["k1:9092", "k2:9093"]
    for bad, what in (("a:4222", "no scheme"), ("http://a", "scheme must be"),
                      ("nats://a,kafka://b", "mixes"),
                      ("nats://u:p@a", "credentials"), ("nats://a:x", "bad port")):
        with pytest.raises(ValueError, match=what):
            parse_bus_url(bad)
    with pytest.raises(ValidationError, match="scheme must be"):
        BusConfig(url="redis://x")
    with pytest.raises(ValidationError, match="secret reference"):
        BusConfig.model_validate({"kafka": {"password": "hunter2"}})


def test_disk_buffer_bounded_ordered_and_resumable(tmp_path: Path) -> None:
    buf = DiskBuffer(tmp_path / "b", max_bytes=4096, segment_bytes=600)
    appended = 0
    with pytest.raises(BufferFull):
        for i in range(40):
            buf.append(f"s.{i}", f"id-{i}", bytes([i]) * 200)
            appended += 1
    assert appended == 4096 // (8 + 3 + 4 + 200 + 4)  # entries of 219 bytes fit, the next is refused
    kept = buf.size
    assert 0 < kept <= 4096
    got = []
    for seg, end, subj, mid, data in buf.entries():
        got.append((subj, mid, len(data)))
        buf.replayed(seg, end)
        if len(got) == 3:
            break  # a crash mid-replay: the next replay resumes after the third entry
    again = [(s, m) for _seg, _end, s, m, _d in DiskBuffer(tmp_path / "b", 4096).entries()]
    assert [g[:2] for g in got] == [("s.0", "id-0"), ("s.1", "id-1"), ("s.2", "id-2")]
    assert again == [(f"s.{i}", f"id-{i}") for i in range(3, appended)]


def test_batches_cut_at_limits_and_intervals(tmp_path: Path) -> None:
    cfg = BusConfig(url="nats://127.0.0.1:1", batch_records=3, flow_partitions=4)
    pub = BusPublisher(cfg, make_transport(cfg, "t"), tmp_path, "m", {"flows": 10.0})
    recs = [(b"d", "10.0.0.1", t) for t in (1.0, 2.0, 3.0, 4.0, 9.9, 10.0, 11.0)]
    batches = pub.batches("flows", [*recs, (b"e", "10.0.0.2", 5.0)])
    assert [[r[2] for r in b[2]] for b in batches] == [[1.0, 2.0, 3.0], [4.0, 9.9], [10.0, 11.0], [5.0]]
    assert {b[0] for b in batches[:3]} == {partition_of("10.0.0.1", 4)}


def test_kafka_settings_and_unreachable_broker() -> None:
    cfg = BusConfig.model_validate({"url": "kafka://127.0.0.1:1", "kafka": {
        "security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "username": "u",
        "password": "env:KAFKA_PW"}})
    t = make_transport(cfg, "nocsoc-test")
    assert isinstance(t, KafkaTransport)
    opts = t.producer_options("pw")
    assert (opts["bootstrap_servers"], opts["acks"], opts["enable_idempotence"], opts["sasl_mechanism"],
            opts["sasl_plain_password"]) == (["127.0.0.1:1"], "all", True, "SCRAM-SHA-512", "pw")
    port = free_port(socket.SOCK_STREAM)  # nobody listens there
    plain = make_transport(BusConfig(url=f"kafka://127.0.0.1:{port}",
                                     kafka={"request_timeout_s": 2}), "nocsoc-test")  # type: ignore[arg-type]
    with pytest.raises(BusError) as exc:
        asyncio.run(plain.connect())
    msg = str(exc.value)
    assert "\n" not in msg and f"127.0.0.1:{port}" in msg and "cannot reach a Kafka broker" in msg


def test_nats_unreachable_is_one_line() -> None:
    port = free_port(socket.SOCK_STREAM)
    t = make_transport(BusConfig(url=f"nats://127.0.0.1:{port}"), "nocsoc-test")
    with pytest.raises(BusError) as exc:
        asyncio.run(t.connect())
    assert "\n" not in str(exc.value) and "cannot connect" in str(exc.value)


def test_roles() -> None:
    one = Config()
    assert role_services(one, "all") == [n for n in role_services(one, "all") if not n.startswith("bus_")]
    assert not any(n.startswith("bus_") for n in role_services(one, "all"))
    with pytest.raises(ValueError, match="needs the bus"):
        role_services(one, "decoder")
    bus = Config.model_validate({"bus": {"url": "nats://127.0.0.1:4222"}})
    assert role_services(bus, "receiver") == ["bus_receiver"]
    assert role_services(bus, "decoder") == ["bus_flows"]
    assert role_services(bus, "detector") == ["bus_logs"]
    assert role_services(bus, "all") == role_services(one, "all")  # the bus changes nothing for `all`
    # traps: on pollers without a bus; with one, receivers take them and decoders decode them
    traps = {"traps": {"enabled": True}, "snmp": {"enabled": False}, "icmp": {"enabled": False}}
    assert role_services(Config.model_validate(traps), "poller") == ["traps"]
    traps_bus = Config.model_validate({**traps, "bus": {"url": "nats://127.0.0.1:4222"}})
    assert role_services(traps_bus, "poller") == []
    assert role_services(traps_bus, "decoder") == ["bus_flows", "bus_traps"]
    no_flows = Config.model_validate({**traps, "flows": {"enabled": False}, "bus": {"url": "nats://127.0.0.1:4222"}})
    assert role_services(no_flows, "decoder") == ["bus_traps"]
    kafka = Config.model_validate({"bus": {"url": "kafka://127.0.0.1:9092"}})
    assert role_services(kafka, "receiver") == ["bus_receiver"]
    with pytest.raises(ValueError, match="compare-and-set"):
        role_services(kafka, "decoder")


def test_startup_objects_frozen_once_garbage_collected_first() -> None:
    """The bus loops' gc.freeze: what is alive at the first start is set aside, garbage is
    collected first (not kept forever), and a later start freezes nothing more. In a process of
    its own (the freeze is per process)."""
    import subprocess
    import sys

    code = (
        "import gc, weakref\n"
        "from nocsoc.bus.transport import freeze_startup_objects\n"
        "gc.disable()\n"
        "class C: pass\n"
        "a = C(); a.me = a; r = weakref.ref(a); del a\n"
        "freeze_startup_objects()\n"
        "n = gc.get_freeze_count()\n"
        "assert r() is None, 'a garbage cycle was frozen'\n"
        "b = [[] for _ in range(100)]\n"
        "freeze_startup_objects()\n"
        "assert gc.get_freeze_count() == n > 1000, (n, gc.get_freeze_count())\n"
        "print('ok')\n")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=root)
    assert out.stdout.strip() == "ok", out.stderr
