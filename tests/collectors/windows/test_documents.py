"""Windows JSON documents: NXLog im_msvistalog (real samples, checked against Sekoia.io's
parsed values), Winlogbeat (checked against the same record read from EVTX), evtx_dump JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nocsoc.collectors.windows.documents import document_event, kind_of, parse_time
from nocsoc.collectors.windows.evtx import read_evtx
from nocsoc.collectors.windows.report import InputReport


@pytest.fixture
def nxlog_samples(shared_dir: Path) -> list[Path]:
    root = shared_dir / "log-samples" / "sekoia" / "windows"
    if not root.is_dir():
        pytest.skip(f"{root} not present")
    return sorted(root.glob("*.json"))


def test_nxlog_samples_match_sekoia_expected(nxlog_samples: list[Path]) -> None:
    rep = InputReport("sekoia")
    checked = 0
    for f in nxlog_samples:
        case = json.loads(f.read_text())
        ev = document_event(case["input"]["message"], rep, "test")
        if ev is None:
            assert f.name == "wrong-startswith.json"  # its message starts with ':{', no JSON
            continue
        exp = case["expected"]
        action = exp.get("action") or {}
        assert ev.fields["EventID"] == (action.get("id") or int(exp["event"]["code"])), f.name
        assert ev.fields.get("Channel") == action.get("type"), f.name
        assert ev.fields.get("Provider_Name") == (exp.get("event") or {}).get("provider"), f.name
        assert ev.fields.get("EventRecordID") == action.get("record_id"), f.name
        assert (ev.host or None) == (exp.get("log") or {}).get("hostname"), f.name
        checked += 1
    assert checked == 111
    assert (rep.events, rep.not_events) == (111, 1)
    # channels pySigma's table does not name (its dns-server-audit says Microsoft-Windows-DNS-Server/Audit)
    assert sorted(rep.unknown_channels) == [
        "Directory Service", "Microsoft-Windows-DNSServer/Audit",
        "Microsoft-Windows-FailoverClustering/DiagnosticVerbose",
        "Microsoft-Windows-Hyper-V-Compute-Operational", "Microsoft-Windows-SMBServer/Security",
        "Microsoft-Windows-Store/Operational"]


def test_nxlog_sysmon_clashes_restored_from_message(nxlog_samples: list[Path]) -> None:
    f = next(p for p in nxlog_samples if p.name == "sysmon_13_strings.json")
    ev = document_event(json.loads(f.read_text())["input"]["message"], InputReport("x"), "t")
    assert ev is not None
    assert ev.fields["EventType"] == "SetValue"  # NXLog's own EventType said INFO
    assert ev.fields["ProcessId"] == "572"  # NXLog's ProcessID (16532) had replaced it
    assert ev.fields["ExecutionProcessID"] == 16532
    assert set(ev.categories) == {"registry_event", "registry_set"} and ev.services == ("sysmon",)
    assert ev.time == parse_time("2010-03-31 15:02:03") == 1270047723.0


def test_nxlog_defender_names_lose_spaces(nxlog_samples: list[Path]) -> None:
    f = next(p for p in nxlog_samples if p.name == "Event_1117.json")
    ev = document_event(json.loads(f.read_text())["input"]["message"], InputReport("x"), "t")
    assert ev is not None and ev.fields["ThreatName"] == "Trojan:Script/Sabsik.FL.A!ml"
    assert ev.services == ("windefend",)


def _winlogbeat(fields: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """The document Winlogbeat 8 ships for an event log record (its `winlog.*` layout)."""
    system = raw["Event"]["System"]
    return {
        "@timestamp": system["TimeCreated"]["#attributes"]["SystemTime"],
        "event": {"code": str(system["EventID"]), "provider": fields["Provider_Name"], "kind": "event"},
        "host": {"name": system["Computer"]},
        "log": {"level": "information"},
        "winlog": {
            "channel": system["Channel"], "event_id": str(system["EventID"]),
            "provider_name": fields["Provider_Name"], "provider_guid": fields.get("Provider_Guid"),
            "computer_name": system["Computer"], "record_id": system["EventRecordID"],
            "api": "wineventlog", "task": system.get("Task"), "opcode": system.get("Opcode"),
            "version": system.get("Version"), "activity_id": fields.get("ActivityID"),
            "process": {"pid": fields["ExecutionProcessID"], "thread": {"id": fields["ExecutionThreadID"]}},
            "user": {"identifier": fields.get("UserID")},
            "event_data": raw["Event"].get("EventData"),
            "user_data": raw["Event"].get("UserData"),
        },
    }


def test_winlogbeat_equals_evtx(shared_dir: Path) -> None:
    root = shared_dir / "sigmahq" / "regression_data"
    if not root.is_dir():
        pytest.skip(f"{root} not present")
    import orjson
    from evtx import PyEvtxParser

    n = 0
    for f in sorted(root.rglob("*.evtx"))[:60]:
        for rec, ev in zip(PyEvtxParser(str(f)).records_json(), read_evtx(f, InputReport(f.name)),
                           strict=True):
            doc = _winlogbeat(ev.fields, orjson.loads(rec["data"]))
            assert kind_of(doc) == "winlogbeat"
            got = document_event(json.dumps(doc), InputReport("wlb"), "wlb")
            assert got is not None
            want = {k: v for k, v in ev.fields.items() if k not in ("Keywords", "Level", "Correlation")}
            assert {k: v for k, v in got.fields.items() if k in want} == want
            assert got.route_key == ev.route_key and got.time == ev.time and got.host == ev.host
            n += 1
    assert n >= 60


def test_not_windows_documents_counted() -> None:
    rep = InputReport("sender 127.0.0.1:5000")
    assert document_event('{"message": "hello"}', rep, "t") is None
    assert document_event('{"winlog": {"event_id": "x"}}', rep, "t") is None
    assert document_event("not json", rep, "t") is None
    assert document_event("[" * 10 + "1" + "]" * 10, rep, "t") is None
    assert document_event(b'{"a": "' + b"x" * (1 << 20) + b'"}', rep, "t") is None
    assert (rep.not_events, rep.oversized, rep.events) == (4, 1, 0)
    assert rep.messages[0].startswith("not a Windows event document")


@pytest.mark.parametrize("doc", [
    '{"Event": {"System": {"EventID": 1, "Channel": 5}, "EventData": {"": 1, "a": [1, {"x": 2}], '
    '"b": {"#text": [null]}, "c": null}}}',
    '{"Event": {"System": {"EventID": {"#text": "7045", "#attributes": {"Qualifiers": 16384}}, '
    '"Channel": "System"}, "EventData": "plain"}}',
    '{"Event": {"System": {"EventID": true}}}',
    '{"Event": {"System": []}}',
    '{"winlog": {"event_id": "4624", "event_data": [1, 2], "process": "x", "user": 5}}',
    '{"winlog": {"event_id": null}}',
    '{"EventID": "x", "Channel": "Security"}',
    '{"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Message": 5}',
    '{"EventID": 4624, "SourceName": "x", "EventTime": "not a time", "": ""}',
])
def test_odd_documents_never_raise(doc: str) -> None:
    rep = InputReport("odd")
    ev = document_event(doc, rep, "t")
    assert (ev is None) == (rep.not_events == 1)
    if ev is not None:
        assert type(ev.fields["EventID"]) is int and ev.product == "windows"
