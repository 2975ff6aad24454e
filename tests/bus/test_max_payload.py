"""A server whose max_payload is below bus.batch_bytes: the publisher cuts its batches to what
the server takes, instead of having every large batch refused and buffered to disk forever."""

from __future__ import annotations

import random
from pathlib import Path

from nocsoc.bus import envelope
from nocsoc.bus.config import BusConfig
from nocsoc.bus.partition import stream_name
from nocsoc.bus.publish import MESSAGE_HEADROOM, BusPublisher
from nocsoc.bus.transport import make_transport
from tests.bus.test_faults import _stream_messages
from tests.servers.base import wait_until
from tests.servers.nats import NatsConfigured

MAX_PAYLOAD = 64 * 1024


def test_batches_fit_the_servers_max_payload(tmp_path: Path) -> None:
    server = NatsConfigured(tmp_path / "nats", f"max_payload: {MAX_PAYLOAD}\n")
    server.start()
    try:
        bus = BusConfig(url=server.url, replicas=1, flow_partitions=1, stream_max_bytes=64 << 20)
        assert bus.batch_bytes > MAX_PAYLOAD
        pub = BusPublisher(bus, make_transport(bus, "t"), tmp_path / "buffer", "m", {"flows": 60.0})
        pub.start()
        try:
            wait_until(lambda: pub.connected, 30, what="publisher connected")
            assert pub.batch_bytes == MAX_PAYLOAD - MESSAGE_HEADROOM
            rng = random.Random(3)
            records = [(rng.randbytes(1400), "10.9.0.1", 1000.0 + i * 1e-3) for i in range(300)]
            assert pub.submit("flows", records)
            wait_until(lambda: pub.idle() and pub.counters["flows"].get("messages") > 0, 60,
                       what="published")
        finally:
            pub.stop()
        counts = pub.counters["flows"]
        assert counts.get("buffered") == 0 and counts.get("publish_errors") == 0
        got = _stream_messages(server.url, stream_name(bus.prefix, "flows", 0))
        assert all(len(data) <= MAX_PAYLOAD - MESSAGE_HEADROOM + 9 for _s, data, _h in got)
        assert [r for _s, data, _h in got for r in envelope.decode(data)] == records
        assert len(got) == counts.get("messages") == 7  # 300 x (1400 + 24) bytes in 64 kB - 1 kB
    finally:
        server.stop()
