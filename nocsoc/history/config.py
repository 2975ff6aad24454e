"""Configuration of the history store (section `history:` of nocsoc.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from nocsoc.secrets import HOW_TO_REFERENCE, is_reference

GIB = 1 << 30


class ClickHouseConfig(BaseModel):
    """Where the flow aggregates go with `backend: clickhouse` (through clickhouse-connect)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(default="http://127.0.0.1:8123", description="ClickHouse HTTP(S) endpoint")
    username: str = "default"
    password: str | None = Field(default=None, description="a secret reference: env:NAME or file:PATH")
    database: str = "default"
    table: str = Field(default="nocsoc_flows_1m", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    create_table: bool = Field(default=True, description="run the documented DDL at start")

    @field_validator("password")
    @classmethod
    def _reference(cls, v: str | None) -> str | None:
        if v is not None and not is_reference(v):
            raise ValueError(f"password must be a reference, not a literal: {HOW_TO_REFERENCE}")
        return v


class HistoryConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="keep flow aggregates and log lines for queries")
    backend: Literal["parquet", "clickhouse"] = Field(
        default="parquet", description="parquet: local hourly files (DuckDB queries); clickhouse: "
        "flow aggregates to a ClickHouse server (the log archive stays local)")
    dir: str = Field(default="./var/history", description="where the Parquet partitions live")
    flows: bool = Field(default=True, description="keep per-minute flow aggregates")
    logs: bool = Field(default=True, description="keep every received log line")
    flows_retention_days: float = Field(default=30.0, gt=0)
    logs_retention_days: float = Field(default=30.0, gt=0)
    flows_max_bytes: int = Field(default=20 * GIB, ge=1 << 20,
                                 description="disk budget of the flow history: oldest hours go first")
    logs_max_bytes: int = Field(default=10 * GIB, ge=1 << 20,
                                description="disk budget of the log archive: oldest hours go first")
    queue_batches: int = Field(default=2000, ge=1,
                               description="decoded flow batches waiting for the writer; "
                               "beyond: dropped")
    max_buffer_records: int = Field(default=5_000_000, ge=1000,
                                    description="flow records held until their minute closes; "
                                    "beyond: dropped")
    queue_lines: int = Field(default=200_000, ge=1,
                             description="log lines waiting for the writer; beyond: dropped")
    flush_interval_s: float = Field(default=10.0, gt=0,
                                    description="log lines reach disk at most this late")
    minute_grace_s: float = Field(default=5.0, ge=0,
                                  description="a minute's flows are written this long after it ends")
    compact_after_s: float = Field(default=300.0, ge=0,
                                   description="an hour's files are merged (sorted) this long after it ends")
    maintenance_interval_s: float = Field(default=60.0, gt=0,
                                          description="how often retention, disk budget and compaction run")
    clickhouse: ClickHouseConfig = Field(default_factory=ClickHouseConfig)
