"""The `web:` section of nocsoc.yaml: the console, its users and its API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class WebConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=False, description="serve the console from `nocsoc run`")
    bind: str = Field(default="127.0.0.1:8080", description="HOST:PORT of the console and /api/v1")
    users_db: str = Field(default="./var/web.db", description="users, sessions and API tokens (SQLite)")
    locale: Literal["vi", "en"] = Field(default="vi", description="language before a user picks one")
    session_ttl_s: float = Field(default=8 * 3600.0, gt=0, description="a session ends this long after login")
    idle_timeout_s: float = Field(default=3600.0, gt=0, description="... or this long after its last use")
    lockout_failures: int = Field(default=10, ge=1, description="failed logins in a row that lock an account")
    lockout_s: float = Field(default=900.0, gt=0, description="how long a locked account stays locked")
    login_per_minute: int = Field(
        default=30, ge=1, description="login attempts per client address per minute"
    )
    token_per_minute: int = Field(default=600, ge=1, description="API calls per token per minute")
    secure_cookies: Literal["auto", "always", "never"] = Field(
        default="auto",
        description="auto: Secure cookies when the request came over https (directly "
        "or, from a trusted proxy, X-Forwarded-Proto: https)",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list, description="addresses of reverse proxies whose headers are believed"
    )
    proxy_user_header: str | None = Field(
        default=None, description="header a trusted proxy sets to the signed-in user (SSO); off by default"
    )
    incident_window_s: float = Field(
        default=3600.0, gt=0, description="alerts of one source and target this close form one incident"
    )
    refresh_s: int = Field(default=30, ge=5, description="IOC page auto-refresh")
