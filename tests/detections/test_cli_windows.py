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
    assert f"{bad}: 0 events read; 1 unreadable chunks; first: truncated: last chunk has 1000 of " \
        "65536 bytes" in " ".join(err.split())
    code, _, _ = run(tmp_path, "detect", str(tmp_path / "nothing" / "*.evtx"))
    assert code == 2
