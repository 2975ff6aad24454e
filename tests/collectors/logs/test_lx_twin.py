"""The PAM and Junos twins (_logfast_lx.c: pam_body, junos_body) give exactly what
linux_auth.parse_pam and juniper.parse_junos give in pure Python, which stay the reference (the
same fields with their values, types and key order, services, categories; False exactly where
the parser refuses), and the C reader's dispatch to them and to the generic fallback gives the
events LineParser's Python dispatch gives, file and network alike.

Lines: every SEKOIA sample of the OpenSSH/PAM and Junos formats and of the bench's mix; bodies
built for each form the walks read (PAM modules, kinds and services, `PAM N more`, sessions with
and without uid and `by`, users with domains, rhost as IPv4, IPv6, scoped, names; Junos RT_FLOW
text and structured, screens, UI_* with ssh-connection and `from host`, EX `FW:` filters, rshd)
and near misses (a regex that fails late, duplicated and N/A structured keys, numbers int()
reads otherwise, 19-digit ports, addresses one group short or long, unclosed quotes), under
the programs the dispatch routes differently (sshd: sshd then junos; mgd; tag-like programs;
programs no parser names; upper case); and mutations of them all (NUL, tabs, non-ASCII,
truncation, splices, huge lines)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from nocsoc.collectors.logs import reader
from nocsoc.collectors.logs.parsers import LineParser, juniper, linux_auth
from nocsoc.collectors.logs.syslog import parse_syslog
from tests.collectors.logs.test_logfast_fw import _samples, mutate
from tests.collectors.logs.test_logfast_lines import _python_only
from tests.collectors.logs.test_logfast_reader import compare as reader_compare

logfast = pytest.importorskip(
    "nocsoc.collectors.logs._logfast", reason="C accelerator not built (tests/test_speedups.py says so)"
)

PAM_BODIES = [
    "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4  "
    "user=root",
    "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4",
    "pam_unix(sshd:auth): check pass; user unknown",
    "pam_unix(sudo:session): session opened for user root(uid=0) by jdoe(uid=1000)",
    "pam_unix(sudo:session): session opened for user root by (uid=0)",
    "pam_unix(cron:session): session closed for user root",
    "pam_unix(su-l:session): session opened for user root by jdoe(uid=1000)",
    "pam_unix(sshd:session): session opened for user jdoe(uid=10357) by (uid=0)",
    "pam_sss(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=host.example.com "
    "user=jdoe@EXAMPLE.COM",
    "pam_winbind(sshd:account): user 'jdoe@example.local' granted access",
    "pam_faillock(sshd:auth): Consecutive login failures for user JDOE account temporarily locked",
    "pam_faillock(sshd:auth): User unknown",
    "pam_tally2(sshd:auth): user root (0) tally 4, deny 3",
    "pam_succeed_if(sshd:auth): requirement \"uid >= 1000\" not met by user \"root\"",
    "pam_systemd(sshd:session): Failed to create session: Maximum number of sessions (8192) reached",
    "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=fe80::1%eth0",
    "pam_unix(sshd:auth): authentication failure; rhost=::ffff:1.2.3.4 user=a@b@c",
    "pam_unix(sshd:auth): authentication failure; rhost=1.2.3.4.5 user=x rhost=1:2",
    "pam_unix(sshd:auth): authentication failure; rhost=:1 ruser=r tty=/dev/pts/1 uid=x=1 euid=",
    "pam_unix(sshd:auth): authentication failure; xrhost=1.2.3.4 -user=z user=",
    "pam_unix(sshd:auth): rhost=a.b:c rhost=1: logname=root",
    "pam_ldap(sshd:auth): error for 'jdoe'; denied",
    "pam_krb5(sshd:auth): authentication failure for user ';x, for user 'y",
    "pam_unix(sshd:auth):",
    "pam_unix(sshd:auth)",
    "pam_x(a:b)   trailing   ",
    "pam_(a:b): no module word",
    "pam_unix(:auth): no service",
    "pam_unix(sshd:): no kind",
    "pam_unix(sshd.x-y:auth) unable to open",
    "xpam_unix(sshd:auth): session closed for user (uid=0) then session closed for user bob",
    "pam_pam_unix(sshd:auth): session opened for user alice(uid=x) by  ",
    "pam_ldap: error trying to bind (Invalid credentials)",
    "PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4  user=root",
    "PAM 5 more authentication failures; rhost=2001:db8::7",
    "PAM service(sshd) ignoring max retries; 6 > 3",
    "PAM adding faulty module: pam_cracklib.so",
    "PAM unable to dlopen(pam_cracklib.so): /lib/security/pam_cracklib.so: cannot open shared object file",
    "PAM ",
    "PAM  __init__ ;;",
    " PAM 1 more authentication failure",
    "error: PAM: Authentication failure for root from 1.2.3.4",
    "Accepted password for root from 1.2.3.4 port 22 ssh2",
    "pam_unix(sshd:auth): " + "_-" * 60 + " ; x",
    "pam_unix(sshd:auth): " + "word " * 40,
    "pam_unix(sshd:auth): granted access; FAILED",
    "pam_unix(sshd:auth): session closed for user ",
]
_FLOW_TEXT = ("1.2.3.4/46087->5.6.7.8/25 0x0 junos-smtp 1.2.3.4/46087->5.6.7.8/25 0x0 N/A N/A N/A N/A 6 p1 "
              "trust untrust")
JUNOS_BODIES = [
    f"RT_FLOW_SESSION_CREATE: session created {_FLOW_TEXT} 158913894867 N/A(N/A) reth2.1010 UNKNOWN",
    f"RT_FLOW_SESSION_CLOSE: session closed TCP FIN: {_FLOW_TEXT} 15 60(52906) 47(26103) 3 UNKNOWN",
    f"RT_FLOW_SESSION_CLOSE: session closed : x session closed idle Timeout: {_FLOW_TEXT} 15 60(52906) 47(2",
    f"RT_FLOW_SESSION_CREATE: session created {_FLOW_TEXT} 15 60(52906) 47(26103) 3",
    "RT_FLOW_SESSION_CREATE: session created 2001:db8::1/1234->2001:db8::2/443 0x0 junos-https "
    "2001:db8::1/1234->2001:db8::2/443 0x0 N/A N/A N/A N/A 6 pol z1 z2 99",
    "RT_FLOW_SESSION_CREATE: session created 1111.2.3.4/5->6.7.8.9/10 a b 1.2.3.4/5->6.7.8.9/1 1234 "
    "1 2 3 4 5",
    "RT_FLOW_SESSION_CREATE: session created 1.2.3.4/5->6.7.8.9/10 a b 1.2.3.4/5->6.7.8.9/" + "9" * 19
    + " 7 a b c 8",
    "RT_FLOW_SESSION_CREATE: session created 1.2.3.4/5->6.7.8.9/10  a b 1.2.3.4/5->6.7.8.9/1",
    "RT_FLOW_SESSION_CREATE: session created a:b/5->c:d./6 x y ::1/7->e:f/8 1234 p q r s",
    "RT_FLOW_SESSION_DENY: session denied 1.2.3.4/5->6.7.8.9/53 0x0 junos-dns-udp 17(0) default-deny "
    "trust untrust "
    "UNKNOWN UNKNOWN N/A(N/A) ge-0/0/1.0 No policy deny",
    "RT_FLOW_SESSION_REJECT: session rejected",
    'RT_FLOW_SESSION_CLOSE [junos@2636.1.1.1.2.142 reason="TCP FIN" source-address="192.168.1.1" '
    'source-port="56732" destination-address="192.168.1.2" destination-port="8080" service-name="None" '
    'nat-source-address="192.168.1.1" nat-source-port="56732" protocol-id="6" policy-name="P(global)" '
    'source-zone-name="a" destination-zone-name="b" session-id-32="107" packets-from-client="17" '
    'bytes-from-client="3676" bytes-from-server="7867" application="UNKNOWN" username="N/A" roles="N/A"]',
    'RT_FLOW_SESSION_DENY [junos@2636.1.1.1.2.142 source-address="192.168.1.11" source-port="62224" '
    'destination-address="192.168.1.12" destination-port="443" protocol-id="17" icmp-type="0" '
    'policy-name="POLICY_DENY_all" reason="Denied by policy" action="drop"] trailing text from 1.2.3.4',
    'RT_FLOW_SESSION_CREATE [junos@x source-port="+5" destination-port="-1" bytes-from-client="1_0" '
    'bytes-from-server=" 7" protocol-id=" TCP "]',
    'RT_FLOW_SESSION_CREATE [junos@x source-port="' + "9" * 19 + '" destination-port="x1" protocol-id=""]',
    'RT_FLOW_SESSION_CREATE [junos@x source-port="" source-port="12" destination-port="N/A" '
    'destination-port="80" destination-port="N/A" username="jdoe" username=""]',
    'RT_FLOW_SESSION_CREATE [junos@x source-address=1.2.3.4 a-very-long-structured-key-name="v" k=\\"q\\"]',
    'RT_SCREEN_ICMP [attack-name="Address sweep!" source-address="192.168.1.2" '
    'destination-address="192.168.1.1" '
    'source-zone-name="z" interface-name="reth1.603" action="alarm-without-drop"]',
    'RT_IDS_TCP_SYN [attack-name="SYN flood!" action="drop"]   ',
    'RT_IDP_ATTACK_LOG_EVENT [junos@2636 epoch-time="1" source-address="1.1.1.1"]',
    "RT_SCREEN_TCP: SYN flood! source: 1.2.3.4:1234, destination: 5.6.7.8:80, zone name: untrust",
    "RT_SCREEN_ICMP [unclosed attack-name=\"x\"",
    "UI_LOGIN_EVENT: User 'jdoe' login, class 'j-ids' [54999], "
    "ssh-connection '192.168.1.1 40382 192.168.1.2 22', "
    "client-mode 'cli'",
    "UI_LOGIN_EVENT: User 'jdoe' login, ssh-connection '2001:db8::1 40382 ::1 22', client-mode 'cli'",
    "UI_LOGIN_EVENT: User 'x' login, ssh-connection '1.2.3.4 x 5.6.7.8 22' "
    "ssh-connection '1.2.3.4 1 5.6.7.8 2'",
    "UI_LOGIN_EVENT: ssh-connection '1.2.3.4567 1 5.6.7.8 2' from 10.1.1.1",
    "UI_AUTH_EVENT: Authenticated user 'jdoe' assigned to class 'super-user'",
    "UI_AUTH_EVENT: Authenticated user 'jdoe at permission level",
    "UI_CMDLINE_READ_LINE: User 'jdoe', command 'show configuration | display xml | no-more '",
    "UI_JUNOSCRIPT_CMD: User 'jdoe' used JUNOScript client to run command 'request-authentication user=root'",
    "UI_LOGOUT_EVENT: User 'root' logout",
    "UI_CHILD_STATUS: Cleanup child '/sbin/ifinfo', PID 78147, status 0",
    "SSHD_LOGIN_FAILED: Login failed for user 'root' from host '1.2.3.4'",
    "SSHD_LOGIN_FAILED: Login failed for user 'root' from host ''",
    "SSHD_LOGIN_FAILED: Login failed for user 'root' from host 'fe80::1%em0'",
    "LOGIN_FAILED: Login failed for user root from host ttyp0",
    "LOGIN_FAILED: from host 'x from 1.2.3.4567 from ab:cd.ef:g",
    "LOGIN_FAILED: from 1234.1.1.1 from ::1x",
    "UI_X: from abc:def. x",
    "BGP_IO_ERROR_CLOSE_SESSION: BGP peer 10.0.0.1 (External AS 65001): Error event Operation timed out",
    "RPD_OSPF_NBRDOWN: OSPF neighbor 10.0.0.2 (realm ospf-v2 ge-0/0/0.0 area 0.0.0.0) state changed",
    "SNMP_TRAP_LINK_DOWN: ifIndex 501, ifAdminStatus up(1), ifOperStatus down(2), ifName ge-0/0/1",
    "L2ALD_ST_CTL_IN_EFFECT: ge-1/0/10.0: storm control in effect on the port",
    "A_: not a tag",
    "AB_C:missing space",
    "session created 1.2.3.4/5->6.7.8.9/10 a b 1.2.3.4/5->6.7.8.9/1 6 p z1 z2 15",
    "kernel time sync enabled 2001",
    "dump_assn: found old association 192.168.1.1:179 md5 00000003:0x3356785a4e5949306c",
    "FW: et-1/1/1.2505 D 09c9:0800 4a:74:92:52:6c:20 -> bd:83:17:63:d5:f7  tcp 1.2.3.4 5.6.7.8 46736  "
    "3405 (1 packets)",
    "FW: lsi.0        D 4a:74:92:52:6c:20 bd:83:17:63:d5:f7 8100:9 8847:5dc 13b  UDP 1.2.3.4 5.6.7.8 "
    "52767   161 "
    "(1 packets)",
    "FW: ge-0/0/0.0   A icmp 1.2.3.4 5.6.7.8     8     0 (1 packets)",
    "FW: ge-0/0/0.0   R gre-x 2001:db8::1 ::2 1 2 (12 packet)",
    "FW: ge-0/0/0.0   A icmp 1.2.3.4 5.6.7.8 8 0 (1 packets",
    "FW: ge-0/0/0.0   X icmp 1.2.3.4 5.6.7.8 8 0 (1 packets)",
    "et-1/1/1.2505 D 09c9:0800 tcp 1.2.3.4 5.6.7.8 46736  3405 (1 packets)",
    "root@192.168.1.1 as root: cmd='rcp -t //var/etc/dynamic_address.id+'",
    "root@192.168.1.1 as root:x: cmd='a' b 'c",
    "root@192.168.1.1 as : cmd='a'",
    "root@host as root: cmd='a'",
    "r@1.2.3.4 as u: cmd='",
]
APPS = ["sshd", "mgd", "RT_FLOW", "RT_IDS", "rpd", "FW", "rshd", "xntpd", "keyadmin", "cron", "CRON", "sudo",
        "login", "Sshd", "SSHD_LOGIN", "sshd(pam_unix)", "/usr/sbin/cron", "systemd-logind", "l2ald", "auth",
        "Auth", "syslog"]


def _bodies() -> list[tuple[str, str]]:
    """(message, program) of the samples and the built bodies under every program."""
    out: list[tuple[str, str]] = []
    for fmt in ("openssh", "juniper-ngfw", "juniper-switches"):
        for line in _samples(fmt):
            sm = parse_syslog(line, sender="h")
            out.append((sm.msg, sm.app))
    out += [(b, a) for b in PAM_BODIES + JUNOS_BODIES for a in APPS]
    return out


def _lines() -> list[str]:
    lines = [f"<38>Nov 25 01:02:03 host1 {a}[42]: {b}" for b in PAM_BODIES + JUNOS_BODIES for a in APPS]
    lines += [f"Nov 25 01:02:03 host1 {a}: {b}" for b in PAM_BODIES + JUNOS_BODIES for a in APPS[:8]]
    for fmt in ("openssh", "juniper-ngfw", "juniper-switches"):
        lines += _samples(fmt)
    return lines


def _reading(p: Any) -> Any:
    if p is None:
        return False
    return (list(p.fields.items()), [type(v) for v in p.fields.values()], p.services, p.categories)


def _twin_compare(bodies: list[tuple[str, str]]) -> dict[str, int]:
    claimed = {"pam": 0, "junos": 0, "junos refused": 0}
    for msg, app in bodies:
        for name, twin, ref in (("pam", logfast.pam_body, linux_auth.parse_pam),
                                ("junos", logfast.junos_body, juniper.parse_junos)):
            got = twin(msg, app)
            if got is None:
                continue
            with _python_only():
                want = _reading(ref(msg, app))
            if got is False:
                claimed[f"{name} refused"] = claimed.get(f"{name} refused", 0) + 1
                assert want is False, (name, app, msg[:300], want)
                continue
            claimed[name] += 1
            mine = (list(got[0].items()), [type(v) for v in got[0].values()], got[1], got[2])
            assert mine == want, (name, app, msg[:300], mine, want)
    return claimed


def test_the_twins_read_the_bodies_as_the_parsers() -> None:
    claimed = _twin_compare(_bodies())
    assert claimed["pam"] >= 600 and claimed["junos"] >= 400 and claimed["junos refused"] >= 1000, claimed


def test_the_twins_read_mutated_bodies_as_the_parsers() -> None:
    rnd = random.Random(16)
    base = _bodies()
    bodies = []
    for _ in range(20_000):
        msg, app = rnd.choice(base)
        bodies.append((mutate(rnd, msg), app if rnd.random() < 0.9 else mutate(rnd, app)))
    claimed = _twin_compare(bodies)
    assert claimed["pam"] >= 3_000 and claimed["junos"] >= 2_000, claimed


def test_the_reader_gives_the_python_events() -> None:
    lines = _lines()
    assert reader_compare(lines) >= len(lines)  # (each line read three ways: most by C)


def test_the_reader_gives_the_python_events_on_mutated_lines() -> None:
    rnd = random.Random(19)
    base = _lines()
    reader_compare([mutate(rnd, rnd.choice(base)) for _ in range(1_500)])


def _body_calls(lines: list[str]) -> list[str]:
    """The lines whose body the reader hands to LineParser._body (the Python dispatch)."""
    lp = LineParser(default_host="h")
    calls: list[str] = []

    def body(msg: str, app: str) -> Any:
        calls.append(msg)
        return LineParser._body(lp, msg, app)

    lp._body = body  # type: ignore[method-assign]
    made = reader.make(lp)
    assert made is not None
    for line in lines:
        made.event(line, "", "file", False)
    return calls


def test_the_reader_reads_the_common_bodies_itself() -> None:
    """PAM under sshd and cron, Junos' RT_FLOW, screens, UI_*, FW and rshd lines, and bodies no
    parser claims under Junos' programs or none: no Python dispatch."""
    mine = [
        "<38>Nov 25 01:02:03 host1 sshd[42]: " + PAM_BODIES[0],
        "<38>Nov 25 01:02:03 host1 cron[42]: " + PAM_BODIES[5],
        "<38>Nov 25 01:02:03 host1 sshd[42]: " + PAM_BODIES[33],
        "<38>Nov 25 01:02:03 host1 RT_FLOW: " + JUNOS_BODIES[0],
        "<38>Nov 25 01:02:03 host1 RT_FLOW: " + JUNOS_BODIES[11],
        "<38>Nov 25 01:02:03 host1 RT_IDS: " + JUNOS_BODIES[18],
        "<38>Nov 25 01:02:03 host1 mgd[1]: " + JUNOS_BODIES[24],
        "<38>Nov 25 01:02:03 host1 FW: " + JUNOS_BODIES[-12].removeprefix("FW: "),
        "<38>Nov 25 01:02:03 host1 rshd[1]: " + JUNOS_BODIES[-5],
        "<38>Nov 25 01:02:03 host1 xntpd: kernel time sync enabled 2001",
        "<38>Nov 25 01:02:03 host1 /usr/sbin/cron[1]: (root) CMD (   sh /var/etc/ukern_gbl_rotate.sh)",
    ]
    assert _body_calls(mine) == []
    theirs = [  # (old Red Hat's program, a screen's text form, a program with another parser)
        "<38>Nov 25 01:02:03 host1 sshd(pam_unix)[1]: authentication failure; rhost=1.2.3.4 user=root",
        "<38>Nov 25 01:02:03 host1 RT_IDS: " + JUNOS_BODIES[20],
        "<38>Nov 25 01:02:03 host1 sudo[1]: " + PAM_BODIES[3],
    ]
    assert len(_body_calls(theirs)) == len(theirs)
    reader_compare(mine + theirs)


def test_a_marker_of_a_parser_ahead_of_pam_leaves_the_line_to_python() -> None:
    lp = LineParser(default_host="h")
    ahead, prefixes = lp.dispatch.ahead("pam")
    line = "<38>Nov 25 01:02:03 host1 sshd[42]: " + PAM_BODIES[0]
    assert _body_calls([line]) == []
    lines = [line + " " + w for w in ahead if w.isascii()]
    lines += [f"<38>Nov 25 01:02:03 host1 cron[42]: {p}{PAM_BODIES[0]}" for p in prefixes if p.isascii()]
    assert len(_body_calls(lines)) == len(lines)
    reader_compare(lines)


def test_the_plan_follows_the_modules() -> None:
    """A pattern the walks repeat that differs from its module's turns the plan off."""
    lp = LineParser(default_host="h")
    assert reader._lx(lp.dispatch, lp._fallback) is not None
    saved = juniper._SD_FIELDS
    juniper._SD_FIELDS = {**saved, "x": "y"}
    try:
        assert reader._lx(lp.dispatch, lp._fallback) is None
    finally:
        juniper._SD_FIELDS = saved
    plan = reader._lx(lp.dispatch, None)
    assert plan is not None and plan[2] is None  # (another fallback: not the generic reading)
