"""bench/evtx_synth.py: a benign day built from SigmaHQ's real EVTX templates reads back, by the
Rust parser, as each template record's JSON with exactly the planned values changed; the attack
records byte for byte; and a wrong expectation or a left-out change is caught."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from evtx import PyEvtxParser

from bench.evtx_synth import DOMAIN, DOMAIN_SID, USERS, Day, build, verify


@pytest.fixture
def regression(shared_dir: Path) -> list[Path]:
    root = shared_dir / "sigmahq" / "regression_data"
    if not root.is_dir():
        pytest.skip(f"{root} not present")
    return sorted(root.rglob("*.evtx"))


@pytest.fixture
def day(regression: list[Path], tmp_path: Path) -> tuple[Day, Path]:
    out = tmp_path / "day.evtx"
    return build(regression, out, 600, seed=7), out


def test_every_record_reads_back_as_planned(day: tuple[Day, Path]) -> None:
    d, out = day
    assert d.packer.skipped == {}
    assert verify(d, out) == 600 == len(d.written)
    # the mix drawn with seed 7 (shares: 20/20/22/10/18/6/4%, attack 1%)
    assert d.counts == {"Sysmon 1 process creation": 107, "Sysmon 11 file created": 129,
                        "Sysmon 13 registry value set": 133, "Sysmon 12 registry key created": 60,
                        "Sysmon 7 image loaded": 107, "Sysmon 10 process accessed": 35,
                        "Security 4648 logon with explicit credentials": 23, "attack": 6}
    # 50 records a chunk: each template defined once per chunk, referenced by later records
    assert len(d.packer.chunks) == 12 == (out.stat().st_size - 4096) // 65536
    assert d.packer.templates == {"defined": 131, "shared": 1069}


def test_no_attack_value_is_left_in_a_benign_record(day: tuple[Day, Path]) -> None:
    """Every EventData value and the record's time and number were replaced (the plan covers
    every field of the template; build() refuses a template it does not)."""
    d, out = day
    got = [json.loads(str(r["data"])) for r in PyEvtxParser(str(out), number_of_threads=1).records_json()]
    for n, (w, doc) in enumerate(zip(d.written, got, strict=True), 1):
        if w.kind == "attack":
            assert not w.changes
            continue
        data = doc["Event"]["EventData"]
        changed = {p[-1] for p in w.changes if p[:2] == ("Event", "EventData")}
        assert changed == set(data), f"record {n}"
        assert doc["Event"]["System"]["EventRecordID"] == n  # numbered as the file's header numbers it
        assert doc["Event"]["System"]["TimeCreated"]["#attributes"]["SystemTime"].startswith("2026-03-0")
        for k in ("User", "ParentUser", "SourceUser", "TargetUser"):  # accounts of the estate
            if k in data:
                dom, _, user = data[k].partition("\\")
                assert (dom, user in USERS) == (DOMAIN, True) or dom == "NT AUTHORITY", f"record {n}: {k}"
        if "SubjectUserSid" in data:  # a SID value (type 0x13) written and rendered
            user = data["SubjectUserName"]
            assert data["SubjectUserSid"] == f"{DOMAIN_SID}-{1100 + USERS.index(user)}"
            assert data["SubjectDomainName"] == DOMAIN


def test_a_wrong_expectation_is_caught(day: tuple[Day, Path]) -> None:
    d, out = day
    w = next(w for w in d.written if w.kind == "Sysmon 1 process creation")
    path = ("Event", "EventData", "CommandLine")
    w.changes[path] = w.changes[path] + " "
    with pytest.raises(AssertionError, match="is not its template with the planned values"):
        verify(d, out)


def test_a_change_left_out_of_the_plan_is_caught(day: tuple[Day, Path]) -> None:
    """The comparison is against the template's own JSON: a value changed in the file but not
    listed (here the GUID of a process) shows as a difference."""
    d, out = day
    w = next(w for w in d.written if w.kind == "Sysmon 11 file created")
    del w.changes[("Event", "EventData", "ProcessGuid")]
    with pytest.raises(AssertionError, match="is not its template with the planned values"):
        verify(d, out)


def test_nocsoc_reads_the_day_as_sysmon_and_security_events(day: tuple[Day, Path]) -> None:
    """The bench's parse path takes every record, none counted as bad, with the fields of the
    plan (the command line of each process creation as written)."""
    from nocsoc.collectors.windows.evtx import read_evtx
    from nocsoc.collectors.windows.report import InputReport

    d, out = day
    rep = InputReport("day")
    events = list(read_evtx(out, rep, threads=1))
    assert (len(events), rep.events, rep.bad, rep.unknown_channels) == (600, 600, 0, {})
    for ev, w in zip(events, d.written, strict=True):
        if w.kind == "Sysmon 1 process creation":
            assert ev.fields["CommandLine"] == w.changes[("Event", "EventData", "CommandLine")]
            assert ev.fields["User"] == w.changes[("Event", "EventData", "User")]
