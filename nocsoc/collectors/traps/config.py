"""Configuration of the SNMP trap receiver (section `traps:` of nocsoc.yaml).

Port 162 is the standard trap port; binding it needs root or the capability
CAP_NET_BIND_SERVICE (see docs/traps.md), so the default listens on 1162.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from nocsoc.inventory.model import check_secret_ref


class TrapUserConfig(BaseModel):
    """A USM user allowed to send v3 traps. Traps are sent by the device's engine (it is the
    authoritative one), so the receiver must know each sender's snmpEngineID: keys are localized
    with it (RFC 3414 section 2.6). Informs use the receiver's own engine id and need none."""

    model_config = ConfigDict(extra="forbid")

    user: str = Field(min_length=1, max_length=32)
    engine_ids: list[str] = Field(default_factory=list,
                                  description="senders' snmpEngineID in hex (0x... or plain)")
    auth_protocol: Literal["MD5", "SHA", "SHA-224", "SHA-256", "SHA-384", "SHA-512"] | None = None
    auth_password: str | None = None
    priv_protocol: Literal["DES", "AES-128", "AES-192", "AES-256"] | None = None
    priv_password: str | None = None

    @field_validator("auth_password", "priv_password")
    @classmethod
    def _ref(cls, v: str | None) -> str | None:
        return check_secret_ref(v, "password")

    @field_validator("engine_ids")
    @classmethod
    def _hex(cls, v: list[str]) -> list[str]:
        out = []
        for e in v:
            h = e[2:] if e.lower().startswith("0x") else e
            if not re.fullmatch(r"(?:[0-9a-fA-F]{2}){5,32}", h):
                raise ValueError(f"engine id {e!r} is not 5 to 32 bytes of hex")
            out.append(h.lower())
        return out

    @model_validator(mode="after")
    def _complete(self) -> TrapUserConfig:
        if bool(self.auth_protocol) != bool(self.auth_password):
            raise ValueError(f"trap user {self.user}: auth_protocol and auth_password go together")
        if bool(self.priv_protocol) != bool(self.priv_password):
            raise ValueError(f"trap user {self.user}: priv_protocol and priv_password go together")
        if self.priv_protocol and not self.auth_protocol:
            raise ValueError(f"trap user {self.user}: privacy needs authentication")
        return self


class TrapsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    bind: str = Field(default="127.0.0.1:1162",
                      description="listen address; the standard port 162 needs CAP_NET_BIND_SERVICE")
    communities: list[str] = Field(default_factory=list,
                                   description="v1/v2c communities accepted, as env:/file: references")
    users: list[TrapUserConfig] = Field(default_factory=list, description="v3 USM users accepted")
    accept_unknown_sources: bool = Field(
        default=False, description="decode traps from addresses not in the inventory")
    catalog: list[str] = Field(default_factory=list,
                               description="extra trap catalogue YAML files (vendor traps)")
    resolve_ifname: bool = Field(
        default=True, description="ask the device (SNMP GET ifName/ifAlias) when a link trap "
        "carries no interface name")
    resolve_timeout_s: float = Field(default=1.0, gt=0, le=10)
    alerts: bool = Field(default=True, description="raise alerts in the SOC alert store")
    receive_buffer_bytes: int = Field(default=4 << 20, ge=65536, description="socket SO_RCVBUF")
    queue_datagrams: int = Field(default=10_000, ge=10,
                                 description="datagrams between socket and decoder; beyond: dropped")
    flush_interval_s: float = Field(default=1.0, gt=0,
                                    description="how often events are written and alerts stored")

    @field_validator("communities")
    @classmethod
    def _refs(cls, v: list[str]) -> list[str]:
        for c in v:
            check_secret_ref(c, "community")
        return v
