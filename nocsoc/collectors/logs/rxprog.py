"""A compiled `re` pattern as a small backtracking program for _logfast_asa.c's matcher, for the
printable ASCII texts (0x20-0x7e) the C twins take.

Why: cisco_asa's ~50 message-ID patterns were searched from C through `re` (the search, a match
object, its groups tuple: ~6-8k instructions of a ~19k one-line event). The program is made from
the pattern's own parse tree (re._parser), so there is no second spelling of a pattern to keep in
step, and the matcher walks it the way sre does: leftmost start first; at each node the readings
in sre's order (greedy repeats longest first, `?` with the part first, alternatives left to
right), the first complete reading wins. Only a subset is compiled: literals, character sets,
`.`, repeats of one character, `?` and small counted repeats of a part without groups, groups,
alternation, `^` `$` `\\Z`, and a negative lookahead of one character. Anything else gives None
(the caller keeps `re`). tests/collectors/logs/test_rxprog.py compares both on every pattern.

The program: int32 words, [number of groups, first b0..b3, code...] where `first` is the set of
characters a match can start with (all of them when a match may be empty or the set is unknown:
the search then tries every start), and the code:
  MATCH | CHAR c | SET b0 b1 b2 b3 (a set of ASCII 0-127 as 4 bit words)
  | REP min max b0..b3 (greedy, one character) | LREP min max b0..b3 (lazy, one character)
  | SPLIT a b (try a, then b) | JMP a | SAVE slot | BEGIN | END | NOTAHEAD b0..b3
"""

from __future__ import annotations

import array
import importlib
import re
from typing import Any

# sre's own parse tree and its constants (private modules: no stubs)
_c: Any = importlib.import_module("re._constants")
_p: Any = importlib.import_module("re._parser")

MATCH, CHAR, SET, REP, LREP, SPLIT, JMP, SAVE, BEGIN, END, NOTAHEAD = range(11)
INF = 0x7FFFFFFF  # a repeat without an upper bound
_MAX_UNROLL = 8  # a counted repeat of a part is written out at most this many times

_DIGIT = frozenset(range(0x30, 0x3A))
_WORD = _DIGIT | frozenset(range(0x41, 0x5B)) | frozenset(range(0x61, 0x7B)) | {0x5F}
_SPACE = frozenset({0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20})
_ALL = frozenset(range(128))
_CATEGORIES = {
    _c.CATEGORY_DIGIT: _DIGIT, _c.CATEGORY_NOT_DIGIT: _ALL - _DIGIT,
    _c.CATEGORY_WORD: _WORD, _c.CATEGORY_NOT_WORD: _ALL - _WORD,
    _c.CATEGORY_SPACE: _SPACE, _c.CATEGORY_NOT_SPACE: _ALL - _SPACE,
}


class _Refused(Exception):
    """A construct the matcher does not walk."""


def _one_char(op: Any, av: Any, dotall: bool) -> frozenset[int] | None:
    """The ASCII characters one item matches, None when it is no single-character item (its
    matches outside ASCII do not count: the texts are ASCII)."""
    if op is _c.LITERAL:
        return frozenset({av}) if isinstance(av, int) and av < 128 else frozenset()
    if op is _c.NOT_LITERAL:
        return _ALL - {av}
    if op is _c.ANY:
        return _ALL if dotall else _ALL - {0x0A}
    if op is _c.IN:
        chars: set[int] = set()
        negate = False
        for iop, iav in av:
            if iop is _c.NEGATE:
                negate = True
            elif iop is _c.LITERAL:
                if iav < 128:
                    chars.add(iav)
            elif iop is _c.RANGE:
                lo, hi = iav
                chars.update(range(lo, min(hi, 127) + 1))
            elif iop is _c.CATEGORY and iav in _CATEGORIES:
                chars |= _CATEGORIES[iav]
            else:
                raise _Refused(f"set item {iop}")
        return frozenset(_ALL - chars if negate else chars)
    return None


def _bits(chars: frozenset[int]) -> list[int]:
    words = [0, 0, 0, 0]
    for ch in chars:
        words[ch >> 5] |= 1 << (ch & 31)
    return [w - (1 << 32) if w >= 1 << 31 else w for w in words]  # (as int32)


def _has_group(sub: Any) -> bool:
    for op, av in sub:
        if op is _c.SUBPATTERN and (av[0] is not None or _has_group(av[3])):
            return True
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT) and _has_group(av[2]):
            return True
        if op is _c.BRANCH and any(_has_group(b) for b in av[1]):
            return True
    return False


class _Emitter:
    def __init__(self, dotall: bool) -> None:
        self.code: list[int] = []
        self.dotall = dotall

    def seq(self, sub: Any) -> None:
        for op, av in sub:
            self.node(op, av)

    def node(self, op: Any, av: Any) -> None:
        code = self.code
        chars = _one_char(op, av, self.dotall)
        if chars is not None:
            if len(chars) == 1 and op is _c.LITERAL:
                code += [CHAR, next(iter(chars))]
            else:
                code += [SET, *_bits(chars)]
            return
        if op is _c.SUBPATTERN:
            gid, add, dele, body = av
            if add or dele:
                raise _Refused("inline flags")
            if gid is not None:
                code += [SAVE, 2 * gid]
            self.seq(body)
            if gid is not None:
                code += [SAVE, 2 * gid + 1]
            return
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
            lo, hi, body = av
            hi = INF if hi == _c.MAXREPEAT else hi
            if len(body) == 1:
                one = _one_char(body[0][0], body[0][1], self.dotall)
                if one is not None:
                    code += [REP if op is _c.MAX_REPEAT else LREP, lo, hi, *_bits(one)]
                    return
            if op is _c.MIN_REPEAT or hi == INF or hi > _MAX_UNROLL or (hi > 1 and _has_group(body)):
                raise _Refused("repeat of a part")
            for _ in range(lo):
                self.seq(body)
            splits: list[int] = []
            for _ in range(hi - lo):  # nested optionals (?:body(?:body)?)?: skipping one skips the rest
                splits.append(len(code))
                code += [SPLIT, len(code) + 3, 0]
                self.seq(body)
            for split in splits:
                code[split + 2] = len(code)
            return
        if op is _c.BRANCH:
            alts = av[1]
            jumps: list[int] = []
            for k, alt in enumerate(alts):
                if k < len(alts) - 1:
                    split = len(code)
                    code += [SPLIT, split + 3, 0]
                    self.seq(alt)
                    jumps.append(len(code))
                    code += [JMP, 0]
                    code[split + 2] = len(code)
                else:
                    self.seq(alt)
            for j in jumps:
                code[j + 1] = len(code)
            return
        if op is _c.AT:
            if av in (_c.AT_BEGINNING, _c.AT_BEGINNING_STRING):
                code.append(BEGIN)
            elif av in (_c.AT_END, _c.AT_END_STRING):
                code.append(END)  # (the texts hold no newline: `$` is the end)
            else:
                raise _Refused(f"at {av}")
            return
        if op is _c.ASSERT_NOT:
            direction, body = av
            one = None
            if direction == 1 and len(body) == 1:
                one = _one_char(body[0][0], body[0][1], self.dotall)
            if one is None:
                raise _Refused("lookaround")
            code += [NOTAHEAD, *_bits(one)]
            return
        raise _Refused(str(op))


def compile_program(rx: re.Pattern[str]) -> bytes | None:
    """`rx` as a program for _logfast_asa.c's matcher (int32 words), None when it holds a
    construct the matcher does not walk (or flags other than re.S)."""
    if not isinstance(rx.pattern, str) or rx.flags & ~(re.UNICODE | re.DOTALL):
        return None
    try:
        tree = _p.parse(rx.pattern, rx.flags)
        em = _Emitter(bool(rx.flags & re.DOTALL))
        em.seq(tree)
    except _Refused:
        return None
    em.code.append(MATCH)
    first = _first(em.code, 0, set())
    return array.array("i", [rx.groups, *_bits(_ALL if first is None else first), *em.code]).tobytes()


_WORDS = {MATCH: 1, CHAR: 2, SET: 5, REP: 7, LREP: 7, SPLIT: 3, JMP: 2, SAVE: 2, BEGIN: 1, END: 1,
          NOTAHEAD: 5}  # (an op's words, its code included)


def _first(code: list[int], pc: int, seen: set[int]) -> frozenset[int] | None:
    """The characters a match from `pc` can start with; None when it can match the empty text
    (or the walk is unsure). Why: a search then skips the starts no match can have (the
    AnyConnect prefix pattern starts with an optional part: no literal to find first)."""
    while True:
        if pc in seen:
            return None
        seen.add(pc)
        op = code[pc]
        if op == CHAR:
            return frozenset({code[pc + 1]})
        if op == SET or (op in (REP, LREP) and code[pc + 1] > 0):
            words = code[pc + 1:pc + 5] if op == SET else code[pc + 3:pc + 7]
            return frozenset(ch for ch in range(128) if (words[ch >> 5] >> (ch & 31)) & 1)
        if op in (REP, LREP):  # (none of it: what follows starts the match)
            words = code[pc + 3:pc + 7]
            one = frozenset(ch for ch in range(128) if (words[ch >> 5] >> (ch & 31)) & 1)
            rest = _first(code, pc + _WORDS[op], seen)
            return None if rest is None else one | rest
        if op == SPLIT:
            a, b = _first(code, code[pc + 1], seen), _first(code, code[pc + 2], seen)
            return None if a is None or b is None else a | b
        if op == JMP:
            pc = code[pc + 1]
        elif op in (SAVE, NOTAHEAD):
            pc += _WORDS[op]
        else:  # MATCH, BEGIN, END: possibly empty, or anchored
            return None


__all__ = ["compile_program"]
