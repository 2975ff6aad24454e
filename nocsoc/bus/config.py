"""The `bus:` section of nocsoc.yaml: where the bus is and how streams, consumers and the
receivers' disk buffer behave. Without `url` nocsoc runs on one machine, as before."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class KafkaConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    username: str | None = Field(default=None, description="SASL user name")
    password: str | None = Field(default=None,
                                 description="SASL password: a reference, env:NAME or file:PATH")
    request_timeout_s: float = Field(default=10.0, gt=0, description="producer/consumer request timeout")

    @field_validator("password")
    @classmethod
    def _reference(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("env:", "file:")):
            raise ValueError("must be a secret reference (env:NAME or file:PATH), never a literal")
        return v


class BusConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None,
                            description="nats://host:port[,nats://...] or kafka://host:port[,...]; "
                                        "null: one machine, no bus")
    prefix: str = Field(default="nocsoc", pattern=r"^[A-Za-z0-9_-]+$",
                        description="subject/topic prefix and stream name prefix")
    flow_partitions: int = Field(default=8, ge=1, le=256,
                                 description="flow partitions (by exporter): the unit a decoder owns")
    log_partitions: int = Field(default=8, ge=1, le=256,
                                description="log partitions (by source address): the unit a detector owns")
    trap_partitions: int = Field(default=4, ge=1, le=256,
                                 description="trap partitions (by sender address): the unit a decoder owns")
    replicas: int = Field(default=3, ge=1, le=5, description="stream replicas (JetStream R; Kafka RF)")
    stream_max_bytes: int = Field(default=1 << 30, ge=1 << 20,
                                  description="bytes kept per partition stream; beyond: `discard`")
    stream_max_age_s: float = Field(default=86400.0, gt=0, description="age kept per partition stream")
    discard: Literal["old", "new"] = Field(
        default="old", description="at the stream limit: old drops the oldest (decoders count the gap, "
                                   "bus_consume.stream_gaps); new refuses the publish (receivers buffer)")
    batch_records: int = Field(default=256, ge=1, le=100_000, description="records per bus message at most")
    batch_bytes: int = Field(default=512 * 1024, ge=4096, le=8 << 20,
                             description="bytes per bus message at most")
    linger_s: float = Field(default=0.02, ge=0, le=5, description="wait this long to fill a batch")
    queue_records: int = Field(default=200_000, ge=100,
                               description="records between the receive threads and the publisher")
    buffer_dir: str = Field(default="./var/bus-buffer",
                            description="receivers' disk buffer while the bus is unreachable")
    buffer_max_bytes: int = Field(default=1 << 30, ge=1 << 16,
                                  description="disk buffer bound; beyond: counted drops")
    publish_timeout_s: float = Field(default=5.0, gt=0, description="wait this long for the bus's ack")
    lease_ttl_s: float = Field(default=10.0, ge=1, description="a dead consumer's partitions move after this")
    ack_wait_s: float = Field(default=30.0, ge=1, description="redelivery of an unacknowledged message after")
    max_deliver: int = Field(default=20, ge=2, description="deliveries of one message at most (backstop)")
    close_grace_s: float = Field(default=5.0, ge=0,
                                 description="a flow interval closes this long after it ends (bus latency)")
    fetch_records: int = Field(default=64, ge=1, le=10_000, description="messages per fetch")
    kafka: KafkaConfig = Field(default_factory=KafkaConfig)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is None:
            return v
        from nocsoc.bus.urls import parse_bus_url

        parse_bus_url(v)  # ValueError names the bad part
        return v

    @property
    def enabled(self) -> bool:
        return self.url is not None
