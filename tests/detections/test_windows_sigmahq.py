"""SigmaHQ's Windows rules, unchanged: every one loads or is listed with its reason, and every
regression test SigmaHQ ships (an .evtx recording and the rule it must fire) fires its rule."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from nocsoc.collectors.windows.evtx import InputReport, read_evtx
from nocsoc.detections.engine import Engine
from nocsoc.detections.loader import RuleSet, load_rules
from nocsoc.detections.windows import classify
from nocsoc.events import LogEvent

_ROOT = Path(__file__).resolve().parents[2]


def _sigmahq() -> Path:
    import os
    return Path(os.environ.get("NOCSOC_SHARED_DIR") or _ROOT.parent / "shared") / "sigmahq"


def _cases() -> list[Path]:
    root = _sigmahq() / "regression_data"
    return sorted(root.rglob("info.yml")) if root.is_dir() else []


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    root = _sigmahq()
    if not (root / "rules" / "windows").is_dir():
        pytest.skip(f"{root}/rules/windows not present")
    return load_rules([root / "rules" / "windows", root / "rules-emerging-threats",
                       root / "rules-threat-hunting"])


@pytest.fixture(scope="module")
def engine(ruleset: RuleSet) -> Engine:
    return Engine(ruleset)


def test_windows_rules_load_or_say_why(ruleset: RuleSet) -> None:
    assert ruleset.files == 2407 + 9 + 1 and ruleset.errors == []
    assert len(ruleset.rules) == 2403
    reasons = Counter(u.message.split(" ", 2)[1] + " " + u.message.split(" ", 2)[0]
                      for u in ruleset.unsupported)
    # logsources no pySigma Windows/Sysmon pipeline maps to a channel (file_access and
    # file_rename are Kernel-File ETW; IIS configuration, LDAP and SMB server not in its table)
    assert reasons == {"'file_access' category": 7, "'iis-configuration' service": 4,
                       "'ldap' service": 1, "'smbserver-connectivity' service": 1,
                       "'file_rename' category": 1}


def test_logsources_follow_pysigma_pipelines() -> None:
    sysmon = "Microsoft-Windows-Sysmon/Operational"
    assert classify(sysmon, 1).categories == ("process_creation",)
    assert classify(sysmon, 1).services == ("sysmon",)
    assert set(classify(sysmon, 12).categories) == {"registry_add", "registry_delete", "registry_event"}
    assert classify("Microsoft-Windows-PowerShell/Operational", 4104).categories == ("ps_script",)
    assert classify("PowerShellCore/Operational", 4104).services == ("powershell",)
    assert classify("Windows PowerShell", 400).categories == ("ps_classic_start",)
    audit = classify("Security", 4688)
    assert audit.categories == ("process_creation",) and ("Image", "NewProcessName") in audit.aliases
    reg = classify("Security", 4657, {"OperationType": "Existing registry value modified"})
    assert set(reg.categories) == {"registry_event", "registry_set"}
    assert ("TargetObject", "ObjectName") in reg.aliases
    assert classify("Security", 4625).categories == ()
    assert classify("Security", 4625).services == ("security",)
    assert not classify("Contoso/Operational", 1).known


@pytest.mark.parametrize("info", _cases(), ids=lambda p: p.parent.name)
def test_regression_case_fires_its_rule(info: Path, engine: Engine, ruleset: RuleSet) -> None:
    meta = yaml.safe_load(info.read_text(encoding="utf-8"))
    rid = meta["rule_metadata"][0]["id"]
    assert any(r.id == rid for r in ruleset.rules), f"rule {rid} did not load"
    for t in meta["regression_tests_info"]:
        path = _sigmahq() / t["path"]
        before = engine.rule_hits.get(rid, 0)
        rep = InputReport(path.name)
        events = 0
        for ev in read_evtx(path, rep, threads=1):
            engine.process(ev)
            events += 1
        assert rep.bad == 0 and events > 0
        assert engine.rule_hits.get(rid, 0) - before >= (t.get("match_count") or 1)


def test_all_regression_cases_present() -> None:
    if not _cases():
        pytest.skip("regression data not present")
    assert len(_cases()) == 202


def _with_raw(ev: LogEvent, raw: str) -> LogEvent:
    import copy
    out = copy.copy(ev)
    out.raw = raw
    return out


def test_gates_in_c_give_what_the_reference_gives(ruleset: RuleSet) -> None:
    """Every regression record (EVTX's lazy Fields, SigmaHQ's Windows rules), twice (the second
    time from the gates' remembered values), with a Mimikatz keyword written into one in nine:
    the engine with its C gates (_gatefast.dispatch and scan_fields, the keyword rule's CaseFree)
    fires the same rules on each event, and fills the same lowercase cache, as with the Python
    it replaces (engine.dispatch_reference, scan_fields_reference, the keyword prefilter:
    NOCSOC_ENGINE_GATES=python)."""
    import nocsoc.detections.engine as engine_mod
    if engine_mod._c_scan_fields is None:
        pytest.skip("C accelerator not built (tests/test_speedups.py says so)")
    files = sorted((_sigmahq() / "regression_data").rglob("*.evtx"))
    events = [ev for f in files for ev in read_evtx(f, InputReport(f.name), threads=1)]
    events += [_with_raw(ev, ev.raw[:99] + "PRIVILEGE::Debug" + ev.raw[99:]) if i % 9 == 0 else ev
               for i, ev in enumerate(events)]

    def run(python: bool, mp: pytest.MonkeyPatch) -> list[tuple[list[str], dict[str, object]]]:
        mp.setattr(engine_mod, "_scan_fields", engine_mod.scan_fields_reference if python
                   else engine_mod._c_scan_fields)
        mp.setattr(engine_mod, "_dispatch", engine_mod.dispatch_reference if python
                   else engine_mod._c_dispatch)
        mp.setenv("NOCSOC_ENGINE_GATES", "python" if python else "c")
        mp.setattr(ruleset, "_routes", None)  # the rule set's routes built again, with these gates
        engine = Engine(ruleset)
        out = []
        for ev in events:
            ev._low = None
            got = sorted(d.rule_id for d in engine.process(ev))
            out.append((got, {k: (type(v).__name__, v) for k, v in (ev._low or {}).items()}))
        gated = [r for r in engine._routes.values() if r.gate is not None]
        assert (gated == []) is python
        return out

    with pytest.MonkeyPatch.context() as mp:
        want = run(True, mp)
        got = run(False, mp)
    mimikatz = "06d71506-7beb-4f22-8888-e2e5e2ca7fd8"
    assert sum(mimikatz in g for g, _ in want) > 20
    assert len(got) > 400 and sum(len(g) for g, _ in want) > 400
    assert got == want
