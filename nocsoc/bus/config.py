"""The `bus:` section of nocsoc.yaml: where the bus is and how streams, consumers and the
receivers' disk buffer behave. Without `url` nocsoc runs on one machine, as before."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from nocsoc.secrets import HOW_TO_REFERENCE, is_reference


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


def _secret_ref(v: str | None) -> str | None:
    if v is not None and not is_reference(v):
        raise ValueError(f"must be a secret reference, never a literal: {HOW_TO_REFERENCE}")
    return v


class NatsAuthConfig(BaseModel):
    """How nocsoc proves who it is to nats-server: one of user + password, a token, an NKey
    seed, or a `.creds` file (a user JWT and its seed: NATS operator mode). Every secret is a
    reference (`env:NAME` or `file:PATH` of mode 0600), resolved when the connection is made."""

    model_config = ConfigDict(extra="forbid")

    user: str | None = Field(default=None, min_length=1, description="user name (with password)")
    password: str | None = Field(default=None, description="password of `user`: a secret reference")
    token: str | None = Field(default=None, description="authorization token: a secret reference")
    nkey_seed: str | None = Field(
        default=None, description="NKey user seed (`SU...`): a secret reference, e.g. file:nocsoc.nk")
    credentials: str | None = Field(
        default=None, description="a .creds file (user JWT and seed): a secret reference, e.g. "
                                  "file:/etc/nocsoc/nocsoc.creds")

    @field_validator("password", "token", "nkey_seed", "credentials")
    @classmethod
    def _refs(cls, v: str | None) -> str | None:
        return _secret_ref(v)

    @model_validator(mode="after")
    def _one_method(self) -> NatsAuthConfig:
        if (self.user is None) != (self.password is None):
            raise ValueError("user and password go together")
        methods = [m for m, on in (("user/password", self.user is not None), ("token", self.token),
                                   ("nkey_seed", self.nkey_seed), ("credentials", self.credentials)) if on]
        if len(methods) > 1:
            raise ValueError(f"one authentication method at a time, not {' and '.join(methods)}")
        return self


class NatsTlsConfig(BaseModel):
    """TLS to nats-server (its `tls {}` block). Paths are relative to nocsoc.yaml; the key file,
    when set, must be readable by its owner only (0600), as a secret file."""

    model_config = ConfigDict(extra="forbid")

    ca_file: str | None = Field(default=None, description="PEM CA bundle the server's certificate is "
                                                          "checked against (default: the system's)")
    cert_file: str | None = Field(default=None, description="PEM client certificate (mutual TLS)")
    key_file: str | None = Field(default=None, description="PEM private key of cert_file (mode 0600)")
    server_name: str | None = Field(default=None, description="name the server's certificate must carry "
                                                              "(default: the host in bus.url)")

    @model_validator(mode="after")
    def _pair(self) -> NatsTlsConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together (mutual TLS)")
        return self


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
    move_windows: bool = Field(default=True,
                               description="correlation windows follow their log partition between "
                                           "detectors, saved with every mark (exact on a join, a "
                                           "leave and a detector's death), one engine per "
                                           "partition on its stream's clock (docs/scale.md); "
                                           "false: each detector keeps its own")
    kafka: KafkaConfig = Field(default_factory=KafkaConfig)
    auth: NatsAuthConfig | None = Field(default=None, description="NATS credentials (none: anonymous)")
    tls: NatsTlsConfig | None = Field(default=None, description="TLS to nats-server (none: plain TCP)")

    _base_dir: Path | None = PrivateAttr(default=None)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is None:
            return v
        from nocsoc.bus.urls import parse_bus_url

        parse_bus_url(v)  # ValueError names the bad part
        return v

    @model_validator(mode="after")
    def _nats_only(self) -> BusConfig:
        if self.url is not None and self.url.strip().startswith("kafka") and (self.auth or self.tls):
            raise ValueError("auth and tls are NATS settings; a Kafka bus takes its own in bus.kafka")
        return self

    @property
    def enabled(self) -> bool:
        return self.url is not None

    @property
    def base_dir(self) -> Path | None:
        """Where `file:` secrets and TLS paths are relative to (nocsoc.yaml's directory)."""
        return self._base_dir

    def for_dir(self, base_dir: Path) -> BusConfig:
        """This config with relative paths resolved against `base_dir`."""
        out = self.model_copy()
        out._base_dir = base_dir
        return out
