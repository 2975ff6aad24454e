"""A recorded SNMP walk (snmpsim's `.snmprec` format) read as an agent, without the network.

`nocsoc profiles test WALK` and the profile tests run the poller's own collection code on a
recording: `WalkSession` answers `get` and `bulk_columns` from the file exactly as an agent
would answer GET/GETBULK (lexicographic order, noSuchObject for what is absent), so what a
profile finds offline is what it finds on the device.

Format (snmpsim's): one `OID|tag|value` line per varbind; tag is the BER type number (2
Integer32, 4 OCTET STRING, 5 NULL, 6 OID, 64 IpAddress, 65 Counter32, 66 Gauge32, 67 TimeTicks,
68 Opaque, 70 Counter64); a suffix `x` means the value is hex, `e` means Python-style `\\xNN`
escapes. Lines that do not parse are counted and skipped (`WalkFile.bad_lines`), never fatal.
"""

from __future__ import annotations

import bisect
import codecs
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from nocsoc.collectors.snmp.session import Column, Index, RowTime, SessionStats, Value

OidT = tuple[int, ...]
_UNSIGNED = {"65", "66", "67", "70"}


def _oid(text: str) -> OidT:
    return tuple(int(x) for x in text.strip().strip(".").split("."))


def parse_value(tag: str, raw: str) -> Value | None:
    """The python value of one snmprec varbind (as the poller's BER client decodes it)."""
    base, enc = (tag[:-1], tag[-1]) if tag and tag[-1] in "xe" else (tag, "")
    if base == "2":
        return int(raw)
    if base in _UNSIGNED:
        return int(raw)
    if base in ("4", "68"):
        if enc == "x":
            return bytes.fromhex(raw)
        if enc == "e":
            return codecs.escape_decode(raw.encode("latin-1"))[0]
        return raw.encode("utf-8", errors="surrogateescape")
    if base == "6":
        return ".".join(str(x) for x in _oid(raw))
    if base == "64":
        if enc == "x":
            return ".".join(str(b) for b in bytes.fromhex(raw))
        return raw
    if base == "5":
        return None
    raise ValueError(f"unknown tag {tag!r}")


@dataclass
class WalkFile:
    """The varbinds of one recording, sorted by OID (a later duplicate wins)."""

    path: Path
    oids: list[OidT] = field(default_factory=list)
    values: list[Value | None] = field(default_factory=list)
    bad_lines: int = 0

    @classmethod
    def load(cls, path: Path) -> WalkFile:
        data: dict[OidT, Value | None] = {}
        bad = 0
        with open(path, encoding="utf-8", errors="surrogateescape") as fh:
            for line in fh:
                line = line.rstrip("\r\n")
                if not line:
                    continue
                parts = line.split("|", 2)
                if len(parts) != 3:
                    bad += 1
                    continue
                try:
                    data[_oid(parts[0])] = parse_value(parts[1], parts[2])
                except ValueError:
                    bad += 1
        walk = cls(Path(path), bad_lines=bad)
        for oid in sorted(data):
            walk.oids.append(oid)
            walk.values.append(data[oid])
        return walk

    def get(self, oid: OidT) -> Value | None:
        i = bisect.bisect_left(self.oids, oid)
        if i < len(self.oids) and self.oids[i] == oid:
            return self.values[i]
        return None

    def next_after(self, oid: OidT) -> int:
        """Position of the first OID greater than `oid` (GETNEXT semantics)."""
        return bisect.bisect_right(self.oids, oid)

    def column(self, prefix: OidT) -> Column:
        out: Column = {}
        n = len(prefix)
        i = self.next_after(prefix)
        while i < len(self.oids) and self.oids[i][:n] == prefix:
            v = self.values[i]
            if v is not None:
                out[self.oids[i][n:]] = v
            i += 1
        return out


class WalkSession:
    """The subset of `SnmpSession` the poller uses, answered from a `WalkFile`."""

    def __init__(self, walk: WalkFile, device: str = "walk") -> None:
        self.walk = walk
        self.device = device
        self.stats = SessionStats()  # the same counters the poller reads off a live session

    async def get(self, oids: Sequence[str]) -> dict[str, Value]:
        self.stats.requests += 1
        out: dict[str, Value] = {}
        for o in oids:
            v = self.walk.get(_oid(o))
            self.stats.varbinds += 1
            if v is not None:
                out[o] = v
        return out

    async def bulk_columns(
        self,
        columns: Sequence[str],
        max_repetitions: int | None = None,
        times: dict[str, dict[Index, RowTime]] | None = None,
        clock: bool = False,
    ) -> dict[str, Column]:
        self.stats.requests += 1
        out: dict[str, Column] = {}
        for c in dict.fromkeys(columns):
            col = self.walk.column(_oid(c))
            out[c] = col
            self.stats.varbinds += len(col)
            if times is not None and c in times:
                for index in col:
                    times[c][index] = (0.0, None)
        return out

    def close(self) -> None:
        return None
