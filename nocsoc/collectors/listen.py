"""Listen addresses shared by the collectors' servers (flows UDP, syslog UDP/TCP)."""

from __future__ import annotations


def parse_bind(bind: str) -> tuple[str, int]:
    """`host:port` or `[v6]:port` -> (host, port); ValueError naming the bad value."""
    host, sep, port = bind.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ValueError(f"bind address {bind!r} is not host:port")
    host = host.strip("[]")
    p = int(port)
    if not 0 <= p <= 65535:
        raise ValueError(f"bind address {bind!r}: port out of range")
    return host, p
