"""A JSON line decoded once (issue 16, speed): ruletest.parse_lines decodes a `{` line to test it
for a Windows document and hands the object on (base.hand_on_json), so Palo Alto's JSON parser
takes it rather than decoding the same text again. The events must be exactly those of the
previous reading (documents.windows_line, then LineParser.events on its own decode): every slot,
field order and value type, on SEKOIA's real JSON lines of every format and on JSON near misses."""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Any
from unittest import mock

import orjson
import pytest

from nocsoc.collectors.logs.parsers import LineParser, base
from nocsoc.collectors.logs.ruletest import parse_lines
from nocsoc.collectors.windows.documents import windows_line
from nocsoc.collectors.windows.report import InputReport
from nocsoc.events import LogEvent
from tests.collectors.logs.golden import FORMATS, NOW, cases
from tests.conftest import SHARED

CLOCK = 1_795_568_523.25  # the receive clock both readings see (lines without their own time)


def _slots(e: LogEvent) -> tuple[Any, ...]:
    return (e.raw, e.host, e.parser, e.product, e.services, e.categories, e.source, e.route_key,
            list(e.fields.items()), [type(v) for v in e.fields.values()], e.time, type(e.time))


def _before(lines: list[str], parser: LineParser) -> Iterator[LogEvent]:
    """parse_lines as it read `{` lines before the handoff (at a fixed `now`: no C reader)."""
    windows = InputReport("rule test")
    for line in lines:
        line = line.rstrip("\r\n")
        if not line:
            continue
        if line.startswith("{"):
            ev = windows_line(line, windows, "file")
            if ev is not None:
                yield ev
                continue
        yield from parser.events(line, source="file", now=NOW)


def _json_lines() -> list[str]:
    """Every real JSON line: the golden cases' (Palo Alto, nginx, ...) and the Windows documents."""
    root = SHARED / "log-samples"
    if not (root / "sekoia").is_dir():
        pytest.skip(f"{root}/sekoia not present (shared material sits beside the project)")
    lines = [c.line for fmt in FORMATS if (root / "sekoia" / fmt).is_dir()
             for c in cases(root, fmt) if c.line.startswith("{")]
    for f in sorted((root / "sekoia" / "windows").glob("*.json")):
        msg = str(orjson.loads(f.read_bytes())["input"]["message"])
        if msg.startswith("{") and "\n" not in msg:
            lines.append(msg)
    assert any('"LogType"' in x for x in lines) and any("EventID" in x for x in lines)
    return lines


def _near_misses(lines: list[str]) -> list[str]:
    """JSON lines the parsers must refuse or read the same way: cut short, orjson's refusals
    (which Palo Alto's json fallback decides), a trailing space, other JSON values, a repeat of
    the very same str object (a taken object is never handed out twice)."""
    pa = next(x for x in lines if '"LogType"' in x)
    return [pa[: len(pa) // 2], pa[:-1] + ', "n": NaN}', pa[:-1] + ', "big": 123456789012345678901234567890}',
            pa + " ", pa, pa, '{"LogType": "TRAFFIC"}', '{"LogType": 1}', "{}", "{", '{"a": [1, 2]}',
            '{"LogType": "SYSTEM", "Subtype": "auth", "x": {"y": 1}}']


def test_parse_lines_reads_json_lines_as_before() -> None:
    lines = _json_lines()
    lines += _near_misses(lines)
    with mock.patch("time.time", return_value=CLOCK):
        got = [_slots(e) for e in parse_lines(lines, LineParser(default_host="h"), now=NOW)]
        want = [_slots(e) for e in _before(lines, LineParser(default_host="h"))]
    assert len(got) == len(want) == len(lines)
    for g, w in zip(got, want, strict=True):
        assert g == w
    assert base._HANDED == [None, None]  # nothing kept after the lines


def test_palo_alto_json_is_decoded_once() -> None:
    """The reference decodes each Palo Alto JSON line in its parser; parse_lines never does."""
    lines = [x for x in _json_lines() if '"LogType"' in x]
    calls: list[str] = []

    def loads(text: str) -> Any:
        calls.append(text)
        return orjson.loads(text)

    counting = types.SimpleNamespace(loads=loads, JSONDecodeError=orjson.JSONDecodeError)
    with mock.patch.object(base, "orjson", counting):
        before = [e.parser for e in _before(lines, LineParser(default_host="h"))]
        assert len(calls) == len(lines)
        calls.clear()
        after = [e.parser for e in parse_lines(lines, LineParser(default_host="h"), now=NOW)]
    assert calls == []
    assert after == before and set(after) == {"paloalto"}


def test_the_handoff_is_by_identity_and_taken_once() -> None:
    text = '{"LogType": "TRAFFIC"}'
    obj = orjson.loads(text)
    base.hand_on_json(text, obj)
    assert base.take_json("".join(['{"LogType": ', '"TRAFFIC"}'])) is None  # equal text, not it
    assert base.take_json(text) is obj
    assert base.take_json(text) is None
    base.hand_on_json(text, obj)
    base.hand_on_json(text, None)
    assert base.take_json(text) is None
