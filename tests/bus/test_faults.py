"""Bad input and faults on a real nats-server (one JetStream node: replication is not the point
here): bus unreachable at start, a stream at its limit (discard old / new), a poison message."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import nats
import pytest

from nocsoc.bus import envelope
from nocsoc.bus.config import BusConfig
from nocsoc.bus.logs import BusLogDetector
from nocsoc.bus.partition import dead_stream, partition_of, stream_name, subject
from nocsoc.bus.receiver import BusReceiver
from nocsoc.collectors.logs.config import LogsConfig
from nocsoc.detections.config import DetectionsConfig
from nocsoc.sinks.memory import MemorySink
from tests.collectors.windows.lumberjack_client import read_frame, window
from tests.servers.base import free_port, wait_until
from tests.servers.nats import NatsCluster, NatsSingle, nats_single  # noqa: F401

LINE = "<38>Nov 25 04:01:{s:02d} web{h} sshd[1]: Accepted publickey for ops from 192.0.2.{h} port {i} ssh2"


def _bus(server: NatsCluster, **kw: object) -> BusConfig:
    return BusConfig.model_validate({"url": server.url, "replicas": 1, "log_partitions": 2,
                                     "lease_ttl_s": 2.0, "stream_max_bytes": 1 << 20, **kw})


def _stream_messages(url: str, name: str) -> list[tuple[int, bytes, dict[str, str]]]:
    async def read() -> list[tuple[int, bytes, dict[str, str]]]:
        nc = await nats.connect(url)
        try:
            js = nc.jetstream()
            info = await js.stream_info(name)
            out = []
            for seq in range(int(info.state.first_seq), int(info.state.last_seq) + 1):
                m = await js.get_msg(name, seq)
                out.append((seq, m.data or b"", dict(m.headers or {})))
            return out
        finally:
            await nc.close()
    return asyncio.run(read())


def _detector(tmp_path: Path, bus: BusConfig) -> BusLogDetector:
    det = DetectionsConfig(alerts_db=str(tmp_path / "a.db"), flush_interval_s=0.05)
    return BusLogDetector(LogsConfig(), det, bus, MemorySink(), tmp_path, "t1")


def _receiver(tmp_path: Path, bus: BusConfig) -> tuple[BusReceiver, int]:
    port = free_port(socket.SOCK_DGRAM)
    r = BusReceiver(bus, None, LogsConfig(syslog_udp=f"127.0.0.1:{port}", syslog_tcp=None),
                    tmp_path / "buffer", "r1")
    return r, port


def _send_paced(receiver: BusReceiver, port: int, lines: list[str], step: int = 200) -> None:
    """Send in steps, each awaited at the receiver (a burst must not overrun the socket)."""
    counters = receiver.publisher.counters["logs"]
    for i in range(0, len(lines), step):
        _send(port, lines[i:i + step])
        n = min(i + step, len(lines))
        wait_until(lambda: counters.get("records") >= n, 20, what=f"{n} lines received")  # noqa: B023


def _send(port: int, lines: list[str]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for line in lines:
            s.sendto(line.encode(), ("127.0.0.1", port))


def test_bus_unreachable_at_start_buffers_then_replays(tmp_path: Path) -> None:
    server = NatsSingle(tmp_path / "nats")  # configured, not started: nobody listens yet
    bus = _bus(server)
    receiver, port = _receiver(tmp_path, bus)
    receiver.start()
    try:
        lines = [LINE.format(s=i % 60, h=1, i=i) for i in range(50)]
        _send(port, lines)
        counters = receiver.publisher.counters["logs"]
        wait_until(lambda: counters.get("records") == 50 and receiver.publisher.idle(), 20,
                   what="lines buffered")
        assert counters.get("buffered") >= 1 and receiver.publisher.buffer.size > 0
        assert counters.get("messages") == 0
        server.start()
        wait_until(lambda: not receiver.publisher.buffer, 30, what="disk buffer replayed")
        assert counters.get("replayed") == counters.get("buffered")
        p = partition_of("127.0.0.1", 2)
        msgs = _stream_messages(server.url, stream_name(bus.prefix, "logs", p))
        got = [payload.decode() for _s, data, _h in msgs for payload, _src, _t in envelope.decode(data)]
        assert got == lines  # all of them, once, in order
    finally:
        receiver.stop()
        server.stop()


def test_stream_at_limit_discard_old_counts_the_gap(tmp_path: Path,
                                                   nats_single: NatsCluster) -> None:  # noqa: F811
    bus = _bus(nats_single, discard="old", batch_records=8)
    receiver, port = _receiver(tmp_path, bus)
    receiver.start()
    pad = "x" * 900
    lines = [LINE.format(s=i % 60, h=1, i=i) + " " + pad for i in range(2400)]  # ~2.2 MB > 1 MB
    try:
        _send_paced(receiver, port, lines)
        wait_until(receiver.publisher.idle, 20, what="published")
    finally:
        receiver.stop()
    p = partition_of("127.0.0.1", 2)
    msgs = _stream_messages(nats_single.url, stream_name(bus.prefix, "logs", p))
    first = msgs[0][0]
    assert first > 1  # the oldest were dropped by the stream
    det = _detector(tmp_path, bus)
    det.start()
    try:
        c = det.runner.counters
        wait_until(lambda: c.get("messages") == len(msgs), 30, what="detector read what is left")
        assert c.get("stream_gaps") == first - 1  # loud: exactly the messages lost
        assert c.get("poison") == 0
    finally:
        det.stop()


def test_stream_at_limit_discard_new_refuses_and_buffers(tmp_path: Path,
                                                        nats_single: NatsCluster) -> None:  # noqa: F811
    bus = _bus(nats_single, discard="new", batch_records=8, buffer_max_bytes=1 << 16)
    receiver, port = _receiver(tmp_path, bus)
    receiver.start()
    pad = "y" * 900
    lines = [LINE.format(s=i % 60, h=1, i=i) + " " + pad for i in range(1400)]  # ~1.3 MB > 1 MB + 64 kB
    try:
        _send_paced(receiver, port, lines)
        wait_until(receiver.publisher.idle, 30, what="published or buffered")
        c = receiver.publisher.counters["logs"]
        assert c.get("refused") >= 1  # the stream said no at its limit ...
        assert c.get("buffered") >= 1  # ... those went to the disk buffer ...
        assert c.get("buffer_dropped") > 0  # ... and past its 64 kB bound they are counted as lost
        p = partition_of("127.0.0.1", 2)
        in_stream = sum(len(envelope.decode(d)) for _s, d, _h in
                        _stream_messages(nats_single.url, stream_name(bus.prefix, "logs", p)))
        held = sum(len(envelope.decode(entry[4])) for entry in receiver.publisher.buffer.entries())
        assert in_stream + held + c.get("buffer_dropped") == len(lines)  # every line accounted for
    finally:
        receiver.stop()


def test_poison_message_is_dead_lettered_once(tmp_path: Path, nats_single: NatsCluster) -> None:  # noqa: F811
    bus = _bus(nats_single, max_deliver=3)
    det = _detector(tmp_path, bus)
    det.start()
    p = partition_of("192.0.2.9", 2)
    good = envelope.encode([(LINE.format(s=1, h=9, i=1).encode(), "192.0.2.9", 1.0)])

    async def publish() -> None:
        nc = await nats.connect(nats_single.url)
        js = nc.jetstream()
        subj = subject(bus.prefix, "logs", p, "192.0.2.9")
        await js.publish(subj, b"\x00garbage from a foreign producer")
        await js.publish(subj, good)
        await nc.close()
    try:
        wait_until(lambda: len(det.runner.held) == 2, 30, what="detector owns the partitions")
        asyncio.run(publish())
        c = det.runner.counters
        mark = f"bus:{stream_name(bus.prefix, 'logs', p)}"
        wait_until(lambda: (det.pipeline.store.input_offset(mark) or (0, 0))[1] == 2, 30,
                   what="both messages committed")
        assert (c.get("poison"), c.get("messages"), c.get("records")) == (1, 1, 1)
        assert det.pipeline.counters.get("parsed") == 1
        dead = _stream_messages(nats_single.url, dead_stream(bus.prefix))
        assert len(dead) == 1 and dead[0][1] == b"\x00garbage from a foreign producer"
        assert "not a nocsoc bus batch" in dead[0][2]["Nocsoc-Reason"]
    finally:
        det.stop()
    assert det.runner.counters.get("poison") == 1  # acknowledged: never delivered again


def test_record_from_unknown_input_is_the_only_poison(tmp_path: Path,
                                                      nats_single: NatsCluster) -> None:  # noqa: F811
    """A valid batch whose record names an input this version does not know is dead-lettered;
    the good messages around it (in the same fetch or not) are processed once."""
    bus = _bus(nats_single, max_deliver=3)
    det = _detector(tmp_path, bus)
    det.start()
    p = partition_of("192.0.2.9", 2)

    def batch(source: str, i: int) -> bytes:
        return envelope.encode([(LINE.format(s=i, h=9, i=i).encode(), source, 1.0)])

    async def publish() -> None:
        nc = await nats.connect(nats_single.url)
        js = nc.jetstream()
        subj = subject(bus.prefix, "logs", p, "192.0.2.9")
        for data in (batch("192.0.2.9", 1), batch("bogus/192.0.2.9", 2), batch("tcp/192.0.2.9", 3)):
            await js.publish(subj, data)
        await nc.close()
    try:
        wait_until(lambda: len(det.runner.held) == 2, 30, what="detector owns the partitions")
        asyncio.run(publish())
        mark = f"bus:{stream_name(bus.prefix, 'logs', p)}"
        wait_until(lambda: (det.pipeline.store.input_offset(mark) or (0, 0))[1] == 3, 30,
                   what="the three messages committed")
        c = det.runner.counters
        assert (c.get("poison"), c.get("messages")) == (1, 2)
        assert det.pipeline.counters.get("parsed") == 2
        dead = _stream_messages(nats_single.url, dead_stream(bus.prefix))
        assert len(dead) == 1 and "unknown input 'bogus'" in dead[0][2]["Nocsoc-Reason"]
    finally:
        det.stop()


def test_winlogbeat_acknowledged_only_once_on_the_bus(tmp_path: Path) -> None:
    """While the bus is away, a Winlogbeat batch is neither acknowledged nor disk-buffered (its
    sender resends what is not acknowledged); once the bus is there, it is published and then
    acknowledged."""

    from nocsoc.collectors.windows.config import WindowsInputsConfig

    server = NatsSingle(tmp_path / "nats")  # configured, not started: nobody listens yet
    bus = _bus(server)
    logs = LogsConfig(syslog_udp=None, syslog_tcp=None,
                      windows=WindowsInputsConfig(winlogbeat=f"127.0.0.1:{free_port()}"))
    receiver = BusReceiver(bus, None, logs, tmp_path / "buffer", "r1")
    receiver.start()
    docs = [b'{"winlog": {"event_id": 1102, "channel": "Security"}}',
            b'{"winlog": {"event_id": 4740, "channel": "Security"}}']
    try:
        with socket.create_connection(receiver.addresses()["winlogbeat"], timeout=60) as s:
            s.sendall(window(docs))
            assert read_frame(s) == (b"2A", 0)  # a keepalive: waiting, not acknowledged
            c = receiver.publisher.counters["logs"]
            assert (c.get("records"), c.get("messages"), c.get("buffered")) == (2, 0, 0)
            assert not receiver.publisher.buffer and not receiver.publisher.idle()
            server.start()
            while (frame := read_frame(s)) == (b"2A", 0):
                pass
            assert frame == (b"2A", 2)  # the whole batch, once JetStream has it
        p = partition_of("127.0.0.1", 2)
        msgs = _stream_messages(server.url, stream_name(bus.prefix, "logs", p))
        got = [(payload, src) for _s, data, _h in msgs for payload, src, _t in envelope.decode(data)]
        assert got == [(d, "winlogbeat/127.0.0.1") for d in docs]
    finally:
        receiver.stop()
        server.stop()


pytestmark = pytest.mark.timeout(180)
