"""Checks that a `_winfast.Fields` (an EVTX record's lazily built fields) reads as the dict
record_fields gives: first through its own read paths (get, [], in, len), before its dict is
made, then as a whole (items in order, ==)."""

from __future__ import annotations

from typing import Any

import pytest

# names no record has (case, spaces, punctuation, a prefix), and keys that are no str
ABSENT: tuple[Any, ...] = ("eventid", "EVENTID", "EventID ", " EventID", "Event ID", "", "c-ip",
                           "Nope", "Data.1", "#text", "E", 0, 1, 4624, 1.5, None, True, b"EventID",
                           ("EventID",), frozenset())
_NONE = object()


def typed(d: Any) -> list[tuple[str, str, Any]]:
    """Items with their types, in order: 1 == True == 1.0 in Python, not in a Sigma match."""
    return [(k, type(v).__name__, v) for k, v in d.items()]


def assert_reads_equal(f: Any, d: dict[str, Any], full: bool = True) -> None:
    """`f` (a Fields whose dict is not made yet) reads as `d` does, every read the engine and
    the alert code make; its dict is made last and equals `d`, the same key order too. Not
    `full` (for big corpora): each name read once with `get` and `in`, three absent ones."""
    assert type(d) is dict and type(f).__name__ == "Fields"
    assert not f.materialized()
    assert len(f) == len(d) and bool(f) is bool(d)
    for k, v in d.items():
        got = f.get(k)
        assert type(got) is type(v) and got == v and k in f, (k, got, v)
        if not full:
            continue
        for got in (f[k], f.get(k, _NONE)):
            assert type(got) is type(v) and got == v, (k, got, v)
        other = "".join(list(k))  # an equal name that is another object (not the interned one)
        assert (other in f) is True and f.get(other) is f.get(k)
        assert f.get(k) is f.get(k)  # a value is made once
    for k in ABSENT if full else ABSENT[:3]:
        if k in d:
            continue
        assert f.get(k) is None and f.get(k, _NONE) is _NONE and k not in f
        if not full:
            continue
        with pytest.raises(KeyError) as fe:
            f[k]
        with pytest.raises(KeyError) as de:
            d[k]
        assert fe.value.args == de.value.args
    for bad in ([], {}, {"EventID"}) if full else ():
        with pytest.raises(TypeError):
            f.get(bad)
        with pytest.raises(TypeError):
            bad in f  # noqa: B015 (the membership test is what raises)
        with pytest.raises(TypeError):
            f[bad]
    assert not f.materialized()  # all the above from the entries
    assert typed(f) == typed(d)
    assert f == d and d == f and (f != d) is False
    assert f.materialized()
