"""A rule's condition -> one Python function, generated as source and compiled once.

Why: the compiler's closures (nocsoc.detections.compiler) evaluate a rule as a tree of nested
lambdas, each a Python call (~60-100 ns) that fetches its field through `LogEvent.lower`
(~130 ns) before testing it: a SigmaHQ Windows rule of a dozen tests cost ~2 us an event. The
same tests written out as one expression, with the event's lowercase cache (a dict) read
inline and `and`/`or` chains, cost a fraction of that. The closures stay the reference: this
module mirrors `compile_condition` construct by construct (the same merging of OR lists, the
same order of evaluation, the same helpers), and a construct it does not write out calls the
closure the compiler made for it (counted in `FALLBACKS`). tests/detections/test_codegen.py
proves both give the same result on every bench event, regression record and fuzzed value.

The generated function is `m(e, lo=None, F=None)`: `e` the LogEvent, `lo` its `lowered()` and
`F` its fields, which the engine passes in (fetched once an event, not once a rule); called
with the event alone it fetches them itself, so it is a drop-in `CompiledRule.match`.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Callable
from types import CodeType
from typing import Any

from ahocorasick_rs import AhoCorasick
from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.types import (
    SigmaBool,
    SigmaCasedString,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaString,
    SigmaTimestampPart,
)

from nocsoc.detections import compiler as c
from nocsoc.events import RAW_KEY, LogEvent, fill_lower

Fast = Callable[..., bool]  # m(e, lo=None, F=None)

# constructs written as a call of the compiler's closure, by name: how often (process-wide)
FALLBACKS: Counter[str] = Counter()
_INLINE_MAX = 12  # tuples/sets longer than this are module constants, not literals in the source
_LOW_RAW = f"(lo[{RAW_KEY!r}] if {RAW_KEY!r} in lo else _fill_raw(lo, e))"  # the raw line's lowercase


class _Gen:
    """The namespace the generated source refers to (regexes, automata, closures, big sets)."""

    def __init__(self) -> None:
        self.ns: dict[str, Any] = {"_number": c._number, "_fill": fill_lower, "_fill_raw": _fill_raw}
        self.fallbacks: list[str] = []

    def const(self, value: Any) -> str:
        name = f"k{len(self.ns)}"
        self.ns[name] = value
        return name

    def lit(self, value: tuple[str, ...] | frozenset[str]) -> str:
        if len(value) > _INLINE_MAX:
            return self.const(value)
        if isinstance(value, frozenset):
            # `x in {...}` of constants: CPython folds the set display into a frozenset constant
            return "{" + ", ".join(repr(v) for v in sorted(value)) + "}" if value else "frozenset()"
        return repr(value)

    def closure(self, pred: c.Pred, why: str) -> str:
        self.fallbacks.append(why)
        return f"{self.const(pred)}(e)"


def _low(fname: str) -> str:
    """The field's lowercase: a dict lookup once cached; the first read of an event fills it."""
    return f"(lo[{fname!r}] if {fname!r} in lo else _fill(lo, F, {fname!r}))"


def _fill_raw(lo: dict[str, str | None], e: LogEvent) -> str:
    out = lo[RAW_KEY] = e.raw.lower()
    return out


def _or(parts: list[str]) -> str:
    if not parts:
        return "False"  # an empty `any`
    return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"


def _and(parts: list[str]) -> str:
    if not parts:
        return "True"  # an empty `all`
    return parts[0] if len(parts) == 1 else "(" + " and ".join(parts) + ")"


def _string(g: _Gen, fname: str | None, s: SigmaString, keyword: bool) -> str:
    """Mirrors compiler._string_pred."""
    cased = isinstance(s, SigmaCasedString)
    shape = c._string_shape(s)
    seg = c._segments(s) if shape is None else None
    if seg is not None:
        open_start, segs, open_end = seg
        if keyword:
            open_start = open_end = True
        if not cased:
            segs = [x.lower() for x in segs]
        glob = g.const(c._glob(open_start, segs, open_end))
        if fname is None:
            return f"{glob}(e.raw)" if cased else f"{glob}({_LOW_RAW})"
        if cased:
            return f"((v := F.get({fname!r})) is not None and {glob}(str(v)))"
        return f"((v := {_low(fname)}) is not None and {glob}(v))"
    if shape is None:
        rx = g.const(c._wildcard_regex(s, cased, anchored=not keyword))
        if fname is None:
            return f"({rx}.search(e.raw) is not None)"
        if keyword:
            return f"((v := F.get({fname!r})) is not None and {rx}.search(str(v)) is not None)"
        return f"((v := F.get({fname!r})) is not None and {rx}.match(str(v)) is not None)"
    kind, text = shape
    if keyword:
        kind = "contains"
    if fname is None:
        return f"({text!r} in e.raw)" if cased else f"({text.lower()!r} in {_LOW_RAW})"
    if cased:
        if kind == "eq":
            return f"((v := F.get({fname!r})) is not None and str(v) == {text!r})"
        if kind == "contains":
            return f"((v := F.get({fname!r})) is not None and {text!r} in str(v))"
        return f"((v := F.get({fname!r})) is not None and str(v).{kind}({text!r}))"
    t = text.lower()
    if kind == "eq":
        return f"({_low(fname)} == {t!r})"
    if kind == "contains":
        return f"((v := {_low(fname)}) is not None and {t!r} in v)"
    return f"((v := {_low(fname)}) is not None and v.{kind}({t!r}))"


def _value(g: _Gen, fname: str | None, value: Any) -> str:
    """Mirrors compiler._value_pred; the rarer value types call its closure."""
    if isinstance(value, SigmaExpansion):
        return _or([_value(g, fname, v) for v in value.values])
    if isinstance(value, SigmaString):
        return _string(g, fname, value, keyword=fname is None)
    if fname is None:
        if isinstance(value, SigmaNumber | SigmaBool):
            return f"({str(value).lower()!r} in {_LOW_RAW})"
        if isinstance(value, SigmaRegularExpression):
            return f"({g.const(_regex(value))}.search(e.raw) is not None)"
        return g.closure(c._value_pred(None, value), type(value).__name__)
    if isinstance(value, SigmaRegularExpression):
        rx = g.const(_regex(value))
        return f"((v := F.get({fname!r})) is not None and {rx}.search(str(v)) is not None)"
    if isinstance(value, SigmaTimestampPart):  # a SigmaNumber too: tested first, as the compiler does
        return g.closure(c._value_pred(fname, value), "SigmaTimestampPart")
    if isinstance(value, SigmaNumber):
        num = g.const(value.number)
        return f"((v := F.get({fname!r})) is not None and (x := _number(v)) is not None and x == {num})"
    if isinstance(value, SigmaCompareExpression) and value.op in _COMPARE:  # `sc-status|gte: 400`
        op = _COMPARE[value.op]
        num = g.const(value.number.number)
        return f"((v := F.get({fname!r})) is not None and (x := _number(v)) is not None and x {op} {num})"
    if isinstance(value, SigmaNull):
        return f"(F.get({fname!r}) is None)"
    if isinstance(value, SigmaExists):
        return f"(({fname!r} in F) is {bool(value.exists)!r})"
    # bool, CIDR, field reference, timestamp part: rare, the closure as it is
    return g.closure(c._value_pred(fname, value), type(value).__name__)


# compiler._CMP's operators, written out
_OPS = SigmaCompareExpression.CompareOperators
_COMPARE = {_OPS.LT: "<", _OPS.LTE: "<=", _OPS.GT: ">", _OPS.GTE: ">=", _OPS.NEQ: "!="}


def _regex(value: SigmaRegularExpression) -> re.Pattern[str]:
    """As compiler._regex_pred compiles it (which has raised CompileError on a bad one)."""
    flags = 0
    for fl in value.flags:
        flags |= c._RE_FLAGS[fl]
    return re.compile(str(value.regexp), flags)


def _merged(g: _Gen, fname: str | None, kind: str, texts: list[str]) -> str:
    """Mirrors compiler._merged."""
    if fname is None:
        return "(" + " or ".join(f"{n!r} in (v := {_LOW_RAW})" if i == 0 else f"{n!r} in v"
                                 for i, n in enumerate(texts)) + ")"
    if kind == "eq":
        return f"({_low(fname)} in {g.lit(frozenset(texts))})"
    tup = tuple(texts)
    if kind in ("startswith", "endswith"):
        return f"((v := {_low(fname)}) is not None and v.{kind}({g.lit(tup)}))"
    if len(tup) >= c._AC_MIN_NEEDLES:
        find = g.const(AhoCorasick(list(tup)).find_matches_as_indexes)
        return f"((v := {_low(fname)}) is not None and bool({find}(v)))"
    return f"((v := {_low(fname)}) is not None and (" + " or ".join(f"{n!r} in v" for n in tup) + "))"


def condition(g: _Gen, node: Any) -> str:
    """Mirrors compiler.compile_condition: the same groups, in the same order."""
    if node is None:
        return "False"
    if isinstance(node, ConditionOR):
        groups: dict[tuple[str | None, str], list[str]] = {}
        numbers: dict[str, set[float]] = {}
        others: list[str] = []
        wild: dict[str, list[str]] = {}
        for arg in node.args:
            s = c._simple_string(arg)
            w = c._wild_piece(arg) if s is None else None
            if s is not None:
                groups.setdefault((s[0], s[1]), []).append(s[2])
            elif w is not None:
                wild.setdefault(w[0], []).append(w[1])
            elif isinstance(arg, ConditionFieldEqualsValueExpression) and type(arg.value) is SigmaNumber:
                numbers.setdefault(arg.field, set()).add(arg.value.number)
            else:
                others.append(condition(g, arg))
        for f, pieces in wild.items():
            rx = g.const(re.compile("|".join(f"(?:{p})" for p in pieces), re.DOTALL))
            text = f"((v := {_low(f)}) is not None and {rx}.search(v) is not None)"
            if len(pieces) == 1:
                others.append(text)
            else:
                others.insert(0, text)
        parts = [_merged(g, f, k, texts) for (f, k), texts in groups.items()]
        for f, ns in numbers.items():
            k = g.const(frozenset(ns))
            parts.append(f"((v := F.get({f!r})) is not None and (x := _number(v)) is not None and x in {k})")
        return _or(parts + others)
    if isinstance(node, ConditionAND):
        return _and([condition(g, a) for a in node.args])
    if isinstance(node, ConditionNOT):
        return f"(not {condition(g, node.args[0])})"
    if isinstance(node, ConditionFieldEqualsValueExpression):
        return _value(g, node.field, node.value)
    if isinstance(node, ConditionValueExpression):
        return _value(g, None, node.value)
    raise c.CompileError(f"condition element {type(node).__name__} is not supported")


def generate(conds: list[Any], name: str = "rule") -> tuple[str, dict[str, Any], list[str]]:
    """(source of `m`, its namespace, constructs left to closures) for a rule's conditions."""
    g = _Gen()
    expr = condition(g, conds[0]) if len(conds) == 1 else _or([condition(g, x) for x in conds])
    src = (f"def m(e, lo=None, F=None):  # {name!r}\n"
           "    if lo is None:\n"
           "        lo = e.lowered()\n"
           "        F = e.fields\n"
           f"    return True if {expr} else False\n")
    return src, g.ns, g.fallbacks


def compile_fast(conds: list[Any], name: str = "rule") -> Fast | None:
    """The generated function of a rule's conditions; None (counted in FALLBACKS as `whole
    rule`) when Python cannot compile the source (nesting beyond the parser's limits): the
    compiler's closure then serves alone."""
    src, ns, fallbacks = generate(conds, name)
    try:
        code = compile(src, f"<rule {name}>", "exec")
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        FALLBACKS["whole rule"] += 1
        return None
    FALLBACKS.update(fallbacks)
    code = interned_consts(code)
    exec(code, ns)  # our own source, built from escaped literals (repr) and names
    fn: Fast = ns["m"]
    return fn


def interned_consts(code: CodeType) -> CodeType:
    """`code` with its str constants (nested code's too) interned. The compiler interns only
    those made of name characters: a field name such as `c-ip` or `cs-uri-query` stayed an
    object of its own, which the event's fields dict (general keys where a C parser presized
    it) found by a full comparison instead of by identity."""
    consts = tuple(sys.intern(k) if type(k) is str else interned_consts(k) if isinstance(k, CodeType) else k
                   for k in code.co_consts)
    return code.replace(co_consts=consts)


def call_fast(fn: Fast, e: LogEvent) -> bool:
    """`fn` as the engine calls it (for tests)."""
    return fn(e, e.lowered(), e.fields)
