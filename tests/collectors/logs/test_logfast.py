"""The C key=value splitter (_logfast.c) gives exactly what the regexes of parsers/base.py give:
the same pairs, values and key order, on every real sample line and on random lines built from
the characters its rules turn on (quotes, backslashes, `=`, `.`, `-`, `,`, the whitespace
str.isspace() knows, newlines); non-ASCII lines by the same walk over code points with the
regex's Unicode classes (kv_pairs_wide), on the samples and on random lines of other scripts."""

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


def test_non_ascii_lines_go_to_the_wide_walk() -> None:
    text = 'user="Nguyễn Văn A" srcip=10.0.0.1'
    assert logfast.kv_pairs(text, False) is None
    assert logfast.kv_pairs_wide(text, False) == {"user": "Nguyễn Văn A", "srcip": "10.0.0.1"}
    assert base.kv_pairs(text) == {"user": "Nguyễn Văn A", "srcip": "10.0.0.1"}


# characters whose Unicode classes the regex's \w, \s and `.` turn on: letters and digits of other
# scripts (\w: é, ệ, Arabic-Indic 3, superscript 2, Roman numeral, a title-case letter), spaces
# str.isspace() knows (no-break, em, line separator, \x85), marks that are neither, and the
# ASCII alphabet above
WIDE = [*ALPHABET, "é", "ệ", "Nguyễn", "٣", "²", "Ⅻ", "ǅ", "\u00a0", "\u2003", "\u2028", "\x85", "\u0301",
        "€", "\U0001f600", "ı", "_é", "é=", '"é', "\\é", "ß"]


@pytest.mark.parametrize("comma", [False, True])
def test_wide_lines_split_as_the_regex_does(comma: bool) -> None:
    rnd = random.Random(17)
    checked = 0
    for _ in range(20_000):
        text = "".join(rnd.choice(WIDE) for _ in range(rnd.randint(0, 40)))
        if text.isascii():
            continue
        checked += 1
        assert list(logfast.kv_pairs_wide(text, comma).items()) == _reference(text, comma), repr(text)
    assert checked > 15_000


def test_wide_sample_lines_split_the_same(shared_dir: Path) -> None:
    wide = [m for m in _sample_messages(shared_dir) if not m.isascii()]
    assert len(wide) >= 4
    for msg in wide:
        for comma in (False, True):
            assert list(logfast.kv_pairs_wide(msg, comma).items()) == _reference(msg, comma), (comma, msg)


def test_the_parsers_entry_points_use_it() -> None:
    line = 'date=2026-11-25 time=01:02:03 logid="0000000013" type="traffic" msg="a \\"b\\" c" x=1'
    assert base.kv_pairs(line) == dict(_reference(line, False))
    assert base.kv_pairs(line)["msg"] == 'a "b" c'
    comma = 'date=2026-11-25,time=01:02:03,devname="FG, 1",type=traffic'
    assert base.kv_pairs_comma(comma) == {"date": "2026-11-25", "time": "01:02:03", "devname": "FG, 1",
                                          "type": "traffic"}


CEF_ALPHABET = ['a', 'Z', '0', '_', '.', '[', ']', '-', '=', '\\', '|', 'n', 'r', ' ', '\t', '\n', '\x1c',
                '\x0c', '"', ',', 'src', 'act=', ' msg=', '\\=', '\\\\', '\\n', ' k=v w ']


def test_cef_extensions_split_the_same(shared_dir: Path) -> None:
    compared = 0
    for msg in _sample_messages(shared_dir):
        i = msg.find("CEF:")
        if i < 0:
            continue
        for cut in range(i, min(len(msg), i + 400), 7):  # from every kind of start, not only the ext
            text = msg[cut:]
            got = logfast.cef_extension(text)
            if got is None:
                assert not text.isascii()
                continue
            assert list(got.items()) == list(base.cef_extension(text).items()), text
            compared += 1
    assert compared > 500
    rnd = random.Random(17)
    for _ in range(20_000):
        text = "".join(rnd.choice(CEF_ALPHABET) for _ in range(rnd.randint(0, 40)))
        assert list(logfast.cef_extension(text).items()) == list(base.cef_extension(text).items()), repr(text)
    assert logfast.cef_extension("k=Nguyễn") is None


def _header_loop(msg: str) -> tuple[list[str], int] | None:
    """parse_cef's header walk, character by character (what its split fast path must equal)."""
    m = base._CEF_START.search(msg)
    if m is None:
        return None
    parts: list[str] = []
    cur: list[str] = []
    i, n = m.end(), len(msg)
    while i < n and len(parts) < 6:
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
    return (parts, i) if len(parts) == 6 else None


def test_cef_header_fast_path_equals_the_walk(shared_dir: Path) -> None:
    rnd = random.Random(18)
    lines = [m for m in _sample_messages(shared_dir) if "CEF:" in m]
    pieces = ["a", "|", "\\", "\\|", " ", "="]
    lines += ["CEF:0|" + "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 30)))
              for _ in range(20_000)]
    for msg in lines:
        walked = _header_loop(msg)
        got = base.parse_cef(msg)
        if walked is None:
            assert got is None, msg
            continue
        parts, i = walked
        if parts[0] == "":  # the doubled empty field: parse_cef shifts (checked by the parser tests)
            continue
        assert got is not None
        assert [got.vendor, got.product, got.version, got.signature, got.name, got.severity] == parts, msg
        assert got.ext == base.cef_extension(msg[i:]), msg


def test_json_lines_read_as_json_loads_does() -> None:
    """Palo Alto's and nginx's JSON parsers decode with orjson where orjson can (base.loads_json):
    the same objects as json.loads, and what orjson refuses still decided by json (NaN, 2**70, a
    lone surrogate; errors raise)."""
    import json

    from nocsoc.collectors.logs.parsers.base import loads_json as _loads

    docs = ['{"LogType": "TRAFFIC", "a": 1, "a": 2, "f": 0.1, "g": 1e-7, "h": 123456789.123456789}',
            '{"LogType": "X", "n": NaN, "big": 1180591620717411303424, "s": "\\ud800", "t": true}',
            '{"LogType": "X", "nested": {"k": [1, 2.5, null, "v\\u00e9"]}, "e": ""}']
    for d in docs:
        got, want = _loads(d), json.loads(d)
        assert repr(got) == repr(want) and list(got) == list(want), d
    for bad in ('{"LogType": ', "[1, 2", '{"a": 1} x'):
        with pytest.raises(ValueError):
            _loads(bad)


SPLIT_ALPHABET = ["SRC", "DST", "a", "Z", "1", "=", '"', "=1", " ", "  ", "\t", "\x1c", "\n", "[", ":", "-",
                  'x="y z"', "IN=eth0 ", "key=", '="', "é"]


@pytest.mark.parametrize(("module", "func"), [("firewall", "_pairs"), ("auditd", "_audit_pairs")])
def test_split_pairs_equal_the_python_loops(module: str, func: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    mod = importlib.import_module(f"nocsoc.collectors.logs.parsers.{module}")
    fn = getattr(mod, func)
    rnd = random.Random(19)
    texts = [f"[{i}.000] NOCSOC-DROP IN=eth0 OUT= SRC=203.0.113.{i % 250} DST=10.10.0.1 LEN=44 TOS=0x00 "
             f"TTL=49 ID={i} PROTO=TCP SPT={1024 + i} DPT=22 WINDOW=1024 RES=0x00 SYN URGP=0"
             for i in range(300)]
    texts += [f'arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid={i} auid=1000 uid=0 comm="bash" '
              f'exe="/usr/bin/bash" key="exec"' for i in range(300)]
    texts += ["".join(rnd.choice(SPLIT_ALPHABET) for _ in range(rnd.randint(0, 25))) for _ in range(20_000)]
    fast = [list(fn(t).items()) for t in texts]
    monkeypatch.setattr(mod, "_c_split_pairs", None)
    slow = [list(fn(t).items()) for t in texts]
    assert fast == slow
    assert logfast.split_pairs("SRC=1 x", 0) == {"SRC": "1"}
    assert logfast.split_pairs("SRC=1 Src=2", 0) is None  # the regex decides
    assert logfast.split_pairs('a=1 b="2" c', 1) is None
    assert logfast.split_pairs('a=1 b="2"', 1) == {"a": "1", "b": "2"}


HEADER_PIECES = ["Nov", "Jan", "Dec", "Fe", " ", "  ", "1", "25", "9", "01:02:03", "23:59:60", "0", ":",
                 "ICT ", "UTC ", "AB ", "ABCDEF ", "host", "h_1", "a.b-c", "_x", "%", "sshd", "[", "]",
                 "[123]", "[]",
                 "app[", "\t", "\x1c", "\n", "é", "Đ", "٣", "\u00a0", "\u2003", "x" * 48, "y" * 49, "p" * 33,
                 "h" * 254, "h" * 256]
HEADER_SEEDS = ["Nov 25 01:02:03 portal-web1 sshd[1234]: Failed password",
                "Nov  5 01:02:03 h app: x", "Nov 5 01:02:03 h app:x", "Dec 31 23:59:59 h a[]:",
                "Jan 01 00:00:00 ICT host app: x", "Feb 29 12:00:00 h1 %ASA-6-1: x",
                "Mar 3 03:03:03 h " + "a" * 48 + ": x", "Mar 3 03:03:03 h " + "a" * 49 + ": x",
                "Apr 4 04:04:04 " + "h" * 255 + " app: x", "Apr 4 04:04:04 " + "h" * 256 + " app: x",
                "May 5 05:05:05 h app[" + "1" * 32 + "]: x", "May 5 05:05:05 h app[" + "1" * 33 + "]: x",
                "Jun 6 06:06:06 h app[1 2]: x", "Jul 7 07:07:07 h app[1]x: y", "Aug 8 08:08:08 h Đ: x",
                "Sep 9 09:09:09 h app: Đăng nhập thất bại", "Oct 1٣ 01:02:03 h app: x",
                "Nov 25 01:02:03 h\u00a0x app: y", "Nov 25 01:02:03 ABCDEF app: y",
                "Nov 25 01:02:03 AB app: y"]


def test_syslog_header_equals_the_regex() -> None:
    """_logfast.bsd_header is syslog._FAST_3164.match: the same parts on a match, None where the
    regex does not match, False (the regex decides) only where the text is not ASCII."""
    from nocsoc.collectors.logs import syslog

    rnd = random.Random(20)
    lines = list(HEADER_SEEDS)
    for _ in range(40_000):
        seed = rnd.choice(HEADER_SEEDS)
        if rnd.random() < 0.5:  # a seed with a piece spliced in, or cut short
            k = rnd.randint(0, len(seed))
            piece = rnd.choice(HEADER_PIECES) if rnd.random() < 0.8 else ""
            seed = seed[:k] + piece + seed[k + rnd.randint(0, 3):]
        else:
            seed = "".join(rnd.choice(HEADER_PIECES) for _ in range(rnd.randint(1, 14)))
        lines.append(seed)
    matched = 0
    for line in lines:
        for pos in (0, 1, 4):
            got = logfast.bsd_header(line, pos)
            want = syslog.match_3164(line, pos)
            if got is False:
                assert not line.isascii(), line
                continue
            assert got == want, (line, pos)
            matched += want is not None
    assert matched > 3_000
    assert logfast.bsd_header("Sep 9 09:09:09 h app: Đăng nhập", 0) == (9, 9, 9, 9, 9, "h", "app", None, 22)
    assert logfast.bsd_header("Aug 8 08:08:08 h Đ: x", 0) is False


ACCESS_SEEDS = ['198.51.100.3 - - [25/Nov/2026:01:02:03 +0700] "GET /a?b=c HTTP/1.1" 200 123 "-" "curl/8"',
                '::1 - bob [10/Oct/2000:13:55:36 -0700] "GET /x.gif HTTP/1.0" 200 - 7 "http://r/" '
                '"UA \\"q\\""',
                '1.2.3.4 - - [x] "GET / HTTP/1.1" 404 0', '1.2.3.4 a b [t] "" 200 5 "r"',
                'cafe - - [t] "\\\\" 301 12 "a" "b" extra', '1.2.3.4 - - [t] "a\\\nb" 200 1',
                'vhost:80 1.2.3.4 - - [t] "GET / HTTP/1.1" 200 1 "-" "-"']
ACCESS_PIECES = ["1.2.3.4", "::1", " ", "-", "[", "]", '"', '\\"', "\\", "\n", "\t", "200", "20", "2000", "5",
                 "٣", "é", "\u00a0", "GET /x HTTP/1.1", "bob", "cafe", "x y", '" "', "-7"]


def test_access_lines_match_as_the_regex(shared_dir: Path) -> None:
    """_logfast.access_common is web._COMMON.match: the same groups on a match, None where it
    does not match, False (the regex decides) only on non-ASCII text."""
    from nocsoc.collectors.logs.parsers import web

    rnd = random.Random(21)
    lines = ACCESS_SEEDS + [m for m in _sample_messages(shared_dir) if m[:1].isdigit() or m[:1] == ":"]
    for _ in range(40_000):
        seed = rnd.choice(ACCESS_SEEDS)
        for _ in range(rnd.randint(1, 3)):
            k = rnd.randint(0, len(seed))
            seed = seed[:k] + rnd.choice(ACCESS_PIECES) + seed[k + rnd.randint(0, 4):]
        lines.append(seed)
    matched = 0
    for line in lines:
        got = logfast.access_common(line)
        m = web._COMMON.match(line)
        if got is False:
            assert not line.isascii(), line
            continue
        assert got == (None if m is None else m.group(*web._GROUPS)), line
        matched += m is not None
    assert matched > 5_000
    want = ("1.2.3.4", "-", "200", "1", "é", None, "", "t", None)
    assert logfast.access_common('1.2.3.4 - - [t] "é" 200 1') == want
    assert logfast.access_common('1.2.3.4 - - [t] "GET" ٢00 1') is False
