"""The simulator's one network rule: it only ever binds or sends inside 127.0.0.0/8.

Every bind and every destination goes through `require_loopback`, so a typo in an inventory or
on the command line (`--flows-to 10.0.0.5:2055`) is refused with a clear error instead of
spraying simulated attacks at a real network.
"""

from __future__ import annotations

import ipaddress

from nocsoc.errors import NocsocError

LOOPBACK_NET = ipaddress.ip_network("127.0.0.0/8")


class UnsafeAddressError(NocsocError):
    """An address outside 127.0.0.0/8 was given to the simulator."""


def require_loopback(host: str, what: str) -> str:
    """`host` normalized, or UnsafeAddressError naming `what` when it is not in 127.0.0.0/8."""
    try:
        addr = ipaddress.ip_address(host.strip())
    except ValueError:
        raise UnsafeAddressError(
            f"{what}: {host!r} is not an IPv4 address; the simulator only uses literal "
            f"127.0.0.0/8 addresses (no names, no IPv6)"
        ) from None
    if addr.version != 4 or addr not in LOOPBACK_NET:
        raise UnsafeAddressError(
            f"{what}: {addr} is outside 127.0.0.0/8; the simulator never binds or sends elsewhere"
        )
    return str(addr)


def parse_endpoint(text: str, what: str) -> tuple[str, int]:
    """`HOST:PORT` -> (host, port), host checked by `require_loopback`."""
    host, sep, port_s = text.rpartition(":")
    if not sep or not host:
        raise UnsafeAddressError(f"{what}: {text!r} is not HOST:PORT")
    try:
        port = int(port_s)
    except ValueError:
        raise UnsafeAddressError(f"{what}: port {port_s!r} in {text!r} is not a number") from None
    if not 1 <= port <= 65535:
        raise UnsafeAddressError(f"{what}: port {port} in {text!r} is outside 1-65535")
    return require_loopback(host, what), port
