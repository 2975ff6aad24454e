"""The Cisco IOS line in C (_logfast.cisco_line: `<PRI>`, sequence number, host, timestamp and zone
name, `%FAC-SEV-MNEMONIC:`; the text then read by cisco_ios.cisco_parsed) gives exactly the events
of the pure-Python path (parse_syslog's Cisco branch, then parse_cisco), which stays the reference:
same parser, logsource, host, time, fields (values, types, key order) and repeat.

Lines: every SEKOIA cisco-ios / cisco-nx-os sample body behind the headers Cisco devices write
(and as sent), the fuzz seeds, lines generated from the header's grammar with its near misses
(sequence numbers, hosts starting with a digit or an uptime stamp, `*` and `.` marks, years,
zone names known, unknown, ambiguous, lower-case, too long, numeric; fractions, a facility with
dashes or a digit segment, other `%` bodies such as ASA's), and mutations of them."""

from __future__ import annotations

import json
import random
from unittest import mock

import pytest

from nocsoc.collectors.logs.parsers import LineParser
from tests.collectors.logs.test_fuzz import ALL_SEEDS
from tests.collectors.logs.test_logfast_lines import _c_refs, _events, _mutate, _python_only, _same_minute
from tests.conftest import SHARED

logfast = pytest.importorskip("nocsoc.collectors.logs._logfast",
                              reason="C accelerator not built (tests/test_speedups.py says so)")


NOW = 1_795_568_523.25  # the receive clock both paths read (2026-11-25): times compare exactly


def compare(lines: list[str], zone_names: dict[str, int] | None = None) -> int:
    """Assert both paths agree on every line (file and network), on the lines C claims to the
    microsecond (one fixed receive clock); how many lines C claimed."""
    with mock.patch("time.time", return_value=NOW):
        return _compare(lines, zone_names)


def _compare(lines: list[str], zone_names: dict[str, int] | None) -> int:
    lp_c = LineParser(default_host="h", zone_names=zone_names)
    lp_py = LineParser(default_host="h", zone_names=zone_names)
    claimed = 0
    for line in lines:
        mine = logfast.cisco_line(line) is not None
        claimed += mine
        for network in (False, True):
            got = _events(lp_c, line, network)
            with _python_only():
                want = _events(lp_py, line, network)
            # (other lines: some parsers read datetime.now(), which the fixed clock leaves alone)
            assert got == want if mine else _same_minute(got, want), (network, line[:400], got, want)
    assert lp_c.unknown_zones == lp_py.unknown_zones
    return claimed


def test_the_switch_turns_the_cisco_path_off() -> None:
    """The comparisons below mean something only if `_python_only` turns this path off."""
    from nocsoc.collectors.logs import parsers

    assert "_c_cisco" in {k for m, k in _c_refs() if m is parsers}
    line = "<189>12: sw1: Nov 25 01:02:03.001 ICT: %SYS-5-CONFIG_I: Configured from console by noc on vty0"
    lp = LineParser(default_host="h")
    assert lp._cisco_syslog(line, "h", "file") is not None
    with _python_only():
        assert lp._cisco_syslog(line, "h", "file") is None


def _sample_bodies() -> list[str]:
    root = SHARED / "log-samples" / "sekoia"
    out = []
    for fmt in ("cisco-ios", "cisco-nx-os"):
        if not (root / fmt).is_dir():
            pytest.skip(f"{root / fmt} not present (shared material sits beside the project)")
        for f in sorted((root / fmt).glob("*.json")):
            out.append(json.loads(f.read_text(encoding="utf-8"))["input"]["message"])
    return out


PRIS = ["<189>", "<189>", "<13>", "<0>", "<191>", "<999>", "<1234>", "<>", "<x>", "", "<189>1 "]
SEQS = ["", "12: ", "000123: ", "1: ", "99999999999999999999: ", "12:", "x: ", "1 "]
HOSTS = ["", "core-dx1: ", "HOSTNAME: ", "sw_1.example.org: ", "a: ", "1d04h: ", "12: ", "9sw: ", "_h: ",
         "-h: ", "Nov: ", "host:", "host : ", "Mar1: "]
MARKS = ["", "", "*", ".", "*.", ".*"]
DAYS = ["Nov 25", "Mar  1", "Mar 1", "Feb 29", "Feb 30", "Dec 31", "Jan  1", "Nov 25 2026", "Nov 123",
        "Nov  25",
        "Xyz 1", "nov 25"]
TIMES = ["01:02:03", "23:59:59", "00:00:60", "24:61:99", "1:02:03", "01:02", "01:02:03x"]
FRACS = ["", ".001", ".1", ".123456", ".5" + "0" * 29, ".5" + "0" * 30, ".", ".9999999999"]
ZONES = ["", " ICT", " UTC", " CET", " CEST", " CDT", " CST", " IST", " PST", " XYZ", " ict", " Ict",
         " UTC+7",
         " +07", " +0700", " ABCDEFGHIJKL", " ABCDEFGHIJKLM", " ICT7", " ICT ICT", "  ICT"]
COLONS = [": ", ": ", ": ", " ", ":", ":  ", "::  "]
TAGS = ["%SEC_LOGIN-4-LOGIN_FAILED:", "%SYS-5-CONFIG_I:", "%LINK-3-UPDOWN:", "%PARSER-5-CFGLOG_LOGGEDCMD:",
        "%IP-TCP-3-BADAUTH:", "%A-4-B-5-C:", "%A-1-2-B:", "%ASA-4-106023:", "%FTD-6-302013:", "%X-8-Y:",
        "%X--4-Y:", "%X-4-:", "%X-4-Y", "%x-4-Y:", "%SEC_LOGIN-4-LOGIN_FAILED :", "% SYS-5-CONFIG_I:",
        "%VSHD-5-VSHD_SYSLOG_CONFIG_I:", "%AAA-6-AAA_ACCOUNTING_MESSAGE:", "%SSH-5-SSH2_USERAUTH:",
        "%SEC-6-IPACCESSLOGP:", "%DMI-5-AUTH_PASSED:", "%LINEPROTO-5-UPDOWN:", "%AUTHPRIV-3-SYSTEM_MSG:"]
TEXTS = ["Login failed [user: admin] [Source: 203.0.113.7] [localport: 22] "
         "[Reason: Login Authentication Failed] "
         "at 01:02:03 ICT Wed Nov 25 2026",
         "Configured from console by noc on vty0 (10.0.0.10)",
         "Interface GigabitEthernet0/1, changed state to up",
         "User:noc  logged command:show running-config",
         "list 101 denied tcp 10.0.0.1(1234) -> 10.0.0.2(22), 1 packet",
         "", "  x", "User 'jdoe' authentication for SSH2 Session from 1.2.3.4 (tty = 0) using crypto cipher "
         "'aes128-ctr', hmac 'hmac-sha1' Succeeded", "x IN=eth0 SRC=1.2.3.4", "CEF:0|a|b|1|x|y|5|src=1.2.3.4",
         "message repeated 3 times: [ x]", "2026 Nov 25 12:00:04 ICT: %SYS-5-CONFIG_I: nested", "%ASA-4-1: x",
         "pam_unix(sshd:auth): authentication failure", "Group <vpn> User <jdoe> IP <1.2.3.4> x",
         "Group = vpn, x", "x %%01SHELL/5/CMDRECORD(s): y", "%ASA-6-1: y", "Tunnel group x",
         "Logging to host 1.2.3.4 port 514 failed",
         "Duplicate address 10.0.0.1 on Vlan1, sourced by 0200.0000.0001"]


def _cisco(rnd: random.Random) -> str:
    if rnd.random() < 0.5:  # the common shape, with a near miss here and there
        head = (f"<189>{rnd.randint(0, 99999)}: {rnd.choice(['core-dx1', 'sw1', 'HOSTNAME'])}: "
                f"Nov {rnd.randint(1, 30)} {rnd.randint(0, 23):02d}:{rnd.randint(0, 59):02d}:"
                f"{rnd.randint(0, 59):02d}"
                f"{rnd.choice(['', '.001', '.5'])}{rnd.choice(['', ' ICT', ' UTC', ' CET'])}: ")
    else:
        head = (rnd.choice(PRIS) + rnd.choice(SEQS) + rnd.choice(HOSTS) + rnd.choice(SEQS[:3])
                + rnd.choice(MARKS) + f"{rnd.choice(DAYS)} {rnd.choice(TIMES)}{rnd.choice(FRACS)}"
                + f"{rnd.choice(ZONES)}{rnd.choice(COLONS)}")
    return head + rnd.choice(TAGS) + rnd.choice([" ", " ", "", "  "]) + rnd.choice(TEXTS)


# the forms without `<PRI>` (a file's lines, a relay's bodies) and NX-OS's year-first stamp: hosts
# whose first character other parsers claim in a file (digits: fortigate, checkpoint, web, iis,
# nginx_error, paloalto; `C`, `e`, `l`, `s`, `"`) and texts holding what makes one of them read
# the line (or not: the near misses of the refusals the reader repeats)
BARE_HOSTS = ["", "", "HOSTNAME: ", "1234_service_my-city_ext01a: ", "Core-sw1: ", "edge1: ", "lab-sw: ",
              "sw1: ", "syslog[1]: ", "2023: ", "12d3h: ", "1y2w: ", "1d04: ", "dist-1: ", "iad1: ", "C: ",
              "0x: ", "2026-sw: ", "2026/sw: ", "0,a: ", "abc,: ", "n1: ", "t1: "]
YEARS = ["2026 ", "2023 ", "0001 ", "9999 ", "0000 ", "20260 ", "202 ", ""]
BARE_TEXTS = ["x logid=0100032001 type=event", "subtype=system x", "log_id=1", "a |Fortinet| b",
              "CEF:0|Fortinet|FortiGate|x", "|Check Point| x", 'origin:"fw1" action:"drop"', 'say "hi"',
              "|Palo Alto Networks| x", "origin: x", "logi d", "Interface Gi1/0/1, changed state to up"]


def _bare(rnd: random.Random) -> str:
    """A Cisco line without `<PRI>` (now and then with it), in the IOS, NX-OS or stamp-less form."""
    k = rnd.random()
    pri = "<190>" if rnd.random() < 0.15 else ""
    if k < 0.45:  # IOS: [seq: ][host: ][seq: ][*][.]Mmm dd [yyyy ]hh:mm:ss[.frac][ ZONE]:
        stamp = (f"{rnd.choice(DAYS)} {rnd.choice(['', '', '2024 ', '2023 '])}{rnd.choice(TIMES)}"
                 f"{rnd.choice(FRACS)}")
    elif k < 0.85:  # NX-OS: yyyy Mmm dd hh:mm:ss[.frac][ ZONE]:
        stamp = f"{rnd.choice(YEARS)}{rnd.choice(DAYS)} {rnd.choice(TIMES)}{rnd.choice(FRACS)}"
    else:  # no stamp at all
        return pri + rnd.choice(["", "", rnd.choice(BARE_HOSTS)]) + rnd.choice(TAGS) + " " + rnd.choice(TEXTS)
    if rnd.random() < 0.5:  # the parts as devices write them
        stamp = (f"{rnd.choice(YEARS[:2]) if k >= 0.45 else ''}{rnd.choice(DAYS[:4])} {rnd.choice(TIMES[:2])}"
                 f"{rnd.choice(FRACS[:4])}")
        head = (pri + rnd.choice(["", "", "000123: "]) + rnd.choice(BARE_HOSTS) + stamp
                + rnd.choice(["", " UTC", " CET", " ICT"]) + ": ")
    else:
        head = (pri + rnd.choice(["", "", rnd.choice(SEQS)]) + rnd.choice(BARE_HOSTS)
                + rnd.choice(["", "", "12: "]) + rnd.choice(["", "", rnd.choice(MARKS)]) + stamp
                + rnd.choice([*ZONES[:12], "", ""]) + rnd.choice(COLONS[:4]))
    text = rnd.choice(TEXTS + BARE_TEXTS)
    if rnd.random() < 0.3:
        text += " " + rnd.choice(BARE_TEXTS)
    return head + rnd.choice(TAGS) + rnd.choice([" ", " ", ""]) + text


def _wrapped(rnd: random.Random, body: str) -> str:
    """A SEKOIA sample's message as sent, and its `%...` part behind a generated IOS header."""
    k = body.find("%")
    tail = body[k:] if k >= 0 else body
    return (f"{rnd.choice(PRIS[:5])}{rnd.choice(SEQS[:4])}{rnd.choice(HOSTS[:4])}{rnd.choice(MARKS)}"
            f"{rnd.choice(DAYS[:4])} {rnd.choice(TIMES[:2])}{rnd.choice(FRACS[:4])}{rnd.choice(ZONES[:8])}: "
            f"{tail}")


def test_sample_lines_read_the_same() -> None:
    rnd = random.Random(3)
    bodies = _sample_bodies()
    lines = bodies + ["<189>" + b for b in bodies] + [_wrapped(rnd, b) for b in bodies for _ in range(20)]
    assert compare(lines) > 1000


def test_seed_lines_read_the_same() -> None:
    compare(list(ALL_SEEDS))


@pytest.mark.parametrize("seed", [1, 2])
def test_generated_lines_read_the_same(seed: int) -> None:
    rnd = random.Random(seed)
    lines = [_cisco(rnd) for _ in range(8_000)]
    assert compare(lines) > 2_500


def test_mutated_lines_read_the_same() -> None:
    rnd = random.Random(5)
    base = [_cisco(rnd) for _ in range(500)]
    lines = [_mutate(rnd, rnd.choice(base)) for _ in range(12_000)]
    assert compare(lines) > 1_000


def test_the_operators_zone_names_read_the_same() -> None:
    """`logs.zone_names` readings (CST as China's) take the C path too; a name still unknown
    goes to Python, which counts it."""
    rnd = random.Random(11)
    lines = [_cisco(rnd) for _ in range(3_000)]
    assert compare(lines, zone_names={"CST": 480, "IST": 330, "XYZ": -60}) > 900


def test_a_body_another_parser_claims_first_is_left_to_python() -> None:
    """A text holding a marker of a parser ordered before cisco (netfilter's `IN=`): the
    dispatcher's first candidate reads it, as on the Python path."""
    line = ("<189>12: sw1: Nov 25 01:02:03.001 ICT: %SEC-6-IPACCESSLOGP: x IN=eth0 OUT= SRC=1.2.3.4 "
            "DST=5.6.7.8")
    assert logfast.cisco_line(line) is not None
    lp = LineParser(default_host="h")
    assert lp._cisco_syslog(line, "h", "file") is None
    assert lp.events(line)[0].parser == "netfilter"
    compare([line])


def test_leads_says_what_candidates_says() -> None:
    """Dispatcher.leads (the Cisco path's test) against the full candidates list, on bodies
    holding the markers and prefixes of the parsers ordered before and after cisco."""
    from nocsoc.collectors.logs.parsers import registry

    d = LineParser(default_host="h").dispatch
    rnd = random.Random(13)
    markers = sorted({m for s in registry.specs() for m in (*s.markers, *s.prefixes) if m})
    checked = 0
    for _ in range(4_000):
        parts = [rnd.choice([*markers, "x", " ", "%SYS-5-X: "]) for _ in range(rnd.randint(1, 4))]
        msg = "%" + "".join(parts) if rnd.random() < 0.5 else "".join(parts)
        if "%" not in msg:
            continue
        checked += 1
        first = d.candidates(msg)[0][2].name
        assert d.leads("cisco", msg) == (first == "cisco"), msg
    assert checked > 2_000


def test_a_body_every_parser_ahead_refuses_is_read_in_c() -> None:
    """A text holding a marker of a parser ordered before cisco that this parser refuses (an
    NX-OS `pam_aaa:` text for PAM's `pam_`, `IN=` without netfilter's fields): every one ahead
    refuses it, so the reader reads it as cisco's (reader.cisco_refusals), as the Python path
    does after the refusals; a text one of them claims stays theirs."""
    read = LineParser(default_host="h").fast()
    assert read is not None
    refused = [
        "2023 Jan 15 00:31:52 CET: %AUTHPRIV-3-SYSTEM_MSG: pam_aaa:Authentication failed from 1.2.3.4 - "
        "dcos_sshd[6531]",
        "<189>12: sw1: Nov 25 01:02:03.001 ICT: %SYS-5-CONFIG_I: Configured from console by pam_x on vty0",
        "Nov 25 01:02:03: %SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: pam_] [Source: 1.2.3.4] %%x",
    ]
    claimed = [
        "2023 Jan 15 00:31:52 CET: %AUTHPRIV-3-SYSTEM_MSG: pam_unix(sshd:auth): authentication failure; "
        "rhost=1.2.3.4 user=root",
        "<189>12: sw1: Nov 25 01:02:03.001 ICT: %SEC-6-IPACCESSLOGP: x IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8",
    ]
    with mock.patch("time.time", return_value=1_795_000_000.0):
        for line in refused:
            ev = read(line, "", "file", False)
            assert ev is not None and ev.parser == "cisco", line
        for line in claimed:
            assert read(line, "", "file", False) is None, line
    rnd = random.Random(14)
    markers = [" pam_", " pam_unix(sshd:auth): x", " IN=eth0", " IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8",
               " %%01"]
    mixed = [_cisco(rnd) + rnd.choice(markers) for _ in range(600)]
    compare(refused + claimed + mixed)
