"""`nocsoc detect` over Windows .evtx files: directories, quoted globs, bad files reported."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from nocsoc.cli.app import app


def run(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(app, list(args), env={"NOCSOC_CONFIG": str(tmp_path / "none.yaml")})
    return res.exit_code, res.stdout, res.stderr


def test_detect_evtx_dir_glob_and_bad_file(tmp_path: Path, shared_dir: Path) -> None:
    sig = shared_dir / "sigmahq"
    builtin = sig / "regression_data" / "rules" / "windows" / "builtin"
    bad = tmp_path / "cut.evtx"
    bad.write_bytes(next(builtin.rglob("*.evtx")).read_bytes()[:5096])
    code, out, err = run(tmp_path, "detect", "--json", "--no-builtin", "-r", str(sig / "rules" / "windows"),
                         str(builtin / "security"), str(builtin / "wmi" / "*" / "*.evtx"), str(bad))
    assert code == 0, err
    doc = json.loads(out)
    assert doc["events"] == 2 + 1  # security: 2 files, 1 record each; wmi: 1
    assert [(i["name"].rsplit("/", 1)[-1], i["events"], i["bad_chunks"]) for i in doc["inputs"]] == [
        ("e3c6d245-7b8f-4e2a-c17f-a9d0e5b38f62.evtx", 1, 0),
        ("7595ba94-cf3b-4471-aa03-4f6baa9e5fad.evtx", 1, 0),
        ("d4f1a2b3-7c8e-4d5f-b6a9-1e0c2d3f4e5b.evtx", 1, 0),
        ("cut.evtx", 0, 1)]
    assert sorted(a["rule_title"] for a in doc["alerts"]) == [
        "Failed Event Log Clear Via WMI NTEventLogFile ClearEventLog",
        "Important Scheduled Task Deleted/Disabled",
        "Potentially Suspicious Explicit Credential Local Logon",
    ]
    said = f"{bad}: 0 events read; 1 unreadable chunks; first: truncated: last chunk has 1000 of 65536 bytes"
    assert "".join(said.split()) in "".join(err.split())  # rich wraps long lines, inside words too
    code, _, _ = run(tmp_path, "detect", str(tmp_path / "nothing" / "*.evtx"))
    assert code == 2


def test_alerts_show_windows_evidence(tmp_path: Path) -> None:
    from nocsoc.detections.loader import builtin_rules_dir

    sample = builtin_rules_dir() / "tests" / "nocsoc_win_rdp_logon_external.match.log"
    log = tmp_path / "dc01.jsonl"  # NXLog im_msvistalog JSON lines, as `detect` reads them
    log.write_text(sample.read_text().splitlines()[0] + "\n")
    db = tmp_path / "alerts.db"
    # the RDP rule needs the province's own networks (the inventory's sites)
    (tmp_path / "none.yaml").write_text("inventory: inventory.yaml\n")
    (tmp_path / "inventory.yaml").write_text(
        "version: 1\nsites:\n  - id: tt\n    name: Trung tam\n    networks: [10.20.0.0/16]\n")
    code, out, err = run(tmp_path, "detect", str(log), "--store", "--db", str(db), "--json")
    assert code == 0, err
    (alert,) = json.loads(out)["alerts"]
    assert alert["rule_title"] == "Remote Desktop Logon From Outside the Province's Networks"
    assert (alert["host"], alert["src_ip"], alert["user"]) == (
        "DC01.sott.local", "203.0.113.50", "administrator")
    code, out, _ = run(tmp_path, "alerts", "show", str(alert["id"]), "--db", str(db), "--json")
    assert code == 0
    assert json.loads(out)["evidence"] == [{
        "event": "4624", "channel": "Security", "computer": "DC01.sott.local", "user": "administrator",
        "domain": "SOTT", "logon type": "10 RemoteInteractive (RDP)", "source workstation": "WS-KT-014",
        "source ip": "203.0.113.50", "process": "C:\\Windows\\System32\\svchost.exe"}]
    code, out, _ = run(tmp_path, "alerts", "show", str(alert["id"]), "--db", str(db))
    assert code == 0
    assert "logon type: 10 RemoteInteractive (RDP)" in out and "source ip: 203.0.113.50" in out


def test_evidence_escapes_control_characters() -> None:
    from nocsoc.detections.evidence import windows_evidence

    ev = dict(windows_evidence({"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational",
                                "CommandLine": "cmd /c \x1b[31mecho\nhi", "Hashes": "MD5=AB,SHA256=CD",
                                "ParentImage": "C:\\Windows\\explorer.exe", "User": "-"}))
    assert ev == {"event": "1", "channel": "Microsoft-Windows-Sysmon/Operational",
                  "command line": "cmd /c \\x1b[31mecho\\x0ahi",
                  "parent process": "C:\\Windows\\explorer.exe",
                  "hashes": "MD5=AB,SHA256=CD"}
