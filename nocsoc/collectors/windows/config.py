"""Configuration of live Windows event inputs (`logs.windows:` in nocsoc.yaml)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from nocsoc.collectors.windows.tls import LumberjackTlsConfig


class WindowsInputsConfig(BaseModel):
    """Listen addresses (host:port; none by default) for Windows event shippers."""

    model_config = ConfigDict(extra="forbid")

    winlogbeat: str | None = Field(
        default=None, description="Winlogbeat's Logstash output (Lumberjack v2, acknowledged), e.g. "
                                  "127.0.0.1:5044")
    winlogbeat_tls: LumberjackTlsConfig | None = Field(
        default=None, description="TLS on the Winlogbeat port (server certificate and key; `client_ca` for "
                                  "mutual TLS); plain TCP when absent")
    nxlog_tcp: str | None = Field(
        default=None, description="NXLog om_tcp with im_msvistalog + to_json(): one JSON document a line")
    nxlog_udp: str | None = Field(
        default=None, description="NXLog om_udp with im_msvistalog + to_json(): one JSON document a datagram")
    max_window: int = Field(default=8192, gt=0, description="largest Winlogbeat batch accepted (events)")
    ack_timeout_s: float = Field(
        default=300.0, gt=0, description="how long a Winlogbeat batch may wait for room and storage "
                                         "before the connection is closed (Winlogbeat then resends it)")
    max_senders: int = Field(default=10_000, gt=0, description="per-sender reports kept")
