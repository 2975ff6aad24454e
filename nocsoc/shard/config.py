"""Configuration of sharded polling (section `snmp.shard` of nocsoc.yaml).

Sharding is on only where a NATS bus is configured (`bus.url`, or `url` here): without one the
poller polls every device of its inventory, as on a single machine.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ShardConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        default=True,
        description="share the inventory with the other pollers on the bus (only when a bus is "
        "configured); false: this poller polls every device of its inventory",
    )
    url: str | None = Field(
        default=None,
        description="NATS servers, comma separated (nats://host:4222,...); default: bus.url",
    )
    poller_id: str | None = Field(
        default=None,
        description="this poller's name in the membership (default: host name and process id)",
    )
    heartbeat_s: float = Field(default=3.0, gt=0, le=60, description="how often a poller says it is alive")
    member_ttl_s: float = Field(
        default=15.0,
        gt=0,
        le=600,
        description="a poller not heard from for this long is dead and its devices are taken over "
        "(the members bucket's TTL): under half the poll interval, and above a JetStream leader "
        "election (4-9 s), during which no heartbeat lands",
    )
    lease_ttl_s: float = Field(
        default=3600.0,
        gt=0,
        description="the leases bucket's TTL: must be longer than the longest poll interval",
    )
    members_bucket: str = Field(default="nocsoc_snmp_pollers", pattern=r"^[a-zA-Z0-9_-]+$",
                                description="key-value bucket of the pollers' heartbeats")
    leases_bucket: str = Field(default="nocsoc_snmp_leases", pattern=r"^[a-zA-Z0-9_-]+$",
                               description="key-value bucket of the per-device cycle leases")
    replicas: int = Field(default=1, ge=1, le=5,
                          description="copies of each bucket in a JetStream cluster (3 in a 3-node cluster)")
    storage: Literal["file", "memory"] = Field(default="file", description="JetStream storage of the buckets")
    catchup_fraction: float = Field(
        default=0.5,
        gt=0,
        lt=1,
        description="a device taken over from a dead poller is polled at once, late, while less "
        "than this fraction of its interval has passed; later, at its next cycle",
    )
    request_timeout_s: float = Field(default=2.0, gt=0, le=60, description="one bus request's timeout")

    @model_validator(mode="after")
    def _ttl_covers_heartbeats(self) -> ShardConfig:
        if self.member_ttl_s < 2 * self.heartbeat_s:
            raise ValueError(
                f"member_ttl_s ({self.member_ttl_s:g}) must be at least twice heartbeat_s "
                f"({self.heartbeat_s:g}): one late heartbeat must not make a live poller dead"
            )
        return self

    def servers(self, bus_url: str | None) -> list[str]:
        """The NATS servers to use (none: sharding off). ValueError for a bus that is not NATS:
        the pollers' membership and leases need JetStream's key-value buckets, and pollers
        that cannot coordinate would each poll every device."""
        if not self.enabled:
            return []
        url = self.url or bus_url or ""
        servers = [u.strip() for u in url.split(",") if u.strip()]
        scheme = servers[0].split("://", 1)[0].lower() if servers and "://" in servers[0] else "nats"
        if scheme not in ("nats", "tls"):
            where = "snmp.shard.url" if self.url else "bus.url"
            raise ValueError(f"sharded SNMP polling needs a NATS bus, and {where} is {scheme}://: set "
                             "snmp.shard.url to the NATS servers, or snmp.shard.enabled: false to "
                             "poll every device from this poller")
        return servers
