"""Listen addresses shared by the collectors' servers (flows UDP, syslog UDP/TCP), and starting
a component's servers as one."""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Iterable
from typing import Any, Protocol


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


def listen_error(proto: str, bind: str, exc: OSError) -> OSError:
    """The one message for a listen address that cannot be bound (errno kept, so callers can
    tell a configuration problem such as EADDRINUSE from a transient one)."""
    reason = (os.strerror(exc.errno) if exc.errno else str(exc)).lower()
    port = bind.rpartition(":")[2]
    hint = " (ports below 1024 need CAP_NET_BIND_SERVICE)" if exc.errno == errno.EACCES and \
        port.isdigit() and int(port) < 1024 else ""
    return OSError(exc.errno or 0, f"cannot listen on {proto} {bind}: {reason}{hint}")


def bind_socket(sock: socket.socket, proto: str, bind: str, address: Any) -> None:
    """`sock.bind(address)`, closing the socket and raising `listen_error` on failure."""
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise listen_error(proto, bind, exc) from None


class Server(Protocol):
    def start(self) -> None: ...

    def stop(self, timeout: float = ...) -> None: ...


def start_all(servers: Iterable[Server]) -> None:
    """Start `servers` in order; when one fails (a port in use), stop those already started and
    re-raise. A component that failed to start then holds no socket: a restart, or the next
    `nocsoc run`, can bind them again instead of finding its own earlier listener in the way."""
    started: list[Server] = []
    try:
        for s in servers:
            s.start()
            started.append(s)
    except Exception:
        for s in reversed(started):
            s.stop()
        raise
