"""The one-pass C reading of a record's JSON text (_winfast.record_fields, and its lazily built
twin record_fields_lazy) gives exactly what the reference gives,
`fields.flatten_record_py(orjson.loads(text))`: the same names, values, value types and key
order, or None where it leaves the text to that reference (which then maps it or refuses it).
Checked on every record of SigmaHQ's regression .evtx files, on SigmaHQ's own JSON renderings
written three ways, on random mutations of the documents and of the text itself, and on
hand-made cases for each rule the C code follows; and read_evtx gives the same events with and
without it."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from nocsoc.collectors.windows import evtx as evtx_mod
from nocsoc.collectors.windows import fields
from nocsoc.collectors.windows.fields import NotAnEvent, flatten_record_py
from nocsoc.collectors.windows.report import InputReport
from tests.collectors.windows.conftest import json_docs
from tests.collectors.windows.lazyfields import assert_reads_equal
from tests.collectors.windows.test_winfast import _mutate
from tests.conftest import SHARED

winfast = pytest.importorskip("nocsoc.collectors.windows._winfast",
                              reason="C accelerator not built (tests/test_speedups.py says so)")

REGRESSION = SHARED / "sigmahq" / "regression_data"
REFUSED = "refused"


def _typed(d: dict[str, Any]) -> list[tuple[str, type, Any]]:
    """Items with their types: 1 == True == 1.0 in Python, not in a Sigma match."""
    return [(k, type(v), v) for k, v in d.items()]


def _reference(text: str) -> list[tuple[str, type, Any]] | str:
    try:
        return _typed(flatten_record_py(orjson.loads(text)))
    except (orjson.JSONDecodeError, NotAnEvent):
        return REFUSED


def _c(text: str) -> dict[str, Any] | None:
    """record_fields' answer, after checking record_fields_lazy's: None where it is None, else
    a Fields reading as its dict does (tests/collectors/windows/lazyfields.py)."""
    out: dict[str, Any] | None = winfast.record_fields(fields._ATTRS_BY_ELEMENT, text)
    lazy = winfast.record_fields_lazy(fields._ATTRS_BY_ELEMENT, text)
    if out is None:
        assert lazy is None, text
    else:
        assert_reads_equal(lazy, out)
    return out


def _check(text: str) -> bool:
    """True when the C code answered (and equals the reference), False when it declined."""
    got = _c(text)
    if got is None:
        return False
    assert _typed(got) == _reference(text), text
    return True


@pytest.fixture(scope="module")
def records() -> list[str]:
    from evtx import PyEvtxParser

    if not REGRESSION.is_dir():
        pytest.skip(f"{REGRESSION} not present")
    out = [str(r["data"]) for f in sorted(REGRESSION.rglob("*.evtx"))  # type: ignore[index]
           for r in PyEvtxParser(str(f), number_of_threads=1).records_json()]
    assert len(out) == 238
    return out


@pytest.fixture(scope="module")
def documents(records: list[str]) -> list[dict[str, Any]]:
    return [orjson.loads(r) for r in records] + [d for f in sorted(REGRESSION.rglob("*.json"))
                                                 for d in json_docs(f)]


def test_every_regression_record_reads_the_same(records: list[str]) -> None:
    # all of them answered in C: UserData's wrapper elements and Defender's names with spaces too
    assert sum(_check(r) for r in records) == 238
    kinds = {max(map(ord, r), default=0) > 0xFF for r in records}
    assert kinds == {False, True}  # 1-byte strs (read in place) and wider ones (through UTF-8)
    assert any(not r.isascii() and max(map(ord, r)) <= 0xFF for r in records)  # Latin-1 ones


def test_sigmahq_renderings_read_the_same(documents: list[dict[str, Any]]) -> None:
    answered = 0
    for doc in documents:
        for text in (orjson.dumps(doc).decode(), json.dumps(doc),
                     json.dumps(doc, indent=1, ensure_ascii=False)):
            answered += _check(text)
    assert answered == 3 * len(documents)


def test_mutated_documents_read_the_same(documents: list[dict[str, Any]]) -> None:
    rnd = random.Random(20261207)
    answered = declined = 0
    for _ in range(6):
        for base in documents:
            doc = _mutate(base, rnd)
            text = json.dumps(doc, ensure_ascii=rnd.random() < 0.5)
            if _check(text):
                answered += 1
            else:
                declined += 1
                # what the C code leaves, the reference still reads (or refuses) as before
                fields_or_refused = _reference(text)
                assert fields_or_refused == REFUSED or isinstance(fields_or_refused, list)
    assert answered > 500 and declined > 500  # both paths exercised


_INSERTS = ['"', "\\", "{", "}", "[", "]", ",", ":", "0", "-", "e", ".", " ", "\x00", "\x1f", "é",
            "\ud800", "\U0001f600", "\\u", "\\ud800", "\\udc00", "null", "1e999", "99999999999999999999",
            '"#text":1,', '"EventID":1,', '"System":{},']


def test_mutated_text_reads_the_same_or_is_declined(records: list[str]) -> None:
    rnd = random.Random(7)
    answered = declined = 0
    for _ in range(12):
        for base in records:
            text = base
            for _ in range(rnd.randint(1, 3)):
                at = rnd.randrange(len(text) + 1)
                r = rnd.random()
                if r < 0.4:
                    text = text[:at] + rnd.choice(_INSERTS) + text[at + 1:]
                elif r < 0.6:
                    text = text[:at] + rnd.choice(_INSERTS) + text[at:]
                elif r < 0.8:
                    text = text[:at] + text[at + rnd.randint(1, 40):]
                elif r < 0.9:
                    text = text[:at]
                else:
                    span = text[at:at + rnd.randint(1, 80)]
                    text = text[:at] + span + text[at:]
            if _check(text):
                answered += 1
            else:
                declined += 1
    assert answered > 200 and declined > 1000


def _record(system: str = '"EventID":4624,"Channel":"Security"', rest: str = "") -> str:
    return '{"Event":{"System":{' + system + "}" + rest + "}}"


@pytest.mark.parametrize("text", [
    _record(),
    _record(rest=',"EventData":{"A":"1","B C":2,"#attributes":{"Name":"x"},"W":{"X":null,"Y":1.5}}'),
    _record(rest=',"EventData":null,"UserData":{"Wrap":{"#attributes":{"xmlns":"u"},"Z":true}}'),
    _record('"EventID":{"#attributes":{"Qualifiers":16384},"#text":7045},"Security":null'),
    _record('"EventID":1,"Provider":{"#text":"t","#attributes":{"Name":"P","Guid":"{G}","Other":[1]}}'),
    _record('"EventID":1,"Execution":{"#attributes":{"ProcessID":4,"ThreadID":8}},"TimeCreated":{}'),
    _record('"EventID":-9223372036854775808,"Task":18446744073709551615,"Level":-0,"Keywords":1E2'),
    _record('"EventID":1,"Computer":"a\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\u20ac\\ud83d\\ude00"'),
    _record('"EventID":1,"Computer":"\u00ae\u00e9"'),  # Latin-1, read in place
    _record('"EventID":1,"Computer":"\u00ae\\u20ac"'),  # Latin-1 with an escape beyond it
    _record('"EventID":1,"Computer":"\u20ac\U0001f600"'),  # wider strs, through UTF-8
    ' \n{ "Event" : { "System" : { "EventID" : 1 } , "EventData" : { "A" : [ ] } } } \n',
    '{"x":[1,{"y":"z"}],"Event":{"RenderingInfo":{"Message":"m"},"System":{"EventID":1}}}',
    _record(rest=',"EventData":{"Channel":"from data","EventID":"5"}'),  # data overrides System
])
def test_hand_made_records(text: str) -> None:
    got = _c(text)
    want = _reference(text)
    if "[ ]" in text:  # a list in EventData: left to the reference
        assert got is None and isinstance(want, list)
    else:
        assert got is not None and _typed(got) == want


@pytest.mark.parametrize("text", [
    _record('"EventID":1,"EventID":2'),  # a repeated name: orjson keeps the last
    _record('"EventID":1,"Level":5,"Level":null'),
    '{"Event":{"System":{"EventID":1}},"Event":{"System":{"EventID":2}}}',
    _record('"EventID":1', ',"EventData":{"A":1,"A":{"B":2}}'),
    _record('"Event\\u0049D":1'),  # a name with an escape: maybe a repeat in disguise
    _record('"EventID":"4624"'),  # the reference converts it
    _record('"EventID":true'),  # the reference refuses it
    _record('"Channel":"x"'),  # no EventID: refused
    '{"Event":{"EventData":{"A":1},"System":{"EventID":1}}}',  # EventData first: the order differs
    _record('"EventID":1', ',"UserData":{"A":1},"EventData":{"B":2}'),
    _record('"EventID":1', ',"EventData":{"#text":"t"}'),
    _record('"EventID":1', ',"EventData":{"W":{"#text":"t"}}'),
    _record('"EventID":1', ',"EventData":"text"'),
    _record('"EventID":1,"Keywords":["a"]'),
    _record('"EventID":1,"Provider":{"#attributes":{"Name":{"x":1}}}'),
    _record('"EventID":1,"Provider":{"#text":[1,2]}'),
    _record('"EventID":1,"Task":18446744073709551616'),  # beyond 64 bits: orjson makes a float
    _record('"EventID":1,"Task":-9223372036854775809'),
    _record('"EventID":1,"Task":1e999'),
    _record('"EventID":1,"Task":01'),
    _record('"EventID":1,"Task":1.'),
    _record('"EventID":1,"Task":-'),
    _record('"EventID":1,"Computer":"\\ud800"'),
    _record('"EventID":1,"Computer":"\\udc00\\ud800"'),
    _record('"EventID":1,"Computer":"\\x"'),
    _record('"EventID":1,"Computer":"a\tb"'),  # a raw control character
    _record('"EventID":1,"Computer":"\ud800"'),  # a lone surrogate in the str itself
    _record('"EventID":1') + "x",
    _record('"EventID":1')[:-1],
    '{"Event":[]}', '{"Event":{"System":null}}', '{"NotEvent":{}}', "[]", "", "nul",
    '{"Event":{"System":{"EventID":1}' + ',"X":[' * 100 + "]" * 100 + "}}",  # deeper than the limit
])
def test_hand_made_declines(text: str) -> None:
    assert _c(text) is None
    _reference(text)  # the reference reads or refuses it, without crashing


def test_many_names_in_one_object_are_declined_not_overflowed() -> None:
    many = ",".join(f'"N{i}":{i}' for i in range(129))  # beyond MAX_KEYS
    assert _c(_record('"EventID":1', ',"EventData":{' + many + "}")) is None
    some = ",".join(f'"N{i}":{i}' for i in range(128))
    assert _check(_record('"EventID":1', ',"EventData":{' + some + "}"))
    # nesting in EventData: up to MAX_DATA_DEPTH levels read in C, deeper ones left
    nested = ',"EventData":' + '{"W":' * 8 + '{"A":1}' + "}" * 8
    assert _check(_record('"EventID":1', nested))
    nested = ',"EventData":' + '{"W":' * 9 + '{"A":1}' + "}" * 9
    assert _c(_record('"EventID":1', nested)) is None
    assert isinstance(_reference(_record('"EventID":1', nested)), list)


@pytest.mark.parametrize("name", ["record_fields", "record_fields_lazy"])
def test_bad_arguments_raise_type_error(name: str) -> None:
    fn = getattr(winfast, name)
    with pytest.raises(TypeError):
        fn(fields._ATTRS_BY_ELEMENT, b"{}")
    with pytest.raises(TypeError):
        fn(None, "{}")
    with pytest.raises(TypeError):
        fn("{}")


def test_read_evtx_gives_the_same_events_with_and_without_it(
        records: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    files = sorted(REGRESSION.rglob("*.evtx"))

    def read_all() -> tuple[list[Any], list[Any]]:
        events, reports = [], []
        for f in files:
            rep = InputReport(f.name)
            events += [(ev.to_dict(), ev.route_key, [type(v) for v in ev.fields.values()])
                       for ev in evtx_mod.read_evtx(f, rep, threads=1)]
            reports.append(vars(rep))
        return events, reports

    with_c = read_all()
    monkeypatch.setattr(evtx_mod, "record_fields", lambda text: None)
    without = read_all()
    assert len(with_c[0]) == 238
    assert with_c == without


def test_large_inputs(records: list[str]) -> None:
    # long values (beyond the stack buffers and the value cache), escapes in them
    long_value = "x\\\\" * 3000 + "\\u00e9" * 200
    assert _check(_record('"EventID":1', ',"EventData":{"Long":"' + long_value + '","S p":"'
                          + "y" * 70 + '"}'))
    long_name = "N" * 300
    assert _check(_record('"EventID":1', ',"EventData":{"' + long_name + '":1,"' + "M " * 200 + '":2}'))
    assert _check(_record('"EventID":1,"Computer":"' + "\u00e9\\n" * 400 + '"'))  # Latin-1 escapes


def _time_reference(text: str) -> float | None:
    """fields.system_time's Python path."""
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()


def _time_text(rnd: random.Random) -> str:
    year = rnd.choice([1, 1600, 1684, 1685, 1900, 1969, 1970, 2000, 2024, 2026, 2100, 2255, 2256, 9999])
    s = (f"{year:04d}-{rnd.randint(0, 13):02d}-{rnd.choice([1, 28, 29, 30, 31, 32, rnd.randint(0, 31)]):02d}"
         f"T{rnd.randint(0, 24):02d}:{rnd.randint(0, 60):02d}:{rnd.randint(0, 60):02d}")
    if rnd.random() < 0.8:
        s += "." + str(rnd.randint(0, 10**10)).zfill(11)[:rnd.randint(0, 11)]
    s += rnd.choice(["Z", "Z", "Z", "", "+00:00", "z"])
    if rnd.random() < 0.1:
        i = rnd.randrange(len(s))
        s = s[:i] + rnd.choice("-:.TZ+0٣x é") + s[i + 1:]
    return s


def test_epoch_equals_fromisoformat(records: list[str]) -> None:
    times = [f["SystemTime"] for r in records if (f := _c(r)) is not None]
    assert len(times) == 238
    for st in times:  # every real record's time is read in C
        assert winfast.epoch(st) == _time_reference(st) is not None
    rnd = random.Random(5)
    answered = 0
    for _ in range(100_000):
        st = _time_text(rnd)
        got = winfast.epoch(st)
        if got is not None:
            answered += 1
            assert got == _time_reference(st), st
    assert answered > 10_000
    assert winfast.epoch(None) is None and winfast.epoch("") is None
    assert fields.system_time({"SystemTime": "2026-07-17T14:18:34.0722139Z"}) == 1784297914.072213
    assert fields.system_time({"SystemTime": "2026-07-17 14:18:34+07:00"}) == 1784272714.0  # Python
