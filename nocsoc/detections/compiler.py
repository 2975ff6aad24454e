"""pySigma parsed rules -> plain Python predicates on LogEvent.

Why hand-written: pySigma releases < 2 have no matcher (its `sigma.matching` package exists only
in the development tree) and its SQLite backend cannot stream, lacks keywords and mistreats
correlations. The compiler reads pySigma's own objects after modifiers have run (SigmaString with
wildcards, SigmaRegularExpression with flags, SigmaCIDRExpression, SigmaCompareExpression,
SigmaFieldReference, SigmaExists, SigmaExpansion for windash/base64offset, SigmaNull, ...), so
every modifier pySigma knows arrives here already applied, and `compile_rule` is the only entry
point to replace should pySigma ship a matcher.

Speed: OR-lists on one field collapse into one set lookup or one `str.startswith(tuple)` call,
field values are lowercased once per event (LogEvent.lower), and AND/OR short-circuit.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from ahocorasick_rs import AhoCorasick
from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.rule import SigmaRule
from sigma.types import (
    CompareOperators,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaTimestampPart,
    SpecialChars,
    TimestampPart,
)

from nocsoc.detections.windows import rule_event_ids
from nocsoc.events import LogEvent

Pred = Callable[[LogEvent], bool]
_AC_MIN_NEEDLES = 4  # contains-lists this long are searched with one Aho-Corasick automaton


class CompileError(ValueError):
    """A rule construct nocsoc cannot evaluate (named in the message)."""


@dataclass(slots=True)
class CompiledRule:
    id: str
    title: str
    level: str
    tags: tuple[str, ...]
    product: str | None
    category: str | None
    service: str | None
    match: Pred
    name: str | None = None
    description: str = ""
    falsepositives: tuple[str, ...] = ()
    path: str = ""
    generate: bool = True  # False for a rule only referenced by correlations
    needles: list[tuple[str | None, str]] | None = None  # see required_needles
    exact: frozenset[int] = frozenset()  # needles the field's whole value must equal
    # a second gate (another part of the rule's top-level AND), for rules whose first is weak:
    # the rule runs only if one needle of each occurs (None: the first alone decides)
    needles2: list[tuple[str | None, str]] | None = None
    exact2: frozenset[int] = frozenset()
    event_ids: frozenset[int] | None = None  # EventIDs it can match (None: any), for routing
    rule: Any = field(default=None, repr=False)
    # the generated function (nocsoc.detections.codegen), `match` by default: fast(e, lo, F)
    # with the event's lowercase cache and fields, or fast(e); None: `match` is the closure
    fast: Callable[..., bool] | None = field(default=None, repr=False)
    ref: Pred | None = field(default=None, repr=False)  # the closures: the generated code's reference

    def applies_to(self, product: str | None, services: tuple[str, ...],
                   categories: tuple[str, ...]) -> bool:
        return ((self.product is None or self.product == product)
                and (self.service is None or self.service in services)
                and (self.category is None or self.category in categories))


def _and(preds: list[Pred]) -> Pred:
    return _junction(preds, False)


def _or(preds: list[Pred]) -> Pred:
    return _junction(preds, True)


def _junction(preds: list[Pred], decisive: bool) -> Pred:
    """`all` (decisive=False: the first false predicate decides) or `any` (decisive=True: the
    first true one decides) of `preds`, short-circuiting. One and two predicates, the common
    cases, get no loop at all; a plain loop beats any()/all() over a generator on this hot path."""
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        a, b = preds
        return (lambda e: a(e) or b(e)) if decisive else (lambda e: a(e) and b(e))

    def f(e: LogEvent) -> bool:
        for p in preds:
            if (not p(e)) is not decisive:  # p(e) is falsy for `all`, truthy for `any`
                return decisive
        return not decisive
    return f


def _not(p: Pred) -> Pred:
    return lambda e: not p(e)


# --- strings -----------------------------------------------------------------------------------

def _string_shape(s: SigmaString) -> tuple[str, str] | None:
    """('eq'|'contains'|'startswith'|'endswith', text) for strings with wildcards only at the
    ends; None when a regex is needed."""
    parts = list(s.s)
    lead = bool(parts) and parts[0] == SpecialChars.WILDCARD_MULTI
    trail = len(parts) > 1 and parts[-1] == SpecialChars.WILDCARD_MULTI
    core = parts[1 if lead else 0: len(parts) - (1 if trail else 0)]
    if not core:
        return ("contains", "") if lead or trail else ("eq", "")
    if len(core) != 1 or not isinstance(core[0], str):
        return None
    text = core[0]
    if lead and trail:
        return "contains", text
    if lead:
        return "endswith", text
    if trail:
        return "startswith", text
    return "eq", text


def _wildcard_regex(s: SigmaString, cased: bool, anchored: bool) -> re.Pattern[str]:
    rx = str(s.to_regex().regexp)
    flags = re.DOTALL | (0 if cased else re.IGNORECASE)
    return re.compile(rf"\A(?:{rx})\Z" if anchored else rx, flags)


def _segments(s: SigmaString) -> tuple[bool, list[str], bool] | None:
    """(open start, literal segments, open end) for strings whose only wildcard is `*`."""
    parts = list(s.s)
    if any(not isinstance(p, str) and p != SpecialChars.WILDCARD_MULTI for p in parts):
        return None
    segs = [p for p in parts if isinstance(p, str)]
    if not segs:
        return None
    return parts[0] == SpecialChars.WILDCARD_MULTI, segs, parts[-1] == SpecialChars.WILDCARD_MULTI


def _glob(open_start: bool, segs: list[str], open_end: bool) -> Callable[[str], bool]:
    """`a*b*c` matching by successive str.find: linear, where a `.*` regex backtracks (this one
    pattern family made a SigmaHQ keyword rule 100x slower than the rest)."""
    first, last, middle = segs[0], segs[-1], segs[1:-1]
    single = len(segs) == 1

    def match(text: str) -> bool:
        pos, end = 0, len(text)
        if not open_start:
            if not text.startswith(first):
                return False
            pos = len(first)
        else:
            i = text.find(first)
            if i < 0:
                return False
            pos = i + len(first)
        if single:
            return open_end or pos == end
        if not open_end:
            if not text.endswith(last) or end - len(last) < pos:
                return False
            end -= len(last)
        for seg in middle:
            i = text.find(seg, pos, end)
            if i < 0:
                return False
            pos = i + len(seg)
        return True if not open_end else text.find(last, pos) >= 0
    return match


def _string_pred(fname: str | None, s: SigmaString, keyword: bool = False) -> Pred:
    cased = isinstance(s, SigmaCasedString)
    shape = _string_shape(s)
    seg = _segments(s) if shape is None else None
    if seg is not None:
        open_start, segs, open_end = seg
        if keyword:
            open_start = open_end = True
        if not cased:
            segs = [x.lower() for x in segs]
        g = _glob(open_start, segs, open_end)
        if fname is None:
            return (lambda e: g(e.raw)) if cased else (lambda e: g(e.raw_lower()))
        if cased:
            return lambda e: (v := e.fields.get(fname)) is not None and g(str(v))
        return lambda e: (v := e.lower(fname)) is not None and g(v)
    if shape is None:
        rx = _wildcard_regex(s, cased, anchored=not keyword)
        if fname is None:
            return lambda e: rx.search(e.raw) is not None
        if keyword:
            return lambda e: (v := e.fields.get(fname)) is not None and rx.search(str(v)) is not None
        return lambda e: (v := e.fields.get(fname)) is not None and rx.match(str(v)) is not None
    kind, text = shape
    if keyword:
        kind = "contains"
    if fname is None:  # keyword: search the whole raw line
        if cased:
            return lambda e: text in e.raw
        t = text.lower()
        return lambda e: t in e.raw_lower()
    if cased:
        def cased_value(e: LogEvent) -> str | None:
            v = e.fields.get(fname)
            return None if v is None else str(v)
        if kind == "eq":
            return lambda e: cased_value(e) == text
        if kind == "contains":
            return lambda e: (v := cased_value(e)) is not None and text in v
        if kind == "startswith":
            return lambda e: (v := cased_value(e)) is not None and v.startswith(text)
        return lambda e: (v := cased_value(e)) is not None and v.endswith(text)
    # case-insensitive (Sigma's default): one call to the event's lowercase cache per test
    t = text.lower()
    if kind == "eq":
        return lambda e: e.lower(fname) == t
    if kind == "contains":
        return lambda e: (v := e.lower(fname)) is not None and t in v
    if kind == "startswith":
        return lambda e: (v := e.lower(fname)) is not None and v.startswith(t)
    return lambda e: (v := e.lower(fname)) is not None and v.endswith(t)


# --- other value types -------------------------------------------------------------------------

@lru_cache(maxsize=65536)
def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _cidr_pred(fname: str, c: SigmaCIDRExpression) -> Pred:
    net = c.network

    def f(e: LogEvent) -> bool:
        v = e.fields.get(fname)
        if v is None:
            return False
        ip = _ip(str(v))
        return ip is not None and ip.version == net.version and ip in net
    return f


_NUM_START = frozenset("+-.iInN")  # what float() accepts a text starting with, besides digits/space


def _number(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return v
    if isinstance(v, str):
        # most field values are no number: refuse them without float() raising (~1 us each,
        # on every event for rules such as `event_id: [113006, 'LOGIN_FAILED']`)
        c = v[:1]
        if not c or not (c.isdigit() or c in _NUM_START or c.isspace()):
            return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


_CMP: dict[CompareOperators, Callable[[float, float], bool]] = {
    CompareOperators.LT: lambda a, b: a < b,
    CompareOperators.LTE: lambda a, b: a <= b,
    CompareOperators.GT: lambda a, b: a > b,
    CompareOperators.GTE: lambda a, b: a >= b,
    CompareOperators.NEQ: lambda a, b: a != b,
}


def _compare_pred(fname: str, c: SigmaCompareExpression) -> Pred:
    op, n = _CMP[c.op], c.number.number

    def f(e: LogEvent) -> bool:
        x = _number(e.fields.get(fname))
        return x is not None and op(x, n)
    return f


def _fieldref_pred(fname: str, r: SigmaFieldReference) -> Pred:
    other = r.field

    def f(e: LogEvent) -> bool:
        a, b = e.lower(fname), e.lower(other)
        if a is None or b is None:
            return False
        if r.starts_with:
            return a.startswith(b)
        if r.ends_with:
            return a.endswith(b)
        return a == b
    return f


_TS_PART: dict[TimestampPart, Callable[[datetime], int]] = {
    TimestampPart.MINUTE: lambda d: d.minute, TimestampPart.HOUR: lambda d: d.hour,
    TimestampPart.DAY: lambda d: d.day, TimestampPart.WEEK: lambda d: d.isocalendar()[1],
    TimestampPart.MONTH: lambda d: d.month, TimestampPart.YEAR: lambda d: d.year,
}
# names under which rules mean the event's own time, which nocsoc keeps as LogEvent.time
_EVENT_TIME_FIELDS = frozenset({"@timestamp", "timestamp", "_time"})
# date forms with no ISO 8601 reading, tried in turn: Apache/nginx access logs, RFC 5424 is ISO
_DATE_FORMATS = ("%d/%b/%Y:%H:%M:%S %z", "%a, %d %b %Y %H:%M:%S %z", "%a %b %d %H:%M:%S %Y")
_SYSLOG_DATE = "%b %d %H:%M:%S"  # RFC 3164: no year


def _epoch(x: float) -> datetime | None:
    a = abs(x)  # seconds, or milli/micro/nanoseconds by magnitude (as JSON logs write them)
    scale = 1e9 if a >= 1e17 else 1e6 if a >= 1e14 else 1e3 if a >= 1e11 else 1.0
    try:
        return datetime.fromtimestamp(x / scale, UTC)
    except (OverflowError, OSError, ValueError):
        return None


@lru_cache(maxsize=4096)
def _parse_date(text: str) -> tuple[datetime, bool] | None:
    """(the date written in `text`, whether it names its year); None when it is no date.
    Sigma's time modifiers read the date as written, with no time zone conversion: an ISO time
    `10:20+07:00` is hour 10. Why by hand: the few forms logs write, no guessing parser."""
    t = text.strip()
    try:
        x = float(t)
    except ValueError:
        pass
    else:
        d = _epoch(x)
        return (d, True) if d is not None else None
    try:
        return datetime.fromisoformat(t), True
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(t, fmt), True
        except ValueError:
            continue
    try:
        return datetime.strptime(t, _SYSLOG_DATE), False
    except ValueError:
        return None


def _field_date(e: LogEvent, fname: str) -> tuple[datetime, bool] | None:
    """The date in the event's field `fname` (the event time for `@timestamp`-like names the
    event has no field for)."""
    v = e.fields.get(fname)
    if v is None:
        return (datetime.fromtimestamp(e.time, UTC), True) if fname in _EVENT_TIME_FIELDS else None
    if isinstance(v, datetime):
        return v, True
    if isinstance(v, int | float) and not isinstance(v, bool):
        d = _epoch(float(v))
        return (d, True) if d is not None else None
    return _parse_date(str(v)) if isinstance(v, str) and v else None


def _timestamp_pred(fname: str, value: SigmaTimestampPart) -> Pred:
    """`field|hour: 3` (and minute, day, week, month, year): that part of the date written in
    the field, not of the event's time (Sigma modifiers appendix 2.1)."""
    kind = value.timestamp_part
    part, n = _TS_PART[kind], value.number

    def f(e: LogEvent) -> bool:
        got = _field_date(e, fname)
        if got is None:
            return False
        d, has_year = got
        if not has_year and kind in (TimestampPart.YEAR, TimestampPart.WEEK):
            return False  # a syslog date without its year has no year nor week number
        return part(d) == n
    return f


def _value_pred(fname: str | None, value: Any) -> Pred:
    """One field/value comparison (fname None: keyword over the raw line)."""
    if isinstance(value, SigmaExpansion):
        return _or([_value_pred(fname, v) for v in value.values])
    if isinstance(value, SigmaString):
        return _string_pred(fname, value, keyword=fname is None)
    if fname is None:
        if isinstance(value, SigmaNumber | SigmaBool):
            t = str(value).lower()
            return lambda e: t in e.raw_lower()
        if isinstance(value, SigmaRegularExpression):
            return _regex_pred(None, value)
        raise CompileError(f"keyword of type {type(value).__name__} is not supported")
    if isinstance(value, SigmaRegularExpression):
        return _regex_pred(fname, value)
    if isinstance(value, SigmaTimestampPart):
        return _timestamp_pred(fname, value)
    if isinstance(value, SigmaNumber):
        num = value.number

        def fnum(e: LogEvent) -> bool:
            v = e.fields.get(fname)
            if v is None:
                return False
            x = _number(v)
            return x is not None and x == num
        return fnum
    if isinstance(value, SigmaBool):
        b = value.boolean
        sb = str(b).lower()
        return lambda e: (v := e.fields.get(fname)) is not None and (
            v is b if isinstance(v, bool) else str(v).lower() == sb)
    if isinstance(value, SigmaNull):
        return lambda e: e.fields.get(fname) is None
    if isinstance(value, SigmaExists):
        want = bool(value.exists)
        return lambda e: (fname in e.fields) is want
    if isinstance(value, SigmaCIDRExpression):
        return _cidr_pred(fname, value)
    if isinstance(value, SigmaCompareExpression):
        return _compare_pred(fname, value)
    if isinstance(value, SigmaFieldReference):
        return _fieldref_pred(fname, value)
    raise CompileError(f"field {fname!r}: value type {type(value).__name__} is not supported")


_RE_FLAGS = {SigmaRegularExpressionFlag.IGNORECASE: re.IGNORECASE,
             SigmaRegularExpressionFlag.MULTILINE: re.MULTILINE,
             SigmaRegularExpressionFlag.DOTALL: re.DOTALL}


def _regex_pred(fname: str | None, r: SigmaRegularExpression) -> Pred:
    flags = 0
    for fl in r.flags:
        flags |= _RE_FLAGS[fl]
    try:
        rx = re.compile(str(r.regexp), flags)
    except re.error as exc:
        raise CompileError(f"bad regular expression {r.regexp}: {exc}") from None
    if fname is None:
        return lambda e: rx.search(e.raw) is not None
    return lambda e: (v := e.fields.get(fname)) is not None and rx.search(str(v)) is not None


# --- condition tree ----------------------------------------------------------------------------

def _simple_string(node: Any) -> tuple[str | None, str, str] | None:
    """(field, kind, lowered text) for a case-insensitive string test with wildcards only at the
    ends; such siblings in an OR merge into one set/tuple test."""
    if isinstance(node, ConditionFieldEqualsValueExpression):
        fname, value = node.field, node.value
    elif isinstance(node, ConditionValueExpression):
        fname, value = None, node.value
    else:
        return None
    if not isinstance(value, SigmaString) or isinstance(value, SigmaCasedString):
        return None
    shape = _string_shape(value)
    if shape is None:
        return None
    kind, text = shape
    if fname is None:
        kind = "contains"
    return fname, kind, text.lower()


def _merged(fname: str | None, kind: str, texts: list[str]) -> Pred:
    if fname is None:
        needles = tuple(texts)
        def kw(e: LogEvent) -> bool:
            low = e.raw_lower()
            for n in needles:  # noqa: SIM110
                if n in low:
                    return True
            return False
        return kw
    if kind == "eq":
        s = frozenset(texts)
        return lambda e: e.lower(fname) in s
    tup = tuple(texts)
    if kind == "startswith":
        return lambda e: (v := e.lower(fname)) is not None and v.startswith(tup)
    if kind == "endswith":
        return lambda e: (v := e.lower(fname)) is not None and v.endswith(tup)

    if len(tup) >= _AC_MIN_NEEDLES:
        # one Aho-Corasick pass instead of one `in` per needle: SigmaHQ's Windows rules list up
        # to hundreds of command-line fragments per field (24 us -> ~1 us per test measured)
        find = AhoCorasick(list(tup)).find_matches_as_indexes

        def contains_ac(e: LogEvent) -> bool:
            v = e.lower(fname)
            return v is not None and bool(find(v))
        return contains_ac

    def contains(e: LogEvent) -> bool:
        v = e.lower(fname)
        if v is None:
            return False
        for n in tup:  # noqa: SIM110
            if n in v:
                return True
        return False
    return contains


def _wild_piece(node: Any) -> tuple[str, str] | None:
    """(field, regex piece) for a case-insensitive field value with `?` (or inner `*`)
    wildcards: `*-InstanceId 462?*` -> `-instanceid\\ 462.` (searched, not anchored, when it
    is open at both ends). Siblings in an OR become one alternation: one C call, not one each."""
    if not isinstance(node, ConditionFieldEqualsValueExpression):
        return None
    v = node.value
    if not isinstance(v, SigmaString) or isinstance(v, SigmaCasedString) or _string_shape(v) is not None:
        return None
    parts = list(v.s)
    lead = bool(parts) and parts[0] == SpecialChars.WILDCARD_MULTI
    trail = len(parts) > 1 and parts[-1] == SpecialChars.WILDCARD_MULTI
    out = []
    for p in parts[1 if lead else 0: len(parts) - (1 if trail else 0)]:
        if isinstance(p, str):
            out.append(re.escape(p.lower()))
        elif p == SpecialChars.WILDCARD_SINGLE:
            out.append(".")
        elif p == SpecialChars.WILDCARD_MULTI:
            out.append(".*")
        else:
            return None
    return node.field, ("" if lead else r"\A") + "".join(out) + ("" if trail else r"\Z")


def _wild_alternation(fname: str, pieces: list[str]) -> Pred:
    rx = re.compile("|".join(f"(?:{p})" for p in pieces), re.DOTALL)
    search = rx.search
    return lambda e: (v := e.lower(fname)) is not None and search(v) is not None


def _number_set(fname: str, numbers: frozenset[float]) -> Pred:
    """`dst_port: [21, 23, 80, ...]`: one conversion and one set lookup instead of N compares."""
    def f(e: LogEvent) -> bool:
        v = e.fields.get(fname)
        if v is None:
            return False
        x = _number(v)
        return x is not None and x in numbers
    return f


def compile_condition(node: Any) -> Pred:
    if node is None:
        return lambda e: False
    if isinstance(node, ConditionOR):
        groups: dict[tuple[str | None, str], list[str]] = {}
        numbers: dict[str, set[float]] = {}
        others: list[Pred] = []
        wild: dict[str, list[str]] = {}
        for arg in node.args:
            s = _simple_string(arg)
            w = _wild_piece(arg) if s is None else None
            if s is not None:
                groups.setdefault((s[0], s[1]), []).append(s[2])
            elif w is not None:
                wild.setdefault(w[0], []).append(w[1])
            elif (isinstance(arg, ConditionFieldEqualsValueExpression) and type(arg.value) is SigmaNumber):
                numbers.setdefault(arg.field, set()).add(arg.value.number)
            else:
                others.append(compile_condition(arg))
        for f, pieces in wild.items():
            if len(pieces) == 1:  # alone it is no faster than the plain predicate
                others.append(_wild_alternation(f, pieces))
            else:
                others.insert(0, _wild_alternation(f, pieces))
        preds = [_merged(f, k, texts) for (f, k), texts in groups.items()]
        preds += [_number_set(f, frozenset(ns)) for f, ns in numbers.items()]
        preds += others
        return _or(preds)
    if isinstance(node, ConditionAND):
        return _and([compile_condition(a) for a in node.args])
    if isinstance(node, ConditionNOT):
        return _not(compile_condition(node.args[0]))
    if isinstance(node, ConditionFieldEqualsValueExpression):
        return _value_pred(node.field, node.value)
    if isinstance(node, ConditionValueExpression):
        return _value_pred(None, node.value)
    raise CompileError(f"condition element {type(node).__name__} is not supported")


Needles = list[tuple[str | None, str]]


def _string_needle(value: Any) -> str | None:
    """The longest literal piece a matching value must contain (lowercased), if any. Short ones
    count too (`;`, `|`, `~` of the web attack rules, SigmaHQ's emoji and homoglyphs): a rule
    gated by them runs on the few events holding one, where it otherwise ran on every event;
    `_needle_score` ranks them last, so a longer needle of the same AND gates instead. Blanks
    alone are no needle: they occur in nearly every value, and overlapping matches of each
    would cost more than running the rule."""
    if isinstance(value, SigmaString):
        pieces = [p for p in value.s if isinstance(p, str)]
        best = max(pieces, key=len, default="")
        return best.lower() if best.strip() else None
    return None


_REPEATS = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")


def _literal_runs(items: Any) -> tuple[str, list[str], str, bool]:
    r"""The literal text a parsed regex sequence's every match holds: (lead, runs, trail, whole).
    `lead` is the literal prefix every match starts with, `trail` the suffix it ends with,
    `runs` the literal runs between, each a contiguous substring of every match; `whole`:
    the sequence is only literal characters (lead == trail == its text, runs empty).

    A run goes on through groups and repeats of at least one: in `"(?:\{\d\})+"\s*-f` every
    match holds `"{` (the quote, then the first repetition's brace) and `}"` (the last
    repetition's brace, then the quote), where the characters alone gave only `-f`, found in
    most Windows command lines. A repeat of at most one instance is a group; one that may
    repeat ends the run after its first instance's lead and starts one with its last
    instance's trail. Alternations, classes, optional parts, anchors and lookarounds end a run
    (they promise nothing here)."""
    cur = ""
    lead: str | None = None
    runs: list[str] = []
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            cur += chr(arg)
            continue
        sub = None
        once = False
        if name == "SUBPATTERN":
            sub, once = arg[-1], True
        elif name in _REPEATS and arg[0] >= 1:
            sub, once = arg[2], arg[1] == 1
        if sub is not None:
            s_lead, s_runs, s_trail, s_whole = _literal_runs(sub)
            cur += s_lead
            if s_whole and once:
                continue
            # a break inside (or a repeat): what came so far ends with the first instance's lead
            if lead is None:
                lead = cur
            runs.append(cur)
            runs.extend(s_runs)
            cur = s_trail
            continue
        if lead is None:
            lead = cur
        runs.append(cur)
        cur = ""
    if lead is None:
        return cur, [], cur, True
    return lead, runs, cur, False


# Under IGNORECASE, `re` matches `i` with U+0131 and `s` with U+017F (and non-ASCII letters with
# partners such as µ/μ), whose lowercase is not the needle's: a needle holding one would hide a
# match (`(?i)user` matches `uſer`, whose lowercase has no `user`). Runs are cut there.
_CASE_UNSAFE = re.compile(r"[is]|[^\x00-\x7f]")
_INLINE_I = re.compile(r"\(\?[a-zA-Z-]*i")


@lru_cache(maxsize=8192)
def _regex_needle(pattern: str, ignorecase: bool = False) -> str | None:
    """The longest literal run a regex's every match contains (lowercased; of the longest, the
    one of fewest letters and digits, then the first in pattern order): gates SigmaHQ's
    regex-only rules (`CommandLine|re: '\\w+`...'` must contain a backtick), which otherwise
    ran their backtracking regexes on every event.
    `ignorecase`: the rule's `|i` (inline `(?i)` is read from the pattern)."""
    try:
        from re import _parser  # type: ignore[attr-defined]

        parsed = _parser.parse(pattern)
    except Exception:  # another Python's internals, or a pattern `re` rejects: no gate
        return None
    lead, runs, trail, _whole = _literal_runs(list(parsed))
    texts = [t.lower() for t in (lead, *runs, trail)]
    if ignorecase or _INLINE_I.search(pattern):
        texts = [piece for t in texts for piece in _CASE_UNSAFE.split(t)]
    # the longest; of runs as long, the one of fewest letters and digits (`&&` before `et`, a
    # piece of `set` cut at its case-unsafe `s`: `et` is in a third of benign command lines)
    best = max(texts, key=lambda t: (len(t), -sum(ch.isalnum() for ch in t)))
    return best or None


# An exact needle of a number (`event_id: 113006`, `dst_port: [21, 23, ...]`): the field's value
# read as a number (`_number`) must equal it; the text after the prefix is the number's repr.
NUMBER_NEEDLE = "\x00#"


def number_of_needle(needle: str) -> int | float:
    """The number a NUMBER_NEEDLE stands for (an int or a float, as the rule wrote it)."""
    text = needle[len(NUMBER_NEEDLE):]
    try:
        return int(text)
    except ValueError:
        return float(text)


def _needle(fname: str | None, value: Any, numbers: bool = False) -> tuple[str, bool] | None:
    """(lowercased needle, exact) for one value: a field compared for equality with a plain
    string gives its whole value, which the field's lowercased value must equal (exact); other
    strings give their longest literal piece, which the text must contain; a regex its longest
    mandatory literal run."""
    if numbers and fname is not None and type(value) is SigmaNumber:  # not a time part (a subclass)
        return f"{NUMBER_NEEDLE}{value.number!r}", True
    if fname is not None and isinstance(value, SigmaString) and not value.contains_special():
        return "".join(p for p in value.s if isinstance(p, str)).lower(), True
    if isinstance(value, SigmaRegularExpression):
        r = _regex_needle(str(value.regexp), SigmaRegularExpressionFlag.IGNORECASE in value.flags)
        return None if r is None else (r, False)
    n = _string_needle(value)
    return None if n is None else (n, False)


Gate = list[tuple[str | None, str, bool]]  # (field or None for the raw line, needle, exact)


def _req(node: Any, common: Mapping[str, int], numbers: bool = False) -> tuple[Gate, int] | None:
    """(needles, selectivity score) for `required_needles`. The score prefers pieces of
    contains/startswith/endswith values and keywords, then whole values compared for equality
    (an exact lookup, but `type: EXECVE` is on every audit EXECVE record), and needles few rules
    share (`common`: needle -> rules using it) over those many rules test."""
    if isinstance(node, ConditionOR):
        out: Gate = []
        score = 1 << 30
        for a in node.args:
            r = _req(a, common, numbers)
            if r is None:
                return None
            out.extend(r[0])
            score = min(score, r[1])
        return out, score
    if isinstance(node, ConditionAND):
        best: tuple[Gate, int] | None = None
        for a in node.args:
            r = _req(a, common, numbers)
            if r is not None and (best is None or r[1] > best[1]):
                best = r
        return best
    if isinstance(node, ConditionFieldEqualsValueExpression | ConditionValueExpression):
        fname = node.field if isinstance(node, ConditionFieldEqualsValueExpression) else None
        values = node.value.values if isinstance(node.value, SigmaExpansion) else [node.value]
        out = []
        score = 1 << 30
        for v in values:
            got = _needle(fname, v, numbers)
            if got is None:
                return None
            n, exact = got
            out.append((fname, n, exact))
            shared = min(common.get(_count_key(fname, n, exact), 1), 11) - 1
            score = min(score, _needle_score(n, exact) - 10 * shared)
        return out, score
    return None


def _second_gate(node: Any, common: Mapping[str, int]) -> Gate | None:
    """For `a and b`, besides the best gate (the one `_req` takes), the needles of the next best
    part: a match contains one needle of each, so the engine requires both. SigmaHQ's
    `Image|endswith: \\csi.exe` with `Company: Microsoft Corporation` then runs on csi.exe
    only, not on every Microsoft binary (Windows bench: 11.7 rules run an event -> 9.1).
    Whatever the second part's score: the scores only guess (`32`, a regex's one literal run,
    outscored `Image|endswith: \\rundll32.exe`, which dozens of rules share, and made a rule a
    candidate on 77% of a benign day's process creations), and requiring both costs an event
    little more than a remembered field gate admitting one more slot (process creations: 14.9
    rules run an event -> 7.2)."""
    if not isinstance(node, ConditionAND):
        return None
    def scores(parts: list[Any]) -> list[tuple[int, int, Gate]]:
        return [(r[1], i, r[0]) for i, a in enumerate(parts) if (r := _req(a, common)) is not None]
    scored = scores(node.args)
    if len(scored) < 2:  # `all of selection_* and not filter`: the parts of the nested ANDs
        scored = scores(_and_parts(node))
    if len(scored) < 2:
        return None
    scored.sort(key=lambda x: (-x[0], x[1]))  # the first is what _req chose (first best)
    return scored[1][2]


def _and_parts(node: ConditionAND) -> list[Any]:
    """The parts of an AND with the ANDs nested in it flattened (`all of selection_* and not
    filter` nests `a and b` in the outer AND): every one must hold, so each may be a gate."""
    out: list[Any] = []
    for a in node.args:
        out.extend(_and_parts(a) if isinstance(a, ConditionAND) else [a])
    return out


def _needle_score(needle: str, exact: bool) -> int:
    """How selective a needle is likely to be. A substring's worth grows with its length: one or
    two characters (`:` or `32`, a regex's only literal run) occur in nearly every command line,
    making their rule a candidate on every event; a whole value compared for equality is a
    precise dict lookup, ranked above substrings of up to 12 characters."""
    return 60 + min(len(needle), 20) if exact else min(len(needle), 24) * 5


def _leaf_needles(node: Any, out: set[str]) -> None:
    if isinstance(node, ConditionOR | ConditionAND | ConditionNOT):
        for a in node.args:
            _leaf_needles(a, out)
    elif isinstance(node, ConditionFieldEqualsValueExpression | ConditionValueExpression):
        fname = node.field if isinstance(node, ConditionFieldEqualsValueExpression) else None
        values = node.value.values if isinstance(node.value, SigmaExpansion) else [node.value]
        for v in values:
            got = _needle(fname, v)
            if got is not None:
                out.add(_count_key(fname, got[0], got[1]))


def _count_key(fname: str | None, needle: str, exact: bool) -> str:
    """How `needle_counts` tells needles apart: an exact value per field (`type: execve` and
    `SYSCALL: execve` select different events), a substring by itself."""
    return f"{fname}\x00{needle}" if exact else needle


def needle_counts(rules: Iterable[SigmaRule]) -> Counter[str]:
    """How many rules test each needle: a value dozens of rules share (`type: EXECVE`) says which
    kind of event a rule is about, not whether it matches, so it makes a poor gate."""
    counts: Counter[str] = Counter()
    for rule in rules:
        seen: set[str] = set()
        try:
            for c in rule.detection.parsed_condition:
                _leaf_needles(c.parsed, seen)
        except Exception:  # a rule pySigma cannot parse is reported by compile_rule
            continue
        counts.update(seen)
    return counts


def required_needles(node: Any, common: Mapping[str, int] | None = None) -> Needles | None:
    """Alternatives (field or None for the raw line, lowercased needle) of which at least one
    occurs in any event the condition matches; None when no such set can be derived. The
    engine gates the rules of a route with one combined search over their needles."""
    r = _req(node, common or {})
    return None if r is None else [(f, n) for f, n, _ in r[0]]


def _rule_gate(conds: list[Any], common: Mapping[str, int], numbers: bool) -> Gate | None:
    """The needles of a rule's conditions (any of them), None when one has none."""
    gate: Gate = []
    for c in conds:
        r = _req(c, common, numbers)
        if r is None:
            return None
        gate.extend(r[0])
    return gate


def compile_rule(rule: SigmaRule, path: str = "", common: Mapping[str, int] | None = None) -> CompiledRule:
    """One pySigma rule -> CompiledRule. Raises CompileError (or pySigma's errors) naming the part."""
    from nocsoc.detections.codegen import compile_fast

    conds = [c.parsed for c in rule.detection.parsed_condition]
    ref = compile_condition(conds[0]) if len(conds) == 1 else _or([compile_condition(c) for c in conds])
    fast = compile_fast(conds, rule.title)
    # numbers (`event_id: 113006`) gate only a rule that has no other gate: a value read as a
    # number is dearer than a string's lookup, and EventIDs repeat the route they came by
    gate = _rule_gate(conds, common or {}, False) or _rule_gate(conds, common or {}, True)
    second = _second_gate(conds[0], common or {}) if gate and len(conds) == 1 else None
    ls = rule.logsource
    return CompiledRule(
        id=str(rule.id) if rule.id else (rule.name or rule.title),
        title=rule.title,
        level=str(rule.level.name).lower() if rule.level else "medium",
        tags=tuple(f"{t.namespace}.{t.name}" for t in rule.tags),
        product=ls.product, category=ls.category, service=ls.service,
        match=fast or ref, fast=fast, ref=ref, name=rule.name, description=rule.description or "",
        falsepositives=tuple(rule.falsepositives or ()), path=path, rule=rule,
        needles=[(f, n) for f, n, _ in gate] if gate else None,
        exact=frozenset(i for i, g in enumerate(gate) if g[2]) if gate else frozenset(),
        needles2=[(f, n) for f, n, _ in second] if second else None,
        exact2=frozenset(i for i, g in enumerate(second) if g[2]) if second else frozenset(),
        event_ids=rule_event_ids(conds) if ls.product == "windows" else None,
    )
