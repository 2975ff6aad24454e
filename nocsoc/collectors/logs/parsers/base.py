"""What a parser returns: Sigma-taxonomy fields and the logsource they belong to."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

# a key starts where no key character precedes it and never backtracks (possessive `*+`): a long
# run of word characters with no `=` is one failed attempt, not one per position (quadratic)
_KV = re.compile(r'(?<![\w.-])([A-Za-z_][\w.-]*+)=("(?:[^"\\]|\\.)*+"|\S*)')


@dataclass(slots=True)
class Parsed:
    parser: str
    fields: dict[str, Any]
    product: str | None = None
    services: tuple[str, ...] = ()
    categories: tuple[str, ...] = field(default_factory=tuple)
    time: float | None = None  # when the body carries a better timestamp than the header
    host: str | None = None
    repeat: int = 1  # `message repeated N times: [ ... ]`: the event stands for N events


def _kv_unquoted(pattern: re.Pattern[str], text: str) -> dict[str, str]:
    """The `k=v` pairs `pattern` finds, double quotes around a value removed (last one wins)."""
    out: dict[str, str] = {}
    for k, v in pattern.findall(text):
        if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
            v = v[1:-1].replace('\\"', '"')
        out[k] = v
    return out


_c_kv_pairs: Callable[[str, bool], dict[str, str] | None] | None
_c_kv_pairs_wide: Callable[[str, bool], dict[str, str]] | None  # (text that is not ASCII)
_c_cef_extension: Callable[[str], dict[str, str] | None] | None
_c_cef_extension_wide: Callable[[str], dict[str, str]] | None
# the split loops of firewall._pairs (mode 0) and auditd._audit_pairs (mode 1), or None
c_split_pairs: Callable[[str, int], dict[str, str] | None] | None
try:  # C twins of the k=v regexes below, parse_cef's extension loop and the split loops
    from nocsoc.collectors.logs._logfast import cef_extension as _c_cef_extension
    from nocsoc.collectors.logs._logfast import cef_extension_wide as _c_cef_extension_wide
    from nocsoc.collectors.logs._logfast import kv_pairs as _c_kv_pairs
    from nocsoc.collectors.logs._logfast import kv_pairs_wide as _c_kv_pairs_wide
    from nocsoc.collectors.logs._logfast import split_pairs as c_split_pairs
except ImportError:  # no compiler where nocsoc was installed (setup.py: optional): Python does it all
    _c_kv_pairs = _c_kv_pairs_wide = _c_cef_extension = _c_cef_extension_wide = c_split_pairs = None


# A JSON line decoded once. A reader that has already decoded a line with orjson.loads
# (ruletest.parse_lines, testing it for a Windows document) hands the object on here, and the
# parser that would decode that same text next with orjson.loads (Palo Alto's JSON) takes it
# instead (~2 us of a ~1 kB line). Keyed by the str object itself, so the object is exactly what
# that parser's own orjson.loads would give, and taken once: an object a parser may then change
# is never handed out again. One slot: the reader hands on one line at a time.
_HANDED: list[Any] = [None, None]


def hand_on_json(text: str, obj: Any) -> None:
    """Leave orjson.loads(text)'s object for the next take_json(text) (None: forget it)."""
    _HANDED[0], _HANDED[1] = (text, obj) if obj is not None else (None, None)


def take_json(text: str) -> Any:
    """The object handed on for this very str (then forgotten); None when there is none."""
    if _HANDED[0] is text:
        obj = _HANDED[1]
        _HANDED[0] = _HANDED[1] = None
        return obj
    return None


def loads_json(text: str) -> Any:
    """json.loads' result, through orjson (~3x faster on ~1 kB documents) where it can read the
    text; what it refuses (NaN, integers past 64 bits, lone surrogates, ...) goes to json, which
    decides (raising ValueError, as before, on what is no JSON at all). A reader that decoded
    this very text with orjson already handed its object on (take_json)."""
    obj = take_json(text)
    if obj is not None:
        return obj
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def kv_pairs(text: str) -> dict[str, str]:
    """`k=v k2="v 2"` pairs (auditd, FortiGate, iptables); quotes removed, escapes kept simple."""
    if _c_kv_pairs is not None:
        got = _c_kv_pairs(text, False)
        if got is not None:
            return got
    if _c_kv_pairs_wide is not None:  # not ASCII: the same split by code point
        return _c_kv_pairs_wide(text, False)
    return _kv_unquoted(_KV, text)


def iso_epoch(v: str) -> float | None:
    """ISO 8601 text (`Z` for UTC allowed) as epoch seconds; None when it is not ISO 8601."""
    try:
        return datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Guarded:
    """An unanchored pattern searched only in a text holding one of `needs`, literals one of
    which every match holds: with no literal prefix, `search` and `findall` try every position
    (~1-3 us of a line that cannot match). Each one made is in GUARDED, where
    tests/collectors/logs/test_regex_guards.py checks that the literals are exact."""

    rx: re.Pattern[str]
    needs: tuple[str, ...]

    def __post_init__(self) -> None:
        GUARDED.append(self)

    def holds(self, text: str) -> bool:
        return any(w in text for w in self.needs)

    def search(self, text: str) -> re.Match[str] | None:
        return self.rx.search(text) if self.holds(text) else None

    def findall(self, text: str) -> list[Any]:
        return self.rx.findall(text) if self.holds(text) else []


GUARDED: list[Guarded] = []


def digits(v: str) -> int | None:
    """A run of digits a regex matched (or any text that should be one), as an int; None past 18
    digits (an attacker's line can hold thousands, which int() refuses past 4,300 and no port,
    pid or count needs) and None when it is not all decimal digits (`str.isdigit` also passes
    `²`, which int() refuses)."""
    return int(v) if len(v) <= 18 and v.isdecimal() else None


def to_int(v: str | None) -> int | str | None:
    if v is None:
        return None
    try:
        return int(v)
    except ValueError:
        return v


_KV_COMMA = re.compile(r'(?<![\w.-])([A-Za-z_][\w.-]*+)=("(?:[^"\\]|\\.)*+"|[^\s,]*)')


def kv_pairs_comma(text: str) -> dict[str, str]:
    """`k=v,k2="v, 2"` pairs (FortiGate's and Sophos's comma-separated variant)."""
    if _c_kv_pairs is not None:
        got = _c_kv_pairs(text, True)
        if got is not None:
            return got
    if _c_kv_pairs_wide is not None:
        return _c_kv_pairs_wide(text, True)
    return _kv_unquoted(_KV_COMMA, text)


_CEF_KEY = re.compile(r"(?:^|(?<=\s))([A-Za-z0-9_.\[\]-]+)=")
_CEF_START = re.compile(r"(?:CEF: ?)?\d\|")


# CEF's own extension keys (ArcSight "Implementing ArcSight CEF", the key dictionary) -> the
# taxonomy: every vendor that sends them means the same; vendor maps add their custom keys
CEF_FIELDS = {
    "src": "src_ip",
    "dst": "dst_ip",
    "spt": "src_port",
    "dpt": "dst_port",
    "sourceTranslatedAddress": "source.nat.ip",
    "destinationTranslatedAddress": "destination.nat.ip",
    "sourceTranslatedPort": "source.nat.port",
    "destinationTranslatedPort": "destination.nat.port",
    "act": "action",
    "proto": "proto",
    "suser": "src_user",
    "duser": "dst_user",
    "in": "source.bytes",
    "out": "destination.bytes",
    "request": "c-uri",
    "requestMethod": "cs-method",
}


@dataclass(slots=True)
class Cef:
    vendor: str
    product: str
    version: str
    signature: str
    name: str
    severity: str
    ext: dict[str, str]


def _cef_unescape(v: str) -> str:
    if "\\" not in v:
        return v
    return (
        v.replace("\\=", "=")
        .replace("\\|", "|")
        .replace("\\n", "\n")
        .replace("\\r", "\r")
        .replace("\\\\", "\\")
    )


def parse_cef(msg: str) -> Cef | None:
    """ArcSight CEF (`CEF:0|vendor|product|version|signature|name|severity|k=v k2=v 2`), also
    without the `CEF:` label and with an empty field doubled (`CEF:0||Check Point|...`), as
    Check Point, FortiGate and Palo Alto send it. Extension values run to the next ` key=`."""
    m = _CEF_START.search(msg)
    if m is None:
        return None
    parts: list[str] = []
    pos = m.end()
    cur = []
    i = pos
    n = len(msg)
    pieces = msg[pos:].split("|", 6)
    if len(pieces) == 7:  # no `\` before the sixth `|`: the loop below would give the same pieces
        ext_len = len(pieces[6])
        if "\\" not in msg[pos:n - ext_len]:
            parts, i = pieces[:6], n - ext_len
    while i < n and len(parts) < 6:  # 6 header fields after the version, `\|` escaped
        c = msg[i]
        if c == "\\" and i + 1 < n:
            cur.append(msg[i + 1])
            i += 2
            continue
        if c == "|":
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    if len(parts) < 6:
        return None
    if parts[0] == "" and len(parts) == 6:  # `CEF:0||Vendor|...`: one empty field too many
        rest = msg[i:]
        k = rest.find("|")
        if k >= 0 and "=" not in rest[:k]:
            parts = [*parts[1:], rest[:k]]
            i += k + 1
    ext_text = msg[i:]
    fast = _c_cef_extension(ext_text) if _c_cef_extension is not None else None
    if fast is None and _c_cef_extension_wide is not None:  # not ASCII: the same split by code point
        fast = _c_cef_extension_wide(ext_text)
    if fast is not None:
        return Cef(parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], fast)
    return Cef(parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], cef_extension(ext_text))


def cef_extension(ext_text: str) -> dict[str, str]:
    """CEF extension pairs: a key is `name=` at the start or after whitespace; its value runs to
    the next key, stripped and unescaped (the reference of _logfast.cef_extension)."""
    ext: dict[str, str] = {}
    keys = list(_CEF_KEY.finditer(ext_text))
    for j, mk in enumerate(keys):
        if mk.start() > 0 and ext_text[mk.start() - 1] == "\\":
            continue
        end = keys[j + 1].start() if j + 1 < len(keys) else len(ext_text)
        ext[mk[1]] = _cef_unescape(ext_text[mk.end() : end].strip())
    return ext


IANA_PROTO = {
    "1": "icmp",
    "6": "tcp",
    "17": "udp",
    "47": "gre",
    "50": "esp",
    "51": "ah",
    "58": "ipv6-icmp",
    "132": "sctp",
    "2": "igmp",
    "89": "ospf",
}


def transport(v: object) -> str | None:
    """A protocol number or name as the lower-case transport name (`6` -> `tcp`)."""
    if v is None:
        return None
    s = str(v).strip().lower()
    if not s:
        return None
    return IANA_PROTO.get(s, s)


def is_ip(v: object) -> bool:
    return isinstance(v, str) and bool(_IS_IP.match(v))


_IS_IP = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:%\w+)?)$")
