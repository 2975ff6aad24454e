"""`type: influxdb1`: InfluxDB 1.x through HTTP `/write` (nocsoc.sinks.influxdb1)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from nocsoc.paths import Resolver
from nocsoc.sinks.plugins.influxdb import SECRET_REF, InfluxHTTPConfig
from nocsoc.sinks.settings import register_sink

if TYPE_CHECKING:
    from nocsoc.sinks.base import Sink


@register_sink
class InfluxDB1SinkConfig(InfluxHTTPConfig):
    """InfluxDB 1.x through HTTP `/write`."""

    summary = "InfluxDB 1.x (HTTP /write, InfluxQL)"

    type: Literal["influxdb1"] = "influxdb1"
    database: str = "nocsoc"
    retention_policy: str | None = None
    username: str | None = None
    password: str | None = Field(default=None, description=SECRET_REF)
    gzip: bool = True
    create_database: bool = Field(default=True, description="CREATE DATABASE when /write says it is missing")

    def build(self, resolver: Resolver) -> Sink:
        from nocsoc.sinks.influxdb1 import InfluxDB1Sink

        return InfluxDB1Sink(self.sink_name, self.url, self.database, self.batch_settings(resolver),
                             retention_policy=self.retention_policy, username=self.username,
                             password=self.secret(resolver, "password"), use_gzip=self.gzip,
                             timeout_s=self.timeout_s, create_database=self.create_database)
