"""Windows events as JSON documents -> the same flat Sigma fields as EVTX records.

Three shapes, told apart by their keys:

- evtx_dump's rendering (`{"Event": {"System": ..., "EventData": ...}}`), as SigmaHQ's
  regression data and `evtx_dump -o jsonl` write it;
- Winlogbeat (ECS): `winlog.channel`, `winlog.event_id`, `winlog.provider_name`,
  `winlog.computer_name`, `winlog.record_id`, `winlog.event_data`, `winlog.user_data`,
  `@timestamp`. Winlogbeat 8 leaves `winlog.event_data` as the event log gives it when it ships to
  Logstash or HTTP (its Sysmon/Security modules run as Elasticsearch ingest pipelines); 7.x's
  client-side module scripts rename and delete event_data fields, so leave them out there;
- NXLog `im_msvistalog` with `to_json()`: one flat object, NXLog's own fields (`EventID`,
  `Channel`, `SourceName`, `Hostname`, `RecordNumber`, `EventTime`, ...) beside the EventData
  fields. NXLog's core fields win a name clash: a Sysmon `EventType` (SetValue) arrives as NXLog's
  severity word (INFO) and Sysmon's `ProcessId` is lost to NXLog's `ProcessID` (seen in real
  NXLog samples). Sysmon's `Message` lists every EventData value as `Name: value` lines, so those
  two are restored from it for Sysmon events.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from nocsoc.collectors.windows.event import windows_event
from nocsoc.collectors.windows.fields import SCALARS, NotAnEvent, flatten_record, text_value
from nocsoc.collectors.windows.report import MAX_EVENT_BYTES, InputReport
from nocsoc.events import LogEvent

SYSMON_CHANNEL = "microsoft-windows-sysmon/operational"

# Winlogbeat `winlog.*` -> Sigma's System names
_WINLOG = {"channel": "Channel", "provider_name": "Provider_Name", "provider_guid": "Provider_Guid",
           "computer_name": "Computer", "record_id": "EventRecordID", "task": "Task",
           "opcode": "Opcode", "version": "Version", "activity_id": "ActivityID"}
# NXLog im_msvistalog core fields -> Sigma's System names (the fields stay under their own
# names too: a rule or an analyst may use either)
_NXLOG = {"SourceName": "Provider_Name", "ProviderGuid": "Provider_Guid", "Hostname": "Computer",
          "RecordNumber": "EventRecordID", "ProcessID": "ExecutionProcessID",
          "ThreadID": "ExecutionThreadID"}
# Sysmon EventData names NXLog's core fields overwrite or drop (case-insensitive clash)
_NXLOG_CLASHES = ("EventType", "ProcessId")


def kind_of(obj: Any) -> str | None:
    """'evtx' | 'winlogbeat' | 'nxlog' for a Windows event document, None for anything else."""
    if not isinstance(obj, dict):
        return None
    ev = obj.get("Event")
    if isinstance(ev, dict) and isinstance(ev.get("System"), dict):
        return "evtx"
    w = obj.get("winlog")
    if isinstance(w, dict) and "event_id" in w:
        return "winlogbeat"
    if "EventID" in obj and ("Channel" in obj or "SourceName" in obj):
        return "nxlog"
    return None


def _event_id(v: Any) -> int:
    v = text_value(v)
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    try:
        return int(str(v))
    except ValueError:
        raise NotAnEvent(f"EventID {v!r} is not a number") from None


def _data_into(out: dict[str, Any], data: Any) -> None:
    if isinstance(data, dict):
        # the common case in one C-level step: plain names, every value a scalar
        if " " not in "".join(data) and SCALARS.issuperset(map(type, data.values())):
            out.update(data)
            return
        for k, v in data.items():
            if isinstance(v, dict) and "#text" not in v:
                _data_into(out, v)  # user_data's wrapper element
            else:
                out[k.replace(" ", "") if " " in k else k] = text_value(v)


def winlogbeat_fields(obj: dict[str, Any]) -> dict[str, Any]:
    w = obj["winlog"]
    out: dict[str, Any] = {"EventID": _event_id(w.get("event_id"))}
    for src, dst in _WINLOG.items():
        v = w.get(src)
        if v is not None:
            out[dst] = v
    proc = w.get("process")
    if isinstance(proc, dict):
        if "pid" in proc:
            out["ExecutionProcessID"] = proc["pid"]
        th = proc.get("thread")
        if isinstance(th, dict) and "id" in th:
            out["ExecutionThreadID"] = th["id"]
    user = w.get("user")
    if isinstance(user, dict) and user.get("identifier"):
        out["UserID"] = user["identifier"]
    if "Computer" not in out:
        host = obj.get("host")
        if isinstance(host, dict) and host.get("name"):
            out["Computer"] = host["name"]
    ts = obj.get("@timestamp")
    if isinstance(ts, str):
        out["SystemTime"] = ts
    _data_into(out, w.get("event_data"))
    _data_into(out, w.get("user_data"))
    return out


def _sysmon_message_values(message: str, names: tuple[str, ...]) -> dict[str, str]:
    want = {n.lower(): n for n in names}
    got: dict[str, str] = {}
    for line in message.splitlines():
        k, sep, v = line.partition(": ")
        n = want.get(k.strip().lower()) if sep else None
        if n is not None and n not in got:
            got[n] = v.strip()
            if len(got) == len(want):  # the first of each wins: the rest cannot change them
                break
    return got


def nxlog_fields(obj: dict[str, Any]) -> dict[str, Any]:
    if " " not in "".join(obj):  # the common case: no name to squeeze, one C-level copy
        out = dict(obj)
    else:
        out = {}
        for k, v in obj.items():
            out[k.replace(" ", "") if " " in k else k] = v
    out["EventID"] = _event_id(obj.get("EventID"))
    for src, dst in _NXLOG.items():
        v = obj.get(src)
        if v is not None and dst not in obj:
            out[dst] = v
    if str(obj.get("Channel", "")).lower() == SYSMON_CHANNEL and isinstance(obj.get("Message"), str):
        out.update(_sysmon_message_values(obj["Message"], _NXLOG_CLASHES))
    return out


def parse_time(v: Any) -> float:
    """ISO 8601 (with or without zone: none means UTC), `YYYY-MM-DD HH:MM:SS` (NXLog's default
    EventTime), or epoch seconds; 0.0 when absent or unreadable."""
    if isinstance(v, int | float) and not isinstance(v, bool):
        return float(v)
    if not isinstance(v, str) or not v:
        return 0.0
    if "Z" not in v[:-1]:  # Winlogbeat's `...Z`, NXLog's `YYYY-MM-DD HH:MM:SS`: read as they come
        try:  # (what the rewriting below would give them: 3.11 reads `Z` and cuts 7+ digits)
            dt = datetime.fromisoformat(v)
        except ValueError:
            pass
        else:
            return (dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)).timestamp()
    s = v.strip().replace("Z", "+00:00")
    if "." in s:  # at most 6 fraction digits for fromisoformat
        head, _, rest = s.partition(".")
        i = 0
        while i < len(rest) and rest[i].isdigit():
            i += 1
        s = f"{head}.{rest[:min(i, 6)]}{rest[i:]}" if i else head + rest
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return 0.0
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def document_fields(obj: Any) -> tuple[dict[str, Any], str, float]:
    """(fields, kind, time) of a Windows event document; NotAnEvent when it is none."""
    kind = kind_of(obj)
    if kind == "evtx":
        fields = flatten_record(obj)
        return fields, kind, parse_time(fields.get("SystemTime"))
    if kind == "winlogbeat":
        fields = winlogbeat_fields(obj)
        return fields, kind, parse_time(obj.get("@timestamp"))
    if kind == "nxlog":
        fields = nxlog_fields(obj)
        t = parse_time(obj.get("EventTime") or obj.get("@timestamp") or obj.get("TimeCreated"))
        return fields, kind, t
    raise NotAnEvent("not a Windows event document (evtx_dump, Winlogbeat or NXLog im_msvistalog JSON)")


def document_event(text: str | bytes, report: InputReport, source: str,
                   host: str | None = None) -> LogEvent | None:
    """One JSON document (a line, an HTTP body element) -> event; None, counted in `report`
    with the reason, when it is oversized, not JSON or no Windows event."""
    if len(text) > MAX_EVENT_BYTES:
        report.oversized += 1
        report.note(f"document of {len(text)} bytes skipped (limit {MAX_EVENT_BYTES})")
        return None
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        report.not_events += 1
        report.note(f"not JSON: {exc}")
        return None
    return object_event(obj, text if isinstance(text, str) else text.decode("utf-8", "replace"),
                        report, source, host)


def object_event(obj: Any, raw: str, report: InputReport, source: str,
                 host: str | None = None) -> LogEvent | None:
    try:
        fields, kind, t = document_fields(obj)
    except NotAnEvent as exc:
        report.not_events += 1
        report.note(str(exc))
        return None
    ev, _ = windows_event(fields, raw, parser=kind, source=source, time=t, report=report,
                          host=host if host is not None and not fields.get("Computer") else None)
    report.events += 1
    return ev


def windows_line(line: str, report: InputReport, source: str) -> LogEvent | None:
    """A JSON line that is a Windows event document -> its event (bad ones counted in `report`);
    None, uncounted, for any other line, which the caller parses its own way (mixed JSONL)."""
    if not line.startswith("{") or len(line) > MAX_EVENT_BYTES:
        return None
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if kind_of(obj) is None:
        return None
    return object_event(obj, line, report, source)
