"""The device inventory: sites, devices, SNMP credential profiles and links.

Pydantic models with `extra="forbid"`: an unknown key in the YAML is an error, not a silent
typo. Secrets are never stored here, only references (`env:NAME`, `file:PATH`), resolved at use
time by `nocsoc.secrets`.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

SECRET_PREFIXES = ("env:", "file:")


class Role(StrEnum):
    CORE = "core"
    DISTRIBUTION = "distribution"
    ACCESS = "access"
    FIREWALL = "firewall"
    SERVER = "server"
    UPS = "ups"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, use_enum_values=False)


def check_secret_ref(value: str | None, what: str) -> str | None:
    """Refuse literal secrets: only `env:NAME` or `file:PATH` references are stored."""
    if value is None:
        return None
    if not value.startswith(SECRET_PREFIXES) or len(value.split(":", 1)[1]) == 0:
        raise ValueError(
            f"{what} must be a secret reference, not a literal: write `env:NAME` (an environment "
            f"variable) or `file:PATH` (a file readable only by its owner, mode 0600)"
        )
    return value


def _prefix(text: str) -> str:
    """One site prefix, normalised (`2001:DB8::/32` -> `2001:db8::/32`); host bits set is an
    error rather than silently masked, since `10.20.1.5/16` is usually a typo for a /24 or /32."""
    try:
        return str(ipaddress.ip_network(text.strip(), strict=True))
    except ValueError as exc:
        if "host bits set" in str(exc):
            loose = ipaddress.ip_network(text.strip(), strict=False)
            raise ValueError(f"network {text!r} has host bits set: did you mean {loose}?") from None
        raise ValueError(f"network {text!r} is not an IPv4 or IPv6 prefix (write 10.20.0.0/16)") from None


class Site(_Model):
    """A place with devices. Since 1 July 2025 local government has two levels, province and
    commune/ward: a site is a provincial data center, a commune or a ward. `datacenter` and
    `district` remain valid (and `district` the default) so inventories written before load
    unchanged, though the district level is gone."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    kind: Literal["province_dc", "commune", "ward", "datacenter", "district"] = "district"  # compat
    description: str = ""
    contact: str = ""  # who answers for the site: a team, a mailbox, a phone (no secrets)
    # WGS84 coordinates (decimal degrees): where the weathermap and the topology picture put the site
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    # the IPv4/IPv6 prefixes the site's own hosts use (`10.20.0.0/16`): detections tell "ours"
    # from "outside" with them (Remote Desktop logons from outside the province's networks)
    networks: list[Annotated[str, AfterValidator(_prefix)]] = Field(default_factory=list)


def usm_problem(auth_protocol: str | None, auth_password: str | None, priv_protocol: str | None,
                priv_password: str | None) -> str | None:
    """What does not fit together in SNMPv3 USM settings, or None: each protocol needs its
    password and the other way round, and privacy needs authentication (RFC 3414's security
    levels: noAuthNoPriv, authNoPriv, authPriv)."""
    pairs = ((auth_protocol, auth_password, "auth"), (priv_protocol, priv_password, "priv"))
    for protocol, password, what in pairs:
        if bool(protocol) != bool(password):
            return f"{what}_protocol and {what}_password go together"
    if priv_protocol and not auth_protocol:
        return "privacy needs authentication"
    return None


class SnmpProfile(_Model):
    """SNMP credentials and timing. v2c: `community`; v3: user + auth/priv (references only)."""

    name: str
    version: Literal["2c", "3"] = "2c"
    community: str | None = None
    user: str | None = None
    auth_protocol: Literal["SHA", "SHA-256", "SHA-512"] | None = None
    auth_password: str | None = None
    priv_protocol: Literal["AES-128", "AES-256"] | None = None
    priv_password: str | None = None
    port: int = Field(default=161, ge=1, le=65535)
    timeout_s: float = Field(default=2.0, gt=0, le=60)
    retries: int = Field(default=1, ge=0, le=10)
    max_repetitions: int = Field(default=25, ge=1, le=200)

    @field_validator("community")
    @classmethod
    def _community_ref(cls, v: str | None) -> str | None:
        return check_secret_ref(v, "community")

    @field_validator("auth_password", "priv_password")
    @classmethod
    def _password_ref(cls, v: str | None) -> str | None:
        return check_secret_ref(v, "password")

    @model_validator(mode="after")
    def _complete(self) -> SnmpProfile:
        if self.version == "2c" and not self.community:
            raise ValueError(f"profile {self.name}: SNMP v2c needs `community`")
        if self.version == "3":
            if not self.user:
                raise ValueError(f"profile {self.name}: SNMP v3 needs `user`")
            problem = usm_problem(self.auth_protocol, self.auth_password, self.priv_protocol,
                                  self.priv_password)
            if problem:
                raise ValueError(f"profile {self.name}: {problem}")
        return self


class Device(_Model):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    address: str
    role: Role
    site: str
    profile: str
    vendor: str = ""
    model: str = ""
    tags: list[str] = Field(default_factory=list)
    flow_exporter: str | None = None
    flow_sampling_rate: int | None = Field(default=None, ge=1)
    syslog_source: str | None = None
    poll_interval_s: float | None = Field(default=None, gt=0)
    snmp_port: int | None = Field(default=None, ge=1, le=65535)

    @field_validator("address", "flow_exporter", "syslog_source")
    @classmethod
    def _ip(cls, v: str | None) -> str | None:
        if v is None:
            return None
        return str(ipaddress.ip_address(v))


class Endpoint(_Model):
    device: str
    interface: str


class Link(_Model):
    name: str
    a: Endpoint
    b: Endpoint
    speed_mbps: int | None = Field(default=None, ge=1)
    kind: Literal["fiber", "copper", "wireless", "virtual"] = "fiber"
    description: str = ""


class Inventory(_Model):
    """The whole inventory file. Order of lists is kept as written (git-friendly diffs)."""

    version: Literal[1] = 1
    sites: list[Site] = Field(default_factory=list)
    snmp_profiles: list[SnmpProfile] = Field(default_factory=list)
    devices: list[Device] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)

    def device(self, name: str) -> Device:
        for d in self.devices:
            if d.name == name:
                return d
        raise KeyError(name)

    def profile(self, name: str) -> SnmpProfile:
        for p in self.snmp_profiles:
            if p.name == name:
                return p
        raise KeyError(name)

    def site(self, site_id: str) -> Site:
        for s in self.sites:
            if s.id == site_id:
                return s
        raise KeyError(site_id)

    def networks(self) -> list[str]:
        """Every site's prefixes, once each, in file order: the province's own address space."""
        return list(dict.fromkeys(n for s in self.sites for n in s.networks))

    def by_address(self) -> dict[str, Device]:
        """Devices by management, flow-exporter and syslog-source address (for enrichment)."""
        out: dict[str, Device] = {}
        for d in self.devices:
            for a in (d.address, d.flow_exporter, d.syslog_source):
                if a:
                    out.setdefault(a, d)
        return out
