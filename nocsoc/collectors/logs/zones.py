"""Time-zone names written in device timestamps, read as UTC offsets.

Cisco IOS with `service timestamps log datetime localtime show-timezone` writes the zone that
`clock timezone NAME H [M]` / `clock summer-time NAME ...` named after the time
(`Oct 21 18:35:43.579 CEST: %SEC_LOGIN-...`), and NX-OS writes its `clock timezone` name the same
way (`2023 Jan 11 19:00:56 CET: %VSHD-...`). The name is free text chosen by the operator, so it
is read as:

- a numeric offset, exactly: `+07`, `+0700`, `+07:00`, `-0330`, and `UTC+7` / `GMT+07:00` /
  `UTC-3` as people write them on devices (the sign is the offset's: `UTC+7` is 7 h ahead of UTC,
  not POSIX's inverted `Etc/GMT+7`);
- a name of `ZONE_NAMES`: the abbreviations that mean one offset. Taken from the tz database
  (every zone using the name gave one offset from 2019 on), minus the names another country uses
  officially for its own zone (MST is also Malaysia's, BST Bangladesh's, AST Arabia's, SST
  Singapore's), plus ICT/SGT/MYT/PHT/BRT/ART, common names the tz database stopped writing
  (it writes `+07` for Indochina Time) that mean one offset;
- `AMBIGUOUS` names (CST is US Central, China and Cuba; IST India, Ireland and Israel; PST US
  Pacific and the Philippines...) and any other name are not guessed: the caller uses the zone
  it was configured with for the input (`logs.timezone`), or the operator's own reading of the
  name (`logs.zone_names`, e.g. `{CST: "+08:00"}` for a network in China), and counts the line.

A leading `*` (clock not authoritative) or `.` (NTP synchronisation lost) before a Cisco
timestamp has no ECS or Sigma field; the header parser skips it."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, timedelta, timezone

log = logging.getLogger(__name__)

ZoneNames = Mapping[str, int]  # the operator's readings: upper-case name -> minutes east of UTC

# abbreviation -> minutes east of UTC (see the module docstring for how the list was chosen)
ZONE_NAMES: dict[str, int] = {
    "UTC": 0, "GMT": 0, "UT": 0, "Z": 0, "WET": 0, "WEST": 60, "CET": 60, "CEST": 120, "MET": 60,
    "MEST": 120, "WAT": 60, "CAT": 120, "SAST": 120, "EET": 120, "EEST": 180, "EAT": 180, "MSK": 180,
    "IDT": 180, "PKT": 300, "ICT": 420, "WIB": 420, "HKT": 480, "SGT": 480, "MYT": 480, "PHT": 480,
    "AWST": 480, "WITA": 480, "JST": 540, "KST": 540, "WIT": 540, "ACST": 570, "ACDT": 630,
    "AEST": 600, "AEDT": 660, "NZST": 720, "NZDT": 780, "BRT": -180, "ART": -180, "NST": -210,
    "NDT": -150, "ADT": -180, "EST": -300, "EDT": -240, "MDT": -360, "PDT": -420, "AKST": -540,
    "AKDT": -480, "HST": -600,
}
# names that mean different offsets in different places: never read without `zone_names`
AMBIGUOUS = frozenset({"CST", "CDT", "IST", "PST", "MST", "BST", "AST", "SST", "GST", "ECT", "AMT"})

_OFFSET = re.compile(r"(?:UTC|GMT|UT)?(?P<sign>[+-])(?P<h>\d{1,2})(?::?(?P<m>\d\d))?")
_TZ_CACHE: dict[int, timezone] = {}
_LOGGED: set[str] = set()  # unknown names already logged once (bounded)
_LOGGED_MAX = 64


def _tz(minutes: int) -> timezone:
    tz = _TZ_CACHE.get(minutes)
    if tz is None:
        tz = _TZ_CACHE[minutes] = timezone(timedelta(minutes=minutes)) if minutes else UTC
    return tz


def offset_minutes(text: str) -> int | None:
    """`+07`, `+0700`, `+07:00`, `UTC+7`, `GMT-03:30` -> minutes east of UTC; None otherwise
    (and for offsets beyond +-14 h, which no zone has)."""
    m = _OFFSET.fullmatch(text.strip().upper())
    if m is None:
        return None
    h, mi = int(m["h"]), int(m["m"] or 0)
    if h > 14 or mi > 59 or (h == 14 and mi):
        return None
    total = h * 60 + mi
    return -total if m["sign"] == "-" else total


def parse_zone_names(names: Mapping[str, str]) -> dict[str, int]:
    """The operator's readings of zone names (`logs.zone_names`): name -> offset text. Raises
    ValueError naming the entry that is no offset."""
    out: dict[str, int] = {}
    for name, value in names.items():
        minutes = offset_minutes(str(value))
        if minutes is None:
            raise ValueError(f"zone_names: {name!r}: {value!r} is not a UTC offset such as +07:00")
        out[name.upper()] = minutes
    return out


def zone(name: str, names: Mapping[str, int] | None = None) -> timezone | None:
    """The zone a timestamp's name means: the operator's reading first (`names`, upper-case
    keys), then a numeric offset, then `ZONE_NAMES`. None: unknown or ambiguous."""
    key = name.upper()
    if names:
        minutes = names.get(key)
        if minutes is not None:
            return _tz(minutes)
    minutes = ZONE_NAMES.get(key)
    if minutes is None:
        if not ("+" in key or "-" in key):
            return None
        minutes = offset_minutes(key)
        if minutes is None:
            return None
    return _tz(minutes)


def note_unknown(name: str, where: str) -> None:
    """One log line per unknown zone name (the first 64 names), its text escaped: the name comes
    from the line, so from whoever can send one."""
    if name in _LOGGED or len(_LOGGED) >= _LOGGED_MAX:
        return
    _LOGGED.add(name)
    why = "ambiguous" if name.upper() in AMBIGUOUS else "unknown"
    log.warning("logs: %s time zone name %r in timestamps from %s: read in the input's configured "
                "zone (set logs.zone_names to read it)", why, name[:32], where)
