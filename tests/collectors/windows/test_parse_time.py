"""documents.parse_time reads a time as it comes when it can (`datetime.fromisoformat`) and
rewrites it first otherwise: both give what the rewriting alone gave, on real document times and
on random texts around the ISO 8601 shape (separators, `Z`, 0-12 fraction digits, offsets,
whitespace, stray characters)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from nocsoc.collectors.windows.documents import parse_time


def _rewritten(v: str) -> float:
    """The reference: every text stripped, `Z` made `+00:00`, the fraction cut to 6 digits."""
    s = v.strip().replace("Z", "+00:00")
    if "." in s:
        head, _, rest = s.partition(".")
        i = 0
        while i < len(rest) and rest[i].isdigit():
            i += 1
        s = f"{head}.{rest[:min(i, 6)]}{rest[i:]}" if i else head + rest
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return 0.0
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()


def _text(rnd: random.Random) -> str:
    parts = [f"{rnd.choice([1, 1970, 2019, 2025, 9999]):04d}", rnd.choice("--/"),
             f"{rnd.randint(0, 13):02d}", "-", f"{rnd.randint(0, 32):02d}", rnd.choice("T TtZ"),
             f"{rnd.randint(0, 24):02d}", ":", f"{rnd.randint(0, 60):02d}"]
    if rnd.random() < 0.9:
        parts += [":", f"{rnd.randint(0, 61):02d}"]
    if rnd.random() < 0.7:
        parts += [rnd.choice("..,"), str(rnd.randint(0, 10**10)).zfill(12)[:rnd.randint(0, 12)]]
    parts.append(rnd.choice(["Z", "Z", "", "+00:00", "+07:00", "-0530", "z", " Z", "ZZ", "+07", "Z ", " "]))
    s = "".join(parts)
    if rnd.random() < 0.3:
        s = rnd.choice([" ", "", "\t", "\n"]) + s + rnd.choice([" ", "", "\n"])
    if rnd.random() < 0.2:
        i = rnd.randrange(len(s))
        s = s[:i] + rnd.choice(" -:.TZ+0٣²x,") + s[i + 1:]
    return s


def test_document_times() -> None:
    for v in ["2025-01-01T00:00:00.123Z", "2019-06-27 10:47:45", "2021-03-04T05:06:07.1234567Z",
              "2021-03-04T05:06:07+07:00", " 2021-03-04 05:06:07 ", "2021-03-04T05:06:07.5"]:
        assert parse_time(v) == _rewritten(v) != 0.0, v


def test_random_texts() -> None:
    rnd = random.Random(11)
    for _ in range(50_000):
        v = _text(rnd)
        assert parse_time(v) == _rewritten(v), repr(v)
