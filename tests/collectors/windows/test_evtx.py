"""EVTX reading: every record of SigmaHQ's regression recordings, checked against the JSON
rendering SigmaHQ ships beside each; bad chunks, truncated and foreign files counted."""

from __future__ import annotations

from pathlib import Path

import pytest

from nocsoc.collectors.windows.event import windows_event
from nocsoc.collectors.windows.evtx import InputReport, expand_inputs, parse_record, read_evtx
from nocsoc.collectors.windows.fields import flatten_record, system_time
from tests.collectors.windows.conftest import chunks_of, evtx_file, json_docs


@pytest.fixture
def regression(shared_dir: Path) -> Path:
    root = shared_dir / "sigmahq" / "regression_data"
    if not root.is_dir():
        pytest.skip(f"{root} not present")
    return root


def _norm(k: str, v: object) -> object:
    if k == "SystemTime":
        return system_time({k: v})
    return v.strip().casefold() if isinstance(v, str) else v


def test_every_record_equals_sigmahq_json_rendering(regression: Path) -> None:
    """SigmaHQ's .json files were rendered by another tool than the .evtx bytes say: 91 values
    lose trailing spaces (`"cmd.exe" ` as ParentCommandLine), one differs in case
    (Explorer.EXE), one time has 9 fraction digits. Equal up to that; the differences counted."""
    files = sorted(regression.rglob("*.evtx"))
    assert len(files) == 202
    records = differ = 0
    for f in files:
        rep = InputReport(f.name)
        got = [e.fields for e in read_evtx(f, rep, threads=1)]
        want = []
        for doc in json_docs(f.with_suffix(".json")):
            fields = flatten_record(doc)
            windows_event(fields, "", parser="json", source="test")
            want.append(fields)
        assert [{k: _norm(k, v) for k, v in g.items()} for g in got] == \
            [{k: _norm(k, v) for k, v in w.items()} for w in want], f
        differ += sum(g[k] != w[k] for g, w in zip(got, want, strict=True) for k in g)
        assert rep.bad == 0 and rep.events == len(want)
        records += len(got)
    assert records == 238  # 233 Sysmon + 2 Security + Defender + TaskScheduler + WMI
    assert differ == 93


def test_fields_and_logsource_of_a_sysmon_record(regression: Path) -> None:
    f = next(regression.rglob("d4f1a2b3-7c8e-4d5f-b6a9-1e0c2d3f4e5b.evtx"))  # WMI-Activity 5858
    (ev,) = list(read_evtx(f, InputReport(f.name)))
    assert ev.fields["EventID"] == 5858
    assert ev.fields["Provider_Name"] == "Microsoft-Windows-WMI-Activity"
    assert ev.fields["Channel"] == "Microsoft-Windows-WMI-Activity/Operational"
    assert ev.fields["ClientProcessId"] == 25920  # UserData's Operation_ClientFailure, flattened
    assert ev.host == "swachchhanda"
    assert ev.time == system_time({"SystemTime": "2026-07-02T02:05:27.438557Z"}) == 1782957927.438557
    assert (ev.product, ev.services, ev.categories) == ("windows", ("wmi",), ())


def test_defender_names_lose_their_spaces(regression: Path) -> None:
    f = next(regression.rglob("a7c3e5f2-8b1d-4e9a-b6c2-3d7f5e8a9b4c.evtx"))
    (ev,) = list(read_evtx(f, InputReport(f.name)))
    assert ev.fields["ThreatName"] == "Tool:Win32/EICAR_Test_File"
    assert ev.fields["SourceName"] == "Real-Time Protection"
    assert "Threat Name" not in ev.fields


def test_corrupt_chunk_counted_rest_read(regression: Path, tmp_path: Path) -> None:
    files = sorted(regression.rglob("*.evtx"))[:5]
    chunks = [chunks_of(f)[0] for f in files]
    per_chunk = [len(list(read_evtx(f, InputReport(f.name)))) for f in files]
    bad = bytearray(chunks[2])
    bad[600:664] = b"\xff" * 64  # inside the chunk's string table / first record
    path = tmp_path / "multi.evtx"
    path.write_bytes(evtx_file(files[0], [*chunks[:2], bytes(bad), *chunks[3:]]))
    rep = InputReport(path.name)
    events = list(read_evtx(path, rep, threads=1))
    assert rep.bad_chunks == 1 and len(rep.messages) == 1
    assert len(events) == rep.events == sum(per_chunk) - per_chunk[2]


def test_truncated_and_foreign_files(regression: Path, tmp_path: Path) -> None:
    f = sorted(regression.rglob("*.evtx"))[0]
    trunc = tmp_path / "trunc.evtx"
    trunc.write_bytes(f.read_bytes()[:4096 + 1000])  # header and a piece of the first chunk
    rep = InputReport(trunc.name)
    assert list(read_evtx(trunc, rep)) == [] and rep.events == 0
    assert rep.bad_chunks == 1 and rep.messages == ["truncated: last chunk has 1000 of 65536 bytes"]
    multi = tmp_path / "multi.evtx"
    chunks = [chunks_of(g)[0] for g in sorted(regression.rglob("*.evtx"))[:3]]
    multi.write_bytes(evtx_file(f, chunks)[:4096 + 2 * 65536])  # the third chunk cut off
    rep = InputReport(multi.name)
    assert len(list(read_evtx(multi, rep))) == rep.events > 0
    assert rep.bad_chunks == 1 and rep.messages == [
        "truncated: 1 of the 3 chunks the header declares are missing"]
    foreign = tmp_path / "notes.evtx"
    foreign.write_text("not an event log\n")
    rep = InputReport(foreign.name)
    assert list(read_evtx(foreign, rep)) == []
    assert rep.bad_chunks == 1 and rep.messages[0].startswith("not an EVTX file")


def test_unknown_channel_and_non_events_counted() -> None:
    rep = InputReport("x")
    doc = '{"Event": {"System": {"EventID": 1, "Channel": "Contoso-App/Operational"}}}'
    ev = parse_record(doc, rep, "x")
    assert ev is not None and ev.services == () and ev.categories == ()
    assert rep.unknown_channels == {"Contoso-App/Operational": 1} and rep.events == 1
    assert parse_record('{"foo": 1}', rep, "x") is None
    assert parse_record('{"Event": {"System": {"EventID": "x"}}}', rep, "x") is None
    assert parse_record("[1", rep, "x") is None
    assert parse_record('{"a": "' + "x" * (1 << 20) + '"}', rep, "x") is None
    sysmon = '{"Event": {"System": {"EventID": 30, "Channel": "Microsoft-Windows-Sysmon/Operational"}}}'
    ev = parse_record(sysmon, rep, "x")
    assert ev is not None and ev.services == ("sysmon",) and ev.categories == ()
    assert rep.unknown_event_ids == {"Microsoft-Windows-Sysmon/Operational 30": 1}
    assert (rep.not_events, rep.oversized, rep.events) == (3, 1, 2)
    assert rep.messages[0] == "not an event record: no Event.System element"


def test_expand_inputs(regression: Path, tmp_path: Path) -> None:
    d = regression / "rules" / "windows" / "builtin"
    by_dir = expand_inputs([d])
    assert len(by_dir) == 4 and all(p.suffix == ".evtx" for p in by_dir)
    assert expand_inputs([str(d / "**" / "*.evtx")]) == by_dir
    assert expand_inputs([by_dir[0]]) == [by_dir[0]]
