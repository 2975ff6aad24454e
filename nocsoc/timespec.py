"""Times a person types: a duration back from now (`30m`, `24h`, `7d`, `2w`), an ISO 8601 time
(UTC when it names no zone), or, where asked for, epoch seconds. One reader for the CLI's
`--since`/`--until` and the console's filters, so that each accepts the same texts; each caller
words its own error (the option or field it names)."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def duration_seconds(text: str) -> float | None:
    """`7d`, `12h`, `30m`, `45s`, `2w` -> seconds; None when `text` is no duration."""
    m = _DURATION.fullmatch(text)
    return float(m[1]) * _UNITS[m[2]] if m else None


def parse_time(text: str, now: float, epoch: bool = False) -> float:
    """Epoch seconds of `text`: a duration before `now`, an ISO time, or (with `epoch`) a number
    of epoch seconds. ValueError when it is none of them."""
    ago = duration_seconds(text)
    if ago is not None:
        return now - ago
    if epoch:
        try:
            t = float(text)
        except ValueError:
            pass
        else:
            if math.isfinite(t):  # not `nan`, `inf`
                return t
    dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))  # ValueError: none of them
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()
