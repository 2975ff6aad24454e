"""The Kafka driver (aiokafka), for operators who already run Kafka. UNTESTED against a broker:
none can be installed here (see README, "Scale-out: what is untested").

Layout: one topic per kind (`nocsoc.flows`, `nocsoc.logs`) with one Kafka partition per nocsoc
partition, so the partition a record goes to is the same function of its exporter/source as on
NATS, and a partition's offsets are contiguous like a JetStream partition stream's sequence
(offset + 1 = sequence). Poison messages go to `<prefix>.dead`. The message id travels as a
header; Kafka's idempotent producer (enable_idempotence) stands in for JetStream's duplicate
window for retries within one producer session.

Coordination (partition leases, commit records) needs compare-and-set, which Kafka does not
offer: this driver does not implement it, and decoders/detectors refuse to start on a Kafka
bus with one clear line. Receivers publish to Kafka; consuming with nocsoc's exactly-once
commits needs the NATS bus (or a Kafka consumer group with a transactional sink: not written).
"""

from __future__ import annotations

import contextlib
from typing import Any

from nocsoc.bus.config import BusConfig
from nocsoc.bus.transport import BusError, BusMessage, PublishFailed, PublishRefused
from nocsoc.bus.urls import BusUrl

NO_COORDINATION = ("the kafka bus carries records only: partition leases and commit records need "
                   "compare-and-set, which Kafka lacks; run decoders and detectors on a nats:// bus")


def topic(prefix: str, kind: str) -> str:
    return f"{prefix}.{kind}"


def dead_topic(prefix: str) -> str:
    return f"{prefix}.dead"


class KafkaReader:
    def __init__(self, consumer: Any, tp: Any) -> None:
        self.consumer, self.tp = consumer, tp

    async def fetch(self, n: int, timeout: float) -> list[BusMessage]:
        got = await self.consumer.getmany(self.tp, timeout_ms=int(timeout * 1000), max_records=n)

        async def noop() -> None:
            return None
        return [BusMessage(m.offset + 1, m.value, 1, noop) for m in got.get(self.tp, [])]

    async def pending(self) -> int:
        end = (await self.consumer.end_offsets([self.tp]))[self.tp]
        return max(0, int(end) - int(await self.consumer.position(self.tp)))

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.consumer.stop()


class KafkaTransport:
    def __init__(self, config: BusConfig, url: BusUrl, client_name: str) -> None:
        self.config = config
        self.url = url
        self.client_name = client_name
        self.producer: Any = None

    def producer_options(self, password: str | None = None) -> dict[str, Any]:
        """aiokafka producer settings from `bus:` (tested without a broker)."""
        k = self.config.kafka
        opts: dict[str, Any] = {
            "bootstrap_servers": self.url.servers(), "client_id": self.client_name,
            "acks": "all", "enable_idempotence": True, "linger_ms": int(self.config.linger_s * 1000),
            "max_request_size": self.config.batch_bytes + 4096,
            "request_timeout_ms": int(k.request_timeout_s * 1000), "security_protocol": k.security_protocol,
        }
        if k.sasl_mechanism:
            opts.update(sasl_mechanism=k.sasl_mechanism, sasl_plain_username=k.username,
                        sasl_plain_password=password)
        return opts

    async def connect(self, password: str | None = None) -> None:
        from aiokafka import AIOKafkaProducer
        from aiokafka.errors import KafkaError

        self.producer = AIOKafkaProducer(**self.producer_options(password))
        try:
            await self.producer.start()
        except (KafkaError, OSError) as exc:
            with contextlib.suppress(Exception):
                await self.producer.stop()
            self.producer = None
            raise BusError(f"bus {', '.join(self.url.servers())}: cannot reach a Kafka broker "
                           f"({type(exc).__name__}: {exc})") from None

    @property
    def connected(self) -> bool:
        return self.producer is not None

    async def close(self) -> None:
        if self.producer is not None:
            with contextlib.suppress(Exception):
                await self.producer.stop()
            self.producer = None

    async def ensure(self, kind: str, partitions: int) -> None:
        from aiokafka.admin import AIOKafkaAdminClient, NewTopic
        from aiokafka.errors import TopicAlreadyExistsError

        admin = AIOKafkaAdminClient(bootstrap_servers=self.url.servers(), client_id=self.client_name)
        await admin.start()
        try:
            retention = {"retention.bytes": str(self.config.stream_max_bytes),
                         "retention.ms": str(int(self.config.stream_max_age_s * 1000))}
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([
                    NewTopic(topic(self.config.prefix, kind), partitions, self.config.replicas,
                             topic_configs=retention),
                    NewTopic(dead_topic(self.config.prefix), 1, self.config.replicas)])
        finally:
            await admin.close()

    async def publish(self, kind: str, partition: int, source: str, payload: bytes, msg_id: str) -> None:
        from aiokafka.errors import KafkaError, MessageSizeTooLargeError

        if self.producer is None:
            raise PublishFailed("not connected")
        try:
            await self.producer.send_and_wait(topic(self.config.prefix, kind), payload, key=source.encode(),
                                              partition=partition,
                                              headers=[("nocsoc-msg-id", msg_id.encode())])
        except MessageSizeTooLargeError as exc:
            raise PublishRefused(str(exc)) from None
        except (KafkaError, OSError) as exc:
            raise PublishFailed(f"{type(exc).__name__}: {exc}") from None

    async def publish_dead(self, kind: str, payload: bytes, reason: str) -> None:
        if self.producer is not None:
            await self.producer.send_and_wait(dead_topic(self.config.prefix), payload, key=kind.encode(),
                                              headers=[("nocsoc-reason", reason[:200].encode())])

    async def open_partition(self, kind: str, partition: int, start_seq: int) -> KafkaReader:
        from aiokafka import AIOKafkaConsumer, TopicPartition

        consumer = AIOKafkaConsumer(bootstrap_servers=self.url.servers(), client_id=self.client_name,
                                    enable_auto_commit=False, group_id=None)
        await consumer.start()
        tp = TopicPartition(topic(self.config.prefix, kind), partition)
        consumer.assign([tp])
        consumer.seek(tp, max(0, start_seq - 1))
        return KafkaReader(consumer, tp)

    async def get_state(self, key: str) -> tuple[bytes, int] | None:
        raise BusError(NO_COORDINATION)

    async def put_state(self, key: str, value: bytes, revision: int | None) -> int:
        raise BusError(NO_COORDINATION)

    async def heartbeat(self, group: str, member: str) -> None:
        raise BusError(NO_COORDINATION)

    async def members(self, group: str) -> list[str]:
        raise BusError(NO_COORDINATION)

    async def acquire(self, lease: str, owner: str) -> int | None:
        raise BusError(NO_COORDINATION)

    async def renew(self, lease: str, owner: str, revision: int) -> int:
        raise BusError(NO_COORDINATION)

    async def release(self, lease: str, revision: int) -> None:
        return None
