"""The C key=value splitter (_logfast.c) gives exactly what the regexes of parsers/base.py give:
the same pairs, values and key order, on every real sample line and on random lines built from
the characters its rules turn on (quotes, backslashes, `=`, `.`, `-`, `,`, the whitespace
str.isspace() knows, newlines); non-ASCII lines are left to the regexes (None)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from nocsoc.collectors.logs.parsers import base

logfast = pytest.importorskip("nocsoc.collectors.logs._logfast",
                              reason="C accelerator not built (tests/test_speedups.py says so)")


def _reference(text: str, comma: bool) -> list[tuple[str, str]]:
    return list(base._kv_unquoted(base._KV_COMMA if comma else base._KV, text).items())


def _c(text: str, comma: bool) -> list[tuple[str, str]] | None:
    got = logfast.kv_pairs(text, comma)
    return None if got is None else list(got.items())


def _sample_messages(shared: Path) -> list[str]:
    out = []
    for f in sorted((shared / "log-samples" / "sekoia").rglob("*.json")):
        msg = json.loads(f.read_text(encoding="utf-8")).get("input", {}).get("message")
        if isinstance(msg, str):
            out.append(msg)
    return out


def test_real_sample_lines_split_the_same(shared_dir: Path) -> None:
    msgs = _sample_messages(shared_dir)
    assert len(msgs) > 600
    ascii_lines = 0
    for msg in msgs:
        for comma in (False, True):
            got = _c(msg, comma)
            if got is None:
                assert not msg.isascii()
                continue
            ascii_lines += 1
            assert got == _reference(msg, comma), (comma, msg)
    assert ascii_lines > 1000  # both variants of nearly every line compared


ALPHABET = ['a', 'B', 'z', '_', '0', '9', '=', '"', '\\', '.', '-', ',', ' ', '\t', '\n', '\x0b', '\x1c',
            '\x1f', '\x00', ':', '[', 'key', 'srcip', '="', '\\"', '=""', 'x=', ' k="v w" ']


@pytest.mark.parametrize("comma", [False, True])
def test_random_lines_split_the_same(comma: bool) -> None:
    rnd = random.Random(16)
    for _ in range(20_000):
        text = "".join(rnd.choice(ALPHABET) for _ in range(rnd.randint(0, 40)))
        assert _c(text, comma) == _reference(text, comma), repr(text)


def test_non_ascii_lines_go_to_the_regex() -> None:
    text = 'user="Nguyễn Văn A" srcip=10.0.0.1'
    assert logfast.kv_pairs(text, False) is None
    assert base.kv_pairs(text) == {"user": "Nguyễn Văn A", "srcip": "10.0.0.1"}


def test_the_parsers_entry_points_use_it() -> None:
    line = 'date=2026-11-25 time=01:02:03 logid="0000000013" type="traffic" msg="a \\"b\\" c" x=1'
    assert base.kv_pairs(line) == dict(_reference(line, False))
    assert base.kv_pairs(line)["msg"] == 'a "b" c'
    comma = 'date=2026-11-25,time=01:02:03,devname="FG, 1",type=traffic'
    assert base.kv_pairs_comma(comma) == {"date": "2026-11-25", "time": "01:02:03", "devname": "FG, 1",
                                          "type": "traffic"}
