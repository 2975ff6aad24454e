"""Flat Windows fields -> a routed LogEvent (logsource from pySigma's pipelines, see
nocsoc.detections.windows)."""

from __future__ import annotations

from typing import Any

from nocsoc.collectors.windows.fields import system_time
from nocsoc.detections.windows import PRODUCT, classify
from nocsoc.events import LogEvent


def windows_event(fields: dict[str, Any], raw: str, *, parser: str, source: str,
                  time: float | None = None, host: str | None = None) -> tuple[LogEvent, bool]:
    """(event, channel known). `fields` must hold an int EventID. The route key carries the
    EventID too, so the engine tests an event only against rules that can match its EventID."""
    eid = fields["EventID"]
    ls = classify(str(fields.get("Channel") or ""), eid, fields)
    for rule_name, event_name in ls.aliases:
        if rule_name not in fields:
            v = fields.get(event_name)
            if v is not None:
                fields[rule_name] = v
    ev = LogEvent(raw, fields, host=host if host is not None else str(fields.get("Computer") or ""),
                  time=system_time(fields) if time is None else time, product=PRODUCT,
                  services=ls.services, categories=ls.categories, parser=parser, source=source)
    ev.route_key = (PRODUCT, ls.services, ls.categories, eid)
    return ev, ls.known
