"""`type: influxdb`: InfluxDB 2.x / 3.x / Cloud through influxdb-client (`/api/v2/write`).

Also the base both InfluxDB sink configs share (`influxdb1` is the 1.x one): a server URL that
answers `/ping`, and secrets read only when the sink is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from nocsoc.paths import Resolver
from nocsoc.sinks.settings import SinkConfigBase, register_sink

if TYPE_CHECKING:
    from nocsoc.sinks.base import Sink

SECRET_REF = "secret reference: env:NAME or file:PATH"


class InfluxHTTPConfig(SinkConfigBase):
    """An InfluxDB server reached over HTTP(S) at `url`; every version answers `/ping`."""

    url: str

    def secret(self, resolver: Resolver, field: str) -> str | None:
        """The value of the secret reference in `field`, or None when it is not set."""
        ref = getattr(self, field)
        return resolver.secret(ref, f"sinks.{self.sink_name}.{field}") if ref else None

    def probe(self, resolver: Resolver) -> str | None:
        from nocsoc.sinks.probe import http_reachable

        return http_reachable(self.url, "/ping", self.timeout_s)


@register_sink
class InfluxDBSinkConfig(InfluxHTTPConfig):
    """InfluxDB 2.x / 3.x / Cloud through influxdb-client (`/api/v2/write`)."""

    summary = "InfluxDB 2.x/3.x/Cloud, or anything speaking /api/v2/write (VictoriaMetrics)"

    type: Literal["influxdb"] = "influxdb"
    org: str = ""
    bucket: str
    token: str | None = Field(default=None, description=SECRET_REF)

    def build(self, resolver: Resolver) -> Sink:
        from nocsoc.sinks.influxdb import InfluxDBSink

        return InfluxDBSink(self.sink_name, self.url, self.bucket, self.batch_settings(resolver),
                            org=self.org, token=self.secret(resolver, "token"), timeout_s=self.timeout_s)
