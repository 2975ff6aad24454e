"""rxprog's programs walked in C (_logfast_asa.c: rx_search) find what `re` finds, which stays the
reference: the same groups (spans as strings, None for a group that took no part) or the same
"no match", for every cisco_asa pattern on the format's samples, on generated ASA lines and on
mutations of them; and for patterns written to exercise the walk's order (greedy and lazy
repeats, optional parts with groups and a failing tail, alternatives, anchors, the lookahead)
on every short text of a small alphabet. The constructs the walk does not take are refused."""

from __future__ import annotations

import functools
import itertools
import random
import re

import pytest

from nocsoc.collectors.logs.parsers import cisco_asa, cisco_ios
from nocsoc.collectors.logs.rxprog import compile_program
from tests.collectors.logs.test_logfast_asa import _asa_line, _samples
from tests.collectors.logs.test_logfast_fw import mutate

logfast = pytest.importorskip(
    "nocsoc.collectors.logs._logfast", reason="C accelerator not built (tests/test_speedups.py says so)"
)

ASA_PATTERNS = [rx for rx, _ in cisco_asa._COMPILED.values()] + [cisco_asa._GROUP]
# (more real patterns: more shapes of the walk checked against re)
OTHER_PATTERNS = [rx for _, rx in cisco_ios._EXTRACT] + [cisco_asa._ASSIGNED, cisco_asa._FTD_KV,
                                                          cisco_ios._IFACE]


@functools.cache
def _prog(rx: re.Pattern[str]) -> bytes:
    prog = compile_program(rx)
    assert prog is not None, rx.pattern
    return prog


def _same(rx: re.Pattern[str], text: str) -> bool:
    """Whether the C walk agrees with re on text (True too where C declines: False)."""
    got = logfast.rx_search(_prog(rx), text)
    if got is False:
        return True
    m = rx.search(text)
    want = None if m is None else m.groups()
    assert got == want, (rx.pattern, text)
    return True


def _texts(lines: list[str]) -> list[str]:
    """The lines and their texts after the tag (what asa_line searches)."""
    out = []
    for line in lines:
        out.append(line)
        m = cisco_asa._TAG.search(line)
        if m is not None:
            out.append(m["text"])
    return out


def test_every_asa_pattern_compiles() -> None:
    assert all(compile_program(rx) is not None for rx in ASA_PATTERNS)


def test_asa_patterns_on_samples_and_generated_lines() -> None:
    rnd = random.Random(31)
    lines = _samples() + [_asa_line(rnd) for _ in range(1500)]
    texts = [t for t in _texts(lines) if t.isascii() and t.isprintable()]
    for rx in ASA_PATTERNS + [p for p in OTHER_PATTERNS if compile_program(p) is not None]:
        for text in texts:
            _same(rx, text)


def test_asa_patterns_on_mutated_lines() -> None:
    rnd = random.Random(32)
    base = _samples() + [_asa_line(rnd) for _ in range(400)]
    texts = _texts([mutate(rnd, rnd.choice(base)) for _ in range(800)])
    for rx in ASA_PATTERNS:
        for text in texts:
            if len(text) < 5000:
                _same(rx, text)


TRICKY = [
    r"(?:(?P<a>[A-Za-z_][^\s:/]*):)?(?P<b>\d+)(?:/(?P<c>\d+))?(?:\((?P<d>[^)]*)\))? x",
    r"(?:(?P<a>a+)b)?ab",
    r"(?P<a>a*)(?P<b>a*?)b",
    r"(?P<a>a|ab)(?P<b>c|bcd)(?P<c>d*)",
    r"(?:a|(?P<x>b))?c",
    r"^a(?P<x>b)?$",
    r"(?P<x>\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*[0-9A-Fa-f])(?::(?P<p>\d+))?",
    r"a{2,4}(?P<x>b{0,2})a",
    r"(?:ab){0,2}(?P<x>a)",
    r"\d(?!\d)(?P<r>.*)",
    r"(?P<x>[^a]+)a\Z",
    r"(?P<x>.*?)(?P<y>a+)(?P<z>.*)",
    r"(?:x(?P<a>\w+)|(?P<b>\w+)y) ?",
]


@pytest.mark.parametrize("pattern", TRICKY)
def test_the_walk_keeps_re_order_on_every_short_text(pattern: str) -> None:
    rx = re.compile(pattern)
    assert compile_program(rx) is not None
    alphabet = "ab1:(x "
    for size in range(6):
        for chars in itertools.product(alphabet, repeat=size):
            _same(rx, "".join(chars))
    rnd = random.Random(33)
    for _ in range(3000):
        _same(rx, "".join(rnd.choice("abcdxy019:./() ") for _ in range(rnd.randint(0, 30))))


@pytest.mark.parametrize("pattern", [r"(a)\1", r"(?=a)b", r"(?<=a)b", r"(?:ab)*c", r"(?:ab)+?c",
                                     r"(?i)a", r"(?:(a)b){2}", r"\bab"])
def test_constructs_outside_the_subset_are_refused(pattern: str) -> None:
    assert compile_program(re.compile(pattern)) is None
    assert compile_program(re.compile("a", re.I)) is None


def test_a_malformed_program_is_an_error() -> None:
    prog = compile_program(re.compile(r"(?P<x>a)b"))
    assert prog is not None
    for bad in (b"", prog[:-4], prog[:20] + (99).to_bytes(4, "little") + prog[24:], b"\x01\x00\x00"):
        with pytest.raises(ValueError):
            logfast.rx_search(bad, "ab")
    assert logfast.rx_search(prog, "xab") == ("a",)
    assert logfast.rx_search(prog, "a\tb") is False  # (not printable: the caller asks re)


def test_a_walk_past_its_budget_gives_up() -> None:
    """A pattern whose backtracking explodes is left to re (False), never walked for long."""
    rx = re.compile(r"(?:a?){8}a{8}b")
    prog = compile_program(rx)
    assert prog is not None
    assert logfast.rx_search(prog, "a" * 5000) is False
