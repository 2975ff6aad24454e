"""Values a device sends that line protocol cannot carry, made safe instead of dropping the point.

Line protocol has no escape for a newline, carriage return or tab in a tag value, and a tag
value ending in a backslash escapes the separator after it; the encoder rightly refuses such a
point, and one device's ifAlias "uplink to core\\" then cost the whole interface point (an
Arista lost 14 of 55 interfaces that way). Device text is data, not structure: control
characters become spaces, trailing backslashes are dropped, and each repair is counted.
"""

from __future__ import annotations

import re

from nocsoc.schema import Point

_CONTROL = re.compile(r"[\r\n\t\x00]")


def safe_text(value: str) -> str:
    """`value` without control characters or a trailing backslash."""
    out = _CONTROL.sub(" ", value) if _CONTROL.search(value) else value
    if out.endswith("\\"):
        out = out.rstrip("\\")
    return out.strip() if out is not value else out


def safe_points(points: list[Point]) -> tuple[list[Point], int]:
    """The points with every unsafe tag value and string field repaired; (points, repairs)."""
    repaired = 0
    for p in points:
        for k, v in p.tags.items():
            if v.endswith("\\") or _CONTROL.search(v):
                new = safe_text(v)
                repaired += 1
                if new:
                    p.tags[k] = new
                else:
                    p.tags[k] = "-"
        for k, f in p.fields.items():
            if isinstance(f, str) and _CONTROL.search(f):
                p.fields[k] = _CONTROL.sub(" ", f)
                repaired += 1
    return points, repaired
