"""`type: influxdb1`: InfluxDB 1.x through HTTP `/write` (nocsoc.sinks.influxdb1)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from nocsoc.paths import Resolver
from nocsoc.sinks.settings import SinkConfigBase, register_sink

if TYPE_CHECKING:
    from nocsoc.sinks.base import Sink


@register_sink
class InfluxDB1SinkConfig(SinkConfigBase):
    """InfluxDB 1.x through HTTP `/write`."""

    summary = "InfluxDB 1.x (HTTP /write, InfluxQL)"

    type: Literal["influxdb1"] = "influxdb1"
    url: str
    database: str = "nocsoc"
    retention_policy: str | None = None
    username: str | None = None
    password: str | None = Field(default=None, description="secret reference: env:NAME or file:PATH")
    gzip: bool = True
    create_database: bool = Field(default=True, description="CREATE DATABASE when /write says it is missing")

    def build(self, resolver: Resolver) -> Sink:
        from nocsoc.sinks.influxdb1 import InfluxDB1Sink

        password = (resolver.secret(self.password, f"sinks.{self.sink_name}.password")
                    if self.password else None)
        return InfluxDB1Sink(self.sink_name, self.url, self.database, self.batch_settings(resolver),
                             retention_policy=self.retention_policy, username=self.username,
                             password=password, use_gzip=self.gzip, timeout_s=self.timeout_s,
                             create_database=self.create_database)

    def probe(self, resolver: Resolver) -> str | None:
        from nocsoc.sinks.probe import http_reachable

        return http_reachable(self.url, "/ping", self.timeout_s)
