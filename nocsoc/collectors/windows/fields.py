"""An event log record (the XML schema's JSON rendering) -> the flat fields Sigma rules name.

SigmaHQ's Windows rules name the `System` values by their element (`EventID`, `Channel`,
`Computer`, `Provider_Name` for the Provider element's Name attribute, as the Sigma taxonomy
spells it) and the `EventData` / `UserData` values by their `Name` (`CommandLine`,
`TargetUserName`, ...; names with spaces, as Defender's "Threat Name", without them, as
SigmaHQ's Defender rules spell them). `evtx`'s JSON (evtx_dump's form: `#attributes` for XML attributes,
`#text` for element text) is the input here; Winlogbeat and NXLog documents are mapped to the
same names in `nocsoc.collectors.windows.live`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

# System attributes worth keeping, under the names Sigma and the analysts' tools use
_SYSTEM_ATTRS = {
    ("Provider", "Name"): "Provider_Name",
    ("Provider", "Guid"): "Provider_Guid",
    ("Execution", "ProcessID"): "ExecutionProcessID",
    ("Execution", "ThreadID"): "ExecutionThreadID",
    ("Security", "UserID"): "UserID",
    ("TimeCreated", "SystemTime"): "SystemTime",
    ("Correlation", "ActivityID"): "ActivityID",
}
# the same, by element: one lookup per System child instead of one per (child, attribute)
_ATTRS_BY_ELEMENT: dict[str, dict[str, str]] = {}
for (_el, _attr), _name in _SYSTEM_ATTRS.items():
    _ATTRS_BY_ELEMENT.setdefault(_el, {})[_attr] = _name


class NotAnEvent(ValueError):
    """The document is not an event log record (no Event.System)."""


def text_value(v: Any) -> Any:
    """An element's value: `{"#text": x, "#attributes": ...}` -> x; lists of texts joined with
    a space (unnamed `<Data>` elements), so `contains|all` over them works."""
    if isinstance(v, dict):
        v = v.get("#text")
    if isinstance(v, list):
        return " ".join("" if x is None else str(text_value(x)) for x in v)
    return v


# JSON's scalar types: a value of one of these is kept as it is (text_value(v) is v)
SCALARS = frozenset((str, int, float, bool, type(None)))


def _flatten_into(out: dict[str, Any], data: Any) -> None:
    """EventData / UserData children by name; nested elements (UserData's one wrapper element,
    e.g. `LogFileCleared`) are descended into; their own XML attributes are dropped."""
    if not isinstance(data, dict):
        if data is not None and data != "":
            out.setdefault("Data", text_value(data))
        return
    # The common case in one C-level step: every child a scalar under a plain name (no space,
    # no `#text` / `#attributes`); checked with joins and a type set, not a Python loop.
    if "#" not in (names := "".join(data)) and " " not in names \
            and SCALARS.issuperset(map(type, data.values())):
        out.update(data)
        return
    for k, v in data.items():
        # the common case first: a scalar (None too: text_value(None) is None) under a plain name
        if (v is None or (tv := type(v)) is str or tv is int) and " " not in k and k[:1] != "#":
            out[k] = v
            continue
        if k == "#attributes":
            continue
        if " " in k:  # Defender's "Threat Name": SigmaHQ's rules say ThreatName
            k = k.replace(" ", "")
        if k == "#text":
            out.setdefault("Data", text_value(v))
        elif isinstance(v, dict) and "#text" not in v:
            _flatten_into(out, v)
        else:
            out[k] = text_value(v)


try:  # the C twins (setup.py builds them; optional, like every accelerator)
    from nocsoc.collectors.windows._winfast import epoch as _c_epoch
    from nocsoc.collectors.windows._winfast import flatten_record as _c_flatten
    from nocsoc.collectors.windows._winfast import record_fields as _c_record_fields
    from nocsoc.collectors.windows._winfast import record_fields_lazy as _c_record_fields_lazy
except ImportError:  # no compiler where nocsoc was installed: the reference below does it all
    _c_epoch = _c_flatten = _c_record_fields = _c_record_fields_lazy = None


def _no_record_fields(text: str) -> dict[str, Any] | None:
    return None


# An EVTX record's JSON text -> its flat fields in one C pass (no nested dicts built), or None:
# not built, or a record it leaves to `flatten_record(orjson.loads(text))` (odd shapes, anything
# not strict JSON). Where it answers, it equals that reference exactly (same keys, values, types
# and order: tests/collectors/windows/test_record_fields.py). A partial, not a def: this runs
# once per record, and a Python frame around one C call costs more than the call.
record_fields: Callable[[str], dict[str, Any] | None] = (
    functools.partial(_c_record_fields, _ATTRS_BY_ELEMENT) if _c_record_fields is not None
    else _no_record_fields)


# The same fields as a `_winfast.Fields` mapping (equal to record_fields' dict for every reader;
# its string values made when first read: the engine reads ~6 of a record's ~28), for the
# events decode_events builds (nocsoc.collectors.windows.evtxevents); None where not built.
record_fields_lazy: Callable[[str], Any] | None = (
    functools.partial(_c_record_fields_lazy, _ATTRS_BY_ELEMENT) if _c_record_fields_lazy is not None
    else None)


def flatten_record(doc: dict[str, Any]) -> dict[str, Any]:
    """`{"Event": {"System": {...}, "EventData": {...}}}` -> flat Sigma fields. Raises
    NotAnEvent when `Event.System` is missing."""
    if _c_flatten is not None:
        out: dict[str, Any] | None = _c_flatten(doc, _ATTRS_BY_ELEMENT)
        if out is not None:
            return out
    return flatten_record_py(doc)


def flatten_record_py(doc: dict[str, Any]) -> dict[str, Any]:
    """flatten_record in Python: the reference of _winfast.c, and what runs for the documents
    it declines (unusual shapes) or where it is not built."""
    ev = doc.get("Event") if isinstance(doc, dict) else None
    system = ev.get("System") if isinstance(ev, dict) else None
    if not isinstance(system, dict):
        raise NotAnEvent("no Event.System element")
    out: dict[str, Any] = {}
    for k, v in system.items():
        if v is None:
            continue
        if not isinstance(v, dict):  # EventID, Level, Channel, Computer...: most children
            out[k] = v
            continue
        attrs = v.get("#attributes")
        if attrs is not None and (names := _ATTRS_BY_ELEMENT.get(k)) is not None \
                and isinstance(attrs, dict):
            for a, av in attrs.items():
                if (name := names.get(a)) is not None:
                    out[name] = av
        if "#text" in v:
            out[k] = v["#text"]
    eid = out.get("EventID")
    if type(eid) is not int:
        try:
            out["EventID"] = int(str(eid))
        except ValueError:
            raise NotAnEvent(f"EventID {eid!r} is not a number") from None
    data = ev.get("EventData")  # type: ignore[union-attr]
    if data is not None:
        _flatten_into(out, data)
    data = ev.get("UserData")  # type: ignore[union-attr]
    if data is not None:
        _flatten_into(out, data)
    return out


def system_time(fields: dict[str, Any]) -> float:
    """Epoch seconds of `SystemTime` (ISO 8601 UTC, up to 7 fraction digits), 0.0 if absent."""
    st = fields.get("SystemTime")
    if not isinstance(st, str) or not st:
        return 0.0
    if _c_epoch is not None:  # evtx's own form, in C (the same float: test_record_fields.py)
        t: float | None = _c_epoch(st)
        if t is not None:
            return t
    try:  # Python 3.11 reads `Z` and any number of fraction digits itself
        dt = datetime.fromisoformat(st)
    except ValueError:
        return 0.0
    if dt.tzinfo is None:  # the event log writes UTC
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()
