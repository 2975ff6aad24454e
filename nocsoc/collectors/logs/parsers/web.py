"""Web server access logs (NCSA combined / common) -> W3C-style Sigma webserver fields."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from nocsoc.collectors.logs.parsers.base import Parsed
from nocsoc.collectors.logs.syslog import MONTHS

_COMBINED = re.compile(
    r'(?P<ip>[0-9A-Fa-f:.]+) (?P<ident>\S+) (?P<user>\S+) \[(?P<ts>[^\]]+)\] '
    r'"(?P<req>(?:[^"\\]|\\.)*)" (?P<status>\d{3}) (?P<bytes>\d+|-)'
    r'(?: "(?P<ref>(?:[^"\\]|\\.)*)" "(?P<ua>(?:[^"\\]|\\.)*)")?')
_TS = re.compile(r"(\d\d)/(\w{3})/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)")


def _ts(text: str) -> float | None:
    m = _TS.match(text)
    if not m or m[2] not in MONTHS:
        return None
    off = timedelta(hours=int(m[8]), minutes=int(m[9]))
    tz = timezone(off if m[7] == "+" else -off)
    try:
        return datetime(int(m[3]), MONTHS[m[2]], int(m[1]), int(m[4]), int(m[5]), int(m[6]),
                        tzinfo=tz).timestamp()
    except ValueError:
        return None


_MINUTES: dict[str, float | None] = {}  # `dd/Mon/yyyy:hh:mm +zzzz` -> epoch of that minute


def _ts_cached(text: str) -> float | None:
    """`_ts` via the epoch of the line's minute: a zone-aware datetime per line cost more than
    the rest of the line (the offset is in the text, so minute + seconds is exact)."""
    sec = text[18:20]
    if len(text) < 20 or text[17:18] != ":" or not sec.isdecimal() or int(sec) > 59:
        return _ts(text)
    key = text[:18] + text[20:]
    if key in _MINUTES:
        base = _MINUTES[key]
    else:
        if len(_MINUTES) >= 4096:
            _MINUTES.clear()
        base = _MINUTES[key] = _ts(text[:18] + "00" + text[20:])
    return None if base is None else base + int(sec)


def parse_access(msg: str, app: str = "") -> Parsed | None:
    m = _COMBINED.search(msg)
    if m is None:
        return None
    req = m["req"].replace('\\"', '"')
    parts = req.split(" ")
    method, target, version = [*parts, "", "", ""][:3] if len(parts) >= 2 else ("", req, "")
    stem, _, query = target.partition("?")
    fields: dict[str, object] = {
        "c-ip": m["ip"], "src_ip": m["ip"], "cs-method": method, "cs-uri-query": target,
        "cs-uri-stem": stem, "cs-uri": target, "cs-version": version,
        "sc-status": int(m["status"]),
    }
    if query:
        fields["cs-query"] = query
    if m["user"] != "-":
        fields["cs-username"] = m["user"]
    if m["bytes"] != "-":
        fields["sc-bytes"] = int(m["bytes"])
    if m["ua"] is not None:
        fields["cs-user-agent"] = m["ua"].replace('\\"', '"')
        fields["cs-referer"] = m["ref"].replace('\\"', '"')
    services = tuple(s for s in (app,) if s in ("apache", "apache2", "httpd", "nginx"))
    if services and services[0] in ("apache2", "httpd"):
        services = ("apache",)
    return Parsed("web", fields, None, services, ("webserver",), time=_ts_cached(m["ts"]))
