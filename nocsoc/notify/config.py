"""The `notify:` section: routes from what happened (kind, level, rule, site) to channels."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# alert: a SOC alert of a detection rule; incident: the first alert of an attack; device_down,
# link_down (the poller saw an interface go down), optics_low (receive power crossed below
# dashboards.optics_rx_min_dbm): from the SQLite sink; trap: an SNMP trap the catalogue marks as
# an alert (a linkDown trap shares its dedup key with the poller's link_down of that interface)
KINDS = ("alert", "incident", "device_down", "link_down", "optics_low", "trap", "test")
LEVELS = ("informational", "low", "medium", "high", "critical")


def _listify(v: object) -> object:
    return [v] if isinstance(v, str) else v


def _only(v: list[str], allowed: tuple[str, ...], what: str) -> list[str]:
    """`v` unchanged when every value is one of `allowed`; else one error naming the strays."""
    bad = [k for k in v if k not in allowed]
    if bad:
        raise ValueError(f"unknown {what} {', '.join(bad)} (one of {', '.join(allowed)})")
    return v


class Match(BaseModel):
    """Every key given must match (a list: any of its values); an empty match takes everything."""

    model_config = ConfigDict(extra="forbid")

    kind: list[str] = Field(default_factory=list, description=f"one or more of {', '.join(KINDS)}")
    level: list[str] = Field(default_factory=list, description="alert levels")
    rule: list[str] = Field(default_factory=list, description="rule ids or titles")
    site: list[str] = Field(default_factory=list, description="inventory site ids")
    device: list[str] = Field(default_factory=list, description="inventory device names")

    _lists = field_validator("kind", "level", "rule", "site", "device", mode="before")(_listify)

    @field_validator("kind")
    @classmethod
    def _kinds(cls, v: list[str]) -> list[str]:
        return _only(v, KINDS, "kind")

    @field_validator("level")
    @classmethod
    def _levels(cls, v: list[str]) -> list[str]:
        return _only(v, LEVELS, "level")


class Route(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    match: Match = Field(default_factory=Match)
    to: list[str] = Field(
        min_length=1,
        description="apprise URLs, or secret references (env:NAME, "
        "file:PATH) to one when it holds a password or token",
    )
    locale: Literal["vi", "en"] = "vi"
    dedup_s: float = Field(default=3600.0, ge=0, description="the same event again within this is not resent")
    max_per_hour: int = Field(default=30, ge=1, description="beyond: dropped and counted")
    quiet_hours: str | None = Field(default=None, description="HH:MM-HH:MM local time: held until it ends")
    quiet_pass: list[str] = Field(
        default_factory=lambda: ["critical"], description="levels delivered even in quiet hours"
    )

    @field_validator("to")
    @classmethod
    def _no_literal_secret(cls, v: list[str]) -> list[str]:
        from urllib.parse import urlsplit

        for entry in v:
            if entry.startswith(("env:", "file:")):
                continue
            try:
                pw = urlsplit(entry).password
            except ValueError:
                raise ValueError("a channel that is not a URL (nor env:/file:)") from None
            if pw or "pass=" in entry or "token=" in entry:
                # the message names no part of the entry: it holds the secret
                raise ValueError(
                    "a channel URL holding a password or token must be a reference "
                    "(env:NAME or file:PATH holding the URL)"
                )
        return v

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", v):
            raise ValueError(f"quiet_hours {v!r}: use HH:MM-HH:MM, e.g. 22:00-06:00")
        return v


class NotifyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=False, description="run the notifier in `nocsoc run`")
    routes: list[Route] = Field(default_factory=list)
    spool_dir: str = Field(default="./var/notify", description="messages waiting for a channel")
    timezone: str = Field(default="Asia/Ho_Chi_Minh", description="for quiet hours")
    poll_s: float = Field(default=5.0, gt=0, description="how often new alerts are looked for")
    retry_s: float = Field(default=30.0, gt=0, description="first retry delay (doubles, at most 1 h)")
    max_age_s: float = Field(
        default=7 * 86400.0, gt=0, description="a message still undelivered after this is dropped (counted)"
    )
    timeout_s: float = Field(default=10.0, gt=0, description="per channel delivery")

    @field_validator("routes")
    @classmethod
    def _unique(cls, v: list[Route]) -> list[Route]:
        names = [r.name for r in v]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"route name(s) {', '.join(sorted(dup))} used twice")
        return v
