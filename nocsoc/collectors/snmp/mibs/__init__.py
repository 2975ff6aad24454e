"""MIB areas: each module names the OIDs it needs and turns their values into schema points.

Pure functions of (values already fetched, remembered state): no I/O here, so each area is
unit-tested with plain dicts and reused by the poller, discovery and topology alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from nocsoc.collectors.snmp import areas
from nocsoc.collectors.snmp.session import Value


class FixedArea(areas.Area):
    """An area that reads the same OIDs from every device: it declares them, and the poller's
    questions (which scalars, columns, slow columns) are answered from the declaration."""

    scalar_oids: ClassVar[Sequence[str]] = ()
    column_oids: ClassVar[Sequence[str]] = ()
    slow_column_oids: ClassVar[Sequence[str]] = ()

    def scalars(self, ctx: areas.Context, state: Any) -> Sequence[str]:
        return self.scalar_oids

    def columns(self, ctx: areas.Context, state: Any) -> Sequence[str]:
        return self.column_oids

    def slow_columns(self, ctx: areas.Context, state: Any) -> Sequence[str]:
        return self.slow_column_oids


def text(value: Value | None) -> str:
    """An OctetString as printable text (UTF-8, NULs and trailing spaces stripped)."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace").replace("\x00", "").strip()
    return str(value).strip()


def hexstr(value: Value | None, sep: str = ":") -> str:
    """Binary OctetString (MAC address, chassis id) as hex pairs."""
    if isinstance(value, bytes):
        return sep.join(f"{b:02x}" for b in value)
    return text(value)


def num(value: Value | None) -> int | None:
    """An integer value, or None when absent or not a number."""
    if isinstance(value, int):
        return value
    if isinstance(value, bytes):
        try:
            return int(value.decode().strip())
        except ValueError:
            return None
    return None
