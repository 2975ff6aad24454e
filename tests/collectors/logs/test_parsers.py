"""Each parser on real-looking lines: exact Sigma-taxonomy fields, host, time, logsource."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from nocsoc.collectors.logs.parsers import LineParser, json_event

NOW = datetime(2026, 11, 25, 23, 0, 0, tzinfo=UTC)


@pytest.fixture
def p() -> LineParser:
    return LineParser(default_host="collector")


def test_sshd_failed_invalid_user(p: LineParser) -> None:
    e = p.parse_syslog(
        "<38>Nov 25 01:02:03 portal-web1 sshd[123]: Failed password for invalid user admin "
        "from 203.0.113.5 port 40022 ssh2",
        now=NOW,
    )
    assert e.parser == "sshd" and e.host == "portal-web1"
    assert e.route_key == ("linux", ("sshd", "auth", "syslog"), ())
    f = e.fields
    assert (f["event_type"], f["outcome"], f["user"], f["src_ip"], f["src_port"], f["invalid_user"]) == (
        "failed_password",
        "failure",
        "admin",
        "203.0.113.5",
        40022,
        True,
    )


def test_sshd_accepted_key_and_pam_failure(p: LineParser) -> None:
    e = p.parse_line(
        "Nov 25 01:02:04 dns1 sshd[9]: Accepted publickey for deploy from 10.0.0.11 port 50004 "
        "ssh2: ED25519 SHA256:abc",
        now=NOW,
    )
    assert (e.fields["event_type"], e.fields["user"], e.fields["auth_method"]) == (
        "accepted_publickey",
        "deploy",
        "publickey",
    )
    e2 = p.parse_line(
        "Nov 25 01:02:05 dns1 sshd[9]: pam_unix(sshd:auth): authentication failure; logname= "
        "uid=0 euid=0 tty=ssh ruser= rhost=198.51.100.7  user=root",
        now=NOW,
    )
    assert (e2.parser, e2.fields["src_ip"], e2.fields["user"], e2.fields["outcome"]) == (
        "pam",
        "198.51.100.7",
        "root",
        "failure",
    )


def test_web_combined(p: LineParser) -> None:
    e = p.parse_line(
        '203.0.113.9 - bob [25/Nov/2026:08:12:01 +0700] "GET /tra-cuu?ma=1%27 HTTP/1.1" 404 162 '
        '"https://ref/" "Mozilla/5.0 \\"quoted\\""',
        now=NOW,
    )
    assert e.parser == "web" and e.categories == ("webserver",)
    f = e.fields
    assert (
        f["c-ip"],
        f["cs-method"],
        f["cs-uri-query"],
        f["cs-uri-stem"],
        f["cs-query"],
        f["sc-status"],
        f["sc-bytes"],
        f["cs-username"],
        f["cs-referer"],
        f["cs-user-agent"],
    ) == (
        "203.0.113.9",
        "GET",
        "/tra-cuu?ma=1%27",
        "/tra-cuu",
        "ma=1%27",
        404,
        162,
        "bob",
        "https://ref/",
        'Mozilla/5.0 "quoted"',
    )
    assert e.time == datetime(2026, 11, 25, 1, 12, 1, tzinfo=UTC).timestamp()


def test_auditd_execve_joined_with_its_syscall(p: LineParser) -> None:
    p.parse_line(
        "type=SYSCALL msg=audit(1795568523.123:456): arch=c000003e syscall=59 success=yes exit=0 "
        'ppid=1 pid=2 auid=1000 uid=0 comm="bash" exe="/usr/bin/bash" key="exec"'
    )
    e = p.parse_line(
        'type=EXECVE msg=audit(1795568523.123:456): argc=3 a0="bash" a1="-c" a2=6964203B20756E616D65'
    )
    assert e.parser == "auditd" and e.route_key == ("linux", ("auditd",), ("process_creation",))
    f = e.fields
    assert (f["type"], f["a0"], f["a1"], f["a2"], f["CommandLine"], f["Image"], f["uid"], f["key"]) == (
        "EXECVE",
        "bash",
        "-c",
        "id ; uname",
        "bash -c id ; uname",
        "/usr/bin/bash",
        "0",
        "exec",
    )
    assert e.time == 1795568523.123


def test_iptables_log(p: LineParser) -> None:
    e = p.parse_syslog(
        "<4>Nov 25 11:00:20 fw-dc1 kernel: [8812.2] NOCSOC-DROP IN=eth0 OUT=eth1 MAC=00:11 "
        "SRC=203.0.113.66 DST=10.10.0.5 LEN=44 TOS=0x00 TTL=49 ID=1 PROTO=TCP SPT=61000 DPT=1020 "
        "WINDOW=1024 RES=0x00 SYN URGP=0",
        now=NOW,
    )
    f = e.fields
    assert e.categories == ("firewall",) and e.host == "fw-dc1"
    assert (
        f["src_ip"],
        f["dst_ip"],
        f["network_protocol"],
        f["src_port"],
        f["dst_port"],
        f["action"],
        f["blocked"],
        f["log_prefix"],
    ) == ("203.0.113.66", "10.10.0.5", "tcp", 61000, 1020, "drop", "true", "NOCSOC-DROP")


def test_cisco_login_failed_link_and_config(p: LineParser) -> None:
    e = p.parse_syslog(
        "<188>2211: core-dx1: Nov 25 12:00:01.123 ICT: %SEC_LOGIN-4-LOGIN_FAILED: Login failed "
        "[user: admin] [Source: 203.0.113.70] [localport: 22] [Reason: Login Authentication Failed]",
        sender="127.0.0.21",
        now=NOW,
    )
    assert (e.host, e.product, e.services) == ("core-dx1", "cisco", ("aaa", "syslog"))
    assert (e.fields["event_id"], e.fields["user"], e.fields["src_ip"], e.fields["dst_port"]) == (
        "SEC_LOGIN-4-LOGIN_FAILED",
        "admin",
        "203.0.113.70",
        22,
    )
    link = p.parse_syslog(
        "<187>12: *Nov 25 01:02:04: %LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down",
        sender="127.0.0.22",
        now=NOW,
    )
    assert (link.host, link.services[0], link.fields["interface"], link.fields["state"]) == (
        "127.0.0.22",
        "link",
        "GigabitEthernet0/1",
        "down",
    )
    cfg = p.parse_syslog(
        "<189>Nov 25 12:10:00 dist-pl1 %SYS-5-CONFIG_I: Configured from console by noc on vty0 (10.0.0.10)",
        now=NOW,
    )
    assert (cfg.host, cfg.fields["event_id"], cfg.fields["user"], cfg.fields["src_ip"]) == (
        "dist-pl1",
        "SYS-5-CONFIG_I",
        "noc",
        "10.0.0.10",
    )


def test_junos_and_fortigate(p: LineParser) -> None:
    j = p.parse_syslog(
        "<38>Nov 25 12:00:01 dist-bl1 sshd[4242]: SSHD_LOGIN_FAILED: Login failed for user "
        "'root' from host '203.0.113.71'",
        now=NOW,
    )
    assert (j.product, j.services[0], j.fields["user"], j.fields["src_ip"]) == (
        "juniper",
        "aaa",
        "root",
        "203.0.113.71",
    )
    fg = p.parse_line(
        'date=2026-11-25 time=01:02:03 devname="FG100" logid="0100044547" type="event" '
        'subtype="system" action="Add" cfgpath="system.admin" user="admin"',
        now=NOW,
    )
    assert (fg.product, fg.services, fg.host, fg.fields["cfgpath"], fg.fields["action"]) == (
        "fortigate",
        ("event",),
        "FG100",
        "system.admin",
        "Add",
    )
    assert fg.time == datetime(2026, 11, 25, 1, 2, 3, tzinfo=UTC).timestamp()
    fg2 = p.parse_line(
        'date=2026-11-25 time=08:02:03 tz="+0700" eventtime=1795568523123456789 devname="FG100" '
        'logid="0000000013" type="traffic" subtype="forward" srcip=203.0.113.5 dstip=10.10.0.5 '
        'dstport=23 srcport=40000 action="deny"',
        now=NOW,
    )
    assert (fg2.categories, fg2.fields["dst_port"], fg2.fields["blocked"]) == (("firewall",), 23, "true")
    assert abs(fg2.time - 1795568523.123456789) < 1e-6
    fg2.fields.pop("eventtime")
    assert p.parse_line(fg2.raw.replace(" eventtime=1795568523123456789", ""), now=NOW).time == datetime(
        2026, 11, 25, 1, 2, 3, tzinfo=UTC
    ).timestamp()


def test_unparseable_line_is_kept(p: LineParser) -> None:
    e = p.parse_line("\x07 binary junk ###", now=NOW)
    assert e.parser == "unparsed" and e.fields["message"] == "\x07 binary junk ###"
    assert e.raw == "\x07 binary junk ###" and e.host == "collector"


def test_json_lines() -> None:
    e = json_event(
        '{"host": "srv9", "@timestamp": "2026-11-25T01:00:00Z", "CommandLine": "id",'
        ' "logsource": {"product": "linux", "category": "process_creation"}}'
    )
    assert (e.host, e.product, e.categories, e.fields["CommandLine"]) == (
        "srv9",
        "linux",
        ("process_creation",),
        "id",
    )
    assert e.time == datetime(2026, 11, 25, 1, tzinfo=UTC).timestamp()
    with pytest.raises(ValueError):
        json_event("[1, 2]")
