"""The whole-line C reader (_logfast.Reader: a line to its finished LogEvent) and the Cisco text's
fields in C (_logfast.cisco_fields) give exactly what the pure-Python path gives, which stays the
reference: every slot of every event (raw, fields with their values, types and key order, host,
time to the bit, logsource, parser, source, route key, the lowercase cache, `origin` unset), the
repeat count, the auditd state the lines leave behind, and the zone names counted.

Lines: SEKOIA's samples and the fuzz seeds; the sshd, netfilter, access, audit and Cisco grammars
of the twin tests with their near misses (Cisco lines with and without `<PRI>`, NX-OS's year-first
stamp, the refusals of the parsers a file line's first character is tried with); Cisco texts
built from every extractor's shape with the readings `re` backtracks into (addresses before `:`,
`(` and `)`, optional groups before a required tail) and their near misses; tens of thousands of
mutations (NUL, tabs, non-ASCII, truncation, splices, huge lines); every line as a file line and
as a network message, through LineParser.events and through ruletest.parse_lines (which calls the
reader directly)."""

from __future__ import annotations

import json
import random
import re
from typing import Any
from unittest import mock

import pytest

from nocsoc.collectors.logs import parsers as parsers_mod
from nocsoc.collectors.logs import reader
from nocsoc.collectors.logs.parsers import LineParser, base, cisco_ios, fortigate
from nocsoc.collectors.logs.ruletest import parse_lines
from nocsoc.events import LogEvent
from tests.collectors.logs import test_logfast_cisco as tc
from tests.collectors.logs import test_logfast_fw as tf
from tests.collectors.logs import test_logfast_lines as tl
from tests.collectors.logs.test_fuzz import ALL_SEEDS
from tests.collectors.logs.test_logfast_lines import _mutate, _python_only
from tests.scale import cases

logfast = pytest.importorskip("nocsoc.collectors.logs._logfast",
                              reason="C accelerator not built (tests/test_speedups.py says so)")

NOW = 1_795_568_523.25  # the receive clock both paths read (2026-11-25): times compare exactly
_MISSING = object()


def _slots(e: LogEvent) -> tuple[Any, ...]:
    return (e.raw, e.host, e.parser, e.product, e.services, e.categories, e.source, e.route_key,
            list(e.fields.items()), [type(v) for v in e.fields.values()], e.time, type(e.time), e._low,
            getattr(e, "origin", _MISSING))


def _audit_state(lp: LineParser) -> Any:
    st = lp.state.get("auditd")
    return None if st is None else (list(st.syscalls.items()), list(st.procs.items()))


def _same_minute(a: list[Any], b: list[Any]) -> bool:
    """Equal but for the times, which are within a minute of each other."""
    if len(a) != len(b) or a[-1] != b[-1]:
        return False
    return all(x[:10] == y[:10] and x[11:] == y[11:] and (x[10] == y[10] or abs(x[10] - y[10]) <= 60)
               for x, y in zip(a[:-1], b[:-1], strict=True))


def compare(lines: list[str], zone_names: dict[str, int] | None = None, default_host: str = "h") -> int:
    """Assert both paths agree on every line, as a file line and as network messages (with and
    without a sender), at one fixed receive clock: LineParser.events with the reader, the reader
    called alone (as parse_lines does; events where it declines), and the pure-Python path, each
    with its own LineParser (auditd's state is per input). How many events the reader built."""
    with mock.patch("time.time", return_value=NOW):
        lp_c, lp_r, lp_py = (LineParser(default_host=default_host, zone_names=zone_names) for _ in range(3))
        read = lp_r.fast()
        assert lp_c.fast() is not None and read is not None
        claimed = 0
        for line in lines:
            for network, sender in ((False, ""), (True, ""), (True, "192.0.2.1")):
                got = [_slots(e) for e in lp_c.events(line, sender=sender, network=network)] + [lp_c.repeat]
                alone = read(line, sender, "file", network)
                claimed += alone is not None
                if alone is not None:
                    by_reader = [_slots(alone), 1]
                else:
                    by_reader = [_slots(e) for e in lp_r.events(line, sender=sender, network=network)]
                    by_reader.append(lp_r.repeat)
                with _python_only():
                    want = [_slots(e) for e in lp_py.events(line, sender=sender, network=network)]
                    want.append(lp_py.repeat)
                # (a line the reader leaves: some parsers read datetime.now(), which the fixed clock
                # leaves alone; the C paths below the reader read time.time())
                for mine in (got, by_reader):
                    assert mine == want if alone is not None else _same_minute(mine, want), (
                        network, sender, line[:400], mine, want)
        assert lp_c.unknown_zones == lp_py.unknown_zones == lp_r.unknown_zones
        assert _audit_state(lp_c) == _audit_state(lp_py) == _audit_state(lp_r)
    return claimed


def compare_parse_lines(lines: list[str]) -> int:
    """ruletest.parse_lines (the reader called directly, then LineParser.events) against Python."""
    with mock.patch("time.time", return_value=NOW):
        lp_c, lp_py = LineParser(default_host="h"), LineParser(default_host="h")
        got = [_slots(e) for e in parse_lines(lines, lp_c)]
        with _python_only():
            want = [_slots(e) for e in parse_lines(lines, lp_py)]
        assert _audit_state(lp_c) == _audit_state(lp_py)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):  # (times exact where the reader read: compare() says so)
        assert _same_minute([g, 1], [w, 1]), (g, w)
    return len(got)


def test_the_switch_turns_the_reader_off() -> None:
    """The comparisons mean something only if `_python_only` turns the reader off too."""
    assert "_c_reader" in {k for m, k in tl._c_refs() if m is parsers_mod}
    lp = LineParser(default_host="h")
    line = "Nov 25 01:02:03 web1 sshd[7]: Failed password for root from 203.0.113.5 port 22 ssh2"
    assert lp.fast() is not None and lp.fast()(line, "", "file", False) is not None  # type: ignore[misc]
    with _python_only():
        assert lp.fast() is None


def test_the_reader_builds_events_as_logevent_does() -> None:
    """The same slots as LogEvent(...) with the same arguments: none missing, `origin` unset."""
    lp = LineParser(default_host="h")
    read = lp.fast()
    assert read is not None
    ev = read("<38>Nov 25 01:02:03 web1 sshd[7]: Invalid user x from 1.2.3.4 port 22", "", "syslog", True)
    assert ev is not None and type(ev) is LogEvent
    ref = LogEvent(ev.raw, dict(ev.fields), host=ev.host, time=ev.time, product=ev.product,
                   services=ev.services, categories=ev.categories, parser=ev.parser, source=ev.source)
    assert _slots(ev) == _slots(ref)
    assert not hasattr(ev, "origin")
    assert ev.lower("user") == "x" and ev.lowered() == {"user": "x"}
    ev.origin = "p1"  # (a bus detector sets it)
    assert ev.origin == "p1"


def test_no_reader_when_logevent_or_cisco_ios_change(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reader is built only for what its C was written for: LogEvent's slots, cisco_ios's
    patterns and group fields (a changed pattern turns the Cisco path off, not wrong)."""
    assert reader._cisco_ok()
    import re

    changed = [*cisco_ios._EXTRACT]
    changed[3] = (changed[3][0], re.compile(changed[3][1].pattern + "x"))
    monkeypatch.setattr(cisco_ios, "_EXTRACT", changed)
    assert not reader._cisco_ok()
    monkeypatch.undo()
    assert reader._cisco_ok()
    monkeypatch.setitem(cisco_ios._GROUP_FIELDS, "acl", ("acl_name", cisco_ios._plain))
    assert not reader._cisco_ok()
    monkeypatch.undo()
    monkeypatch.setattr(reader, "_SLOTS", reader._SLOTS | {"extra"})
    assert reader.make(LineParser(default_host="h")) is None


def test_sample_and_seed_lines_read_the_same() -> None:
    compare(list(ALL_SEEDS))
    compare_parse_lines(list(ALL_SEEDS))


def _mix(seed: int, n: int) -> list[str]:
    """A day's mix as the bench's (sshd and kernel lines, access lines, audit records in pairs,
    Cisco IOS lines), as the daemons write them."""
    rnd = random.Random(seed)
    out: list[str] = []
    serial = 1000
    while len(out) < n:
        k = rnd.random()
        if k < 0.45:
            out.append(tl._plain(rnd))
        elif k < 0.75:
            out.append(tl._plain_access(rnd))
        elif k < 0.9:
            serial += 1
            stamp = f"1795568523.{serial % 1000:03d}:{serial}"
            out.append(f"type=SYSCALL msg=audit({stamp}): arch=c000003e syscall=59 success=yes exit=0 "
                       f'ppid={rnd.randint(1, 50)} pid={rnd.randint(1, 50)} auid=1000 uid=0 comm="bash" '
                       'exe="/usr/bin/bash" key="exec"')
            out.append(f'type=EXECVE msg=audit({stamp}): argc=3 a0="bash" a1="-c" a2="id"')
        else:
            text = rnd.choice([
                f"%SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: {rnd.choice(CUSERS)}] [Source: 203.0.113.9] "
                "[localport: 22] [Reason: Login Authentication Failed] at 01:02:03 ICT Wed Nov 25 2026",
                f"%LINK-3-UPDOWN: Interface GigabitEthernet0/{rnd.randint(1, 9)}, changed state to down",
                "%SYS-5-CONFIG_I: Configured from console by noc on vty0 (10.0.0.10)",
                "%PARSER-5-CFGLOG_LOGGEDCMD: User:noc  logged command:show running-config"])
            out.append(f"<189>{len(out)}: core-dx1: Nov 25 0{rnd.randint(0, 9)}:1{rnd.randint(0, 9)}:"
                       f"{rnd.randint(10, 59)}.001 ICT: {text}")
    return out[:n]


def test_a_days_mix_reads_the_same() -> None:
    """The bench's kind of mix (sshd, access, audit, netfilter, Cisco): every line read in C."""
    lines = _mix(31, 6_000)
    assert compare(lines) > 5_500
    assert compare_parse_lines(lines) == 6_000


def test_twin_grammars_read_the_same() -> None:
    """The sshd/netfilter, access and audit grammars of the twin tests, and their mutations."""
    rnd = random.Random(21)
    lines = tl._generated(22, 6_000)
    lines += [tl._access(rnd) for _ in range(3_000)] + [tl._plain_access(rnd) for _ in range(1_000)]
    lines += ["1" + tl._plain_access(rnd)[1:] for _ in range(300)]  # after Palo Alto's refusal
    lines += ["1," + tl._plain_access(rnd)[2:] for _ in range(100)]  # not refused: Python
    lines += [tl._access(rnd).replace(" ", "|Palo Alto Networks| ", 1) for _ in range(100)]
    for serial in range(1, 2_001):
        lines.append(f"type=SYSCALL msg=audit(1795568523.{serial % 1000:03d}:{serial}): arch=c000003e "
                     f"syscall=59 success=yes exit=0 ppid={rnd.randint(100, 130)} "
                     f"pid={rnd.randint(100, 130)} "
                     f'auid=1000 uid={rnd.choice(["0", "1000"])} comm="bash" exe="/usr/bin/bash" key="exec"')
        lines.append(tl._audit(rnd, serial))
    base_lines = list(lines)
    lines += [_mutate(rnd, rnd.choice(base_lines)) for _ in range(cases(8_000))]
    assert compare(lines) > cases(12_000)
    compare_parse_lines(lines[:6_000])


def test_audit_state_is_the_inputs() -> None:
    """SYSCALL records remembered by serial join their EXECVE, and an EXECVE its parent's, across
    the C and Python paths in turn (one state), with the memory bounded as AuditdState says."""
    rnd = random.Random(5)
    lines = []
    for serial in range(1, 3_001):
        pid, ppid = 1000 + serial, 1000 + max(1, serial - rnd.randint(1, 5))
        exe = rnd.choice(['"/usr/bin/bash"', tl._hex("/tmp/my tool"), '""'])
        lines.append(f"type=SYSCALL msg=audit(1795568523.{serial % 1000:03d}:{serial}): arch=c000003e "
                     f"syscall=59 success=yes exit=0 ppid={ppid} pid={pid} auid=1000 uid=0 comm=\"bash\" "
                     f'exe={exe} key="exec"')
        args = rnd.choice(['argc=2 a0="ls" a1="-la"', "argc=1 a0=" + tl._hex("/tmp/x y"), "argc=0",
                           'argc=3 a0="sh" a1="-c" a2="id"'])
        lines.append(f"{rnd.choice(['', 'node=web1 '])}type=EXECVE msg=audit(1795568523.{serial % 1000:03d}:"
                     f"{rnd.choice([serial, serial, serial + 1])}): {args}")
    with mock.patch("time.time", return_value=NOW):
        lp_c, lp_py = LineParser(default_host="h"), LineParser(default_host="h")
        for lp in (lp_c, lp_py):
            lp.state["auditd"].remember = 500
        for k, line in enumerate(lines):
            got = [_slots(e) for e in lp_c.events(line)]
            if k % 3 == 0:  # now and then the Python path on the same state
                with _python_only():
                    got = [_slots(e) for e in lp_c.events(line)]
            with _python_only():
                want = [_slots(e) for e in lp_py.events(line)]
            assert got == want, (line, got, want)
        assert _audit_state(lp_c) == _audit_state(lp_py)
        assert len(lp_c.state["auditd"].syscalls) == 500 and len(lp_c.state["auditd"].procs) <= 500
    parents = sum("ParentImage" in e.fields for e in parse_lines(lines, LineParser(default_host="h")))
    assert parents > 1_000  # the joins were exercised


# --- Cisco: the text's fields ------------------------------------------------------------------

IPS = ["10.0.0.1", "203.0.113.7", "1.2.3.4", "1234.5.6.7", "1.2.3", "1.2.3.4.5", "::1", "fe80::1",
       "2001:db8::5", "::ffff:1.2.3.4", "a:b", "abc:", ":", "::", "g::1", "1.2.3.4:22", "10.0.0.1(22)",
       "1.2.3.45678", "999.1.1.1", "host.example", "FE80::A:b", "1:2", "12345::", "1.2.3.4a", "::1)",
       "dead:beef::", "1.2.3.4.", "0::0:0:0:0:0:0:0",
       "a:b:c:d:e:f:1:2:3", "12345:1:2", "1::2%eth0", "1::2%", "1::2%a%b", "1.2.3.4%x", "::1:", "1..2.3"]
CUSERS = ["noc", "admin", "a@b", "x(y", "", "@", "a b", "jdoe", "user:1", "'q'", "-", "a)b", "x'", "admin:"]
WORDS = ["console", "vty0", "x@vty1", "@", "@x", "a@", "(", "10.0.0.9@vty0", "a b", "tty2", "", "host@",
         "x(y"]
CMDS = ["show running-config", " no logging console ", "", "interface Gi0/1 <cr>", " <cr>", "x <cr> y",
        "<cr>",
        "show ip  ", "  "]
PORTS = ["22", "0", "65535", "007", "1" + "9" * 17, "1" + "9" * 18, "", "x", "2a"]
PROTOS = ["tcp", "udp", "6", "17", "TCP", "icmp", "gre", "89", "x_1", "Tcp", "", "1" * 70, "T" * 70]
ACTS = ["permitted", "denied", "Denied", "permit", "dropped"]
IFACES = ["GigabitEthernet0/1", "Gi1/0/1.100", "Vlan1", "Tu:1", "a-b", "", "x y", "Eth1/1"]
STATES = ["up", "down", "administratively down", "up ", "up  ", " ", "  ", "up.", "", "a_b 1", "down ."]
URLS = ["https://a/b", "http://x", "x://", "ftp://a b", "a", "https://h/p?q", "", "://x", "1://2"]
LPORTS = ["22", " 22 ", "+5", "-3", "1_000", "1__0", "99999999999999999999999", "x", "", "0x10", "1 2", "٣"]


def _pick(rnd: random.Random, seq: list[str]) -> str:
    return rnd.choice(seq)


def _cisco_piece(rnd: random.Random) -> str:
    ip, user, w = (lambda: _pick(rnd, IPS)), (lambda: _pick(rnd, CUSERS)), (lambda: _pick(rnd, WORDS))
    port, n = (lambda: _pick(rnd, PORTS)), (lambda: str(rnd.randint(0, 99)))

    def gip() -> str:  # mostly an address the forms with a tail after it can match
        return ip() if rnd.random() < 0.3 else rnd.choice(IPS[:3] + IPS[6:10])

    def gport() -> str:
        return port() if rnd.random() < 0.3 else str(rnd.randint(0, 65535))

    forms = [
        lambda: f"Configured from {w()} by {user()} on {w()} ({ip()})",
        lambda: f"Configured from {w()} by {user()}",
        lambda: f"Configured from {w()} by  {user()} on {w()}",
        lambda: f"Configured from {w()} by {user()} on {w()}@{w()} ({ip()}){rnd.choice(['', ')', ' x'])}",
        lambda: f"Configured programmatically by process {w()} from {w()} as {user()} on {w()}",
        lambda: f"Configured programmatically by process x from a b from {w()} as {user()}",
        lambda: f"Configured programmatically by process from  as {user()}",
        lambda: f"by {w()} on {w()}@{w()}",
        lambda: f"User:{user()}{rnd.choice(['  ', ' ', ''])}logged command:{_pick(rnd, CMDS)}",
        lambda: f"User:{user()}{rnd.choice([' ', '', '  '])}executed the command:{_pick(rnd, CMDS)}",
        lambda: (f"Username: {user()}{rnd.choice(['', f' Privilege level: {n()}', ' Privilege level: '])}"
                 f"{rnd.choice(['', ' Command: ' + _pick(rnd, CMDS), ' Command:x'])}"),
        lambda: f"username: {user()}",
        lambda: f"{rnd.choice(['', 'Login'])} by {user()} on {w()} ({ip()}){rnd.choice(['', ')', 'x'])}",
        lambda: f"User '{user()}{rnd.choice(['', chr(39)])}",
        lambda: f"for user '{user()}{rnd.choice(['', chr(39)])}",
        lambda: f"User {user()} has exited tty session {n()}({ip()}){rnd.choice(['', ')'])}",
        lambda: (f"tty {n()} ({gip()}){rnd.choice(['', ')'])}{rnd.choice(['', ')'])}"
                 f"{rnd.choice(['', ',', ',,'])}"
                 f"{rnd.choice([' user ', ' user  ', 'user '])}{user()}"),
        lambda: f"from {ip()}:{port()}",
        lambda: f"from {ip()}{rnd.choice([':', ': ', '::'])}{port()}",
        lambda: f"Session {rnd.choice(['', 'request ', 'request request ', 'x '])}from {ip()}",
        lambda: (f"list {w()} {_pick(rnd, ACTS)} {_pick(rnd, PROTOS)} {gip()}({gport()})"
                 f"{rnd.choice(['', ' (Gi0/1 0011.2233.4455)', ' (x', ' ()'])} -> {gip()}({gport()}), "
                 "1 packet"),
        lambda: (f"list {w()} {_pick(rnd, ACTS)} {rnd.choice(['', _pick(rnd, PROTOS) + ' '])}{ip()}"
                 f"{rnd.choice(['', ' -> ' + ip(), ' ->' + ip()])}"),
        lambda: f"Logging to host {ip()}{rnd.choice(['', ' port ' + port(), ' port'])}",
        lambda: f"Duplicate address {ip()} on Vlan1",
        lambda: f"Sticky ARP entry: {ip()}",
        lambda: f"duplicate of local, {ip()}",
        lambda: f"for {rnd.choice(['illegal', 'invalid', 'bad'])} user {user()} from {ip()}",
        lambda: "illegal user",
        lambda: f"Authentication failed from {ip()}",
        lambda: f"via NETCONF user {user()}",
        lambda: f"RPC '{_pick(rnd, URLS)}{rnd.choice(['', chr(39)])}",
        lambda: f"({_pick(rnd, URLS)}{rnd.choice([')', '', ' )'])}",
        lambda: f"Interface {_pick(rnd, IFACES)}, changed state to {_pick(rnd, STATES)}",
        lambda: f"[{rnd.choice(['user', 'USER', 'Source', 'localport', 'Reason', 'x', ''])}: "
                f"{rnd.choice([user(), ip(), _pick(rnd, LPORTS), 'a [b: c'])}{rnd.choice([']', ''])}",
    ]
    return rnd.choice(forms)()


FACS = ["SEC_LOGIN", "SSH", "SYS", "AAA", "LINK", "X-Y", "IP-TCP", "BGP", "SEC", "DMI", "PARSER", "VSHD",
        "IP-TCP-X",
        "AUTHPRIV", "LINEPROTO", "A_B"]
MNS = ["LOGIN_FAILED", "LOGIN_SUCCESS", "SSH2_USERAUTH", "QUIET_MODE_ON", "QUIET_MODE_OFF", "AUTH_PASSED",
       "PRIV_AUTH_FAIL", "CONFIG_I", "UPDOWN", "AUTHFAIL", "IPACCESSLOGP", "LOGOUT", "CFGLOG_LOGGEDCMD",
       "PASS"]
TAILS = ["", " Succeeded", " failed.", " FAILED . .", " succeeded ", "Failed", " x", ". .", " SUCCEEDED."]


def _cisco_text(rnd: random.Random) -> str:
    parts = [_cisco_piece(rnd) for _ in range(rnd.choice([1, 1, 2, 3]))]
    text = rnd.choice([" ", ", ", "; ", " x "]).join(parts) + rnd.choice(TAILS)
    if rnd.random() < 0.2:  # a printable character here and there
        k = rnd.randint(0, len(text))
        text = text[:k] + rnd.choice(" :()[]@'-.,>_aZ09%") + text[k:]
    if rnd.random() < 0.1:
        text = text[: rnd.randint(0, len(text))]
    return text


def _cisco_message(rnd: random.Random) -> str:
    spaces = rnd.choice([" ", "", "  "])
    return f"%{rnd.choice(FACS)}-{rnd.randint(0, 7)}-{rnd.choice(MNS)}:{spaces}{_cisco_text(rnd)}"


def _fields_items(fields: dict[str, object]) -> list[tuple[str, object, type]]:
    return [(k, v, type(v)) for k, v in fields.items()]


def test_cisco_fields_read_as_cisco_parsed() -> None:
    """cisco_fields against parse_cisco on ~40,000 messages built from every extractor's shape."""
    rnd = random.Random(17)
    seen: set[str] = set()
    hits = [0] * len(cisco_ios._EXTRACT)
    for _ in range(cases(40_000)):
        msg = _cisco_message(rnd)
        got = logfast.cisco_fields(msg, base.IANA_PROTO)
        want = cisco_ios.parse_cisco(msg)
        assert want is not None, msg
        if got is None:  # (only text with a character outside printable ASCII is declined)
            assert not (msg.isascii() and msg.isprintable()), msg
            continue
        fields, firewall = got
        assert _fields_items(fields) == _fields_items(want.fields), msg
        assert firewall == (want.categories == ("firewall",)), msg
        seen |= set(fields)
        text = msg.split(":", 1)[1].lstrip(" ")
        for k, (guard, rx) in enumerate(cisco_ios._EXTRACT):
            hits[k] += guard in text and rx.search(text) is not None
    # every extractor matched often, and every field was met: the test exercises each of them
    assert min(hits) > cases(150), str(hits)
    assert {"user", "src_ip", "src_host", "src_port", "dst_ip", "dst_port", "c-uri", "command",
            "network_protocol", "via", "line", "acl", "action", "blocked", "interface", "state", "reason",
            "outcome"} <= seen


def test_cisco_fields_decline_what_is_not_theirs() -> None:
    assert logfast.cisco_fields("x %SYS-5-X: y", {}) is None  # not at the start
    assert logfast.cisco_fields("%SYS-5-X: é", {}) is None
    assert logfast.cisco_fields("%SYS-5-X: a\tb", {}) is None
    assert logfast.cisco_fields("%SYS-8-X: a", {}) is None
    assert logfast.cisco_fields("%sys-5-X: a", {}) is None


def test_cisco_lines_read_the_same() -> None:
    """Whole Cisco lines: the twin test's headers around the texts above, SEKOIA's samples."""
    rnd = random.Random(23)
    lines = [tc._cisco(rnd) for _ in range(2_000)]
    lines += [f"<189>{rnd.randint(0, 999)}: {rnd.choice(['sw1', 'core-dx1'])}: Nov {rnd.randint(1, 30)} "
              f"{rnd.randint(0, 23):02d}:{rnd.randint(0, 59):02d}:{rnd.randint(0, 59):02d}."
              f"{rnd.randint(0, 999):03d}{rnd.choice(['', ' ICT', ' UTC', ' CST', ' XYZ'])}: "
              f"{_cisco_message(rnd)}" for _ in range(cases(4_000))]
    try:
        bodies = tc._sample_bodies()
    except pytest.skip.Exception:
        bodies = []
    lines += bodies + ["<189>" + b for b in bodies] + [tc._wrapped(rnd, b) for b in bodies for _ in range(5)]
    assert compare(lines) > cases(4_000)
    assert compare(lines[:1_500], zone_names={"CST": 480, "XYZ": -60}) > 600
    compare_parse_lines(lines[:3_000])


def test_bare_cisco_lines_read_the_same() -> None:
    """Cisco lines without `<PRI>` (a file's, a relay's bodies: parse_line tries the parsers of
    their first character, then parse_syslog's prefix, IOS and NX-OS stamps), NX-OS's year-first
    stamp, stamp-less messages, with the near misses of each part and of the refusals the reader
    repeats for the parsers that claim a first character (digits, `C`, `e`, `l`, `s`)."""
    rnd = random.Random(41)
    lines = [tc._bare(rnd) for _ in range(cases(12_000))]
    assert compare(lines) > cases(4_500)
    assert compare(lines[:2_000], zone_names={"CST": 480, "XYZ": -60}) > 800
    compare_parse_lines(lines[:3_000])
    mutated = [_mutate(rnd, rnd.choice(lines)) for _ in range(cases(8_000))]
    assert compare(mutated) > cases(800)


def test_bare_cisco_samples_are_read_in_c() -> None:
    """SEKOIA's cisco-ios and cisco-nx-os samples as sent (no `<PRI>`): the reader takes every one
    but those holding a marker of a parser ordered before cisco (`pam_`), those naming an
    ambiguous zone (CST, CDT: read in the input's zone and counted, as parse_syslog does) too,
    and gives Python's event for each."""
    try:
        bodies = tc._sample_bodies()
    except pytest.skip.Exception:
        pytest.skip("cisco samples not present")
    with mock.patch("time.time", return_value=NOW):
        read = LineParser(default_host="h").fast()
        assert read is not None
        left = [b for b in bodies if read(b, "", "file", False) is None]
    assert all("pam_" in b or "\n" in b for b in left), left
    assert len(left) < len(bodies) // 10
    assert compare(bodies) >= 3 * (len(bodies) - len(left))


def test_a_file_line_another_parser_reads_is_not_taken_for_cisco() -> None:
    """A Cisco-shaped file line that the parser of its first character reads (a FortiGate line
    naming its `logid`, an access line) stays that parser's, as on the Python path."""
    lines = ['012345: Dec 23 03:25:30.899 CET: %SYS-5-X: date=2026-11-25 time=01:02:03 logid="0100032001" '
             'type="event" subtype="system" devname="fg1" srcip=1.2.3.4',
             '1.2.3.4 - - [25/Nov/2026:08:12:01 +0700] "GET /%SYS-5-X: HTTP/1.1" 200 12',
             "2023 Jan 11 19:27:57 CET: %ARP-2-DUP_SRC_IP: x",
             '12: Nov 25 01:02:03: %SYS-5-X: x [25/Nov/2026:08:12:01 +0700] "GET / HTTP/1.1" 200 12',
             'Core1: Nov 25 01:02:03: %SYS-5-X: origin:"10.0.0.1" action:"drop" src:"1.2.3.4"']
    compare(lines)
    with mock.patch("time.time", return_value=NOW):
        lp = LineParser(default_host="h")
        parsers = [lp.events(line)[0].parser for line in lines]
        assert parsers == ["fortigate", "web", "cisco", "web", "checkpoint"]
        read = lp.fast()
        assert read is not None
        for line, parser in ((lines[0], "fortigate"), (lines[2], "cisco")):  # (fortigate's own twin)
            ev = read(line, "", "file", False)
            assert ev is not None and ev.parser == parser


def test_a_first_character_with_an_unknown_parser_leaves_cisco_lines_to_python(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A file line's first character claimed by a parser whose refusal the C does not repeat:
    its Cisco lines go to Python (a registry change turns the path off, not wrong)."""
    line = "012345: Dec 23 03:25:30.899 CET: %AUTHMGR-5-START: Starting 'mab' for client"
    starts = reader._cisco_starts(LineParser(default_host="h").dispatch)
    assert "0" in starts and "2" in starts and "C" in starts and "n" not in starts  # (auditd's `n`)
    assert LineParser(default_host="h").fast()(line, "", "file", False) is not None  # type: ignore[misc]
    monkeypatch.delitem(reader._REFUSALS, fortigate.parse_fortigate)
    assert "0" not in reader._cisco_starts(LineParser(default_host="h").dispatch)
    assert LineParser(default_host="h").fast()(line, "", "file", False) is None  # type: ignore[misc]
    assert LineParser(default_host="h").events(line)[0].parser == "cisco"


def test_paloalto_csv_file_lines_read_the_same() -> None:
    """Palo Alto's CSV file lines (`1,2026/11/25 ...`: its parser first for `1`, then the access
    log's) read by its C twin in the reader, received now: the samples, the twin test's generated
    lines with their near misses, access lines beside them, and mutations."""
    rnd = random.Random(43)
    samples = tf._samples("paloalto-ngfw")
    lines = samples + [tf._pa_line(rnd) for _ in range(cases(3_000))]
    lines += [tl._plain_access(rnd) for _ in range(300)]
    lines += ["1" + tl._plain_access(rnd)[1:] for _ in range(300)]
    assert compare(lines) > cases(2_500)  # (the file lines: as network messages, Python reads them)
    mutated = [tf.mutate(rnd, rnd.choice(lines)) for _ in range(cases(4_000))]
    assert compare(mutated) > cases(1_500)
    read = LineParser(default_host="h").fast()
    assert read is not None
    assert sum(read(line, "", "file", False) is not None for line in samples) >= 40  # of 101


def _both_paths(rnd: random.Random, lines: list[str], mutations: int, mutate: Any = tf.mutate) -> int:
    """compare() and compare_parse_lines() on the lines, then on `mutations` mutations of them;
    how many of the lines the reader built alone."""
    claimed = compare(lines)
    compare_parse_lines(lines)
    mutated = [mutate(rnd, rnd.choice(lines)) for _ in range(mutations)]
    compare(mutated)
    compare_parse_lines(mutated)
    return claimed


def _taken(lines: list[str]) -> int:
    """How many of these file lines a new LineParser's reader builds alone."""
    read = LineParser(default_host="h").fast()
    assert read is not None
    return sum(read(line, "", "file", False) is not None for line in lines)


def test_sophos_file_lines_read_the_same() -> None:
    """Sophos' file lines (`id="2002" ...`: its parser first for `i`; `device="SFW" ...` and
    `timestamp=...`: after FortiGate's refusal, and for `t` auditd's) read by its twin in the
    reader, received now: the samples, the twin test's generated lines, FortiGate lines starting
    with the same characters, their mix-ups and mutations, through events and parse_lines."""
    rnd = random.Random(61)
    samples = [m.strip() for m in tf._samples("sophos-firewall")]
    lines = samples + [tf._so_line(rnd) for _ in range(cases(3_000))]
    fg = [m.strip() for m in tf._samples("fortigate") if m.strip()[:1] in "dti"]
    lines += fg + [f"date=2024-01-0{k} time=01:02:03 devname=x " + tf._so_line(rnd) for k in range(1, 9)]
    lines += ['type=SYSCALL msg=audit(1.0:1): x=1 ' + tf._so_line(rnd) for _ in range(50)]
    assert _both_paths(rnd, lines, cases(3_000)) > cases(250)  # (`<30>` heads, undeclared types: Python's)
    assert _taken(samples) >= 7  # of 11 (3 with a time prefix)


def test_bare_cef_and_checkpoint_kv_file_lines_read_the_same() -> None:
    """CEF without its label (`0|Check Point|...`, `0|Fortinet|...`: FortiGate's parser first for
    `0`, then Check Point's) and Check Point's `syslog[key:"value"; ...]` lines (its parser first
    for `s` and `"`), read in the reader: the samples, the twin tests' generated lines with and
    without the label, near misses (labels, spaces, escapes, fw1 export lines with the kv keys)
    and mutations, through events and parse_lines."""
    rnd = random.Random(67)
    samples = [m.strip() for fmt in ("checkpoint", "fortigate") for m in tf._samples(fmt)
               if m.strip()[:1] in '0s"']
    cef = [f(rnd) for _ in range(cases(1_000)) for f in (tf._cp_cef_line, tf._fg_cef_line)]
    bare = [line.split(":", 1)[1].lstrip() if line.startswith("CEF:") else line for line in cef]
    kv = [tf._cp_kv_line(rnd) for _ in range(cases(2_000))]
    near = [_cef_near_miss(rnd, rnd.choice(bare)) for _ in range(cases(1_000))]
    near += [rnd.choice(['"1" "Log" "', " ", "", "syslog", '"a" ']) + rnd.choice(kv)
             + rnd.choice(["", " ", "\t"]) for _ in range(cases(500))]
    lines = samples + bare + kv + near
    assert _both_paths(rnd, lines, cases(3_000)) > cases(1_200)
    assert _taken(samples) >= 9


HEADS = ["<38>Nov 25 01:02:03 host1 {p}[42]: ", "Nov 25 01:02:03 host1 {p}: ",
         "<13>Feb 29 23:59:59 h {p}[]: ", "<38>Nov  5 01:02:03 10.0.0.1 {p}[7]: message repeated 3 times: [ ",
         "<38>Nov 25 01:02:60 h {p}: ", "<191>Dec 31 23:59:59 fw-1 {p}[1]:"]
PROGS = ["sshd", "sshd(pam_unix)", "su", "sudo", "useradd", "kernel", "filterlog", "mgd", "RT_FLOW", "cron",
         "CRON", "foo", "nginx", "apache2", "httpd", "auditd", "sshd-session", "x.y/z-1"]


def test_header_lines_with_a_python_body_read_the_same() -> None:
    """A line with the common syslog header whose body no C twin reads has its body read by the
    LineParser's own dispatch from C (rd_body) and its event built there: every sample and seed
    behind a header of every program (an sshd, su, sudo, account, Junos, kernel, filterlog,
    web, unknown one, as `message repeated` too, with a stamp Python reads without a date), and
    mutations, against the Python path; a parser that names the host (FortiGate's devname), the
    time, or raises (no Parsed: the line stays unparsed) included."""
    rnd = random.Random(71)
    bodies = [m.strip() for m in ALL_SEEDS if "\n" not in m.strip()]
    lines = [rnd.choice(HEADS).format(p=rnd.choice(PROGS)) + rnd.choice(bodies) for _ in range(cases(4_000))]
    assert _both_paths(rnd, lines, cases(4_000), _mutate) > cases(2_000)
    line = ("<38>Nov 25 01:02:03 fw1 app: date=2026-11-25 time=01:02:03 devname=fg1 logid=0000000013 "
            "type=traffic")
    ev = LineParser(default_host="h").fast()(line, "", "file", False)  # type: ignore[misc]
    assert ev is not None and ev.parser == "fortigate" and ev.host == "fg1" and ev.fields["program"] == "app"


def test_a_parser_error_leaves_the_line_unparsed_in_c_too(monkeypatch: pytest.MonkeyPatch) -> None:
    from nocsoc.collectors.logs.parsers import registry

    def boom(msg: str, app: str, state: object) -> None:
        raise ValueError("a parser bug")

    spec = registry.ParserSpec("boom", boom, (registry.get("sshd").logsources[0],), programs=("boomd",),
                               order=1)
    line = "<38>Nov 25 01:02:03 h1 boomd[9]: anything"
    with mock.patch("time.time", return_value=NOW):
        lp = LineParser(default_host="h", parsers=[spec, *registry.specs()])
        ev = lp.fast()(line, "", "file", False)  # type: ignore[misc]
        with _python_only():
            want = LineParser(default_host="h", parsers=[spec, *registry.specs()]).events(line)
    assert ev is not None and [_slots(ev)] == [_slots(e) for e in want]
    assert ev.parser == "unparsed" and ev.fields == {"message": line, "program": "boomd", "pid": "9"}


def _json_near_miss(rnd: random.Random, line: str) -> str:
    """A JSON line with what Palo Alto's tests before its twin look at changed: space or a control
    character around it, `"LogType"` past its first 4000 characters, non-ASCII text, no LogType,
    text that is no JSON (or JSON only json reads), an array."""
    k = rnd.random()
    if k < 0.2:
        odd = rnd.choice([" ", "\t", "\x1c", "\x00", "\x7f", "\r\n", "\n"])
        return odd + line if rnd.random() < 0.5 else line + odd
    if k < 0.35:
        return '{"Pad": "' + "x" * rnd.choice([3980, 3985, 3990, 4000, 5000]) + '", ' + line[1:]
    if k < 0.5:
        return line.replace('"', '"é', 1) if rnd.random() < 0.5 else line[:-1] + ', "Note": "\u1ec7"}'
    if k < 0.6:
        return line.replace('"LogType"', '"logtype"')
    if k < 0.75:
        return line[:-1] + rnd.choice([', "X": NaN}', ', "X": 1' + "0" * 30 + "}", ",}", "", '"}'])
    if k < 0.85:
        return "[" + line + "]"
    return line.replace('"LogType"', '"LogType": 1, "LogType"', 1)


def test_paloalto_json_file_lines_read_the_same() -> None:
    """Palo Alto's JSON file lines (`{...}`: its parser first for `{`) read by Reader.json_event
    with the object decoded once: the samples, the twin test's generated documents, their near
    misses (see _json_near_miss) and mutations, through LineParser.events (which decodes) and
    ruletest.parse_lines (which hands its object on), against the Python path."""
    rnd = random.Random(59)
    samples = [m for m in tf._samples("paloalto-ngfw") if m.lstrip().startswith("{")]
    lines = samples + [m.strip() for m in samples] + [tf._pa_json_line(rnd) for _ in range(cases(2_000))]
    near = [_json_near_miss(rnd, rnd.choice(lines)) for _ in range(cases(2_000))]
    mutated = [tf.mutate(rnd, rnd.choice(lines)) for _ in range(cases(2_000))]
    for batch in (lines, near, mutated):
        compare(batch)
        compare_parse_lines(batch)
    lp = LineParser(default_host="h")
    taken = sum(lp._json_fast(m.strip(), "file") is not None for m in samples)
    # Reader.json_event repeats Palo Alto's tests itself, whoever calls it
    doc = '{"LogType": "TRAFFIC", "Action": "deny"}'
    read_json = lp._read_json
    assert read_json is not None and read_json(doc, json.loads(doc), "file") is not None
    padded = '{"Pad": "' + "x" * 4000 + '", ' + doc[1:]
    for odd in (padded, " " + doc, doc + " ", doc + "\x00", doc[:-1] + ', "N": "\u00e9"}'):
        assert read_json(odd, json.loads(doc), "file") is None, odd[-40:]  # (its document: read)
    # every JSON sample (without its newline) in C but the 3 DNS ones, a log type whose logsource
    # the spec does not declare (the reader builds only declared ones)
    assert len(samples) == 42 and taken == 39


CEF_HEADS = ["CEF:0|", "CEF: 0|", "CEF:0||", "CEF:10|", "CEF:  0|", "0|", "CEF:x|", "cef:0|", "CEF:0|a\\|b|"]


def _cef_near_miss(rnd: random.Random, line: str) -> str:
    """A CEF line with its start, a label's place, an escape, a FortiGate key or the end changed."""
    k = rnd.random()
    if k < 0.25 and "|" in line:
        return rnd.choice(CEF_HEADS) + line.split("|", 1)[1]
    if k < 0.4:
        return line.replace("|", "|" + "x" * rnd.choice([5, 20, 40]) + "|", 1)  # a label further on
    if k < 0.5:
        return line.replace("|", "\\|", rnd.randint(1, 6))
    if k < 0.7:
        return line + " " + rnd.choice(["logid=1", "log_id=2", "subtype=x", "origin:\"a\"", "|Fortinet|",
                                         "|Check Point|", "|Palo Alto Networks|", "a\\=b", "k=v\\|w"])
    if k < 0.8:
        return line + rnd.choice([" ", "  ", "\t", "\x00"])
    return line.replace("|", "||", 1)


def test_cef_file_lines_read_the_same() -> None:
    """CEF file lines (`CEF:0|...`: Palo Alto's, FortiGate's and Check Point's, tried in this
    order) read by the reader: the samples, the twin tests' generated lines of the three, their
    near misses (starts, labels past the first 40 or 60 characters, escapes in the header, keys
    FortiGate's refusal looks for, a trailing space, a doubled `|`) and mutations."""
    rnd = random.Random(47)
    samples = [m for fmt in ("paloalto-ngfw", "fortigate", "checkpoint") for m in tf._samples(fmt)
               if m.startswith("C")]
    lines = [f(rnd) for _ in range(cases(1_500)) for f in (tf._pa_cef_line, tf._fg_cef_line, tf._cp_cef_line)]
    lines = [ln for ln in lines if ln.startswith("C")]
    near = [_cef_near_miss(rnd, rnd.choice(lines + samples)) for _ in range(cases(3_000))]
    assert compare(samples) >= 35
    assert compare(lines) > cases(1_500)  # (as network messages, and non-ASCII values: Python's)
    assert compare(near) > cases(600)
    compare_parse_lines(samples + lines[:1_000] + near[:1_000])
    mutated = [tf.mutate(rnd, rnd.choice(lines + samples)) for _ in range(cases(4_000))]
    assert compare(mutated) > cases(800)
    read = LineParser(default_host="h").fast()
    assert read is not None
    taken = {e.parser for line in samples if (e := read(line, "", "file", False)) is not None}
    assert taken == {"paloalto", "fortigate", "checkpoint"}


CP_PRODUCTS = ["HTTPS Inspection", "Anti-Bot", "Identity Awareness", "Application Control", "Anti Malware",
               "VPN-1 & FireWall-1", "SmartDefense", "URL Filtering", "Firewall", "a-b&c d", "x"]
SO_TYPES = ["SD-WAN", "Event", "System Health", "ATP", "Wireless Protection", "Firewall", "Content Filtering",
            "waf", "x-y z", ""]


def test_services_no_logsource_declares_read_the_same() -> None:
    """Check Point lines whose blade (the CEF product, a `product:"..."` pair) and Sophos lines
    whose log type is a service their logsources do not declare (https_inspection, anti_bot,
    sd-wan, event, ...): built in the reader with the parser, product, services and categories
    the Python path gives them; among them the two HTTPS Inspection samples (`\\=` escapes in
    their values) and the SD-WAN one."""
    rnd = random.Random(67)
    cp = [m for m in tf._samples("checkpoint") if "HTTPS Inspection" in m]
    so = [m.strip() for m in tf._samples("sophos-firewall") if 'log_type="' in m and m.isascii()]
    assert len(cp) == 2 and any("SD-WAN" in m for m in so)
    lines = cp + so
    for _ in range(cases(1_500)):
        prod = rnd.choice(CP_PRODUCTS)
        cef = tf._cp_cef_line(rnd).split("|")
        cef[cef.index("Check Point") + 1] = prod
        lines.append("|".join(cef))
        lines.append(rnd.choice(cp).replace("HTTPS Inspection", prod))
        kv = tf._cp_kv_line(rnd)
        lines.append(kv.replace('action:"Accept"', f'action:"Accept"; product:"{prod}"'))
        kind = rnd.choice(SO_TYPES)
        lines.append(re.sub('log_type="[^"]*"', f'log_type="{kind}"', rnd.choice(so)))
        lines.append(re.sub("log_type=[^ ]*", f'log_type="{kind}"', tf._so_line(rnd)))
    assert compare(lines) > cases(3_000)
    assert _taken(cp) == 2 and _taken(so) == len(so)
    assert _taken(lines) > len(lines) // 2
    compare_parse_lines(lines[:2_000])
    mutated = [tf.mutate(rnd, rnd.choice(lines)) for _ in range(cases(2_000))]
    compare(mutated)


def test_filterlog_lines_read_the_same() -> None:
    """pf's filterlog bodies behind a syslog header (its program's first parser, with a body twin
    since filterlog_body is one of BODIES): the samples, the twin test's generated lines (IPv4
    and IPv6, every protocol tail, near misses) and mutations, as file lines and messages."""
    rnd = random.Random(53)
    bodies = [m.strip() for m in tf._samples("openbsd-packet-filter")]
    bodies += [tf._pf_line(rnd) for _ in range(cases(3_000))]
    heads = ["<134>Nov 25 01:02:03 fw1 filterlog[42]: ", "Nov 25 01:02:03 fw1 filterlog: ",
             "<134>Nov 25 01:02:03 fw1 filterlog[42]: message repeated 2 times: [ "]
    lines = [rnd.choice(heads) + b for b in bodies]
    assert compare(lines) > cases(400)  # (IPv6 and the near misses: Python's)
    mutated = [tf.mutate(rnd, rnd.choice(lines)) for _ in range(cases(3_000))]
    assert compare(mutated) > cases(100)
    compare_parse_lines(lines[:1_000] + mutated[:1_000])


def test_mutated_lines_read_the_same() -> None:
    """Mutations of every kind of line above (NUL, tabs, newlines, non-ASCII, cuts, splices)."""
    rnd = random.Random(29)
    base_lines = _mix(32, 2_000) + [tc._cisco(rnd) for _ in range(500)] + tl._generated(30, 500)
    lines = [_mutate(rnd, rnd.choice(base_lines)) for _ in range(cases(16_000))]
    assert compare(lines) > cases(4_000)
    compare_parse_lines(lines[:4_000])


def test_every_ascii_byte_anywhere_reads_the_same() -> None:
    """The printable check the reader's paths share (fw_printable: eight bytes at a time) refuses
    exactly what the byte-by-byte check refused: every ASCII byte value put in every lane of a
    word and in the tail, in a CEF, a bare-CEF, a syslog-header, a Cisco and an auditd line."""
    kinds = ["CEF:0|Check Point|VPN-1 & FireWall-1|Check Point|Log|Accept|Unknown|act=Accept src=1.2.3.4",
             "0|Fortinet|Fortigate|v6.0.3|00013|traffic:forward close|3|src=1.2.3.4 dst=5.6.7.8",
             "<38>Nov 25 01:02:03 web1 sshd[7]: Failed password for root from 203.0.113.5 port 22 ssh2",
             "<189>12: sw1: Nov 25 01:02:03.001 ICT: %SYS-5-CONFIG_I: Configured from console by noc",
             'type=SYSCALL msg=audit(1795568523.1:7): pid=1 ppid=1 uid=0 comm="sh" exe="/bin/sh"']
    lines = []
    for line in kinds:
        n = len(line)
        for at in sorted({*range(8, 24), n - 9, n - 5, n - 2}):
            lines += [line[:at] + chr(c) + line[at + 1:] for c in range(128)]
    compare(lines)


def test_odd_and_huge_lines() -> None:
    # huge: far beyond every buffer and cache of the C paths (kept this size: Python's regexes
    # backtrack quadratically on some of them, ~36 s at 5x)
    sshd = "<38>Nov 25 01:02:03 web1 sshd[7]: Failed password for root from 203.0.113.5 port 22 ssh2"
    cisco = "<189>12: sw1: Nov 25 01:02:03.001 ICT: %SYS-5-CONFIG_I: Configured from console by noc on vty0"
    access = '198.51.100.7 - - [25/Nov/2026:08:12:01 +0700] "GET / HTTP/1.1" 200 12 "-" "curl/8"'
    audit = 'type=SYSCALL msg=audit(1795568523.1:7): pid=1 ppid=1 uid=0 comm="sh" exe="/bin/sh"'
    lines = []
    for line in (sshd, cisco, access, audit):
        lines += [line, line + "\x00", line + "\r\n", line + "\n", line + " é", line.replace(" ", "\t", 1),
                  line + "\udcff", line + " " + "x" * 4_000, line.replace("1", "1" * 10_000, 1),
                  "\ufeff" + line]
    lines += ["", "<", "<1>", "x" * 4_000, "1" * 4_000, "t" * 4_000, "%" * 4_000,
              "<189>1: a: Nov 25 01:02:03 ICT: %" + "A-" * 6_000 + "5-X: y",
              "<189>1: a: Nov 25 01:02:03 ICT: %SYS-5-X: " + "from 1" * 4_000,
              "<189>1: a: Nov 25 01:02:03 ICT: %SYS-5-X: from " + ":" * 4_000,
              "<189>1: a: Nov 25 01:02:03 ICT: %SYS-5-X: " + "list a denied tcp " + "1:" * 6_000,
              "<189>1: a: Nov 25 01:02:03 ICT: %SYS-5-X: " + "[user: " * 4_000]
    compare(lines)
    compare_parse_lines([ln for ln in lines if ln])


def test_a_leap_second_or_impossible_day_goes_to_python() -> None:
    """Stamps the Python path answers without a date (or through its datetime path) are left to it."""
    lines = ["Nov 25 01:02:60 web1 sshd[7]: Invalid user x from 1.2.3.4",
             "Feb 30 01:02:03 web1 sshd[7]: Invalid user x from 1.2.3.4",
             "Nov 25 25:61:03 web1 sshd[7]: Invalid user x from 1.2.3.4",
             "<189>1: sw1: Feb 29 01:02:03.5 ICT: %SYS-5-CONFIG_I: x",
             "<189>1: sw1: Nov 25 01:02:60 ICT: %SYS-5-CONFIG_I: x"]
    lp = LineParser(default_host="h")
    read = lp.fast()
    assert read is not None
    with mock.patch("time.time", return_value=NOW):
        for line in lines:
            assert read(line, "", "file", False) is None, line
    compare(lines)


def test_record_times_read_as_float_does() -> None:
    """An audit record's `msg=audit(SECONDS.FRACTION:serial)` and a Cisco stamp's fraction, read
    in C (an exact integer over a power of ten when 15 digits or fewer): float() of the text."""
    rnd = random.Random(37)
    lines = []
    for serial in range(1, 4_001):
        whole = str(rnd.randint(0, 10 ** rnd.randint(0, 19)))
        frac = "".join(rnd.choice("0123456789") for _ in range(rnd.randint(0, 12)))
        ts = f"{whole}.{frac}" if frac else whole
        lines.append(f'type=USER_LOGIN msg=audit({ts}:{serial}): pid=1 uid=0 acct="root" res=success')
        lines.append(f"<189>{serial}: sw1: Nov 25 01:02:03.{frac or '0'} ICT: %SYS-5-CONFIG_I: "
                     "Configured from console by noc on vty0")
    assert compare(lines) > 6_000
