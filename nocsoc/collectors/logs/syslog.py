"""Syslog framing and header parsing: RFC 3164 (BSD), RFC 5424, and the headerless lines of files.

Pure functions on untrusted input: they never raise on garbage, they return what they could
read and leave the rest in `msg`. RFC 3164 dates carry no year: `resolve_year` picks the year
that puts the date closest to (and not more than a day after) the time it was received, so a
`Dec 31 23:59:59` line read on 1 January lands in the previous year.

A date with no zone is in the input's configured zone (`tz`). Cisco devices write their zone's
name after the time (IOS `service timestamps log datetime localtime show-timezone`:
`*Mar  1 18:46:11.123 UTC: %SYS-...`; NX-OS: `2026 Nov 25 12:00:04 ICT: %VSHD-...`): the name is
read through `zones` (numeric offsets exactly, unambiguous abbreviations, the operator's
`zone_names`); an unknown or ambiguous name falls back to `tz` and is reported in
`SyslogMessage.zone_unknown` for the caller to count.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from nocsoc.collectors.logs.zones import ZoneNames, zone

MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}

_PRI = re.compile(r"<(\d{1,3})>")
_BSD_TS = re.compile(
    r"(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}(?P<day>\d{1,2}) "
    r"(?:(?P<year>\d{4}) )?(?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d)(?P<frac>\.\d+)?"
    r"(?: (?P<tz>[+-]\d\d(?::?\d\d)?|[A-Za-z][A-Za-z0-9+:-]{0,11}?)(?P<tzc>:)?(?= ))?:? ")
# NX-OS puts the year first: `[host: ]2026 Nov 25 12:00:04[.123][ ZONE]: %FAC-SEV-MNEMONIC:`
_NXOS_TS = re.compile(
    r"(?P<year>\d{4}) (?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}(?P<day>\d{1,2}) "
    r"(?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d)(?P<frac>\.\d+)?"
    r"(?: (?P<tz>[+-]\d\d(?::?\d\d)?|[A-Za-z][A-Za-z0-9+:-]{0,11}?)(?P<tzc>:)?(?= ))?:? ")
_ISO_TS = re.compile(
    r"(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?) ")
# an unknown name still taken for a zone (counted, read in `tz`): upper case as zone names are
# (`CST`, `CMT+2`); a lower-case word before `:` is a program name (`Nov 25 01:02:03 sshd: ...`)
_ZONE_LIKE = re.compile(r"[A-Z][A-Z0-9+:-]*")
_TAG = re.compile(r"(?P<app>[^\s\[\]:]{1,48})(?:\[(?P<pid>[^\]\s]{0,32})\])?: ?")
_HOST = re.compile(r"(?P<host>[A-Za-z0-9][A-Za-z0-9_.:-]{0,254}) ")
# The common RFC 3164 / file header in one match: `Mmm dd hh:mm:ss host app[pid]: `. Atomic
# groups keep each part where the step-by-step parse below would put it; anything else (no
# host, a tag-less message, a year, a zone name...) takes the step-by-step path.
_FAST_3164 = re.compile(
    r"(?>(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}(?P<day>\d{1,2}) "
    r"(?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d) )"
    r"(?![A-Z]{2,5} )(?>(?P<host>[A-Za-z0-9][A-Za-z0-9_.-]{0,254}) )"  # not a zone name
    r"(?>(?!%)(?P<app>[^\s\[\]:]{1,48})(?:\[(?P<pid>[^\]\s]{0,32})\])?: ?)")
# (month, day, hour, minute, second, host, app, pid, end) of a _FAST_3164 match at a position
Header3164 = tuple[int, int, int, int, int, str, str, str | None, int]
_c_bsd_header: Callable[[str, int], Header3164 | bool | None] | None
try:  # the same match walked in C (_logfast.c); False from it: non-ASCII text, the regex decides
    from nocsoc.collectors.logs._logfast import bsd_header as _c_bsd_header
except ImportError:  # not built: the regex alone
    _c_bsd_header = None


def match_3164(line: str, pos: int = 0) -> Header3164 | None:
    """`_FAST_3164.match(line, pos)` as its parts (the reference of _logfast.bsd_header)."""
    mf = _FAST_3164.match(line, pos)
    if mf is None:
        return None
    mon, day, h, mi, sec, host, app, pid = mf.group("mon", "day", "h", "m", "s", "host", "app", "pid")
    return MONTHS[mon], int(day), int(h), int(mi), int(sec), host, app, pid, mf.end()


def header_3164(line: str, pos: int) -> Header3164 | None:
    """The common header's parts at `pos` (C where built), or None."""
    if _c_bsd_header is not None:
        got = _c_bsd_header(line, pos)
        if got is not False:
            return got  # type: ignore[return-value]
    return match_3164(line, pos)


_CISCO_PREFIX = re.compile(r"(?:\d+: )?(?:(?P<host>[A-Za-z0-9][\w.-]*): )?(?:\d+: )?\*?\.?")
# IOS `service timestamps log uptime` stamps (`1d04h: %X`, `2w3d:`, `1y2w:`): time since boot,
# no host name (and no date: the receive time stands)
_UPTIME = re.compile(r"\d+[ywd]\d+[wdh]")


@dataclass(slots=True)
class SyslogMessage:
    """A syslog message's header and body. `time` is epoch seconds (float)."""

    time: float
    host: str
    app: str
    pid: str | None
    msg: str
    facility: int | None = None
    severity: int | None = None
    format: str = "none"  # "3164" | "5424" | "file" | "none"
    structured: dict[str, dict[str, str]] | None = None
    zone_unknown: str | None = None  # a zone name in the timestamp that was not read (see zones)


def resolve_year(month: int, day: int, h: int, m: int, s: int, frac: float, now: datetime,
                 tz: tzinfo) -> float:
    """Epoch seconds for a year-less date: this year, or last year when that would be > 1 day ahead."""
    year = now.year
    for candidate in (year, year - 1):
        try:
            dt = datetime(candidate, month, day, h, m, s, tzinfo=tz)
        except ValueError:  # Feb 29 in a non-leap year: try the other candidate
            continue
        if dt - now <= timedelta(days=1):
            return dt.timestamp() + frac
    try:
        return datetime(year, month, day, h, m, s, tzinfo=tz).timestamp() + frac
    except ValueError:
        return now.timestamp()


def _parse_iso(ts: str) -> float | None:
    try:
        if ts.endswith("Z"):
            ts = ts[:-1] + "+00:00"
        dt = datetime.fromisoformat(ts)
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return dt.timestamp()
    except ValueError:
        return None


# (now's year, month, day, hour, minute, tz) -> epoch of that minute this year and last year
# (None where the date does not exist). Why: building a zone-aware datetime per line cost more
# than the rest of the header; within one minute no zone changes its offset, so a line's time is
# its minute's epoch plus its seconds, and the year rule of `resolve_year` is two comparisons.
_MINUTES: dict[tuple[int, int, int, int, int, tzinfo], tuple[float | None, float | None]] = {}
_MINUTES_MAX = 4096
_DAY_S = 86400.0
_MIN_TS = datetime(1, 1, 2, tzinfo=UTC).timestamp()  # dated stamps a datetime can hold again
_MAX_TS = datetime(9999, 12, 30, tzinfo=UTC).timestamp()


def _minute_epochs(year: int, month: int, day: int, h: int, mi: int,
                   tz: tzinfo) -> tuple[float | None, float | None]:
    key = (year, month, day, h, mi, tz)
    got = _MINUTES.get(key)
    if got is None:
        out: list[float | None] = []
        for y in (year, year - 1):
            try:
                out.append(datetime(y, month, day, h, mi, 0, tzinfo=tz).timestamp())
            except ValueError:
                out.append(None)
        if len(_MINUTES) >= _MINUTES_MAX:
            _MINUTES.clear()
        got = _MINUTES[key] = (out[0], out[1])
    return got


_YEAR: list[float] = [0.0, 0.0, 0.0]  # [start, end, year] of the UTC year `time.time()` is in


def _utc_year(ts: float) -> int:
    """The UTC year of an epoch time, without a datetime per call."""
    start, end, year = _YEAR
    if not start <= ts < end:
        y = datetime.fromtimestamp(ts, UTC).year
        _YEAR[:] = [datetime(y, 1, 1, tzinfo=UTC).timestamp(),
                    datetime(y + 1, 1, 1, tzinfo=UTC).timestamp(), y]
        return y
    return int(year)


def year_span(ts: float) -> tuple[float, float, int]:
    """(start, end, year) of the UTC year epoch time `ts` is in (the C reader's copy of `_YEAR`)."""
    year = _utc_year(ts)
    return _YEAR[0], _YEAR[1], year


def _bsd_time(month: int, day: int, h: int, mi: int, s: int, frac: float, now: datetime | None,
              now_ts: float, tz: tzinfo) -> float:
    """`resolve_year` with the minute's epochs cached (same result). `now` None: the receive
    time is `now_ts` (UTC)."""
    if s > 59:  # a leap second: the datetime path decides (it rejects them)
        return resolve_year(month, day, h, mi, s, frac, now or datetime.fromtimestamp(now_ts, UTC), tz)
    this, last = _minute_epochs(now.year if now is not None else _utc_year(now_ts), month, day, h, mi, tz)
    for base in (this, last):
        if base is not None and base + s - now_ts <= _DAY_S:
            return base + s + frac
    if this is not None:
        return this + s + frac
    return now_ts


bsd_time = _bsd_time  # (the name LineParser's Cisco path calls it by)


def recv_time(month: int, day: int, h: int, mi: int, s: int, now_ts: float, tz: tzinfo) -> float:
    """`_bsd_time(..., 0.0, None, now_ts, tz)`: a header's time received at `now_ts`, by the
    cached epochs of its minute (the common case in two dict-free steps)."""
    start, end, year = _YEAR
    if s <= 59 and start <= now_ts < end:
        got = _MINUTES.get((int(year), month, day, h, mi, tz))
        if got is not None:
            this, last = got
            if this is not None and this + s - now_ts <= _DAY_S:
                return this + s + 0.0
            if last is not None and last + s - now_ts <= _DAY_S:
                return last + s + 0.0
            if this is not None:
                return this + s + 0.0
            return now_ts
    return _bsd_time(month, day, h, mi, s, 0.0, None, now_ts, tz)


def _parse_bsd_ts(mt: re.Match[str], now: datetime | None, now_ts: float, tz: tzinfo) -> float:
    month = MONTHS[mt["mon"]]
    day, h, mi, s = int(mt["day"]), int(mt["h"]), int(mt["m"]), int(mt["s"])
    frac = float(mt["frac"]) if mt["frac"] else 0.0
    if mt["year"]:
        try:
            t = datetime(int(mt["year"]), month, day, h, mi, s, tzinfo=tz).timestamp() + frac
        except ValueError:
            return now_ts
        # year 1 or 9999 in a zone that takes it past what a datetime holds: later steps could
        # not turn the time back into a date
        return t if _MIN_TS <= t <= _MAX_TS else now_ts
    return _bsd_time(month, day, h, mi, s, frac, now, now_ts, tz)


def _header_zone(mt: re.Match[str], tz: tzinfo,
                 names: ZoneNames | None) -> tuple[tzinfo, str | None, int]:
    """The zone a timestamp match names, the name when it could not be read, and where the
    header goes on. A word after the time that is no zone and has no `:` is the host name
    (`Nov 25 01:02:03 fw1 sshd[1]:`): the header goes on before it."""
    name = mt["tz"]
    if name is None:
        return tz, None, mt.end()
    got = zone(name, names)
    if got is not None:
        return got, None, mt.end()
    if mt["tzc"] is None or not _ZONE_LIKE.fullmatch(name):  # `fw1 sshd:`, `Nov 25 ... sshd: x`
        return tz, None, mt.start("tz")
    return tz, name, mt.end()


def _parse_sd(rest: str) -> tuple[dict[str, dict[str, str]], str]:
    """RFC 5424 STRUCTURED-DATA: `-` or `[id k="v" ...]...` (with \\" \\] \\\\ escapes)."""
    sd: dict[str, dict[str, str]] = {}
    if rest.startswith("-"):
        return sd, rest[2:] if rest.startswith("- ") else rest[1:]
    i, n = 0, len(rest)
    while i < n and rest[i] == "[":
        j = i + 1
        while j < n and rest[j] not in " ]":
            j += 1
        sd_id = rest[i + 1:j]
        params: dict[str, str] = {}
        while j < n and rest[j] == " ":
            j += 1
            k = rest.find("=", j)
            if k < 0 or k + 1 >= n or rest[k + 1] != '"':
                return sd, rest[i:]
            name = rest[j:k]
            j = k + 2
            buf = []
            while j < n and rest[j] != '"':
                if rest[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(rest[j])
                j += 1
            params[name] = "".join(buf)
            j += 1
        if j >= n or rest[j] != "]":
            return sd, rest[i:]
        sd[sd_id] = params
        i = j + 1
    msg = rest[i:]
    return sd, msg[1:] if msg.startswith(" ") else msg


def parse_syslog(line: str, *, sender: str = "", now: datetime | None = None,
                 tz: tzinfo = UTC, zone_names: ZoneNames | None = None) -> SyslogMessage:
    """Parse one syslog message (network form with <PRI>, or a line of a syslog file). `tz`: the
    zone of dates that name none (or an unknown one); `zone_names`: the operator's readings of
    zone names (upper-case name -> minutes east of UTC, see `zones.parse_zone_names`)."""
    line = line.rstrip("\r\n\x00")
    # the common header needs only the receive time: the datetime waits for the odd lines
    now_ts = time.time() if now is None else now.timestamp()
    if now is None:
        mf = header_3164(line, 0)
        if mf is not None:
            return _fast_3164(mf, line, None, now_ts, tz, None, None, "file")
    facility = severity = None
    pos = 0
    # each regex below is tried only where its first character could start it (most messages
    # without the common header are device bodies, `%ASA-...`, that none of them reads)
    mp = _PRI.match(line) if line[:1] == "<" else None
    if mp:
        pri = int(mp[1])
        if pri <= 191:
            facility, severity = pri >> 3, pri & 7
        pos = mp.end()
        if line.startswith("1 ", pos):
            return _parse_5424(line, pos + 2, facility, severity, sender,
                               now or datetime.fromtimestamp(now_ts, UTC))
    if line.startswith("\ufeff", pos):
        pos += 1
    fmt = "3164" if mp else "file"
    if pos or now is not None:  # (at 0 with no `now` it was just tried)
        mf = header_3164(line, pos)
        if mf is not None:  # a network message's usual header: `<PRI>Mmm dd hh:mm:ss host app: `
            return _fast_3164(mf, line, now, now_ts, tz, facility, severity, fmt)
    # (no datetime for the receive time: `now_ts` serves, and `_bsd_time` takes either)
    time_s: float | None = None
    unknown: str | None = None
    mt = _BSD_TS.match(line, pos) if line[pos:pos + 3] in MONTHS else None
    if mt:
        ztz, unknown, pos = _header_zone(mt, tz, zone_names)
        time_s = _parse_bsd_ts(mt, now, now_ts, ztz)
    elif line[pos:pos + 1].isdigit():  # (a superset of re's \d)
        mi = _ISO_TS.match(line, pos)
        if mi:
            time_s = _parse_iso(mi["ts"])
            pos = mi.end()
    if time_s is None:
        # No timestamp where RFC 3164 puts it: Cisco IOS style (`123: host: *Mar 1 ...: %X-5-Y: ...`),
        # NX-OS's year-first one, or a bare message. Keep the body; without a device timestamp
        # the receive time and the sender stand in.
        c = line[pos:pos + 1]  # the prefix's every part starts with an alphanumeric, `*` or `.`
        mc = _CISCO_PREFIX.match(line, pos) if c and (c.isalnum() or c in "*.") else None
        host = sender
        pos2 = pos
        if mc and mc.end() > pos:
            if mc["host"] and not mc["host"].isdigit() and not _UPTIME.fullmatch(mc["host"]):
                host = mc["host"]
            pos2 = mc.end()
        # (each stamp tried only where its first character could start it: a month, a digit)
        mt2 = ((_BSD_TS.match(line, pos2) if pos2 > pos and line[pos2:pos2 + 3] in MONTHS else None)
               or (_NXOS_TS.match(line, pos2) if line[pos2:pos2 + 1].isdigit() else None))
        if mt2:
            ztz, unknown, end = _header_zone(mt2, tz, zone_names)
            return SyslogMessage(_parse_bsd_ts(mt2, now, now_ts, ztz), host, "", None, line[end:],
                                 facility, severity, fmt if mp else "none", zone_unknown=unknown)
        return SyslogMessage(now_ts, host, "", None, line[pos:], facility, severity,
                             fmt if mp else "none")
    host = sender
    mh = _HOST.match(line, pos)
    if mh and not line.startswith("%", pos):
        # A hostname is followed by a tag; a tag itself ends with ':' (so "sshd[1]:" is no host)
        candidate = mh["host"]
        if not candidate.endswith(":") and "[" not in candidate:
            host = candidate
            pos = mh.end()
    app, pid = "", None
    mtag = _TAG.match(line, pos)
    if mtag and not line.startswith("%", pos):
        app, pid = mtag["app"], mtag["pid"]
        pos = mtag.end()
    return SyslogMessage(time_s, host, app, pid, line[pos:], facility, severity, fmt,
                         zone_unknown=unknown)


def _fast_3164(mf: Header3164, line: str, now: datetime | None, now_ts: float, tz: tzinfo,
               facility: int | None, severity: int | None, fmt: str) -> SyslogMessage:
    mon, day, h, mi, sec, host, app, pid, end = mf
    t = _bsd_time(mon, day, h, mi, sec, 0.0, now, now_ts, tz)
    return SyslogMessage(t, host, app, pid, line[end:], facility, severity, fmt)


def _parse_5424(line: str, pos: int, facility: int | None, severity: int | None, sender: str,
                now: datetime) -> SyslogMessage:
    parts = line[pos:].split(" ", 5)
    if len(parts) < 5:
        return SyslogMessage(now.timestamp(), sender, "", None, line[pos:], facility, severity, "5424")
    ts, host, app, procid, _msgid = parts[:5]
    rest = parts[5] if len(parts) > 5 else ""
    t = None if ts == "-" else _parse_iso(ts)
    sd, msg = _parse_sd(rest)
    if msg.startswith("\ufeff"):
        msg = msg[1:]
    return SyslogMessage(
        t if t is not None else now.timestamp(),
        sender if host == "-" else host,
        "" if app == "-" else app,
        None if procid == "-" else procid,
        msg, facility, severity, "5424", sd or None,
    )


class OctetFramer:
    """Split a TCP syslog stream into messages: RFC 6587 octet counting (`LEN SP MSG`) or
    newline (LF, or NUL) framing, detected per message, so one connection may mix them."""

    def __init__(self, max_message: int = 65536) -> None:
        self._buf = bytearray()
        self.max_message = max_message
        self.oversized = 0

    def feed(self, data: bytes) -> list[bytes]:
        buf = self._buf
        buf += data
        out: list[bytes] = []
        while buf:
            if buf[0:1].isdigit():
                sp = buf.find(b" ", 0, 12)
                if sp > 0 and buf[:sp].isdigit():
                    n = int(buf[:sp])
                    if n > self.max_message:
                        self.oversized += 1
                        del buf[:sp + 1]
                        continue
                    if len(buf) < sp + 1 + n:
                        break
                    out.append(bytes(buf[sp + 1:sp + 1 + n]))
                    del buf[:sp + 1 + n]
                    continue
            nl = -1
            for sep in (b"\n", b"\x00"):
                k = buf.find(sep)
                if k >= 0 and (nl < 0 or k < nl):
                    nl = k
            if nl < 0:
                if len(buf) > self.max_message:
                    out.append(bytes(buf))
                    buf.clear()
                    self.oversized += 1
                break
            if nl > 0:
                out.append(bytes(buf[:nl]))
            del buf[:nl + 1]
        return out

    def flush(self) -> list[bytes]:
        """What is left when the connection closes (a last message without its newline)."""
        rest = bytes(self._buf).strip(b"\r\n\x00 ")
        self._buf.clear()
        return [rest] if rest else []
