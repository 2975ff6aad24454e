"""Parser findings from reviewing the fields rules count on (issue 16): each on the real SEKOIA
sample lines where ../shared/log-samples has one (the golden cases, same framing), else on lines
written as the vendor's documentation gives the message."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from nocsoc.collectors.logs.parsers import LineParser
from nocsoc.events import LogEvent
from tests.collectors.logs.golden import NOW, cases
from tests.conftest import SHARED


def sample(fmt: str, name: str) -> str:
    """The golden case's line (as test_golden feeds it); skip where the shared samples are absent."""
    root = SHARED / "log-samples"
    if not (root / "sekoia" / fmt).is_dir():
        pytest.skip(f"{root}/sekoia/{fmt} not present (shared material sits beside the project)")
    (case,) = [c for c in cases(root, fmt) if c.name == name]
    return case.line


def parse(line: str) -> LogEvent:
    (ev,) = LineParser(default_host="collector").events(line, now=NOW)
    return ev


def pick(ev: LogEvent, *names: str) -> tuple[object, ...]:
    return tuple(ev.fields.get(n) for n in names)


# --- Cisco IOS: a login lockout is a failure, not a success ---------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # SEC_LOGIN-1-QUIET_MODE_ON: `login block-for` tripped by failed attempts (a lockout)
        ("test_login_quiet_mode_on", ("SEC_LOGIN-1-QUIET_MODE_ON", "jdoe", "1.2.3.4", "failure")),
        ("test_login_failed_2", ("SEC_LOGIN-4-LOGIN_FAILED", None, "1.2.3.4", "failure")),
        ("test_login", ("SEC_LOGIN-5-LOGIN_SUCCESS", "jdoe", "1.2.3.4", "success")),
        ("test_ssh_2", ("SSH-5-SSH2_USERAUTH", "jdoe", "1.2.3.4", "success")),  # `... Succeeded`
        ("test_auth_passed_2", ("SYS-5-PRIV_AUTH_PASS", "jdoe", "1.2.3.4", "success")),
        ("test_auth_failed_1", ("DMI-5-AUTHENTICATION_FAILED", None, "1.2.3.4", "failure")),
        ("test_ssh_1", ("SSH-5-SSH2_CLOSE", "jdoe", "1.2.3.4", None)),  # a session end: no result
        ("test_login_failed", ("SYS-3-LOGGINGHOST_FAIL", None, None, None)),  # no login at all
        ("test_config_resolve_fail_1", ("SYS-4-CONFIG_RESOLVE_FAILURE", None, None, None)),
    ],
)
def test_cisco_login_outcomes_on_real_lines(name: str, expected: tuple[object, ...]) -> None:
    ev = parse(sample("cisco-ios", name))
    assert pick(ev, "event_id", "user", "src_ip", "outcome") == expected


@pytest.mark.parametrize(
    ("body", "outcome"),
    [
        # Cisco IOS Security Configuration Guide, "Login Enhancements": the end of the block period
        ("%SEC_LOGIN-5-QUIET_MODE_OFF: Quiet Mode is OFF, because block period timed out at "
         "13:27:08 UTC Wed Nov 25 2026", None),
        # SSH2_USERAUTH ends with the result: `Succeeded` or `Failed`
        ("%SSH-5-SSH2_USERAUTH: User 'jdoe' authentication for SSH2 Session from 1.2.3.4 (tty = 0) "
         "using crypto cipher 'aes128-ctr', hmac 'hmac-sha2-256' Failed", "failure"),
    ],
)
def test_cisco_login_outcomes_documented_forms(body: str, outcome: str | None) -> None:
    ev = parse(f"<189>12: core1: Nov 25 12:10:01.001 ICT: {body}")
    assert (ev.parser, ev.fields.get("outcome")) == ("cisco", outcome)


# --- Cisco ASA: every authentication message under service `aaa`, with its result ----------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("test_ASA_113005", ("113005", None, "1.1.1.1", "failure")),  # user hidden as *****
        ("test_ASA_113012", ("113012", "admin", None, "success")),
        ("test_FTD_113004", ("113004", "jdoe", None, "success")),
        ("test_ASA_611101", ("611101", "admin", "1.1.1.1", "success")),
        ("test_ASA_716039", ("716039", "Username", "1.1.1.1", "failure")),  # `Authentication: rejected`
        ("test_ASA_611103", ("611103", "admin", None, None)),  # a logout: no result
    ],
)
def test_asa_authentication_on_real_lines(name: str, expected: tuple[object, ...]) -> None:
    ev = parse(sample("cisco-secure-firewall", name))
    assert ev.services == ("asa", "aaa", "syslog")
    assert pick(ev, "event_id", "user", "src_ip", "outcome") == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # Cisco Secure Firewall ASA Series Syslog Messages: 605004/605005, both quotings of the user
        ('%ASA-6-605004: Login denied from 203.0.113.70/51000 to outside:203.0.113.1/ssh for user "admin"',
         ("605004", "admin", "203.0.113.70", 51000, "203.0.113.1", "ssh", "failure")),
        ("%ASA-6-605005: Login permitted from 10.0.0.10/50022 to inside:10.0.0.1/https for user 'noc'",
         ("605005", "noc", "10.0.0.10", 50022, "10.0.0.1", "https", "success")),
        ("%ASA-6-605004: Login denied from serial to console for user \u201cenable_15\u201d",
         ("605004", "enable_15", None, None, None, None, "failure")),
        ("%ASA-6-109006: Authentication failed for user 'bob' from 10.1.1.1/3333 to 192.0.2.2/443 on "
         "interface outside", ("109006", "bob", "10.1.1.1", 3333, "192.0.2.2", None, "failure")),
        ("%ASA-6-109005: Authentication succeeded for user 'bob' from 10.1.1.1/3334 to 192.0.2.2/443 on "
         "interface outside", ("109005", "bob", "10.1.1.1", 3334, "192.0.2.2", None, "success")),
        ("%ASA-6-113006: User 'jdoe' locked out on exceeding '3' successive failed authentication attempts",
         ("113006", "jdoe", None, None, None, None, "failure")),
        ("%ASA-3-113021: Attempted console login failed user 'bob' did NOT have appropriate Admin Rights.",
         ("113021", "bob", None, None, None, None, "failure")),
        ("%ASA-6-113017: AAA credentials rejected : reason = Invalid password : local database : user = bob "
         ": user IP = 198.51.100.4", ("113017", "bob", "198.51.100.4", None, None, None, "failure")),
        ("%ASA-6-113008: AAA transaction status ACCEPT : user = bob",
         ("113008", "bob", None, None, None, None, "success")),
    ],
)
def test_asa_authentication_documented_forms(body: str, expected: tuple[object, ...]) -> None:
    ev = parse(f"<166>Nov 25 2026 12:00:06: {body}")
    assert (ev.parser, ev.services) == ("cisco_asa", ("asa", "aaa", "syslog"))
    assert pick(ev, "event_id", "user", "src_ip", "src_port", "dst_ip", "dst_service", "outcome") == expected


# --- FortiGate: a TCP reset ends an allowed session; only a policy deny is blocked ---------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("traffic_forward.CEF-4", ("client-rst", "false")),
        ("test_group_field", ("client-rst", "false")),
        ("traffic_nat.STANDARD", ("server-rst", "false")),
        ("traffic_forward.CEF-5", ("ip-conn", "false")),  # no answer: allowed, not blocked
        ("traffic_forward.CEF-2", ("timeout", "false")),
        ("traffic", ("accept", "false")),  # utmaction=block: the policy accepted the session
        ("traffic_forward.STANDARD", ("accept", "false")),
    ],
)
def test_fortigate_resets_are_not_blocked_on_real_lines(name: str, expected: tuple[object, ...]) -> None:
    ev = parse(sample("fortigate", name))
    assert ev.categories == ("firewall",)
    assert pick(ev, "action", "blocked") == expected


def test_fortigate_policy_deny_is_blocked() -> None:
    # FortiOS Log Message Reference, 13 LOG_ID_TRAFFIC_END_FORWARD / 3 LOG_ID_TRAFFIC_DENY
    ev = parse(
        'date=2026-11-25 time=08:02:03 devname="FG100" logid="0000000013" type="traffic" subtype="forward" '
        'srcip=203.0.113.5 dstip=10.10.0.5 dstport=23 srcport=40000 proto=6 action="deny" policyid=0'
    )
    assert pick(ev, "action", "blocked", "src_ip", "dst_port") == ("deny", "true", "203.0.113.5", 23)


@pytest.mark.parametrize(
    ("name", "epoch"),
    [
        ("traffic_nat.STANDARD", 1609941381.0),  # eventtime in seconds (FortiOS 6.2)
        ("dns.CSV", 1545950726.0),
        ("DLP.CEF", 1545949776.0),
        ("test_group_field", 1735202130.361752831),  # nanoseconds (FortiOS 7)
    ],
)
def test_fortigate_eventtime_in_any_unit(name: str, epoch: float) -> None:
    """`eventtime` is seconds on FortiOS 6.2 and ns on 7.x: seconds were read as ns (1970)."""
    assert parse(sample("fortigate", name)).time == pytest.approx(epoch, abs=1e-6)


# --- Cisco NX-OS: its own `YYYY Mon dd hh:mm:ss ZONE:` stamp is the event time ------------------


@pytest.mark.parametrize(
    ("name", "when"),
    [
        ("test_arp_src_ip", datetime(2023, 1, 11, 18, 27, 57, tzinfo=UTC)),  # 19:27:57 CET
        ("test_vshd_syslog_config", datetime(2023, 1, 11, 18, 0, 56, tzinfo=UTC)),
        ("test_header_with_origin_1", datetime(2025, 3, 13, 17, 7, 57, tzinfo=UTC)),  # `<190>HOST: ... UTC:`
    ],
)
def test_nxos_timestamp_without_syslog_header_on_real_lines(name: str, when: datetime) -> None:
    assert parse(sample("cisco-nx-os", name)).time == when.timestamp()


def test_nxos_config_names_the_remote_host_and_the_tty() -> None:
    """NX-OS's `Configured from vty by U on <remote host>@<tty>`: the host is the source, the
    tty the line (it was read as the line)."""
    ev = parse(sample("cisco-nx-os", "test_vshd_syslog_config"))
    assert pick(ev, "user", "src_ip", "line", "via") == ("jdoe", "1.2.3.4", "pts/0", "vty")
    ev = parse("2026 Nov 25 12:00:04 ICT: %VSHD-5-VSHD_SYSLOG_CONFIG_I: Configured from vty by noc on "
               "jump1.example.net@pts/3")
    assert pick(ev, "user", "src_host", "src_ip", "line") == ("noc", "jump1.example.net", None, "pts/3")


@pytest.mark.parametrize(
    ("stamp", "when"),
    [
        ("2026 Nov 25 12:00:04 ICT", datetime(2026, 11, 25, 5, 0, 4, tzinfo=UTC)),
        ("2026 Nov 25 12:00:04.250 ICT", datetime(2026, 11, 25, 5, 0, 4, 250000, tzinfo=UTC)),
        ("2026 Nov  5 01:00:00 UTC+7", datetime(2026, 11, 4, 18, 0, 0, tzinfo=UTC)),
        ("2026 Jul  3 16:39:13 CEST", datetime(2026, 7, 3, 14, 39, 13, tzinfo=UTC)),
        ("2026 Nov 25 12:00:04", datetime(2026, 11, 25, 12, 0, 4, tzinfo=UTC)),  # no zone: NX-OS's UTC
        # a zone name that means several offsets, or none known: the input's zone (UTC here), never
        # a guess; counted (test_zones.py)
        ("2026 Nov 25 12:00:04 CST", datetime(2026, 11, 25, 12, 0, 4, tzinfo=UTC)),
        ("2026 Nov 25 12:00:04 HANOI", datetime(2026, 11, 25, 12, 0, 4, tzinfo=UTC)),
        ("2026 Feb 30 12:00:04 UTC", NOW),
    ],
)
def test_nxos_timestamp_documented_forms(stamp: str, when: datetime) -> None:
    ev = parse(f"{stamp}: %AUTHPRIV-3-SYSTEM_MSG: pam_aaa:Authentication failed from 203.0.113.70 - "
               "dcos_sshd[6531]")
    assert (ev.parser, ev.fields.get("src_ip"), ev.time) == ("cisco", "203.0.113.70", when.timestamp())


# --- OpenSSH: one key login is one success ----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("accepted_rsa", ("key_found", "unknown", "RSA", "/home/star/.ssh/authorized_keys:2")),
        ("accepted_rsa_2", ("key_found", "unknown", "RSA", "/usr/local/nagios/.ssh/authorized_keys:1")),
        ("accepted_publickey", ("accepted_publickey", "success", None, None)),
    ],
)
def test_sshd_key_found_is_not_a_login_on_real_lines(name: str, expected: tuple[object, ...]) -> None:
    ev = parse(sample("openssh", name))
    assert pick(ev, "event_type", "outcome", "key_type", "key_file") == expected


def test_sshd_key_login_counts_once() -> None:
    """What sshd writes at LogLevel VERBOSE for one key login (auth2-pubkeyfile.c logs the key
    match for the client's query and again for its signed request; auth.c the verdict): the
    successful-login rule fires once."""
    from nocsoc.detections.engine import Engine
    from nocsoc.detections.loader import load_rules

    key = "Accepted key ED25519 SHA256:Zm9vYmFy found at /home/deploy/.ssh/authorized_keys:1"
    bodies = [
        "Connection from 10.0.0.11 port 50004 on 10.0.0.5 port 22 rdomain \"\"",
        key,
        "Postponed publickey for deploy from 10.0.0.11 port 50004 ssh2 [preauth]",
        key,
        "Accepted publickey for deploy from 10.0.0.11 port 50004 ssh2: ED25519 SHA256:Zm9vYmFy",
    ]
    rs = load_rules([], include_builtin=True)
    (accepted,) = [r.id for r in rs.rules if r.name == "nocsoc_ssh_successful_login"]
    engine = Engine(rs)
    lp = LineParser(default_host="collector")
    evs = [lp.events(f"<38>Nov 25 01:02:0{i} dns1 sshd[9]: {b}", now=NOW)[0] for i, b in enumerate(bodies)]
    for ev in evs:
        engine.process(ev)
    assert [e.fields["event_type"] for e in evs] == [
        "connection", "key_found", "postponed", "key_found", "accepted_publickey"]
    assert engine.rule_hits[accepted] == 1


def test_sshd_partial_success_is_not_a_login() -> None:
    """auth.c's verdicts are Accepted, Partial (one of several AuthenticationMethods) and Failed."""
    ev = parse("<38>Nov 25 01:02:03 dns1 sshd[9]: Partial publickey for deploy from 10.0.0.11 port 50004 "
               "ssh2: ED25519 SHA256:Zm9vYmFy")
    assert pick(ev, "event_type", "user", "src_ip", "src_port", "auth_method", "outcome") == (
        "partial", "deploy", "10.0.0.11", 50004, "publickey", "unknown")
