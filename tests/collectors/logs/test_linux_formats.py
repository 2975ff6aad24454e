"""Formats the SEKOIA samples do not cover: sudo/su/account tools, raw auditd (node=, ENRICHED,
nested msg, hex, parents), OpenSSH's old port-less forms, rsyslog's `message repeated`, old Red Hat
`sshd(pam_unix)` and Huawei VRP/USG. Lines are written as the daemons write them (formats from
their sources and manuals); every assertion is an exact value."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from nocsoc.collectors.logs.parsers import LineParser
from nocsoc.collectors.logs.ruletest import parse_lines, run_engine
from nocsoc.detections.loader import load_rules
from nocsoc.events import LogEvent

NOW = datetime(2026, 11, 25, 23, 0, 0, tzinfo=UTC)


@pytest.fixture
def p() -> LineParser:
    return LineParser(default_host="collector")


def one(p: LineParser, line: str) -> LogEvent:
    evs = p.events(line, now=NOW)
    assert len(evs) == 1
    return evs[0]


def pick(ev: LogEvent, *names: str) -> tuple[object, ...]:
    return tuple(ev.fields.get(n) for n in names)


# --- sudo / su / accounts -------------------------------------------------------------------


def test_sudo_command_refusal_and_not_in_sudoers(p: LineParser) -> None:
    ok = one(
        p,
        "Nov 25 01:00:00 web1 sudo:    minh : TTY=pts/0 ; PWD=/home/minh ; USER=root ; "
        "COMMAND=/usr/bin/systemctl restart nginx",
    )
    assert (ok.parser, ok.services) == ("sudo", ("sudo", "auth", "syslog"))
    assert pick(ok, "event_type", "outcome", "user", "target_user", "CommandLine", "CurrentDirectory") == (
        "sudo_command",
        "success",
        "minh",
        "root",
        "/usr/bin/systemctl restart nginx",
        "/home/minh",
    )
    bad = one(
        p,
        "Nov 25 01:00:01 web1 sudo:     hoa : 3 incorrect password attempts ; TTY=pts/1 ; "
        "PWD=/tmp ; USER=root ; COMMAND=/bin/bash",
    )
    assert pick(bad, "event_type", "outcome", "user", "CommandLine") == (
        "sudo_auth_failure",
        "failure",
        "hoa",
        "/bin/bash",
    )
    nots = one(
        p,
        "Nov 25 01:00:02 web1 sudo:   guest : user NOT in sudoers ; TTY=pts/2 ; PWD=/ ; "
        "USER=root ; COMMAND=/usr/bin/id",
    )
    assert pick(nots, "event_type", "outcome", "user", "target_user") == (
        "sudo_not_in_sudoers",
        "failure",
        "guest",
        "root",
    )
    pam = one(
        p,
        "Nov 25 01:00:03 web1 sudo: pam_unix(sudo:auth): authentication failure; logname=hoa "
        "uid=1001 euid=0 tty=/dev/pts/1 ruser=hoa rhost=  user=hoa",
    )
    assert (pam.parser, *pick(pam, "event_type", "outcome", "user", "pam_service")) == (
        "pam",
        "pam_authentication_failure",
        "failure",
        "hoa",
        "sudo",
    )


def test_su_forms(p: LineParser) -> None:
    e = one(p, "Nov 25 01:01:00 db1 su[311]: FAILED su for root by minh")
    assert pick(e, "event_type", "outcome", "user", "target_user") == ("su_failed", "failure", "minh", "root")
    e = one(p, "Nov 25 01:01:01 db1 su[312]: Successful su for postgres by root")
    assert pick(e, "event_type", "outcome", "user", "target_user") == ("su", "success", "root", "postgres")
    e = one(p, "Nov 25 01:01:02 db1 su[313]: (to root) minh on pts/3")
    assert pick(e, "event_type", "user", "target_user", "tty") == ("su", "minh", "root", "pts/3")
    e = one(p, "Nov 25 01:01:03 db1 su[314]: - pts/3 minh:root")
    assert pick(e, "event_type", "outcome", "user", "target_user") == ("su_failed", "failure", "minh", "root")
    e = one(
        p,
        "Nov 25 01:01:04 db1 su: pam_unix(su-l:session): session opened for user root(uid=0) "
        "by minh(uid=1000)",
    )
    assert (e.parser, *pick(e, "event_type", "user", "src_user", "pam_service")) == (
        "pam",
        "session_opened",
        "root",
        "minh",
        "su-l",
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "Nov 25 02:00:00 db1 useradd[900]: new user: name=backup2, UID=1002, GID=1002, "
            "home=/home/backup2, "
            "shell=/bin/bash, from=/dev/pts/0",
            ("account", "user_added", "backup2", None),
        ),
        (
            "Nov 25 02:00:01 db1 groupadd[901]: new group: name=ops, GID=1003",
            ("account", "group_added", None, "ops"),
        ),
        (
            "Nov 25 02:00:02 db1 usermod[902]: add 'backup2' to group 'sudo'",
            ("account", "user_added_to_group", "backup2", "sudo"),
        ),
        (
            "Nov 25 02:00:03 db1 userdel[903]: delete user 'backup2'",
            ("account", "user_deleted", "backup2", None),
        ),
        (
            "Nov 25 02:00:04 db1 passwd[904]: pam_unix(passwd:chauthtok): password changed for minh",
            ("pam", "pam_password_changed_for_minh", "minh", None),
        ),
        (
            "Nov 25 02:00:05 db1 chpasswd[905]: pam_unix(chpasswd:chauthtok): password changed for hoa",
            ("pam", "pam_password_changed_for_hoa", "hoa", None),
        ),
    ],
)
def test_account_tools(p: LineParser, line: str, expected: tuple[object, ...]) -> None:
    e = one(p, line)
    user = e.fields.get("target_user", e.fields.get("user"))
    assert (e.parser, e.fields["event_type"], user, e.fields.get("group")) == expected


def test_pam_kinds_beyond_auth_session_account(p: LineParser) -> None:
    e = one(
        p,
        "Nov 25 02:01:00 db1 sshd[77]: pam_faillock(sshd:auth): Consecutive login failures for user "
        "root account temporarily locked",
    )
    assert (e.parser, *pick(e, "pam_module", "outcome", "user")) == ("pam", "pam_faillock", "failure", "root")
    e = one(p, "Nov 25 02:01:01 db1 login[78]: pam_unix(login:password): password changed for minh")
    assert (e.parser, *pick(e, "pam_kind", "user")) == ("pam", "password", "minh")


# --- OpenSSH: old forms, repeats, RHEL ---------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Invalid user oracle from 203.0.113.40", ("invalid_user", "oracle", "203.0.113.40", None)),
        ("Illegal user test from 203.0.113.41", ("invalid_user", "test", "203.0.113.41", None)),
        (
            "Failed password for illegal user test from 203.0.113.41 port 5000 ssh2",
            ("failed_password", "test", "203.0.113.41", 5000),
        ),
        (
            "Failed password for root from ::ffff:203.0.113.42 port 5001 ssh2",
            ("failed_password", "root", "203.0.113.42", 5001),
        ),
        ("Connection closed by 203.0.113.43 [preauth]", ("closed", None, "203.0.113.43", None)),
        ("Connection closed by 203.0.113.43", ("closed", None, "203.0.113.43", None)),
        (
            "Received disconnect from 203.0.113.44: 11: Bye Bye [preauth]",
            ("disconnect", None, "203.0.113.44", None),
        ),
        (
            "reverse mapping checking getaddrinfo for host.example [203.0.113.45] failed - POSSIBLE BREAK-IN "
            "ATTEMPT!",
            ("possible_breakin", None, "203.0.113.45", None),
        ),
        (
            "Address 203.0.113.46 maps to x.example, but this does not map back to the address - POSSIBLE "
            "BREAK-IN ATTEMPT!",
            ("possible_breakin", None, "203.0.113.46", None),
        ),
        (
            "error: PAM: Authentication failure for illegal user admin from 203.0.113.47",
            ("failed", "admin", "203.0.113.47", None),
        ),
        ("Did not receive identification string from 203.0.113.48", ("no_ident", None, "203.0.113.48", None)),
    ],
)
def test_openssh_old_forms(p: LineParser, body: str, expected: tuple[object, ...]) -> None:
    e = one(p, f"Nov 25 03:00:00 old1 sshd[555]: {body}")
    assert pick(e, "event_type", "user", "src_ip", "src_port") == expected


def test_message_repeated_is_n_events(p: LineParser) -> None:
    evs = p.events(
        "Nov 25 03:01:00 web1 sshd[9]: message repeated 5 times: [ Failed password for root from "
        "203.0.113.50 port 22 ssh2]",
        now=NOW,
    )
    assert len(evs) == 5
    assert {(e.fields["event_type"], e.fields["src_ip"], e.fields["user"]) for e in evs} == {
        ("failed_password", "203.0.113.50", "root")
    }
    assert len({id(e.fields) for e in evs}) == 5  # independent events
    assert (
        len(p.events("Nov 25 03:01:00 web1 sshd[9]: message repeated 999999999 times: [ x]", now=NOW))
        == 10_000
    )


def test_old_rhel_pam_failure_is_a_failed_ssh_password(p: LineParser) -> None:
    e = one(
        p,
        "Nov 25 03:02:00 rhel4 sshd(pam_unix)[2811]: authentication failure; logname= uid=0 euid=0 "
        "tty=NODEVssh ruser= rhost=203.0.113.60  user=root",
    )
    assert (e.parser, e.services) == ("pam", ("sshd", "auth", "syslog"))
    assert pick(e, "event_type", "outcome", "src_ip", "user") == (
        "failed_password",
        "failure",
        "203.0.113.60",
        "root",
    )


def test_old_rhel_brute_force_raises_the_builtin_alert() -> None:
    """The built-in SSH brute-force correlation fires on a log holding only old-RHEL PAM lines."""
    rs = load_rules([], include_builtin=True)
    lines = [
        f"Nov 25 03:03:{i:02d} rhel4 sshd(pam_unix)[{2800 + i}]: authentication failure; logname= uid=0 "
        f"euid=0 tty=NODEVssh ruser= rhost=203.0.113.61  user=root"
        for i in range(20)
    ]
    brute = rs.by_id("nocsoc_ssh_bruteforce")
    assert brute is not None
    _, dets = run_engine(rs, parse_lines(lines, now=NOW))
    assert [d.src_ip for d in dets if d.new and d.rule_id == str(brute.id)] == ["203.0.113.61"]


# --- auditd --------------------------------------------------------------------------------------


def test_auditd_node_enriched_hex_and_parent(p: LineParser) -> None:
    gs = "\x1d"
    lines = [
        # the parent: bash started by sshd
        f"node=web1 type=SYSCALL msg=audit(1795568523.100:70): arch=c000003e syscall=59 success=yes exit=0 "
        f'ppid=900 pid=1000 auid=1000 uid=0 euid=0 comm="bash" exe="/usr/bin/bash" key="exec"'
        f'{gs}ARCH=x86_64 SYSCALL=execve AUID="minh" UID="root" EUID="root"',
        'node=web1 type=EXECVE msg=audit(1795568523.100:70): argc=2 a0="bash" a1="-i"',
        # the child: its exe and an argument hex-encoded (they hold a space)
        "node=web1 type=SYSCALL msg=audit(1795568524.200:71): arch=c000003e syscall=59 success=yes exit=0 "
        'ppid=1000 pid=1001 auid=1000 uid=0 euid=0 comm="nc" exe=2F746D702F6D7920746F6F6C key="exec"'
        f'{gs}SYSCALL=mknod UID="root"',
        'node=web1 type=EXECVE msg=audit(1795568524.200:71): argc=3 a0="nc" a1=2D65202F62696E2F7368 '
        'a2="4444"',
    ]
    evs = [one(p, ln) for ln in lines]
    child = evs[3]
    assert (child.host, child.categories, child.time) == ("web1", ("process_creation",), 1795568524.2)
    assert pick(
        child, "Image", "CommandLine", "User", "ParentImage", "ParentCommandLine", "ParentProcessId"
    ) == ("/tmp/my tool", "nc -e /bin/sh 4444", "root", "/usr/bin/bash", "bash -i", "1000")
    assert pick(evs[2], "SYSCALL", "UID", "exe", "User") == ("mknod", "root", "/tmp/my tool", "root")
    assert evs[0].fields["AUID"] == "minh"


def test_auditd_nested_msg_and_uid_name(p: LineParser) -> None:
    e = one(
        p,
        "type=USER_AUTH msg=audit(1795568600.5:80): pid=2222 uid=0 auid=4294967295 ses=4294967295 "
        'msg=\'op=PAM:authentication grantors=? acct="admin" exe="/usr/sbin/sshd" '
        "hostname=203.0.113.70 addr=203.0.113.70 terminal=ssh res=failed'",
    )
    assert pick(e, "type", "op", "acct", "exe", "src_ip", "outcome", "User", "pid") == (
        "USER_AUTH",
        "PAM:authentication",
        "admin",
        "/usr/sbin/sshd",
        "203.0.113.70",
        "failure",
        "admin",
        "2222",
    )
    assert e.fields["msg"].startswith("op=PAM:authentication")
    e2 = one(
        p,
        "type=USER_CMD msg=audit(1795568601.5:81): pid=2223 uid=1000 auid=1000 ses=3 "
        'msg=\'cwd="/home/minh" cmd=636174202F6574632F736861646F77 exe="/usr/bin/sudo" terminal=pts/0 '
        "res=success'",
    )
    assert pick(e2, "cmd", "cwd", "outcome", "User") == ("cat /etc/shadow", "/home/minh", "success", "1000")


def test_auditd_split_long_argument(p: LineParser) -> None:
    one(
        p,
        "type=SYSCALL msg=audit(1795568700.1:90): syscall=59 success=yes ppid=1 pid=5 uid=0 "
        'comm="python3" exe="/usr/bin/python3"',
    )
    e = one(
        p,
        'type=EXECVE msg=audit(1795568700.1:90): argc=3 a0="python3" a1="-c" a2_len=10 '
        'a2[0]="print" a2[1]=28312B3129',
    )
    assert e.fields["CommandLine"] == "python3 -c print(1+1)"


# --- Huawei ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # Huawei's own example (Log Format Description)
        (
            "<189>2011-08-18 18:08:56 HUAWEI %%01CLI/5/LOGIN(l):CID=2160731923;VTY0 login from "
            "192.168.0.1 succeed.",
            (("aaa", "syslog"), (), "CLI/5/LOGIN", "192.168.0.1", None, "success"),
        ),
        (
            "<189>Aug 6 2011 20:34:46 HUAWEI %% 01 HWCM/5/EXIT(l)[1]: exit from configure mode",
            (("aaa", "syslog"), (), "HWCM/5/EXIT", None, None, None),
        ),
        (
            "<188>Nov 25 2026 10:01:02 USG6550 %%01SHELL/4/LOGIN(l): access type:console vsys:root "
            "user:admin "
            "login from con0",
            (("aaa", "syslog"), (), "SHELL/4/LOGIN", None, "admin", "success"),
        ),
        (
            "<190>Nov 25 2026 10:01:02 AR1 %%01SSH/4/SSH_FAIL(s)[12]:Failed to login through SSH. "
            "(Ip=203.0.113.7, "
            "VpnInstance=-, UserName=root, Times=3, FailedReason=Password wrong)",
            (("aaa", "syslog"), (), "SSH/4/SSH_FAIL", "203.0.113.7", "root", "failure"),
        ),
        (
            "<188>Nov 25 2026 10:01:02 USG6550 %%01POLICY/6/POLICYDENY(l):vsys=public, protocol=6, "
            "source-ip=203.0.113.9, source-port=51000, destination-ip=10.0.0.5, destination-port=23, "
            "source-zone=untrust, destination-zone=trust, rule-name=deny_all.",
            (("syslog",), ("firewall",), "POLICY/6/POLICYDENY", "203.0.113.9", None, None),
        ),
    ],
)
def test_huawei(p: LineParser, line: str, expected: tuple[object, ...]) -> None:
    e = one(p, line)
    assert (e.parser, e.product) == ("huawei", "huawei")
    assert (e.services, e.categories, *pick(e, "event_id", "src_ip", "user", "outcome")) == expected


def test_huawei_usg_policy_fields(p: LineParser) -> None:
    e = one(
        p,
        "<188>Nov 25 2026 10:01:02 USG6550 %%01POLICY/6/POLICYDENY(l):vsys=public, protocol=6, "
        "source-ip=203.0.113.9, source-port=51000, destination-ip=10.0.0.5, destination-port=23, "
        "source-zone=untrust, destination-zone=trust, rule-name=deny_all.",
    )
    assert pick(e, "src_port", "dst_ip", "dst_port", "network_protocol", "blocked", "rule", "src_zone") == (
        51000,
        "10.0.0.5",
        23,
        "tcp",
        "true",
        "deny_all",
        "untrust",
    )


def test_sigmahq_huawei_bgp_rule_fires(shared_dir: object) -> None:
    from pathlib import Path

    root = Path(str(shared_dir)) / "sigmahq" / "rules" / "network" / "huawei"
    rs = load_rules([root])
    assert len(rs.rules) == 1 and not rs.unsupported
    line = (
        "<187>Nov 25 2026 10:01:02 NE40 %%01BGP/3/BGP_AUTH_FAILED(l)[7]:BGP session authentication "
        "failed. (PeerId=10.0.0.2:179, SourceInterface=GE0/0/1)"
    )
    engine, _ = run_engine(rs, parse_lines([line], now=NOW))
    assert engine.rule_hits == {rs.rules[0].id: 1}
