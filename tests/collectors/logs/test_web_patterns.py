"""web.py's patterns with the double-quoted field unrolled (`[^"\\]*(?:\\.[^"\\]*)*`) match exactly
what the alternation they replaced (`(?:[^"\\]|\\.)*`, kept here as the reference) matched: the
same match or none, the same groups, on every SEKOIA access and error sample and on thousands of
mutations rich in what the two forms treat differently inside (quotes, backslashes, newlines)."""

from __future__ import annotations

import json
import random
import re

import pytest

from nocsoc.collectors.logs.parsers import web
from tests.conftest import SHARED
from tests.scale import cases

_ALTERNATION = r'(?:[^"\\]|\\.)*'
PAIRS = [
    (web._COMMON, re.compile(web._COMMON.pattern.replace(web._QUOTED, _ALTERNATION))),
    (web._COMBINED, re.compile(web._COMBINED.pattern.replace(web._QUOTED, _ALTERNATION))),
    (web._NGINX_KV, re.compile(web._NGINX_KV.pattern.replace(web._QUOTED, _ALTERNATION))),
]
ODD = ['"', '\\"', "\\", "\\\\", "\n", '\\\n', '" "', "- ", " [", "] ", "é", "\x00", ", client: ", '"-" ']


def _samples() -> list[str]:
    root = SHARED / "log-samples" / "sekoia"
    if not root.is_dir():
        pytest.skip(f"{root} not present (set NOCSOC_SHARED_DIR)")
    return [
        str(json.loads(f.read_text(encoding="utf-8"))["input"]["message"])
        for fmt in ("apache", "nginx", "microsoft-iis")
        for f in sorted((root / fmt).glob("*.json"))
    ]


def _mutate(rnd: random.Random, line: str) -> str:
    for _ in range(rnd.randint(1, 4)):
        pos = rnd.randint(0, len(line))
        k = rnd.random()
        if k < 0.7:
            line = line[:pos] + rnd.choice(ODD) + line[pos:]
        elif k < 0.85:
            line = line[:pos] + line[pos + rnd.randint(1, 5):]
        else:
            line = line[:pos]
    return line


def _same(new: re.Pattern[str], old: re.Pattern[str], line: str) -> None:
    a, b = new.match(line), old.match(line)
    assert (a and (a.span(), a.groups())) == (b and (b.span(), b.groups())), (new.pattern[:40], line)
    assert new.findall(line) == old.findall(line), (new.pattern[:40], line)


def test_the_unrolled_fields_match_as_the_alternation_did() -> None:
    samples = _samples()
    assert len(samples) >= 25
    for new, old in PAIRS:
        assert new.pattern != old.pattern
        for line in samples:
            _same(new, old, line)
    rnd = random.Random(31)
    for _ in range(cases(6000)):
        line = _mutate(rnd, rnd.choice(samples))
        for new, old in PAIRS:
            _same(new, old, line)
