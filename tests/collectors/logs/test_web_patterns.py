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


def _reading(line: str) -> tuple[object, ...] | None:
    p = web.parse_access(line, "nginx")
    if p is None:
        return None
    return (p.parser, p.services, p.categories, p.time, list(p.fields.items()),
            [type(v) for v in p.fields.values()])


HOSTS = ["rdp.acme.com", "mydomain:443", "-", "a:b:c", "x.example:8o", "1.2.3.4", "cafe", "(-)", "é.vn",
         "h\tx", "host:99999999999999999999", ""]


def test_the_vhost_split_reads_as_combined_did(monkeypatch: pytest.MonkeyPatch) -> None:
    """vhost_split (the rest by the common reading, C or regex) against _COMBINED alone: the same
    groups and the same Parsed on the samples, on `vhost sample` lines and on their mutations,
    with the C twins on and off."""
    from tests.collectors.logs.test_logfast_lines import _python_only

    samples = _samples()
    rnd = random.Random(32)
    lines = samples + [f"{rnd.choice(HOSTS)} {s}" for s in samples for _ in range(3)]
    lines += [_mutate(rnd, rnd.choice(lines)) for _ in range(cases(6000))]
    split = 0
    for line in lines:
        split += web.vhost_split(line) is not None
        got = (web.access_groups(line), _reading(line))
        with _python_only():
            got_py = (web.access_groups(line), _reading(line))
        monkeypatch.setattr(web, "VHOST_SPLIT", False)
        want = (web.access_groups(line), _reading(line))
        monkeypatch.setattr(web, "VHOST_SPLIT", True)
        assert got == want == got_py, line
    assert split > len(lines) // 3


def _nginx_reference(line: str, monkeypatch: pytest.MonkeyPatch) -> tuple[object, ...] | None:
    """parse_nginx_json as it was: the fields without the `nginx.<key>` copies (no scalar type),
    then those added one by one with setdefault."""
    import orjson

    with monkeypatch.context() as m:
        m.setattr(web, "_SCALARS", frozenset())
        p = web.parse_nginx_json(line)
    if p is None:
        return None
    for k, v in orjson.loads(line.strip()).items():
        if type(v) in (str, int, float, bool):
            p.fields.setdefault(f"nginx.{k}", v)
    return p.time, list(p.fields.items())


def test_nginx_json_fields_as_the_setdefault_loop_gave(monkeypatch: pytest.MonkeyPatch) -> None:
    samples = [s.strip() for s in _samples() if s.strip().startswith("{")]
    assert len(samples) >= 5
    keys = [k for ks in web._JSON_KEYS.values() for k in ks]
    keys += ["upstream_addr", "time_local", "timestamp", "nginx.remote_addr", "x", "c-ip", "nginx.x"]
    values: list[object] = [None, "", "-", "1.2.3.4", "1.2.3.4:80", "200", 200, 1.5, True, [1], {"a": 1},
                            "GET /a?b=%41 HTTP/1.1", "/x", "2020-06-04T11:17:10+02:00", "é"]
    rnd = random.Random(33)
    lines = samples + [
        json.dumps({rnd.choice(keys): rnd.choice(values) for _ in range(rnd.randint(1, 20))})
        for _ in range(cases(3000))
    ]
    for line in lines:
        p = web.parse_nginx_json(line)
        got = None if p is None else (p.time, list(p.fields.items()))
        assert got == _nginx_reference(line, monkeypatch), line
