"""Which ICMP sockets this process may open: unprivileged datagram ("ping") sockets where the
kernel's net.ipv4.ping_group_range includes one of our groups, raw sockets with CAP_NET_RAW.

Checked once at start so that a missing permission is one clear message, not an error per device.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Literal

from nocsoc.errors import NocsocError

Mode = Literal["datagram", "raw"]
GROUP_RANGE = Path("/proc/sys/net/ipv4/ping_group_range")


class IcmpPermissionError(NocsocError):
    """Neither kind of ICMP socket is allowed for this process: a host configuration problem
    (a restart cannot fix it; `nocsoc run` reports it once and exits 2)."""


def group_range_allows(path: Path = GROUP_RANGE) -> bool:
    """True when one of this process's groups is inside ping_group_range (per network namespace;
    the kernel default `1 0` allows nobody)."""
    try:
        lo, hi = (int(x) for x in path.read_text().split())
    except (OSError, ValueError):
        return False
    return any(lo <= g <= hi for g in {os.getgid(), os.getegid(), *os.getgroups()})


def _can_open(kind: int) -> bool:
    try:
        socket.socket(socket.AF_INET, kind, socket.IPPROTO_ICMP).close()
    except OSError:
        return False
    return True


def choose_mode(setting: bool | Literal["auto"], *, datagram_ok: bool | None = None,
                raw_ok: bool | None = None) -> Mode:
    """The socket kind to use for `icmp.privileged`; IcmpPermissionError when it is not allowed."""
    if datagram_ok is None:
        datagram_ok = group_range_allows() and _can_open(socket.SOCK_DGRAM)
    if setting is False or (setting == "auto" and datagram_ok):
        if datagram_ok:
            return "datagram"
        raise IcmpPermissionError(
            "unprivileged ICMP sockets are not allowed for this user: add its group to "
            "net.ipv4.ping_group_range (sysctl -w net.ipv4.ping_group_range='0 2147483647') "
            "or set icmp.privileged to auto/true with CAP_NET_RAW")
    if raw_ok is None:
        raw_ok = _can_open(socket.SOCK_RAW)
    if raw_ok:
        return "raw"
    raise IcmpPermissionError(
        "cannot open ICMP sockets: net.ipv4.ping_group_range does not include this "
        "process's groups and it lacks CAP_NET_RAW; either allow the group (sysctl "
        "net.ipv4.ping_group_range) or grant the capability (systemd: "
        "AmbientCapabilities=CAP_NET_RAW)" if setting == "auto" else
        "icmp.privileged is true but this process lacks CAP_NET_RAW (systemd: "
        "AmbientCapabilities=CAP_NET_RAW), or set icmp.privileged: auto")
