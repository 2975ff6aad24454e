"""Flows through receiver -> NATS JetStream (3-node cluster) -> 2 decoders equal the
single-machine results exactly, also when a decoder dies mid-stream or a NATS node does.

The datagrams are the real captures of ../shared/flow-captures (66 exporters' NetFlow v5/v9 and
IPFIX), each capture sent over UDP from its own loopback address (its own exporter). The
single-machine result is the FlowPipeline of `nocsoc run` fed the very records the receiver
published (payload, exporter, receive time), in order, then flushed.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from nocsoc.bus.config import BusConfig
from nocsoc.bus.envelope import Record
from nocsoc.bus.flows import BusFlowDecoder
from nocsoc.bus.receiver import BusReceiver
from nocsoc.collectors.flows.collector import FlowPipeline
from nocsoc.collectors.flows.config import FlowsConfig
from nocsoc.schema import Point
from nocsoc.sinks.memory import MemorySink
from tests.bus.helpers import (
    capture_datagrams,
    exporter_address,
    flow_floors,
    send_from,
    stored_points,
    stream_last_seqs,
)
from tests.servers.base import wait_until
from tests.servers.nats import NatsCluster, nats_cluster  # noqa: F401

INTERVAL_S = 2.0


def _configs(cluster: NatsCluster, partitions: int = 4, grace: float = 1.0) -> tuple[BusConfig, FlowsConfig]:
    bus = BusConfig(url=cluster.url, replicas=3, flow_partitions=partitions, lease_ttl_s=2.0,
                    close_grace_s=grace, ack_wait_s=5.0, publish_timeout_s=2.0,
                    stream_max_bytes=32 << 20)
    flows = FlowsConfig(bind="127.0.0.1:0", sflow_bind=None, interval_s=INTERVAL_S)
    return bus, flows


class Recorder:
    """The records the receiver handed to the bus, in order (the single machine's input)."""

    def __init__(self, receiver: BusReceiver) -> None:
        self.records: list[Record] = []
        self._lock = threading.Lock()
        submit = receiver.publisher.submit

        def record(kind: str, records: list[Record]) -> None:
            with self._lock:
                self.records.extend(records)
            submit(kind, records)
        receiver.publisher.submit = record  # type: ignore[method-assign,assignment]


def expected_points(flows: FlowsConfig, records: list[Record]) -> list[Point]:
    pipeline = FlowPipeline(flows)
    pipeline.process(records)
    return pipeline.rollups.flush_all()


def settled(cluster: NatsCluster, bus: BusConfig) -> bool:
    """Every partition committed up to its stream's last message (every interval written)."""
    urls = [n.url for n in cluster.nodes if n.alive()]
    last = stream_last_seqs(urls, bus.prefix, "flows", bus.flow_partitions)
    return sum(last) > 0 and flow_floors(urls, bus.prefix, bus.flow_partitions) == last


def _run(tmp_path: Path, cluster: NatsCluster, fault: str | None) -> None:
    # a NATS node's death stalls publishes while its streams elect new leaders (measured: a few
    # seconds); records held up longer than close_grace_s would be late, as on one machine
    bus, flows = _configs(cluster, grace=10.0 if fault == "nats" else 1.0)
    captures = capture_datagrams()
    receiver = BusReceiver(bus, flows, None, tmp_path / "buffer", "r1")
    rec = Recorder(receiver)
    sinks = [MemorySink("d1"), MemorySink("d2")]
    decoders = [BusFlowDecoder(flows, bus, None, sinks[i], tmp_path / f"d{i}", f"d{i + 1}") for i in range(2)]
    receiver.start()
    for d in decoders if fault != "join" else decoders[:1]:
        d.start()
    try:
        wait_until(lambda: sum(len(d.runner.held) for d in decoders) == bus.flow_partitions, 30,
                   what="the decoders own every partition")
        target = receiver.addresses()["netflow"]
        half = len(captures) // 2
        sent = 0
        for i, dgs in enumerate(captures[:half]):
            sent += send_from(exporter_address(i), target, dgs)
        wait_until(lambda: len(rec.records) == sent, 30, what="receiver got the first half")
        if fault == "decoder":
            wait_until(lambda: decoders[0].runner.counters.get("records") > 0, 30, what="d1 decoding")
            decoders[0].crash()
        elif fault == "nats":
            cluster.kill(1)
        elif fault == "join":  # a second decoder joins mid-stream: partitions move to it
            wait_until(lambda: decoders[0].runner.counters.get("records") > 0, 30, what="d1 decoding")
            decoders[1].start()
            wait_until(lambda: len(decoders[1].runner.held) > 0, 30, what="d2 took partitions over")
        for i, dgs in enumerate(captures[half:], start=half):
            sent += send_from(exporter_address(i), target, dgs)
            time.sleep(0.01)  # spread over intervals (not a wait for anything)
        wait_until(lambda: len(rec.records) == sent, 30, what="receiver got everything")
        wait_until(lambda: not receiver.publisher.buffer and receiver.publisher.idle(), 60,
                   what="receiver published everything")
        wait_until(lambda: settled(cluster, bus), 90, interval=0.5, what="decoders committed everything")
        # as InfluxDB stores them: a NATS node's death can fail a commit after its points were
        # written, and the partition's next reader rewrites those same points
        got = stored_points(p for s in sinks for p in s.points)
        want = stored_points(expected_points(flows, rec.records))
        assert len(want) > 100
        assert got == want
        if fault == "decoder":
            wait_until(lambda: len(decoders[1].runner.held) == bus.flow_partitions, 30,
                       what="the survivor owns every partition")
        if fault == "join":
            assert decoders[0].runner.counters.get("released") > 0
    finally:
        receiver.stop()
        for d in decoders:
            d.stop()


def test_two_decoders_equal_one_machine(tmp_path: Path, nats_cluster: NatsCluster) -> None:  # noqa: F811
    _run(tmp_path, nats_cluster, None)


def test_decoder_killed_mid_stream(tmp_path: Path, nats_cluster: NatsCluster) -> None:  # noqa: F811
    _run(tmp_path, nats_cluster, "decoder")


def test_decoder_joins_mid_stream(tmp_path: Path, nats_cluster: NatsCluster) -> None:  # noqa: F811
    _run(tmp_path, nats_cluster, "join")


def test_nats_node_killed(tmp_path: Path, nats_cluster: NatsCluster) -> None:  # noqa: F811
    _run(tmp_path, nats_cluster, "nats")


pytestmark = pytest.mark.timeout(240)
