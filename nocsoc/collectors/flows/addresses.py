"""Address columns to text: only unique keys are formatted, never each record."""

from __future__ import annotations

import ipaddress
import socket

import numpy as np


def format_addresses(col: np.ndarray, ip_version: int) -> list[str]:
    """uint32 (IPv4) or V16 (IPv6) column -> list of address strings."""
    if ip_version == 4:
        return [socket.inet_ntoa(v.to_bytes(4, "big")) for v in col.tolist()]
    return [str(ipaddress.IPv6Address(bytes(v))) for v in col.tolist()]


def format_address(value: int | bytes, ip_version: int) -> str:
    if ip_version == 4:
        assert isinstance(value, int)
        return socket.inet_ntoa(value.to_bytes(4, "big"))
    assert isinstance(value, bytes)
    return str(ipaddress.IPv6Address(value))
