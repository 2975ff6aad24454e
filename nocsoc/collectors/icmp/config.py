"""Configuration of the ICMP prober (section `icmp:` of nocsoc.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class IcmpConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    interval_s: float = Field(default=60.0, gt=0, description="one round over every device")
    count: int = Field(default=3, ge=1, le=100, description="echo requests per device per round")
    packet_interval_s: float = Field(default=0.2, ge=0.0, le=10.0,
                                     description="between the echo requests to one device")
    timeout_s: float = Field(default=1.0, gt=0, le=30, description="wait for each reply")
    concurrency: int = Field(default=100, ge=1, le=10_000, description="devices pinged at once")
    privileged: bool | Literal["auto"] = Field(
        default="auto",
        description="auto: unprivileged datagram sockets when net.ipv4.ping_group_range allows "
        "this process's group, else raw sockets (root or CAP_NET_RAW); true: raw; false: datagram")
