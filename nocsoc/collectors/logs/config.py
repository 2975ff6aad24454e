"""Configuration of log ingestion (section `logs:` of nocsoc.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from nocsoc.collectors.logs.zones import parse_zone_names
from nocsoc.collectors.windows.config import WindowsInputsConfig


class FileInputConfig(BaseModel):
    """One file to tail. `format: auto` recognises syslog files, audit.log, access logs and
    FortiGate key=value lines per line; `jsonl` reads one JSON object per line."""

    model_config = ConfigDict(extra="forbid")

    path: str
    format: Literal["auto", "jsonl"] = "auto"
    host: str | None = Field(default=None, description="host name for lines that carry none")
    start_at: Literal["beginning", "end"] = Field(
        default="beginning", description="where to start a file seen for the first time")
    # logsource of JSON lines (other formats get theirs from the parser)
    product: str | None = None
    service: str | None = None
    category: str | None = None


class LogsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    syslog_udp: str | None = Field(default="127.0.0.1:5514", description="syslog UDP listen address")
    syslog_tcp: str | None = Field(default="127.0.0.1:5514", description="syslog TCP listen address")
    files: list[str | FileInputConfig] = Field(default_factory=list,
                                               description="files to tail (follows rotation)")
    timezone: str = Field(default="UTC", description="zone of RFC 3164 timestamps (they carry none)")
    zone_names: dict[str, str] = Field(
        default_factory=dict,
        description="UTC offsets of zone names devices write in their timestamps that nocsoc does not "
                    "read by itself (ambiguous ones such as CST, IST, PST), e.g. {CST: '+08:00'}")
    queue_size: int = Field(default=100_000, gt=0, description="messages waiting for the engine")
    max_message: int = Field(default=65536, gt=0, description="longest accepted message, bytes")
    tcp_max_connections: int = Field(default=256, gt=0)
    poll_interval_s: float = Field(default=0.2, gt=0, description="file tail poll interval")
    windows: WindowsInputsConfig = Field(default_factory=WindowsInputsConfig,
                                         description="live Windows event inputs (Winlogbeat, NXLog)")

    @field_validator("zone_names")
    @classmethod
    def _offsets(cls, v: dict[str, str]) -> dict[str, str]:
        parse_zone_names(v)  # raises ValueError naming the entry
        return v

    def file_inputs(self) -> list[FileInputConfig]:
        return [FileInputConfig(path=f) if isinstance(f, str) else f for f in self.files]
