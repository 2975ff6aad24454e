"""The publisher's window (its publishes started one at a time) with a driver that publishes by
partition and source (Kafka's): every batch is published once, a failed one goes to the disk
buffer, and the outcome is per message."""

from __future__ import annotations

from pathlib import Path

from nocsoc.bus.config import BusConfig
from nocsoc.bus.diskbuffer import DiskBuffer
from nocsoc.bus.envelope import decode
from nocsoc.bus.publish import BusPublisher
from nocsoc.bus.transport import PublishFailed
from tests.servers.base import wait_until


class OneByOne:
    """A driver without subjects: publish(kind, partition, source, ...) only."""

    connected = True

    def __init__(self, fail_every: int = 0) -> None:
        self.got: list[tuple[str, int, str, bytes, str]] = []
        self.fail_every = fail_every
        self.calls = 0

    async def connect(self) -> None:
        pass

    async def ensure(self, kind: str, partitions: int) -> None:
        pass

    async def close(self) -> None:
        pass

    async def publish(self, kind: str, partition: int, source: str, payload: bytes, msg_id: str) -> None:
        self.calls += 1
        if self.fail_every and self.calls % self.fail_every == 0:
            raise PublishFailed(f"{kind} p{partition}: refused for the test")
        self.got.append((kind, partition, source, payload, msg_id))


def _records(n: int) -> list[tuple[bytes, str, float]]:
    return [(b"<13>line %d" % i, f"192.0.2.{i % 5 + 1}", 1000.0 + i) for i in range(n)]


def test_every_batch_published_once(tmp_path: Path) -> None:
    bus = BusConfig(url="kafka://127.0.0.1:9", log_partitions=4, batch_records=7)
    driver = OneByOne()
    pub = BusPublisher(bus, driver, tmp_path / "buffer", "m", {"logs": None})  # type: ignore[arg-type]
    records = _records(500)
    pub.start()
    try:
        assert pub.submit("logs", records)
        wait_until(lambda: pub.idle() and pub.counters["logs"].get("messages") > 0, 30, what="published")
    finally:
        pub.stop()
    sent = [r for _k, _p, _s, payload, _m in driver.got for r in decode(payload)]
    assert sorted(sent, key=lambda r: r[2]) == records
    assert len({m for *_x, m in driver.got}) == len(driver.got) == pub.counters["logs"].get("messages")
    assert pub.counters["logs"].get("buffered") == 0


def test_a_failed_message_is_buffered_not_lost(tmp_path: Path) -> None:
    bus = BusConfig(url="kafka://127.0.0.1:9", log_partitions=4, batch_records=7)
    driver = OneByOne(fail_every=5)
    pub = BusPublisher(bus, driver, tmp_path / "buffer", "m", {"logs": None})  # type: ignore[arg-type]
    records = _records(500)
    pub.start()
    try:
        assert pub.submit("logs", records)
        wait_until(lambda: pub.idle() and pub.counters["logs"].get("publish_errors") > 0, 30,
                   what="published or buffered")
    finally:
        pub.stop()  # stopped: nothing moves between the driver and the buffer while they are read
    c = pub.counters["logs"]
    published = [r for *_x, payload, _m in driver.got for r in decode(payload)]
    held = [r for entry in DiskBuffer(tmp_path / "buffer", bus.buffer_max_bytes).entries()
            for r in decode(entry[4])]
    assert c.get("buffered") >= c.get("publish_errors") > 0
    # published (at once or replayed) or still held: each record exactly once
    assert sorted(published + held, key=lambda r: r[2]) == records
