"""Sink configuration (section `sinks:` of nocsoc.yaml): a list, each with its `type`."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _SinkBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    batch_size: int = Field(default=5000, ge=1)
    flush_interval_s: float = Field(default=1.0, gt=0)
    max_retries: int = Field(default=5, ge=0)
    retry_backoff_s: float = Field(default=0.5, gt=0, description="first retry delay; doubles, with jitter")
    retry_backoff_max_s: float = Field(default=30.0, gt=0, description="longest retry / replay-probe delay")
    timeout_s: float = Field(default=10.0, gt=0)
    spool_dir: str = "./var/spool"
    spool_max_bytes: int = Field(default=256 * 1024 * 1024, ge=1024)


class SqliteSinkConfig(_SinkBase):
    type: Literal["sqlite"] = "sqlite"
    path: str = "./var/nocsoc.db"
    retention_days: float = Field(default=30.0, gt=0)


class StdoutSinkConfig(_SinkBase):
    type: Literal["stdout"] = "stdout"


class InfluxDBSinkConfig(_SinkBase):
    """InfluxDB 2.x / 3.x / Cloud through influxdb-client (`/api/v2/write`)."""

    type: Literal["influxdb"] = "influxdb"
    url: str
    org: str = ""
    bucket: str
    token: str | None = Field(default=None, description="secret reference: env:NAME or file:PATH")


class InfluxDB1SinkConfig(_SinkBase):
    """InfluxDB 1.x through HTTP `/write`."""

    type: Literal["influxdb1"] = "influxdb1"
    url: str
    database: str = "nocsoc"
    retention_policy: str | None = None
    username: str | None = None
    password: str | None = Field(default=None, description="secret reference: env:NAME or file:PATH")
    gzip: bool = True
    create_database: bool = Field(default=True, description="CREATE DATABASE when /write says it is missing")


SinkConfig = Annotated[
    SqliteSinkConfig | StdoutSinkConfig | InfluxDBSinkConfig | InfluxDB1SinkConfig,
    Field(discriminator="type"),
]
