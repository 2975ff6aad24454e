"""Configuration of log ingestion (section `logs:` of nocsoc.yaml)."""

from pydantic import BaseModel, ConfigDict, Field


class LogsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    syslog_udp: str | None = Field(default="127.0.0.1:5514", description="syslog UDP listen address")
    syslog_tcp: str | None = Field(default="127.0.0.1:5514", description="syslog TCP listen address")
    files: list[str] = Field(default_factory=list, description="files to tail (follows rotation)")
    state_dir: str = Field(default="./var/logs", description="tail offsets")
