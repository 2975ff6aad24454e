"""Flat Windows fields -> a routed LogEvent (logsource from pySigma's pipelines, see
nocsoc.detections.windows)."""

from __future__ import annotations

from typing import Any

from nocsoc.collectors.windows.fields import system_time
from nocsoc.collectors.windows.report import InputReport
from nocsoc.detections.windows import PRODUCT, classify
from nocsoc.events import LogEvent


def windows_event(fields: dict[str, Any], raw: str, *, parser: str, source: str,
                  time: float | None = None, host: str | None = None,
                  report: InputReport | None = None) -> tuple[LogEvent, bool]:
    """(event, channel known). `fields` must hold an int EventID. The route key carries the
    EventID too, so the engine tests an event only against rules that can match its EventID.
    Channels pySigma does not map and Sysmon EventIDs it gives no category are counted in
    `report`."""
    eid = fields["EventID"]
    channel = str(fields.get("Channel") or "")
    ls = classify(channel, eid, fields)
    if report is not None:
        if not ls.known:
            report.unknown_channels[channel] = report.unknown_channels.get(channel, 0) + 1
        elif ls.unknown_event:
            key = f"{channel} {eid}"
            report.unknown_event_ids[key] = report.unknown_event_ids.get(key, 0) + 1
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
