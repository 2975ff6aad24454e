"""`_winfast.Fields`, the fields of the events decode_events builds: a mapping whose string
values are made when first read, which behaves as record_fields' dict for every reader. Every
reading and writing method of dict's gives what the dict gives (the same operations applied
to both, step by step); a copy, a pickle and LogEvent.to_dict give real dicts; `nocsoc detect
--store` stores the samples' fields as JSON objects; a Fields keeps its text alive and is
left out of the cyclic GC. (Equality on every real record: test_record_fields.py and
test_evtxevents.py, through tests/collectors/windows/lazyfields.py.)"""

from __future__ import annotations

import copy
import gc
import json
import pickle
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import pytest

from nocsoc.collectors.windows import evtxevents, fields
from nocsoc.events import LogEvent
from tests.collectors.windows.lazyfields import assert_reads_equal, typed

winfast = pytest.importorskip("nocsoc.collectors.windows._winfast",
                              reason="C accelerator not built (tests/test_speedups.py says so)")

# System attributes and elements, a number, null, escapes, Latin-1, a long value, a repeated
# name (EventData's Channel replaces System's, keeping its place), UserData nested
TEXTS = [
    '{"Event":{"#attributes":{"xmlns":"x"},"System":{"Provider":{"#attributes":{"Name":"P",'
    '"Guid":"{G}"}},"EventID":4624,"Level":0,"Keywords":"0x8020000000000000","TimeCreated":'
    '{"#attributes":{"SystemTime":"2026-03-02T00:00:00.629250Z"}},"Correlation":null,'
    '"Channel":"Security","Computer":"dc01.example"},"EventData":{"TargetUserName":"a\\\\b",'
    '"IpAddress":"10.0.0.1","LogonType":3,"Empty":"","Null":null,"Channel":"from data",'
    '"Long":"' + "x" * 100 + '","Esc":"\\u00e9\\n\\"q\\"","Threat Name":"T"}}}',
    '{"Event":{"System":{"EventID":{"#attributes":{"Qualifiers":16384},"#text":7045},'
    '"Computer":"\u00aeh\u00e9"},"UserData":{"Wrap":{"#attributes":{"xmlns":"u"},"A":"\u00e9",'
    '"B":true}}}}',
    '{"Event":{"System":{"EventID":1,"Computer":"\u20ac\U0001f600"},"EventData":{"X":"\\ud83d\\ude00"}}}',
]


def _pair(text: str) -> tuple[Any, dict[str, Any]]:
    f = winfast.record_fields_lazy(fields._ATTRS_BY_ELEMENT, text)
    d = winfast.record_fields(fields._ATTRS_BY_ELEMENT, text)
    assert type(f) is winfast.Fields and type(d) is dict
    return f, d


@pytest.mark.parametrize("text", TEXTS)
def test_reads_equal_the_dict(text: str) -> None:
    f, d = _pair(text)
    assert_reads_equal(f, d)


def test_many_fields_read_as_the_dict() -> None:
    """`get` compares only the keys of the looked-up key's hash bucket (hash & 63) among the first
    64 entries, and every key past them: a record of 125 fields (two names in most buckets,
    numbers and escapes among them, names repeated after 120 others: the scanner keeps their
    first place) reads as the dict, names present and absent."""
    data = ",".join(f'"F{i}":' + (str(i) if i % 5 == 0 else f'"v{i}\\\\{i % 7}"') for i in range(120))
    text = ('{"Event":{"System":{"EventID":1,"Channel":"Security","Computer":"h"},"EventData":{' + data
            + ',"Computer":"again","EventID":"2"}}}')  # repeats of System's names, found among 120
    f, d = _pair(text)
    assert len(d) > 120 and d["Computer"] == "again" and list(d).index("Computer") < 5
    assert_reads_equal(f, d)
    f, d = _pair(text)
    absent = [f"F{i}" for i in range(120, 600)] + [f"f{i}" for i in range(120)]
    assert [f.get(k) for k in absent] == [d.get(k) for k in absent] == [None] * len(absent)
    assert [f.get(k) for k in reversed(d)] == [d[k] for k in reversed(d)]


@pytest.mark.parametrize("text", TEXTS)
def test_whole_reads_give_what_the_dict_gives(text: str) -> None:
    for op in (list, len, repr, str, bool, dict, lambda m: list(m.keys()), lambda m: list(m.values()),
               lambda m: list(m.items()), lambda m: list(reversed(m)), lambda m: {**m},
               lambda m: m.copy(), lambda m: json.dumps(dict(m)), lambda m: sorted(m)):
        f, d = _pair(text)
        got, want = op(f), op(d)
        assert got == want and type(got) is type(want), op
    f, d = _pair(text)
    assert f.keys() == d.keys() and f.keys() & {"EventID"} == {"EventID"}  # views, as the dict's
    assert isinstance(f, Mapping) and isinstance(f, MutableMapping) and not isinstance(f, dict)
    assert f != {**d, "x": 1} and f != [] and f == f
    g, _ = _pair(text)
    assert f == g  # two Fields compare by their dicts
    with pytest.raises(TypeError):
        hash(f)


@pytest.mark.parametrize("text", TEXTS)
def test_copies_and_pickles_are_dicts(text: str) -> None:
    for make in (copy.copy, copy.deepcopy, lambda m: pickle.loads(pickle.dumps(m)), lambda m: m.copy(),
                 lambda m: m.materialize()):
        f, d = _pair(text)
        got = make(f)
        assert type(got) is dict and typed(got) == typed(d)
    f, d = _pair(text)
    ev = LogEvent(text, f)
    assert type(ev.to_dict()["fields"]) is dict and typed(ev.to_dict()["fields"]) == typed(d)
    assert json.loads(json.dumps(ev.to_dict()))["fields"] == json.loads(json.dumps(d))


_WRITES: list[tuple[str, Any]] = [
    ("set", lambda m: m.__setitem__("New", 1)), ("set", lambda m: m.__setitem__("EventID", 9)),
    ("del", lambda m: m.__delitem__("Computer")), ("pop", lambda m: m.pop("EventID")),
    ("pop", lambda m: m.pop("absent", "dflt")), ("setdefault", lambda m: m.setdefault("S", [1])),
    ("setdefault", lambda m: m.setdefault("EventID", 0)), ("update", lambda m: m.update({"U": 2}, V=3)),
    ("popitem", lambda m: m.popitem()), ("get", lambda m: m.get("New")), ("clear", lambda m: m.clear()),
]


@pytest.mark.parametrize("text", TEXTS)
def test_writes_act_as_on_the_dict(text: str) -> None:
    f, d = _pair(text)
    for name, op in _WRITES:
        got = want = None
        try:
            want = op(d)
        except KeyError as exc:
            with pytest.raises(KeyError) as fe:
                op(f)
            assert fe.value.args == exc.args, name
        else:
            got = op(f)
        assert got == want and typed(f) == typed(d) and len(f) == len(d), name
    for bad in (lambda m: m.__delitem__("absent"), lambda m: m.pop("absent"), lambda m: m.popitem()):
        with pytest.raises(KeyError):
            bad(f)


def test_a_key_error_and_bad_calls_as_the_dict_raises_them() -> None:
    f, d = _pair(TEXTS[0])
    for key in ("absent", ("t",), 1):
        with pytest.raises(KeyError) as fe:
            f[key]
        with pytest.raises(KeyError) as de:
            d[key]
        assert fe.value.args == de.value.args
    for args in ((), (1, 2, 3)):
        with pytest.raises(TypeError):
            f.get(*args)
    with pytest.raises(TypeError):
        winfast.Fields()  # only record_fields_lazy makes them


def test_it_holds_its_text_and_is_left_out_of_the_gc() -> None:
    text = "".join(TEXTS[0])  # a str of its own: the Fields' reference keeps it alive
    want = winfast.record_fields(fields._ATTRS_BY_ELEMENT, text)
    before = sys.getrefcount(text)
    f = winfast.record_fields_lazy(fields._ATTRS_BY_ELEMENT, text)
    assert sys.getrefcount(text) == before + 1
    del text
    gc.collect()
    assert not gc.is_tracked(f)
    assert typed(f) == typed(want)
    del f


def test_declined_records_are_declined_by_both() -> None:
    for text in ('{"Event":{"System":{"EventID":1,"EventID":2}}}', '{"Event":{"System":{"EventID":"1"}}}',
                 '{"Event":{"System":{"EventID":1},"EventData":{"A":[1]}}}', "", "[]",
                 '{"Event":{"System":{"EventID":1},"EventData":{' + ",".join(
                     f'"N{i}":{i}' for i in range(129)) + "}}}"):
        assert winfast.record_fields(fields._ATTRS_BY_ELEMENT, text) is None
        assert winfast.record_fields_lazy(fields._ATTRS_BY_ELEMENT, text) is None
    # more fields than the scan's entries (256, over several objects): the dict serves
    many = [",".join(f'"N{j}_{i}":"{i}"' for i in range(100)) for j in range(3)]
    text = '{"Event":{"System":{"EventID":1},"EventData":{"A":{' + many[0] + '},"B":{' + many[1] + \
        '},"C":{' + many[2] + "}}}}"
    assert len(winfast.record_fields(fields._ATTRS_BY_ELEMENT, text)) == 301
    assert winfast.record_fields_lazy(fields._ATTRS_BY_ELEMENT, text) is None


def test_nocsoc_evtx_fields_dict_switches_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    assert evtxevents._fields_maker() is fields.record_fields_lazy
    monkeypatch.setenv("NOCSOC_EVTX_FIELDS", "dict")
    assert evtxevents._fields_maker() is fields.record_fields


def test_detect_stores_the_samples_fields_as_objects(tmp_path: Any, shared_dir: Any) -> None:
    """`nocsoc detect`: an alert's samples, from events whose fields are Fields (the file's
    routes learnt first, so decode_events builds its events), are stored with their fields as
    JSON objects equal to record_fields' dicts (json.dumps(default=str) would store a Fields as
    its repr, a string)."""
    from typer.testing import CliRunner

    from nocsoc.cli.app import app
    from nocsoc.collectors.windows.evtx import read_evtx
    from nocsoc.collectors.windows.report import InputReport

    sig = shared_dir / "sigmahq"
    folder = sig / "regression_data" / "rules" / "windows" / "builtin" / "security"
    if not folder.is_dir():
        pytest.skip(f"{folder} not present")
    files = sorted(folder.rglob("*.evtx"))
    assert len([e for f in files for e in read_evtx(f, InputReport("x"))]) == 2  # routes learnt
    again = [e for f in files for e in read_evtx(f, InputReport("x"))]  # so: Fields now
    assert [type(e.fields) for e in again] == [winfast.Fields] * 2
    want = {e.raw: winfast.record_fields(fields._ATTRS_BY_ELEMENT, e.raw) for e in again}
    db, rules = tmp_path / "alerts.db", tmp_path / "rules"
    rules.mkdir()  # the two rules these records fire (loading all Windows rules takes ~20 s)
    for name in ("win_security_explicit_credential_local_logon.yml",
                 "win_security_susp_scheduled_task_delete_or_disable.yml"):
        (rules / name).write_bytes((sig / "rules" / "windows" / "builtin" / "security" / name).read_bytes())
    env = {"NOCSOC_CONFIG": str(tmp_path / "none.yaml")}
    res = CliRunner().invoke(app, ["detect", "--json", "--no-builtin", "--store", "--db", str(db),
                                   "-r", str(rules), str(folder)], env=env)
    assert res.exit_code == 0, res.stderr
    alerts = json.loads(res.stdout)["alerts"]
    assert len(alerts) == 2
    for alert in alerts:
        res = CliRunner().invoke(app, ["alerts", "show", str(alert["id"]), "--db", str(db), "--json"],
                                 env=env)
        assert res.exit_code == 0, res.stderr
        (sample,) = json.loads(res.stdout)["samples"]
        assert sample["fields"] == json.loads(json.dumps(want[sample["raw"]]))
