"""Web server logs -> Sigma webserver fields (c-ip, cs-method, c-uri, c-uri-query, c-useragent,
cs-referer, sc-status, cs-host, ...): NCSA common/combined access logs (with a leading virtual
host, `(-)` idents, user names with spaces, extra trailing fields), Apache and nginx error logs,
nginx JSON access logs (log_format escape=json, any common key names), IIS W3C extended (by its
`#Fields:` header, else IIS's default fields) and IIS native (comma-separated) logs.

Older nocsoc names stay beside Sigma's (cs-uri-query is the whole target, cs-user-agent).

`cs-uri-decoded` is the target as the application sees it: percent-decoded until stable (double and
triple encoding), `+` as a space in the query, IIS `%uXXXX`, and overlong UTF-8 forms of ASCII
(`%c0%af` = `/`) folded. Attack rules match it, so one pattern covers every encoding; SigmaHQ's
rules keep matching the raw fields they were written for."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, Literal
from urllib.parse import unquote_to_bytes

from nocsoc.collectors.logs.parsers.base import Parsed, digits, iso_epoch, loads_json, to_int
from nocsoc.collectors.logs.parsers.registry import ParserSpec
from nocsoc.collectors.logs.syslog import MONTHS
from nocsoc.logsources import LogSource

# The inside of a double-quoted field, `\\` escaping any character: `(?:[^"\\]|\\.)*` unrolled.
# The same strings, ending only at the first unescaped `"` either way (so the same matches,
# backtracking included), but `re` runs a repeated class as one loop where the alternation costs a
# group iteration per character: _COMBINED's match took 9-22 us on SEKOIA's vhost lines, now 1-4.
_QUOTED = r'[^"\\]*(?:\\.[^"\\]*)*'
# the common line first (one address, one-word ident and user); the variants (a leading virtual
# host, a user name with spaces) only when it fails: they backtrack, and most lines are common
_COMMON = re.compile(
    rf'(?P<ip>[0-9A-Fa-f:.]+) (?P<ident>\S+) (?P<user>\S+) \[(?P<ts>[^\]]+)\] "(?P<req>{_QUOTED})" '
    rf'(?P<status>\d{{3}}) (?P<bytes>\d+|-)(?: \d+)?(?: "(?P<ref>{_QUOTED})" "(?P<ua>{_QUOTED})")?'
    r"(?P<vhost>)"
)
_COMBINED = re.compile(
    r"\s*(?:(?P<vhost>\S+) )??(?P<ip>[0-9A-Fa-f:.]+) (?P<ident>\S+) (?P<user>\S+(?: \S+)*?) "
    r'\[(?P<ts>[^\]]+)\] (?:"-" )?'
    rf'"(?P<req>{_QUOTED})" (?P<status>\d{{3}}) (?P<bytes>\d+|-)(?: \d+)?'
    rf'(?: "(?P<ref>{_QUOTED})" "(?P<ua>{_QUOTED})")?'
)
_W3C_INTS = frozenset(
    ("sc-status", "sc-substatus", "sc-win32-status", "time-taken", "s-port", "sc-bytes", "cs-bytes")
)
_TS = re.compile(r"(\d\d)/(\w{3})/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)")
_IS_IP = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]+)$")


def _ts(text: str) -> float | None:
    m = _TS.match(text)
    if not m or m[2] not in MONTHS:
        return None
    off = timedelta(hours=int(m[8]), minutes=int(m[9]))
    try:  # an offset of 24 h or more is refused by timezone(), like an impossible date
        tz = timezone(off if m[7] == "+" else -off)
        return datetime(
            int(m[3]), MONTHS[m[2]], int(m[1]), int(m[4]), int(m[5]), int(m[6]), tzinfo=tz
        ).timestamp()
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


_PCT_U = re.compile(r"%u([0-9A-Fa-f]{4})")
# overlong UTF-8 (2 and 3 bytes) of an ASCII character: decoders that accept them see `/`, `.`, `\`
_OVERLONG = re.compile(rb"[\xc0\xc1][\x80-\xbf]|\xe0[\x80-\x81][\x80-\xbf]")


def _ascii_of_overlong(m: re.Match[bytes]) -> bytes:
    b = m[0]
    cp = ((b[0] & 0x1F) << 6 | (b[1] & 0x3F)) if len(b) == 2 else ((b[1] & 0x3F) << 6 | (b[2] & 0x3F))
    return bytes((cp,))


def decode_uri(target: str, rounds: int = 4) -> str:
    """The target percent-decoded until it stops changing (at most `rounds` times: an attacker's
    nesting is bounded, a loop is not). `+` is a space in the query part, first round only (a
    `%2B` decoded later is a literal plus). Hand-written: `urllib.parse.unquote` neither folds
    overlong UTF-8 nor reads IIS's `%u` form, and both are used to slip `../` past filters."""
    if "%" not in target and "+" not in target:
        return target
    stem, sep, query = target.partition("?")
    text = stem + sep + query.replace("+", " ")
    for _ in range(rounds):
        if "%" not in text:
            break
        if "%u" in text or "%U" in text:
            text = _PCT_U.sub(lambda m: chr(int(m[1], 16)), text)
        # surrogatepass: a `%uD800` or a line read with surrogateescape must not raise here
        raw = unquote_to_bytes(text.encode("utf-8", "surrogatepass"))
        if b"\xc0" in raw or b"\xc1" in raw or b"\xe0" in raw:
            raw = _OVERLONG.sub(_ascii_of_overlong, raw)
        new = raw.decode("utf-8", "replace")
        if new == text:
            break
        text = new
    return text


def _services(app: str) -> tuple[str, ...]:
    if app in ("apache2", "httpd", "apache"):
        return ("apache",)
    return ("nginx",) if app == "nginx" else ()


def _request(fields: dict[str, Any], req: str) -> None:
    """`METHOD target VERSION` into the Sigma URI fields."""
    parts = req.split(" ")
    if len(parts) >= 2:
        method, target = parts[0], parts[1]
        version = parts[2] if len(parts) > 2 else ""
    else:
        method, target, version = "", req, ""
    _target(fields, target)
    if method:
        fields["cs-method"] = method
    if version:
        fields["cs-version"] = version


def _target(fields: dict[str, Any], target: str) -> None:
    stem, _, query = target.partition("?")
    fields["c-uri"] = target
    fields["cs-uri-query"] = target
    fields["cs-uri-stem"] = stem
    fields["cs-uri"] = target
    fields["cs-uri-decoded"] = decode_uri(target)
    if query:
        fields["c-uri-query"] = query
        fields["cs-query"] = query
    dot = stem.rfind(".")
    if dot > stem.rfind("/"):
        fields["c-uri-extension"] = stem[dot + 1 :]


_GROUPS = ("ip", "user", "status", "bytes", "req", "ua", "vhost", "ts", "ref")
AccessGroups = tuple[str, str, str, str, str, str | None, str | None, str, str | None]
_c_access_common: Callable[[str], AccessGroups | bool | None] | None
# parse_access's whole reading in C, (fields, time), False (no access line) or None (the Python path)
_c_access_line: Callable[[str], tuple[dict[str, object], float] | Literal[False] | None] | None
try:  # _COMMON's match walked in C (_logfast.c); False from it: non-ASCII, the regex decides
    from nocsoc.collectors.logs._logfast import access_common as _c_access_common
    from nocsoc.collectors.logs._logfast import access_line as _c_access_line
except ImportError:
    _c_access_common = _c_access_line = None


def _common_groups(msg: str) -> AccessGroups | None:
    """_COMMON's groups of the line (`_GROUPS`, vhost ""), or None."""
    got = _c_access_common(msg) if _c_access_common is not None else False
    if got is False:
        m = _COMMON.match(msg)
        return None if m is None else m.group(*_GROUPS)  # type: ignore[return-value]
    return got  # type: ignore[return-value]


_TOKEN = re.compile(r"\S+")
_IP_CHARS = re.compile(r"[0-9A-Fa-f:.]+")
# False: _COMBINED alone reads the vhost lines (the reference the tests compare the split with)
VHOST_SPLIT = True


def vhost_split(msg: str) -> tuple[str, str] | None:
    """(vhost, rest) where _COMBINED's match of the line, if it has one, is the leading virtual
    host `vhost` then exactly _COMMON's match of `rest`; None where that is not sure.
    Why: SEKOIA's `host[:port] ip - - [...]` lines missed the common form by their first word
    and went to _COMBINED, whose lazy groups retry the rest of the line (1-4 us, 4-30x the C walk).
    Why it is exact: the first word, all of \\S and not all of [0-9A-Fa-f:.], cannot be the address,
    so _COMBINED must take it whole as the vhost (`\\S+` then a space); from there it is _COMMON but
    for a user of several words (lazy: one word first, _COMMON's) and an optional `"-" ` before the
    request (which, where _COMMON matches, is followed by a status, never a quote: not taken)."""
    head, sep, rest = msg.partition(" ")
    if not sep or _TOKEN.fullmatch(head) is None or _IP_CHARS.fullmatch(head) is not None:
        return None
    return head, rest


def access_groups(msg: str) -> AccessGroups | None:
    """The access line's groups (`_GROUPS`): the common form, else the variants, else None."""
    got = _common_groups(msg)
    if got is not None:
        return got
    if VHOST_SPLIT and (vr := vhost_split(msg)) is not None and (got := _common_groups(vr[1])) is not None:
        return (*got[:6], vr[0], *got[7:])
    # (every _COMBINED match has `] "` after its time; a line without one, an nginx error line
    # tried first by its digit, costs its lazy groups' every retry, 5-15 us, to refuse)
    m = _COMBINED.match(msg) if '] "' in msg else None
    return None if m is None else m.group(*_GROUPS)  # type: ignore[return-value]


def _vhost_fields(fields: dict[str, object], vhost: str) -> None:
    """cs-host (and dst_port) of a leading `host[:port]`."""
    host, _, port = vhost.rpartition(":") if vhost.count(":") == 1 else (vhost, "", "")
    fields["cs-host"] = host
    if (n := digits(port)) is not None:
        fields["dst_port"] = n


def parse_access(msg: str, app: str = "", state: object = None) -> Parsed | None:
    if _c_access_line is not None and (got := _c_access_line(msg)) is not None:
        # read whole in C (_logfast_web.c: access_groups' every form, the same fields, order and
        # time); False: no access line (the regexes below would find none); None: a line it is
        # not sure of, read below
        if got is False:
            return None
        return Parsed("web", got[0], None, _services(app) if app else (), ("webserver",), time=got[1])
    g = access_groups(msg)
    if g is None:
        return None
    ip, user, status, nbytes, req, ua, vhost, ts, ref = g
    if "." not in ip and ":" not in ip:  # `[0-9A-Fa-f:.]+` took a word ("cafe"): no address
        return None
    fields: dict[str, object] = {"c-ip": ip, "src_ip": ip, "sc-status": int(status)}
    if '\\"' in req:
        req = req.replace('\\"', '"')
    parts = req.split(" ")
    if len(parts) == 3:  # the common `METHOD target VERSION`, inline (the hot path)
        method, target, version = parts
        fields["cs-method"] = method
        fields["cs-version"] = version
        stem, _, query = target.partition("?")
        fields["c-uri"] = fields["cs-uri-query"] = fields["cs-uri"] = target
        fields["cs-uri-stem"] = stem
        fields["cs-uri-decoded"] = target if "%" not in target and "+" not in target else decode_uri(target)
        if query:
            fields["c-uri-query"] = fields["cs-query"] = query
        dot = stem.rfind(".")
        if dot > stem.rfind("/"):
            fields["c-uri-extension"] = stem[dot + 1 :]
    else:
        _request(fields, req)
    if user != "-":
        fields["cs-username"] = fields["user"] = user
    if nbytes != "-" and (size := digits(nbytes)) is not None:
        fields["sc-bytes"] = size
    if ua is not None:
        if '\\"' in ua:
            ua = ua.replace('\\"', '"')
        fields["cs-user-agent"] = fields["c-useragent"] = ua
        fields["cs-referer"] = (ref or "").replace('\\"', '"')
    if vhost and vhost != "-":
        _vhost_fields(fields, vhost)
    services = _services(app) if app else ()
    return Parsed("web", fields, None, services, ("webserver",), time=_ts_cached(ts))


# --- error logs --------------------------------------------------------------------------------

_APACHE_ERR = re.compile(
    r"^\s*(?:\[(?P<ts>[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d [\d:.]+ \d{4})\] )?"
    r"\[(?:(?P<module>[\w-]*):)?(?P<level>[a-z]+\d?)\](?P<rest>.*)$"
)
_APACHE_CLIENT = re.compile(
    r"\[client (?P<ip>\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:.]*[0-9A-Fa-f]) ?"
    r"(?::(?P<port>\d+))?\]"
)
_APACHE_PID = re.compile(r"\[pid (?P<pid>\d+)(?::tid (?P<tid>\d+))?\]")
_MODSEC = re.compile(r'\[(?P<k>uri|hostname|id|msg|severity|unique_id)\s+"(?P<v>[^"]*)"\]')
_NGINX_ERR = re.compile(
    r"^(?P<ts>\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) \[(?P<level>\w+)\] (?P<pid>\d+)#(?P<tid>\d+): "
    r"(?:\*(?P<cid>\d+) )?(?P<text>.*)$"
)
_NGINX_KV = re.compile(
    rf', (client|server|request|upstream|host|referrer|peer|responder): ("{_QUOTED}"|[^,]*)'
)


# parse_apache_error's and parse_nginx_error's fields in C (_logfast_web.c) for printable ASCII
# messages; None from them: the regexes below read the message (the reference)
_c_apache_error: Callable[[str], dict[str, object] | None] | None
_c_nginx_error: Callable[[str], dict[str, object] | None] | None
try:
    from nocsoc.collectors.logs._logfast import apache_error as _c_apache_error
    from nocsoc.collectors.logs._logfast import nginx_error as _c_nginx_error
except ImportError:  # not built
    _c_apache_error = _c_nginx_error = None


def parse_apache_error(msg: str, app: str = "", state: object = None) -> Parsed | None:
    if _c_apache_error is not None and (got := _c_apache_error(msg)) is not None:
        return Parsed("web_error", got, None, _services(app) or ("apache",), ("webserver",))
    m = _APACHE_ERR.match(msg)
    if m is None:
        return None
    rest = m["rest"]
    fields: dict[str, object] = {"level": m["level"], "message": rest.strip()}
    if m["module"]:
        fields["module"] = m["module"]
    mp = _APACHE_PID.search(rest)
    if mp and (n := digits(mp["pid"])) is not None:
        fields["pid"] = n
    mc = _APACHE_CLIENT.search(rest)
    if mc:
        fields["src_ip"] = fields["c-ip"] = mc["ip"]
        if mc["port"] and (n := digits(mc["port"])) is not None:
            fields["src_port"] = n
    if "ModSecurity" in rest:
        for k, v in _MODSEC.findall(rest):
            if k == "uri":
                _target(fields, v)
            elif k == "hostname":
                fields["cs-host"] = v
            else:
                fields[f"modsec_{k}"] = v
    return Parsed("web_error", fields, None, _services(app) or ("apache",), ("webserver",))


def parse_nginx_error(msg: str, app: str = "", state: object = None) -> Parsed | None:
    if _c_nginx_error is not None and (got := _c_nginx_error(msg)) is not None:
        return Parsed("web_error", got, None, ("nginx",), ("webserver",))
    m = _NGINX_ERR.match(msg)
    if m is None:
        return None
    text = m["text"]
    fields: dict[str, object] = {"level": m["level"], "pid": digits(m["pid"]), "message": text}
    for k, v in _NGINX_KV.findall(text):
        v = v[1:-1] if v.startswith('"') else v
        if k == "client":
            fields["src_ip"] = fields["c-ip"] = v
        elif k == "request":
            _request(fields, v)
        elif k in ("host", "server"):
            fields.setdefault("cs-host", v)
        elif k == "referrer":
            fields["cs-referer"] = v
        else:
            fields[f"nginx_{k}"] = v
    # (m["ts"] is not read: nginx writes local time without a zone, the syslog/receive time stands)
    return Parsed("web_error", fields, None, ("nginx",), ("webserver",))


# --- nginx JSON ----------------------------------------------------------------------------------

_JSON_KEYS: dict[str, tuple[str, ...]] = {
    "src_ip": ("remote_addr", "client_address", "client_ip", "remote_ip", "clientip"),
    "request": ("request",),
    "cs-method": ("request_method", "method"),
    "uri": ("request_uri", "uri"),
    "query": ("query_string", "args"),
    "sc-status": ("status", "response_status", "status_code"),
    "sc-bytes": ("body_bytes_sent", "bytes_sent"),
    "c-useragent": ("http_user_agent", "user_agent"),
    "cs-referer": ("http_referer", "http_referrer", "referer"),
    "cs-host": ("host", "server_name", "http_host"),
    "cs-username": ("remote_user",),
    "dst_ip": ("server_addr",),
}


_JSON_ITEMS = tuple(_JSON_KEYS.items())
# an object holding none of these is no nginx access document
_NGINX_ACCEPT = ("remote_addr", "client_address", "request", "request_uri", "status", "response_status",
                 "http_user_agent")
_SCALARS = frozenset((str, int, float, bool))
_NGINX_NAMES: dict[str, str] = {}  # JSON key -> `nginx.<key>` (the same few tens recur)


def _nginx_name(k: str) -> str:
    nk = f"nginx.{k}"
    if len(_NGINX_NAMES) < 4096:
        _NGINX_NAMES[k] = nk
    return nk


def nginx_fields(obj: dict[str, Any]) -> dict[str, object]:
    """parse_nginx_json's fields of an object it accepted (the reference of _logfast.nginx_json)."""
    fields: dict[str, object] = {}
    got: dict[str, Any] = {}
    get = obj.get
    for name, keys in _JSON_ITEMS:
        for k in keys:
            v = get(k)
            if v not in (None, "", "-"):
                got[name] = v
                break
    if "request" in got:
        _request(fields, str(got.pop("request")))
    elif "uri" in got:
        target = str(got.pop("uri"))
        q = got.get("query")
        _target(fields, f"{target}?{q}" if q and "?" not in target else target)
    got.pop("query", None)
    for name, v in got.items():
        fields[name] = to_int(v) if name in ("sc-status", "sc-bytes") and isinstance(v, str) else v
    if "src_ip" in fields:
        fields["c-ip"] = fields["src_ip"]
    if "dst_ip" not in fields:
        up = obj.get("upstream_addr")
        host = fields.get("cs-host")
        if isinstance(up, str) and up.count(":") == 1 and _IS_IP.match(up.partition(":")[0]):
            fields["dst_ip"], port = up.split(":")
            fields["dst_port"] = to_int(port)
        elif isinstance(host, str) and _IS_IP.match(host):
            fields["dst_ip"] = host
    if "c-useragent" in fields:
        fields["cs-user-agent"] = fields["c-useragent"]
    if "cs-username" in fields:
        fields["user"] = fields["cs-username"]
    # every scalar as `nginx.<key>` (JSON decodes to these exact types, no subclasses); no field
    # above has that prefix and the keys are distinct, so an update is the setdefault it was, in
    # one comprehension (the loop was a third of a ~40-key line's reading)
    names = _NGINX_NAMES
    fields.update({names.get(k) or _nginx_name(k): v for k, v in obj.items() if type(v) in _SCALARS})
    return fields


# nginx_fields in C (_logfast_web.c), given _JSON_ITEMS once; None from it: Python maps the object
_c_nginx_json: Callable[[dict[str, Any]], dict[str, object] | None] | None
try:
    from nocsoc.collectors.logs._logfast import nginx_json as _c_nginx_json
    from nocsoc.collectors.logs._logfast import nginx_json_setup as _c_nginx_setup

    _c_nginx_setup(_JSON_ITEMS)
except ImportError:  # not built
    _c_nginx_json = None


_ISO_MINUTES: dict[str, float | None] = {}  # `yyyy-mm-ddThh:mm+hh:mm` -> epoch of that minute


def _iso_cached(v: str) -> float | None:
    """iso_epoch(v) via the epoch of its minute for the usual `yyyy-mm-ddThh:mm:ss+hh:mm` (the
    offset is in the text: minute + seconds is exact); any other text, iso_epoch's reading."""
    sec = v[17:19]
    if len(v) != 25 or v[16:17] != ":" or v[19:20] not in ("+", "-") or not sec.isdecimal() or int(sec) > 59 \
            or not sec.isascii():
        return iso_epoch(v)
    key = v[:17] + v[19:]
    if key in _ISO_MINUTES:
        base = _ISO_MINUTES[key]
    else:
        if len(_ISO_MINUTES) >= 4096:
            _ISO_MINUTES.clear()
        base = _ISO_MINUTES[key] = iso_epoch(v[:17] + "00" + v[19:])
    return None if base is None else base + int(sec)


def parse_nginx_json(msg: str, app: str = "", state: object = None) -> Parsed | None:
    # (str.strip's copy only where there is something to strip: a document is ~0.5-1 kB)
    text = msg if msg[:1] == "{" and not msg[-1:].isspace() else msg.strip()
    if not text.startswith("{"):
        return None
    try:
        obj = loads_json(text)  # (the reader's decoding when it handed it on; orjson where it reads it)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    if not any(map(obj.__contains__, _NGINX_ACCEPT)):
        return None
    got = _c_nginx_json(obj) if _c_nginx_json is not None else None
    fields = got if got is not None else nginx_fields(obj)
    t = None
    for key in ("time_iso8601", "timestamp", "@timestamp"):
        v = obj.get(key)
        if isinstance(v, str) and (t := _iso_cached(v)) is not None:
            break
    if t is None and isinstance(obj.get("time_local"), str):
        t = _ts_cached(obj["time_local"])
    return Parsed("nginx_json", fields, None, ("nginx",), ("webserver",), time=t)


# --- IIS -----------------------------------------------------------------------------------------

# IIS's default W3C fields (used until a `#Fields:` line says otherwise)
W3C_DEFAULT = (
    "date",
    "time",
    "s-ip",
    "cs-method",
    "cs-uri-stem",
    "cs-uri-query",
    "s-port",
    "cs-username",
    "c-ip",
    "cs(User-Agent)",
    "cs(Referer)",
    "sc-status",
    "sc-substatus",
    "sc-win32-status",
    "time-taken",
)
_W3C_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S")
_IIS_NATIVE = re.compile(
    r"^(?P<cip>[0-9A-Fa-f:.]+), (?P<user>[^,]*), (?P<date>\d+/\d+/\d{2,4}), "
    r"(?P<time>[\d:]+), (?P<svc>[^,]*), (?P<server>[^,]*), (?P<sip>[^,]*), "
    r"(?P<taken>\d+), (?P<cbytes>\d+), (?P<sbytes>\d+), (?P<status>\d+), "
    r"(?P<win32>\d+), (?P<method>[^,]*), (?P<target>[^,]*), (?P<params>[^,]*),?"
)


class W3CState:
    """The `#Fields:` of the current IIS file (per input)."""

    def __init__(self) -> None:
        self.fields: tuple[str, ...] = W3C_DEFAULT


_W3C_RENAME = {
    "cs(User-Agent)": "c-useragent",
    "cs(Referer)": "cs-referer",
    "cs(Cookie)": "cs-cookie",
    "cs-host": "cs-host",
    "cs(Host)": "cs-host",
}


def parse_iis(msg: str, app: str = "", state: W3CState | None = None) -> Parsed | None:
    st = state if state is not None else W3CState()
    if msg.startswith("#"):
        if msg.startswith("#Fields:"):
            st.fields = tuple(msg[8:].split())
            return Parsed("iis", {"message": msg, "event_type": "w3c_header"}, "windows", ("iis",), ())
        if msg.startswith(("#Software:", "#Version:", "#Date:")):
            return Parsed("iis", {"message": msg, "event_type": "w3c_header"}, "windows", ("iis",), ())
        return None
    mn = _IIS_NATIVE.match(msg)
    fields: dict[str, object] = {}
    if mn is not None:
        fields.update(
            {
                "c-ip": mn["cip"],
                "src_ip": mn["cip"],
                "s-sitename": mn["svc"],
                "s-computername": mn["server"],
                "dst_ip": mn["sip"],
                "time-taken": digits(mn["taken"]),
                "cs-bytes": digits(mn["cbytes"]),
                "sc-bytes": digits(mn["sbytes"]),
                "sc-status": digits(mn["status"]),
                "sc-win32-status": digits(mn["win32"]),
                "cs-method": mn["method"],
            }
        )
        for k in [k for k, v in fields.items() if v is None]:  # a number too long to be one
            del fields[k]
        if mn["user"] not in ("-", ""):
            fields["cs-username"] = fields["user"] = mn["user"]
        target = mn["target"]
        params = mn["params"]
        _target(fields, f"{target}?{params}" if params not in ("-", "") else target)
        return Parsed("iis", fields, "windows", ("iis",), ("webserver",))
    if not _W3C_LINE.match(msg):
        return None
    values = msg.split(" ")
    if len(values) != len(st.fields):
        return None
    row = dict(zip(st.fields, values, strict=True))
    stem, query = row.get("cs-uri-stem", "-"), row.get("cs-uri-query", "-")
    for k, v in row.items():
        if v == "-" or k in ("cs-uri-stem", "cs-uri-query"):
            continue
        name = _W3C_RENAME.get(k, k)
        if name in _W3C_INTS and v.isdigit():
            n = digits(v)
            if n is not None:  # else a number too long to be one: left out
                fields[name] = n
        else:
            fields[name] = v
    if stem != "-":
        _target(fields, stem + (f"?{query}" if query != "-" else ""))
    if "c-useragent" in fields:
        fields["c-useragent"] = str(fields["c-useragent"]).replace("+", " ")
    if "c-ip" in fields:
        fields["src_ip"] = fields["c-ip"]
    if "s-ip" in fields:
        fields["dst_ip"] = fields["s-ip"]
    if "s-port" in fields:
        fields["dst_port"] = fields["s-port"]
    if "cs-username" in fields:
        fields["user"] = fields["cs-username"]
    t = None
    if "date" in row and "time" in row:
        try:
            t = datetime.fromisoformat(f"{row['date']}T{row['time']}+00:00").timestamp()  # W3C: UTC
        except ValueError:
            t = None
    return Parsed("iis", fields, "windows", ("iis",), ("webserver",), time=t)


_WEB_APPS = ("nginx", "apache", "apache2", "httpd")
_WEB = (
    LogSource(None, (), ("webserver",)),
    LogSource(None, ("nginx",), ("webserver",)),
    LogSource(None, ("apache",), ("webserver",)),
)
PARSERS = [
    ParserSpec(
        "web",
        parse_access,
        _WEB,
        programs=_WEB_APPS,
        markers=('" ',),
        line_starts="0123456789:- ",
        order=60,
        description="NCSA common/combined access logs (Apache, nginx, vhost prefixes)",
    ),
    ParserSpec(
        "web_error",
        parse_apache_error,
        _WEB,
        programs=_WEB_APPS,
        prefixes=("[",),
        line_starts="[",
        order=61,
        description="Apache error log (incl. ModSecurity)",
    ),
    ParserSpec(
        "nginx_error",
        parse_nginx_error,
        _WEB,
        programs=("nginx",),
        line_starts="12",
        order=62,
        description="nginx error log",
    ),
    ParserSpec(
        "nginx_json",
        parse_nginx_json,
        _WEB,
        programs=("nginx",),
        line_starts="{ ",
        order=63,
        description="nginx JSON access logs (log_format escape=json)",
    ),
    ParserSpec(
        "iis",
        parse_iis,
        (LogSource("windows", ("iis",), ("webserver",)),),
        programs=("iis", "w3svc"),
        line_starts="#0123456789:",
        order=64,
        state=W3CState,
        description="IIS W3C extended (by #Fields:) and IIS native logs",
    ),
]
