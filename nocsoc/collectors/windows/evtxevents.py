"""An EVTX chunk straight to finished LogEvents in one C call (`_evtxfast.decode_events`).

Why: with the chunk decoded in C, what a record cost in Python was the frame of
`windows_event` and `LogEvent.__init__` (~1.8 us) and the loop and generator around it (~0.5
us), more than the C work. `decode_events` decodes the chunk, reads each record's fields with
`_winfast.record_fields`, and builds the event as `windows_event` does: the same fields (with
the route's aliases), host, time, logsource, route key, raw text. It hands back as text, for
`windows_event` to finish in Python, every record a step of which needs Python: fields it
declines, a Channel, Computer or SystemTime that is not a plain string in evtx's form, and a
(Channel, EventID) whose route is not yet in `ROUTES`.

The events' fields are a `_winfast.Fields` (`record_fields_lazy`; nocsoc/collectors/windows/
_winfields.c): equal to record_fields' dict for every reader, its string values made when first
read (the engine reads ~6 of a record's ~28). A route with aliases gives its events the dict.
decode_events makes that Fields from what it noted while writing the text (its "tape": each
key's and value's place and kind) rather than scan the text again, and for a record shaped as
one met before (same template, value types and emptiness; in any chunk) replays that record's
text and fields with its own values (_evtxwalk.c: `walk`, `Plan`): 57.9k -> 26.7k instructions
a record on the benign day. Where the walk is unsure, the scan of the text decides.
`NOCSOC_EVTX_FIELDS=text` keeps the scan for every record, `NOCSOC_EVTX_FIELDS=dict` makes every
event's fields record_fields' dict (the references).

`ROUTES` holds only routes whose answer depends on nothing but (Channel, EventID) and which
count nothing: a channel pySigma maps and an EventID it knows (`windows_event` counts the
others in the file's report, so those records always go through it). `learn` adds a route
after `windows_event` has built an event of it.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, MutableMapping
from typing import Any

from nocsoc.collectors.windows.fields import _ATTRS_BY_ELEMENT, record_fields, record_fields_lazy
from nocsoc.collectors.windows.report import MAX_EVENT_BYTES
from nocsoc.detections.windows import CATEGORY_MAPS, CHANNEL_SERVICE, PRODUCT, classify
from nocsoc.events import LogEvent

try:
    from nocsoc.collectors.windows._evtxfast import decode_events as _decode_events
    from nocsoc.collectors.windows._evtxfast import event_layout as _event_layout
    from nocsoc.collectors.windows._winfast import Fields as _Fields
    from nocsoc.collectors.windows._winfast import epoch as _epoch
except ImportError:  # not built: read_evtx finishes every record in Python
    _decode_events = _event_layout = _epoch = _Fields = None

PARSER = "evtx"
# (service, EventID) pairs whose categories depend on a field's value (Security 4657's
# OperationType): their routes are never cached, classify runs for each event
_NEEDS_FIELDS = frozenset((m.service, eid) for m in CATEGORY_MAPS if m.extra for eid in m.event_ids)
_MAX_ROUTES = 100_000  # (Channel, EventID) pairs kept: an odd file cannot grow the table forever

# Channel -> EventID -> (services, categories, aliases, route_key), read by decode_events
ROUTES: dict[str, dict[int, tuple[Any, ...]]] = {}
_routes_n = 0


# the slots decode_events writes, and the one LogEvent.__init__ leaves unset
_WRITTEN = frozenset(("raw", "fields", "host", "time", "product", "services", "categories", "parser",
                      "source", "route_key", "_low"))
_UNSET = frozenset(("origin",))


def _layout_ok() -> bool:
    """The C side writes LogEvent's slots itself: only if the class has the layout it knows
    (a slot added to LogEvent switches it off, rather than leave the new slot unset)."""
    if _event_layout is None or set(LogEvent.__slots__) != _WRITTEN | _UNSET:
        return False
    try:
        _event_layout(LogEvent)
    except TypeError:
        return False
    return True


def _fields_maker() -> Callable[[str], Any]:
    """record_fields_lazy (the events' fields a `_winfast.Fields`, string values made when read)
    unless NOCSOC_EVTX_FIELDS=dict or it is not built: then record_fields' dicts."""
    if record_fields_lazy is not None and os.environ.get("NOCSOC_EVTX_FIELDS", "lazy") != "dict":
        return record_fields_lazy
    return record_fields


def _direct(maker: Callable[[str], Any]) -> tuple[Any, dict[str, dict[str, str]]] | None:
    """(maker, the System attributes' names it maps) where `maker` is record_fields_lazy: then
    decode_events makes the Fields from what it wrote (its tape, ~12k instructions a record
    less) rather than scan the text again, for as long as ctx's maker is this one. None with
    NOCSOC_EVTX_FIELDS=text (the scan of the text: the reference) or dict."""
    if maker is record_fields_lazy and os.environ.get("NOCSOC_EVTX_FIELDS", "lazy") == "lazy":
        return (maker, _ATTRS_BY_ELEMENT)
    return None


if _Fields is not None:  # it is one, for isinstance(x, Mapping) (not a dict: see _winfields.c)
    MutableMapping.register(_Fields)
_MAKER = _fields_maker()
_CTX = (_MAKER, _epoch, ROUTES, PRODUCT, PARSER, MAX_EVENT_BYTES, _direct(_MAKER))
_ON = _decode_events is not None and _layout_ok()


def events_decoder(source: str) -> Callable[[bytes], Any] | None:
    """chunk -> (list of LogEvents and record texts, number of texts) | None (the chunk is
    evtx's to read), for a file whose events carry `source`; None where not built."""
    if not _ON:
        return None
    return functools.partial(_decode_events, _CTX, source)


def learn(fields: dict[str, Any]) -> None:
    """Cache the route of an event windows_event has just built from `fields`, if it may be
    (see the module's docstring)."""
    global _routes_n
    channel, eid = fields.get("Channel"), fields.get("EventID")
    if type(channel) is not str or not channel or type(eid) is not int:
        return
    by_eid = ROUTES.get(channel)
    if by_eid is not None and eid in by_eid:
        return
    if (CHANNEL_SERVICE.get(channel.lower()), eid) in _NEEDS_FIELDS or _routes_n >= _MAX_ROUTES:
        return
    ls = classify(channel, eid, fields)
    if not ls.known or ls.unknown_event:
        return
    ROUTES.setdefault(channel, {})[eid] = (ls.services, ls.categories, ls.aliases,
                                           (PRODUCT, ls.services, ls.categories, eid))
    _routes_n += 1
