"""documents.parse_time against an independent ground truth: a table of known epochs (checked
with GNU `date -u -d ... +%s`), and random RFC 3339 / ISO 8601 extended texts whose time is
built from their parts with the `datetime` constructor, never by parsing the text.

What the parts mean (the ground truth's rules): the zone is `Z`, `±HH:MM`, `±HHMM` or `±HH`, and
none means UTC (Winlogbeat writes `Z`; NXLog's default EventTime has none); the fraction is
`.` or `,` and 1 or more digits, of which the first 6 are the microseconds (more are cut, not
rounded); white space around the text is ignored; a part out of range (month 13, day 32 or
30 February, hour 24, minute 60, second 60 or 61) makes the text unreadable: 0.0.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from nocsoc.collectors.windows.documents import parse_time

KNOWN = [  # text, seconds since the epoch (GNU date)
    ("1970-01-01T00:00:01Z", 1.0),
    ("2025-01-01T00:00:00.123Z", 1735689600.123),
    ("2019-06-27 10:47:45", 1561632465.0),  # NXLog's default EventTime: UTC
    ("2021-03-04T05:06:07Z", 1614834367.0),
    ("2021-03-04T05:06:07.5", 1614834367.5),
    ("2021-03-04T05:06:07.1234567Z", 1614834367.123456),  # Windows' 100 ns ticks: cut to µs
    ("2021-03-04T05:06:07,25Z", 1614834367.25),
    ("2021-03-04T05:06:07+07:00", 1614809167.0),
    ("2021-03-04T05:06:07-05:30", 1614854167.0),
    ("2021-03-04T05:06:07-0530", 1614854167.0),
    ("2021-03-04T05:06:07+07", 1614809167.0),
    (" 2021-03-04 05:06:07 ", 1614834367.0),
    ("2021-03-04T05:06Z", 1614834360.0),
    ("2024-02-29T23:59:59Z", 1709251199.0),
    ("0001-01-01T00:00:00Z", -62135596800.0),
    ("9999-12-31T23:59:59Z", 253402300799.0),
    # epoch seconds as JSON numbers
    (1614834367, 1614834367.0),
    (1614834367.25, 1614834367.25),
    # unreadable or absent
    ("2023-02-29T00:00:00Z", 0.0),
    ("2021-03-04T24:00:00Z", 0.0),
    ("2021-13-04T05:06:07Z", 0.0),
    ("2021/03/04 05:06:07", 0.0),
    ("yesterday", 0.0),
    ("", 0.0),
    (None, 0.0),
    (True, 0.0),
    ({"t": 1}, 0.0),
]


@pytest.mark.parametrize(("value", "want"), KNOWN)
def test_known_times(value: object, want: float) -> None:
    assert parse_time(value) == pytest.approx(want, abs=1e-6)


ZONES = {"Z": 0, "": 0, "+00:00": 0, "+07:00": 420, "-05:30": -330, "-0530": -330, "+07": 420,
         "+1400": 840, "-12:00": -720}


def _case(rnd: random.Random) -> tuple[str, float]:
    """A text from random parts (some out of range) and the time those parts name."""
    year = rnd.choice([1, 1970, 2019, 2024, 2025, 9999])
    month, day = rnd.randint(0, 13), rnd.randint(0, 32)
    hour, minute = rnd.randint(0, 24), rnd.randint(0, 60)
    second = rnd.randint(0, 61) if rnd.random() < 0.9 else None
    digits = ""
    if second is not None and rnd.random() < 0.7:
        digits = "".join(rnd.choice("0123456789") for _ in range(rnd.randint(1, 12)))
    zone = rnd.choice(list(ZONES))
    text = f"{year:04d}-{month:02d}-{day:02d}{rnd.choice('T t')}{hour:02d}:{minute:02d}"
    if second is not None:
        text += f":{second:02d}"
    if digits:
        text += rnd.choice(".,") + digits
    text += zone
    if rnd.random() < 0.3:
        text = rnd.choice([" ", "", "\t", "\n"]) + text + rnd.choice([" ", "", "\n"])
    try:
        t = datetime(year, month, day, hour, minute, second or 0, int(digits[:6].ljust(6, "0")),
                     tzinfo=timezone(timedelta(minutes=ZONES[zone])))
    except ValueError:
        return text, 0.0
    return text, t.timestamp()


def test_random_texts_against_their_parts() -> None:
    rnd = random.Random(11)
    readable = 0
    for _ in range(50_000):
        text, want = _case(rnd)
        assert parse_time(text) == want, repr(text)
        readable += want != 0.0
    assert readable > 10_000  # the valid shapes are well covered, not only the errors


def test_any_text_is_a_number_never_an_error() -> None:
    """Stray characters anywhere (digits of other scripts, a second `Z`, a space in the zone):
    a float, never an exception."""
    rnd = random.Random(12)
    for _ in range(20_000):
        text, _ = _case(rnd)
        for _ in range(rnd.randint(1, 3)):
            i = rnd.randrange(len(text) + 1)
            text = text[:i] + rnd.choice(" -:.TZz+0٣²x,") + text[i:]
        assert isinstance(parse_time(text), float), repr(text)

