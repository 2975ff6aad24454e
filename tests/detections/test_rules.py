"""The built-in pack (metadata and its own must/must-not tests) and SigmaHQ's rules, unchanged."""

from __future__ import annotations

from pathlib import Path

import yaml

from nocsoc.collectors.logs.ruletest import TEST_PLACEHOLDERS, builtin_tests, parse_lines, run_engine
from nocsoc.detections.loader import builtin_rules_dir, load_rules


def test_every_builtin_rule_has_metadata_and_tests() -> None:
    tests = {p.name for p in (builtin_rules_dir() / "tests").glob("*.log")}
    n = 0
    for f in sorted(builtin_rules_dir().glob("*.yml")):
        for doc in yaml.safe_load_all(f.read_text()):
            n += 1
            where = f"{f.name}: {doc.get('title')}"
            assert doc.get("id") and doc.get("level") and doc.get("falsepositives"), where
            # Vietnamese beside English (Sigma custom attributes; pySigma keeps them)
            assert doc.get("title_vi") and doc.get("description_vi"), where
            assert any(t.startswith("attack.t") for t in doc["tags"]), where
            assert any(t.startswith("attack.") and not t.startswith("attack.t") for t in doc["tags"]), where
            keys = {doc["id"], doc.get("name")}
            assert {f"{k}.match.log" for k in keys} & tests, f"{where}: no .match.log"
            assert {f"{k}.nomatch.log" for k in keys} & tests, f"{where}: no .nomatch.log"
    assert n == 52


def test_builtin_rule_tests_pass() -> None:
    rs = load_rules([], include_builtin=True, placeholders=TEST_PLACEHOLDERS)
    assert not rs.errors and not rs.unsupported and not rs.disabled
    results = builtin_tests(rs)
    assert len(results) == 104
    assert [r.to_dict() for r in results if not r.ok] == []


def test_sigmahq_rules_load_unchanged(shared_dir: Path) -> None:
    root = shared_dir / "sigmahq" / "rules"
    rs = load_rules([root / "linux", root / "web", root / "network"])
    assert rs.files == 308 and rs.errors == []
    assert len(rs.rules) == 238  # 237 + SigmaHQ's huawei bgp rule (the Huawei parser produces it)
    reasons = sorted({u.message for u in rs.unsupported})
    assert reasons == [
        "category 'dns' is not ingested",
        "category 'file_event' is not ingested",
        "category 'network_connection' is not ingested",
        "category 'proxy' is not ingested",
        "product 'zeek' is not ingested",
    ]


def test_sigmahq_rules_fire_on_matching_lines(shared_dir: Path) -> None:
    root = shared_dir / "sigmahq" / "rules"
    rs = load_rules([root / "linux", root / "web", root / "network"])
    lines = [
        # web: path traversal (webserver category, cs-uri-query|contains)
        '203.0.113.9 - - [25/Nov/2026:08:12:01 +0700] "GET /a/../../../etc/passwd HTTP/1.1" 404 1 '
        '"-" "curl/8"',
        # network: Cisco AAA keyword rule
        "<189>Nov 25 12:10:01 dist-pl1 %PARSER-5-CFGLOG_LOGGEDCMD: User:noc  logged command:clear logging",
        # linux sshd keyword rule
        "<38>Nov 25 01:02:03 portal-web1 sshd[1]: error: Corrupted MAC on input.",
        # auditd: a SYSCALL then its EXECVE -> process_creation (Image|endswith + CommandLine|contains)
        "type=SYSCALL msg=audit(1795568523.1:77): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=2 "
        'uid=0 comm="rm" exe="/usr/bin/rm" key="exec"',
        'type=EXECVE msg=audit(1795568523.1:77): argc=3 a0="rm" a1="-f" a2="/root/.bash_history"',
        # firewall cleartext protocols
        "<4>Nov 25 11:00:20 fw-dc1 kernel: [1.2] NOCSOC-ACCEPT IN=eth0 OUT=eth1 SRC=10.0.0.5 DST=10.10.0.5 "
        "LEN=44 PROTO=TCP SPT=61000 DPT=23 SYN URGP=0",
        # FortiGate event log (product fortigate, service event), Junos and Cisco BGP keyword rules
        'date=2026-11-25 time=01:02:03 devname="FG100" logid="0100044547" type="event" subtype="system" '
        'user="admin" action="Add" cfgpath="system.admin" cfgobj="eve"',
        "<189>Nov 25 12:00:00 dist-bl1 rpd[1234]: BGP_AUTH_FAILED: missing MD5 digest from peer 10.0.0.2:179",
        "<189>Nov 25 12:00:00 core-dx1 %IP-TCP-3-BADAUTH: Invalid MD5 digest from 10.0.0.2:179 to "
        "10.0.0.1:12345",
        # nothing should fire on a plain request
        '10.0.0.1 - - [25/Nov/2026:08:12:01 +0700] "GET /index.html HTTP/1.1" 200 1 "-" "Mozilla/5.0"',
    ]
    _, dets = run_engine(rs, parse_lines(lines))
    assert sorted((d.title, d.samples[0].raw[:12]) for d in dets) == sorted(
        [
            ("Path Traversal Exploitation Attempts", "203.0.113.9 "),
            ("Cisco Clear Logs", "<189>Nov 25 "),
            ("Suspicious OpenSSH Daemon Error", "<38>Nov 25 0"),
            ("Suspicious History File Operations - Linux", "type=EXECVE "),
            ("History File Deletion", "type=EXECVE "),
            ("File Deletion", "type=EXECVE "),
            ("Cleartext Protocol Usage", "<4>Nov 25 11"),
        ("FortiGate - New Administrator Account Created", "date=2026-11"),
        ("Juniper BGP Missing MD5", "<189>Nov 25 "),
        ("Cisco BGP Authentication Failures", "<189>Nov 25 "),
        ]
    )
