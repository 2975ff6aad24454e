"""The C mapping (_winfast.c) gives exactly what fields.flatten_record_py gives: the same fields,
values and key order, on every record of SigmaHQ's regression data, on SigmaHQ's own JSON
renderings and on random mutations of them (names with spaces and `#`, lists, nested elements,
dict subclasses, odd EventIDs, nulls); what it declines (None) the reference maps or refuses."""

from __future__ import annotations

import copy
import random
from typing import Any

import orjson
import pytest

from nocsoc.collectors.windows import fields
from nocsoc.collectors.windows.fields import NotAnEvent, flatten_record_py
from tests.collectors.windows.conftest import json_docs
from tests.conftest import SHARED

winfast = pytest.importorskip("nocsoc.collectors.windows._winfast",
                              reason="C accelerator not built (tests/test_speedups.py says so)")


class _Dict(dict[str, Any]):
    """A dict subclass: the C code must leave it to the reference."""

    def get(self, key: Any, default: Any = None) -> Any:
        return "overridden"


def _c(doc: Any) -> dict[str, Any] | None:
    out: dict[str, Any] | None = winfast.flatten_record(doc, fields._ATTRS_BY_ELEMENT)
    return out


def _reference(doc: Any) -> list[tuple[str, Any]] | str:
    try:
        return list(flatten_record_py(doc).items())
    except NotAnEvent as exc:
        return f"NotAnEvent: {exc}"


@pytest.fixture(scope="module")
def documents() -> list[dict[str, Any]]:
    from evtx import PyEvtxParser

    root = SHARED / "sigmahq" / "regression_data"
    if not root.is_dir():
        pytest.skip(f"{root} not present")
    docs = [orjson.loads(r["data"]) for f in sorted(root.rglob("*.evtx"))  # type: ignore[index]
            for r in PyEvtxParser(str(f), number_of_threads=1).records_json()]
    assert len(docs) == 238
    return docs + [d for f in sorted(root.rglob("*.json")) for d in json_docs(f)]


def test_real_records_map_the_same(documents: list[dict[str, Any]]) -> None:
    declined = 0
    for doc in documents:
        got = _c(doc)
        if got is None:
            declined += 1
        else:
            assert list(got.items()) == _reference(doc)
        assert list(fields.flatten_record(doc).items()) == _reference(doc)
    # UserData's wrapper element (WMI-Activity 5858) and the Defender names with spaces, in
    # both the .evtx records and SigmaHQ's renderings of them, go to the reference
    assert declined == 4


_VALUES: list[Any] = [None, "", "a b", 0, -7, 1.5, True, False, [], ["x", None, {"#text": "y"}],
                      {"#text": "t"}, {"#text": "t", "#attributes": {"a": 1}}, {"In": "v", "I n": 2},
                      {"#attributes": {"Name": "n"}}, {}, 2**70, "é\u2028", _Dict(a=1)]
_NAMES = ["A", "B C", "#text", "#attributes", "x#y", "", "Data", "EventID", "Channel", "ÄÖ", " "]


def _mutate(doc: dict[str, Any], rnd: random.Random) -> Any:
    doc = copy.deepcopy(doc)
    ev = doc["Event"]
    r = rnd.random()
    if r < 0.05:
        return rnd.choice([None, [], "x", _Dict(doc)])
    if r < 0.1:
        doc["Event"] = _Dict(ev)
        return doc
    for part in ("System", "EventData", "UserData"):
        if rnd.random() < 0.5:
            continue
        target = ev.get(part)
        if isinstance(target, dict) and rnd.random() < 0.85:
            for _ in range(rnd.randint(1, 3)):
                target[rnd.choice(_NAMES)] = copy.deepcopy(rnd.choice(_VALUES))
            if part == "System" and rnd.random() < 0.3:
                elem = rnd.choice(["Provider", "TimeCreated", "Execution", "Security"])
                target[elem] = rnd.choice([{"#attributes": _Dict(Name="p")}, {"#attributes": None},
                                           {"#attributes": {"Name": "n", "X": 1}, "#text": "t"},
                                           _Dict({"#attributes": {"Name": "n"}}), "plain"])
        else:
            ev[part] = copy.deepcopy(rnd.choice(_VALUES))
    return doc


def test_random_mutations_map_the_same(documents: list[dict[str, Any]]) -> None:
    rnd = random.Random(20261207)
    handled = declined = 0
    for _ in range(20):
        for base in documents:
            doc = _mutate(base, rnd)
            got = _c(doc)
            want = _reference(doc)
            if got is None:
                declined += 1
            else:
                handled += 1
                assert list(got.items()) == want, doc
            try:
                assert list(fields.flatten_record(doc).items()) == want
            except NotAnEvent as exc:
                assert want == f"NotAnEvent: {exc}"
    assert handled > 1000 and declined > 1000  # both paths exercised


def test_bad_arguments_raise_type_error() -> None:
    with pytest.raises(TypeError):
        winfast.flatten_record({})
    with pytest.raises(TypeError):
        winfast.flatten_record({}, None)
