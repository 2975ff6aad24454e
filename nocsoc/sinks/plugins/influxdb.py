"""`type: influxdb`: InfluxDB 2.x / 3.x / Cloud through influxdb-client (`/api/v2/write`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from nocsoc.paths import Resolver
from nocsoc.sinks.settings import SinkConfigBase, register_sink

if TYPE_CHECKING:
    from nocsoc.sinks.base import Sink


@register_sink
class InfluxDBSinkConfig(SinkConfigBase):
    """InfluxDB 2.x / 3.x / Cloud through influxdb-client (`/api/v2/write`)."""

    summary = "InfluxDB 2.x/3.x/Cloud, or anything speaking /api/v2/write (VictoriaMetrics)"

    type: Literal["influxdb"] = "influxdb"
    url: str
    org: str = ""
    bucket: str
    token: str | None = Field(default=None, description="secret reference: env:NAME or file:PATH")

    def build(self, resolver: Resolver) -> Sink:
        from nocsoc.sinks.influxdb import InfluxDBSink

        token = resolver.secret(self.token, f"sinks.{self.sink_name}.token") if self.token else None
        return InfluxDBSink(self.sink_name, self.url, self.bucket, self.batch_settings(resolver),
                            org=self.org, token=token, timeout_s=self.timeout_s)

    def probe(self, resolver: Resolver) -> str | None:
        from nocsoc.sinks.probe import http_reachable

        return http_reachable(self.url, "/ping", self.timeout_s)
