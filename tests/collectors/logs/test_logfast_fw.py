"""The firewall parsers' C twins (_logfast_fw.c: paloalto_line, fortigate_line) give exactly what
the pure-Python parsers give, which stay the reference: the same Parsed (parser, fields with
their values, types and key order, logsource, time, host, repeat) and, through LineParser, the
same events, file and network alike.

Lines: every SEKOIA sample of the format; lines generated from the vendor's documented field
lists (PAN-OS "Syslog Field Descriptions" per log type, FortiOS "Log Message Reference" keys)
with near misses (quoted fields with commas and `""`, empty fields, numbers int() reads
otherwise, users with domains, `x-fwd-for:`, host names for addresses, odd times); and tens of
thousands of mutations of them (NUL, tabs, non-ASCII, truncation, splices, huge lines, quotes,
commas)."""

from __future__ import annotations

import json
import random
from typing import Any
from unittest import mock

import pytest

from nocsoc.collectors.logs.parsers import LineParser, fortigate, paloalto
from tests.collectors.logs.test_logfast_lines import _c_refs, _events, _python_only, _same_minute
from tests.conftest import SHARED
from tests.scale import cases

logfast = pytest.importorskip(
    "nocsoc.collectors.logs._logfast", reason="C accelerator not built (tests/test_speedups.py says so)"
)

NOW = 1_795_568_523.25  # the receive clock both paths read: times compare exactly


def _samples(fmt: str) -> list[str]:
    root = SHARED / "log-samples" / "sekoia" / fmt
    if not root.is_dir():
        pytest.skip(f"{root} not present (set NOCSOC_SHARED_DIR)")
    return [
        str(json.loads(f.read_text(encoding="utf-8"))["input"]["message"])
        for f in sorted(root.glob("*.json"))
    ]


def _parsed(parse: Any, msg: str) -> tuple[Any, ...] | None:
    p = parse(msg, "", None)
    if p is None:
        return None
    return (
        p.parser, p.product, p.services, p.categories, p.time, p.host, p.repeat, list(p.fields.items()),
        [type(v) for v in p.fields.values()]
    )


def compare(parse: Any, twin: Any, lines: list[str], whole: bool | int = True) -> int:
    """Assert C on and all C off agree on every line: the parser's result and (whole: all, or
    the first `whole` lines) the events of LineParser (file and network); how many lines the
    twin claimed."""
    claimed = 0
    first = len(lines) if whole is True else int(whole)
    lp_c, lp_py = LineParser(default_host="h"), LineParser(default_host="h")
    with mock.patch("time.time", return_value=NOW):
        for i, line in enumerate(lines):
            mine = twin(line) is not None
            claimed += mine
            got = _parsed(parse, line)
            with _python_only():
                want = _parsed(parse, line)
            assert got == want, (line[:400], got, want)
            if i < first:
                for network in (False, True):
                    got_e = _events(lp_c, line, network)
                    with _python_only():
                        want_e = _events(lp_py, line, network)
                    # (a file line's receive time is datetime.now(), which the fixed clock leaves
                    # alone: the same minute; the parser's own time compared exactly above)
                    assert _same_minute(got_e, want_e), (network, line[:400], got_e, want_e)
    return claimed


GARBAGE = [
    "\x00", "\t", "\n", "\r", "\x7f", "é", "\ufffd", "ệ", " ", "  ", ",", ",,", '"', '""', '","', "'", "\\",
    "\\\\", "=", ":", "@", "x-fwd-for: ", "0.0.0.0", "::1", "1.2.3", "-1", "+5", "1_0", " 7", "9" * 19,
    "TRAFFIC", ",THREAT,", "|", "\x1c"
]


def mutate(rnd: random.Random, line: str) -> str:
    for _ in range(rnd.randint(1, 3)):
        k = rnd.random()
        pos = rnd.randint(0, len(line))
        if k < 0.5:
            line = line[:pos] + rnd.choice(GARBAGE) + line[pos:]
        elif k < 0.7:
            line = line[:pos] + line[pos + rnd.randint(1, 6) :]
        elif k < 0.85:
            line = line[:pos]
        elif k < 0.95:
            line = line[:pos] + line[pos:] * rnd.randint(2, 4)
        else:
            line = line[:pos] + "x" * rnd.choice([1000, 100_001]) + line[pos:]
    return line


def test_the_switch_turns_the_twins_off() -> None:
    """The comparisons mean something only if `_python_only` turns these paths off."""
    names = {(m.__name__.rsplit(".", 1)[-1], k) for m, k in _c_refs()}
    assert {("paloalto", "_c_paloalto"), ("fortigate", "_c_fortigate")} <= names


# --- Palo Alto (PAN-OS CSV syslog) ----------------------------------------------------------

def _names(text: str) -> list[str]:
    return text.split()


# PAN-OS "Syslog Field Descriptions": the positions of each log type (names as the docs give
# them; what the value generator below draws for each)
_HEAD = ["future", "receive_time", "serial", "type", "subtype", "future", "generated_time"]
PA_FIELDS = {
    "TRAFFIC": [*_HEAD, *_names(
        "ip ip nat_ip nat_ip text user user word vsys word word word word text future num num port port "
        "port port hex proto action num num num num receive_time num word future num hex word word future "
        "num num word")],
    "THREAT": [*_HEAD, *_names(
        "ip ip nat_ip nat_ip text user user word vsys word word word word text future num num port port "
        "port port hex proto action text text word word word num hex word word future word num hex word num "
        "text word ip text text text text text num num num num vsys word future text text word")],
    "SYSTEM": [*_HEAD, *_names(
        "vsys word text future future word word desc num hex num num num num vsys word future future "
        "receive_time")],
    "CONFIG": [*_HEAD, "ip", "vsys", "text", "user", "word", "word", "text", "num", "hex", "text", "text"],
    "GLOBALPROTECT": [*_HEAD, *_names(
        "vsys word word word word user word word ip ip ip ip text text text word text num text text desc "
        "word")],
    "USERID": [*_HEAD, "vsys", "ip", "user", "text", "num", "num", "num", "port", "port", "word", "word"],
    "HIPMATCH": [*_HEAD, "user", "vsys", "word", "word", "ip", "text", "num", "word"],
    "DECRYPTION": [*_HEAD, *_names(
        "ip ip nat_ip nat_ip text user user word vsys word word word word text future num num port port "
        "port port hex proto action")],
    "AUTH": [*_HEAD, *_names(
    "vsys ip user user text text num num word word text desc word word")],
    "IPTAG": [*_HEAD, "vsys", "ip", "text"], "TUNNEL": [*_HEAD, "ip", "ip"]
}
PA_VALUES = {
    "future": ["1", "", "0", "2049", "2562"],
    "receive_time": ["2024/01/03 13:15:29", "9/16/19 10:00", "", "2025-02-24T14:58:27.897+01:00"],
    "serial": ["026701002040", "", "0000", "no-serial"],
    "ip": [
        "10.0.0.2", "1.2.3.4", "2001:db8::1", "fe80::1%eth0", "", "host.example.org", "1.2.3", "0.0.0.0",
        "::", "1.2.3.4.5", "300.1.1.1", "a:b:c:d:e:f:1:2:3", '"1.2.3.4"', "::ffff:1.2.3.4"
    ],
    "nat_ip": ["0.0.0.0", "5.6.7.8", ""],
    "user": [
        "", "", "jdoe", "domain\\jdoe", "domain\\\\jdoe", "paloaltonetwork\\\\j.doe", "jdoe@corp.local",
        "@x", "a@b@c", "x-fwd-for: 11.22.33.44", "x-fwd-for:", "\\", "a\\b\\c", "'quoted'", '"a,b"',
        '"x""y"', "N/A", "system", "-"
    ],
    "word": [
        "", "ssl", "web-browsing", "vsys1", "Z_DMZ", "ethernet1/1", "general", "informational", "url",
        "auth", "auth-fail", "auth-success", "vpn", "any", "0x8000000000000000", "client-to-server"
    ],
    "vsys": ["vsys1", "", "vsys"],
    "text": [
        "", "MyRule", "rule with spaces", '"a, b"', '"with ""quotes"" in"', "x'y", "a=b", "N/A",
        '"example.com/path?q=1,2"', "Web", "Succeeded", "https://a.b/c"
    ],
    "num": ["0", "1", "12000", "", "007", "9" * 18, "3", "250", "17"],
    "port": ["443", "0", "65535", "", "22", "53", "8080"],
    "hex": ["0x0", "0x40441a", ""],
    "proto": ["tcp", "udp", "6", "17", "TCP", " tcp", "", "  ", "icmp", "132", "1", "gre"],
    "action": [
        "allow", "deny", "drop", "DENY", "reset-both", "alert", "block-url", "", "sinkhole", "Drop-ICMP"
    ],
    "desc": [
        "", "\"authenticated for user 'jdoe'.  auth profile 'GP', From: 1.2.3.4.\"",
        "\"failed authentication for user 'test.user'. Reason: Invalid username/password. From: 1.2.3.4.\"",
        '"User admin logged in via Web from 10.0.0.5 using https"', '"Commit job succeeded for user admin"',
        '"ldap cfg joe connected to server 1.2.3.4:389, initiated by: 5.6.7.8"', '"unknown peer"',
        '"DHCP RENEW: interface ethernet1/1, ip 10.1.1.5 netmask 255.0.0.0 dhcp server: 10.1.1.1"',
        '"CLOUD ELECTION: s0000.urlcloud.paloaltonetworks.com IP: 1.2.3.4 was elected."', "no quotes here",
        "upgraded by admin", '"by system"'
    ],
}


# near misses, drawn now and then in place of any value
PA_ODD = [
    "9" * 19, "+5", "-1", "1_0", " 7", "7 ", "0x10", "1.5", "x1", '"12"', "+22", "2_2", "abc", '"53"',
    '"a""b"', '"a,b"', '"', "'", "\\", "x-fwd-for: 1.2.3.4", "TRAFFIC", " "
]


def _pa_line(rnd: random.Random) -> str:
    kind = rnd.choice([*PA_FIELDS, "TRAFFIC", "THREAT", "SYSTEM"])
    names = list(PA_FIELDS[kind])
    if rnd.random() < 0.3:  # newer PAN-OS versions append fields; older ones send fewer
        names = (
            names[: rnd.randint(5, len(names))]
            if rnd.random() < 0.5
            else names + ["text"] * rnd.randint(1, 40)
        )
    vals = []
    for i, name in enumerate(names):
        if i == 0:
            vals.append("1" if rnd.random() < 0.95 else rnd.choice(["", "12", "x", "0"]))
        elif i == 3:
            vals.append(kind if rnd.random() < 0.97 else rnd.choice(["traffic", "OTHER", '"TRAFFIC"', ""]))
        elif i == 4:
            vals.append(
                rnd.choice(["end", "start", "url", "vulnerability", "auth", "general", "0", "", "login"])
            )
        elif rnd.random() < 0.01:
            vals.append(rnd.choice(PA_ODD))
        else:
            vals.append(rnd.choice(PA_VALUES.get(name, PA_VALUES["text"])))
    line = ",".join(vals)
    k = rnd.random()
    if k < 0.05:
        line = ": " + line
    elif k < 0.1:
        line = rnd.choice([" ", "::", ": :", "x"]) + line
    elif k < 0.15:
        line = line + rnd.choice([" ", ",", "\n", '"'])
    return line


def test_paloalto_samples_read_the_same() -> None:
    lines = [m for m in _samples("paloalto-ngfw")]
    claimed = compare(paloalto.parse_paloalto, logfast.paloalto_line, lines)
    assert claimed >= 40  # the CSV samples (46; a few sent behind a syslog header)


def test_paloalto_generated_lines_read_the_same() -> None:
    rnd = random.Random(11)
    lines = [_pa_line(rnd) for _ in range(cases(12_000))]
    claimed = compare(paloalto.parse_paloalto, logfast.paloalto_line, lines[:3000])
    claimed += compare(paloalto.parse_paloalto, logfast.paloalto_line, lines[3000:], whole=False)
    assert claimed > cases(5_000)  # the twin takes most lines of the grammar (and leaves the rest)


def test_paloalto_mutated_lines_read_the_same() -> None:
    rnd = random.Random(12)
    base = [_pa_line(rnd) for _ in range(2000)] + [m for m in _samples("paloalto-ngfw") if m[:1] in "1:"]
    lines = [mutate(rnd, rnd.choice(base)) for _ in range(cases(20_000))]
    claimed = compare(paloalto.parse_paloalto, logfast.paloalto_line, lines[:2000])
    claimed += compare(paloalto.parse_paloalto, logfast.paloalto_line, lines[2000:], whole=False)
    assert claimed > cases(3_000)


def test_paloalto_odd_text_goes_to_python() -> None:
    line = (
        "1,2024/01/03 13:15:29,026701002040,TRAFFIC,end,2816,2024/01/03 13:15:29,1.2.3.4,5.6.7.8,0.0.0.0,"
        "0.0.0.0,MyRule,,,ssl,vsys1,Z1,Z2,e1/1,e1/2,fwd,2024/01/03 13:15:29,1,1,1234,443,0,0,0x0,tcp,allow,"
        "100,60,40,2"
    )
    assert logfast.paloalto_line(line) is not None
    for odd in (
        line + "\x00", line + "\n", " " + line, line.replace("MyRule", "MyRulé"), line.replace(",,", "\t,"),
        line.replace("MyRule", '"My"Rule'), line.replace("MyRule", '"MyRule'), line.replace("443", "+443"),
        line.replace("1234", "1" * 19)
    ):
        assert logfast.paloalto_line(odd) is None, odd
    compare(
        paloalto.parse_paloalto,
        logfast.paloalto_line,
        [
            line, line.replace("MyRule", "x" * 100_001), line + ",y" * 50_000,
            line.replace("1.2.3.4", "1.2.3.4" * 20_000)
        ],
    )


def _pa_cef_claimed(line: str) -> bool:
    from nocsoc.collectors.logs.parsers.base import parse_cef

    c = parse_cef(line.strip()) if "|Palo Alto Networks|" in line[:60] else None
    return c is not None and logfast.paloalto_cef(c.ext, c.signature, c.name) is not None


def _pa_json_claimed(line: str) -> bool:
    try:
        obj = json.loads(line)
    except ValueError:
        return False
    return isinstance(obj, dict) and "LogType" in obj and logfast.paloalto_json(obj) is not None


PA_CEF_KEYS = [
    *paloalto._CEF_MAP, "PanOSSourceUUID", "PanOSDeviceSN", "PanOSConfigVersion", "PanOS", "request",
    "cat", "deviceExternalId", "rt", "log_type", "panos.DeviceSN", "src_ip", "description", "misc"
]
PA_ANY = [
    "", "1.2.3.4", "2001:db8::1", "host.example", "443", "0", "+5", "1_0", "99999999999999999999", "tcp",
    "6", " udp ", "jdoe", "corp\\\\jdoe", "x-fwd-for: 9.9.9.9", "a@b", "deny", "Drop", "allow",
    "https://a/b", "a\\=b", "x y z", "N/A", "system", "authenticated for user 'bob'"
]


def _pa_cef_line(rnd: random.Random) -> str:
    sig = rnd.choice(["TRAFFIC", "THREAT", "SYSTEM", "CONFIG", "traffic", "GLOBALPROTECT", "DNS", "Threat",
                      ""])
    name = rnd.choice(["end", "url", "file", "", "globalprotect", "auth"])
    pairs = [f"{rnd.choice(PA_CEF_KEYS)}={rnd.choice(PA_ANY)}" for _ in range(rnd.randint(0, 30))]
    return f"CEF:0|Palo Alto Networks|LF|2.0|{sig}|{name}|3|" + " ".join(pairs)


PA_JSON_VALUES: list[Any] = [
    "", None, [], ["1.2.3.4"], [None], [""], ["", "1.2.3.4"], ["80"], [[1]], [{"a": 1}], {"a": 1}, 0, 1,
    443, 1.5, True, False, "1.2.3.4",
    "::1", "host", "jdoe", "dom\\jdoe", "x-fwd-for: 1.1.1.1", "deny", "tcp", 6, "17", " 7", "12\n", "Drop",
    "authenticated for user 'bob'", "é", "a\tb"
]


def _pa_json_line(rnd: random.Random) -> str:
    obj: dict[str, Any] = {}
    if rnd.random() < 0.97:
        obj["LogType"] = rnd.choice(["TRAFFIC", "THREAT", "SYSTEM", "CONFIG", "traffic", "DNS", "", 5, None,
                                     "é"])
    for k in rnd.sample(["Subtype", "SubType", "LogSubtype"], rnd.randint(0, 2)):
        obj[k] = rnd.choice(["url", "end", "", None, 0, "auth", ["x"]])
    keys = [*paloalto._JSON_MAP, "DeviceSN", "TimeReceived", "Tags", "Nested", "Bytes", "ThreatID"]
    for k in rnd.sample(keys, rnd.randint(0, 25)):
        obj[k] = rnd.choice(PA_JSON_VALUES)
    return json.dumps(obj, separators=rnd.choice([(",", ":"), (", ", ": ")]))


def test_paloalto_cef_and_json_samples_are_taken() -> None:
    lines = _samples("paloalto-ngfw")
    assert sum(map(_pa_cef_claimed, lines)) == 13  # every CEF sample
    assert sum(map(_pa_json_claimed, lines)) == 42  # every JSON sample


@pytest.mark.parametrize(("make", "claimed"),
                         [(_pa_cef_line, _pa_cef_claimed), (_pa_json_line, _pa_json_claimed)])
def test_paloalto_cef_and_json_generated_read_the_same(make: Any, claimed: Any) -> None:
    rnd = random.Random(13)
    lines = [make(rnd) for _ in range(cases(6000))]
    n = compare(paloalto.parse_paloalto, claimed, lines[:1500])
    n += compare(paloalto.parse_paloalto, claimed, lines[1500:], whole=False)
    assert n > cases(2_500)
    muts = [mutate(rnd, rnd.choice(lines)) for _ in range(cases(6000))]
    assert compare(paloalto.parse_paloalto, claimed, muts, whole=False) > cases(300)


# SYSTEM descriptions: what each of _finish's regexes reads, and its near misses
DESC_PARTS = [
    "authenticated for user 'jdoe'.", "authenticated for user jdoe,",
    "failed authentication for user 'a b'", "job succeeded   for user admin", "authenticating user  x",
    "authentication for user ''", "authentication for user 'x'y", "authenticated for user x.y.",
    "authenticated for user x.y.z", "authenticated for user 'x''", "authenticated for user a.",
    "authenticated for user", "job succeeded for user", "From: 1.2.3.4", "From:1.2.3.4", "from '1.2.3.4'",
    "from ::1", "from 1.2.3.4567", "from 1234.1.1.1", "from fe80::1%eth0", "initiated by: 5.6.7.8",
    "initiated by 5.6.7.8", "initiated by:5.6.7.8", "from abc:def", "from :", "From: x", "from 1.2.3",
    "from ab:", "Server address 1.2.3.4", "server Address '1.2.3.4':389",
    "connected to server 1.2.3.4 port: 636", "connect to address: 10.0.0.1:" + "9" * 19,
    "server address 1.2.3", "Server address 1.2.3.4:", "connected to server 1.2.3.4' port: 1",
    "upgraded by admin", "done by system", "by _x@y\\z-w.", "nearby admin", "by 1admin", "by admin now",
    "by", "failed", "fail", "auth", ".", "'", ","
]
DESC_STARTS = [
    "User admin logged in via Web from 10.0.0.5 using https", "User admin logged out via SSH",
    "User  x logged in via ", "User x logged in via",
    "DHCP RENEW: interface ethernet1/1, ip 10.1.1.5 netmask 255.0.0.0 dhcp server: 10.1.1.1",
    "DHCP BOUNDx: interface e1, ip 1.2.3.4 dhcp server: 5.6.7.8 dhcp server: 9.9.9.9",
    "DHCP REBIND: interface , ip 1.2.3.4 x dhcp server: ",
    "DHCP RENEW: interface a,b, ip 1 dhcp server: 2",
    "DHCP RENEW: interface a, ip 1.2 dhcp server: 3.4 and dhcp server: x",
    "CLOUD ELECTION: s0.url.example IP: 1.2.3.4 was elected.", "CLOUD ELECTION:  x IP: 1 was elected",
    "CLOUD ELECTION: x IP: 1.2 was elected", "CLOUD ELECTION: x IP:  1.2 was elected", ""
]


def _desc(rnd: random.Random) -> str:
    parts = [rnd.choice(DESC_STARTS), *rnd.sample(DESC_PARTS, rnd.randint(0, 3))]
    return rnd.choice([" ", "  ", ". ", ""]).join(parts).strip() if rnd.random() < 0.9 else " ".join(parts)


def _system_line(rnd: random.Random) -> str:
    desc = _desc(rnd)
    event = rnd.choice(["auth-fail", "auth-success", "authx", "fa", "general", "", "connect-ldap-sever",
                        "x" * 100])
    sub = rnd.choice(["auth", "general", "dhcp", "url-filtering", "auth "])
    kind = rnd.choice(["SYSTEM", "SYSTEM", "CONFIG"])
    if rnd.random() < 0.5:
        quoted = '"' + desc.replace('"', '""') + '"' if rnd.random() < 0.8 else desc
        return (f"1,2025/02/11 10:34:25,1111111111,{kind},{sub},2562,2025/02/11 10:34:26,,{event},FWPA,0,0,"
                f"general,medium,{quoted},1234,0x0,0,0,0,0,,PA-1,0,0,2025-02-11T10:34:26.348+01:00")
    obj = {"LogType": kind, "Subtype": sub, "EventID": rnd.choice([event, 5, None]),
           rnd.choice(["EventDescription", "Description"]): desc, "User": rnd.choice(["", "jdoe", None])}
    return json.dumps(obj)


def test_paloalto_system_descriptions_read_the_same() -> None:
    rnd = random.Random(14)
    lines = [_system_line(rnd) for _ in range(cases(12_000))]
    lines += [mutate(rnd, rnd.choice(lines)) for _ in range(cases(6000))]
    n = compare(paloalto.parse_paloalto, lambda line: logfast.paloalto_line(line) is not None or
                _pa_json_claimed(line), lines, whole=False)
    assert n > cases(9_000)


# --- CEF extensions that are not ASCII (cef_extension_wide) -------------------------------------

CEF_CHARS = [
    "a", "k", "Z", "0", "_", ".", "[", "]", "-", "=", "\\", "|", "n", "r", " ", " ", "\t", "\n", "\x1c",
    "\x85", "\u00a0", "\u2003", "\u3000", "\u200b", "é", "Nguyễn", "ệ", "\udcff", "😀", "src=", " dst=",
    " msg=", "\\=", "\\\\", "\\n", "\\|", "k[0]=", "x-y.z="
]


def _cef_texts(rnd: random.Random, n: int) -> list[str]:
    return ["".join(rnd.choice(CEF_CHARS) for _ in range(rnd.randint(0, 40))) for _ in range(n)]


def test_wide_cef_extensions_split_as_the_regex_does() -> None:
    from nocsoc.collectors.logs.parsers import base
    from nocsoc.collectors.logs.parsers.base import _CEF_START

    rnd = random.Random(31)
    texts = _cef_texts(rnd, 20_000)
    for fmt in ("paloalto-ngfw", "fortigate", "checkpoint"):  # the samples' extensions, ASCII or not
        for m in _samples(fmt):
            if (k := _CEF_START.search(m)) is not None:
                texts.append(m[k.end():].split("|", 6)[-1])
    texts += [t.replace("a", "ạ") for t in texts[-200:]]
    texts += ["k=" + "ệ" * 100_000, "é " * 50_000 + "k=v"]
    for t in texts:
        want = list(base.cef_extension(t).items())
        assert list(logfast.cef_extension_wide(t).items()) == want, repr(t[:300])


def test_cef_lines_that_are_not_ascii_read_the_same() -> None:
    rnd = random.Random(32)
    fmts = ("paloalto-ngfw", "fortigate", "checkpoint")
    base_lines = [m for fmt in fmts for m in _samples(fmt) if "CEF:" in m]
    lines = []
    for _ in range(3000):
        m = rnd.choice(base_lines)
        for _ in range(rnd.randint(1, 3)):
            pos = rnd.randint(0, len(m))
            odd = rnd.choice(["Nguyễn Văn A", "é", "\u200b", "\u00a0", " ", "\\", "=", "ệ=ế"])
            m = m[:pos] + odd + m[pos:]
        lines.append(m)
    from nocsoc.collectors.logs.parsers import checkpoint

    for parse in (paloalto.parse_paloalto, fortigate.parse_fortigate, checkpoint.parse_checkpoint):
        compare(parse, lambda line: False, lines, whole=parse is paloalto.parse_paloalto)


# --- FortiGate (key=value, comma-separated, log_id=) ------------------------------------------

# FortiOS "Log Message Reference" keys (traffic, event, utm) and FortiWeb's (log_id, src, dst):
# the header first, then the body's keys in any order, some left out
FG_HEAD = ["date", "time", "logid", "type", "subtype", "level", "vd", "eventtime", "tz", "devname", "devid"]
FG_BODY = [
    "srcip", "srcport", "srcintf", "dstip", "dstport", "dstintf", "sessionid", "proto", "action", "policyid",
    "service", "trandisp", "transip", "transport", "tranip", "tranport", "duration", "sentbyte", "rcvdbyte",
    "sentpkt", "rcvdpkt", "sentdelta", "rcvddelta", "user", "srcuser", "unauthuser", "dstuser", "group",
    "ui", "msg", "logdesc", "status", "url", "hostname", "httpmethod", "method", "agent", "remip", "locip",
    "remport", "locport", "tunnelip", "userip", "sproc", "ip", "src", "dst", "src_port", "dst_port",
    "obytes", "ibytes", "reason", "appcat", "app"
]
FG_VALUES: dict[str, list[str]] = {
    "date": [
        "2024-01-03", "2019-08-27", "2024-02-29", "2023-02-29", "2024-13-01", "24-01-03", "2024/01/03", "",
        "0001-01-01", "9999-12-31", "2024-1-3"
    ],
    "time": [
        "13:15:29", "00:00:00", "23:59:59", "24:00:00", "12:60:00", "23:59:60", "1:02:03", "13:15",
        "13:15:29.5", ""
    ],
    "logid": ["0000000013", "0100032001", '"0317013312"', "", "13"],
    "type": ["traffic", "event", "utm", "anomaly", "dns", '"traffic"', "", "Traffic"],
    "subtype": [
        "forward", "local", "system", "vpn", "user", "webfilter", "rest-api", "ips", '""', "app-ctrl"
    ],
    "level": ["notice", "warning", '"information"'],
    "vd": ["root", '"vdom1"', ""],
    "eventtime": [
        "1545937675", "1545937675123", "1545937675123456", "1698046849852012802", "18446744073709551615",
        "18446744073709551616", "99999999999999999999", "999999999999999999999", "0", "", "1e9", "-1",
        "+1545937675"
    ],
    "tz": ['"+0100"', '"-0500"', "+0000", '"UTC+2"', '"+2400"', '"+0160"', '"-1230"', '""', "+01:00", "+01"],
    "devname": ['"FGT-A"', "fw1", '""', '"my fw"'],
    "devid": ['"FGVM2VTM21000062"', "FG100E"],
    "srcip": ["10.1.100.11", "2001:db8::1", "", "host.example", "1.2.3", "0.0.0.0"],
    "dstip": ["52.53.140.235", "::1", "", "a.b.c.d"],
    "srcport": ["54190", "0", "", "99999999999999999999", "+5", "x", "007"],
    "dstport": ["443", "", "65535", "-1"],
    "proto": ["6", "17", "1", "", '" "', "TCP", "132", "99"],
    "action": ["close", "deny", "accept", "blocked", '"deny"', "", "DENY", "timeout", "dropped", "login"],
    "transip": ["172.16.200.1", "0.0.0.0", "", "x"],
    "tranip": ["10.0.0.1", "0.0.0.0"],
    "tunnelip": ["10.212.134.200", "N/A", "0.0.0.0"],
    "sentbyte": ["3652", "", "0", "12a", "9" * 19],
    "rcvdbyte": ["146668", "", "x"],
    "sentdelta": ["100", "", "y"],
    "rcvddelta": ["200", ""],
    "obytes": ["5", ""],
    "ibytes": ["6", "z"],
    "user": [
        '"jdoe"', '"N/A"', "system", '"DOMAIN\\\\jdoe"', '"john.doe,cn=john.doe"', '""', '"a\\\\b,c\\\\d"',
        '"\\\\"', '","'
    ],
    "srcuser": ['"bob"', '""'],
    "unauthuser": ['"eve"'],
    "dstuser": ['"dave"'],
    "ui": [
        '"GUI(10.0.0.5)"', '"ssh(2001:db8::5)"', '"https(1.2.3)"', '"console"', '"x(1.2.3.4)(5.6.7.8)"',
        '"(::)"', '"(a:b)"', '"(1234.1.1.1)"', '"(1.2.3.4"', '"jsconsole(fe80::1:2)"'
    ],
    "logdesc": ['"DHCP statistics"', '"Admin login failed"', '"dhcp Lease"', '"Interface status changed"'],
    "ip": ["10.0.0.9", "", "x"],
    "status": ["success", "failed", "200", "404", '""', "Success"],
    "url": ['"/index.html"', '"https://a.b/c?d=e f"', '""'],
    "hostname": ['"www.example.com"', ""],
    "httpmethod": ["GET", "POST", ""],
    "method": ["GET", "POST", '"DELETE"', ""],
    "agent": ['"Mozilla/5.0 (X11; Linux)"', '""'],
    "remip": ["203.0.113.7", "", "x"],
    "locip": ["198.51.100.1", ""],
    "remport": ["500", "4500", "x"],
    "locport": ["500"],
    "userip": ["10.0.0.77", "", "bad"],
    "sproc": ["1.1.1.1"],
    "src": ["192.0.2.1", "a"],
    "dst": ["192.0.2.2"],
    "src_port": ["1234", "p"],
    "dst_port": ["80"],
    "msg": [
        '"User admin login successfully from GUI(172.20.120.47)"', '"a=b c=d"', '"quoted \\"inner\\" text"',
        '"comma, inside"'
    ],
}
FG_ODD = ['"', '\\"', "=", ",", "  ", '"a b', "x=", "=y", "\\", "é"]


def _fg_line(rnd: random.Random) -> str:
    keys = [k for k in FG_HEAD if rnd.random() < 0.9]
    keys += rnd.sample(FG_BODY, rnd.randint(3, 30))
    if rnd.random() < 0.05:
        rnd.shuffle(keys)
    pairs = []
    for k in keys:
        pool = FG_VALUES.get(k, ['"x"', "y", "1", '"a b"', ""])
        v = pool[0] if rnd.random() < 0.5 else rnd.choice(pool)  # (the first value: a usual one)
        if rnd.random() < 0.01:
            v = rnd.choice(FG_ODD)
        name = k
        if k == "logid" and rnd.random() < 0.15:
            name = "log_id"
        pairs.append(f"{name}={v}")
    if rnd.random() < 0.03:
        pairs.insert(rnd.randrange(len(pairs) + 1), rnd.choice([*FG_ODD, "logid", "subtype=x", "|Fortinet|"]))
    sep = rnd.choice([" ", " ", " ", ",", "  "])
    line = sep.join(pairs)
    if rnd.random() < 0.05:
        line = rnd.choice([" ", "<189>", "x ", ""]) + line + rnd.choice([" ", "", ","])
    return line


def test_fortigate_samples_read_the_same() -> None:
    lines = _samples("fortigate")
    claimed = compare(fortigate.parse_fortigate, logfast.fortigate_line, lines)
    assert claimed >= 60  # the key=value samples (CEF and the few with a newline stay Python's)


def test_fortigate_generated_lines_read_the_same() -> None:
    rnd = random.Random(21)
    lines = [_fg_line(rnd) for _ in range(cases(12_000))]
    claimed = compare(fortigate.parse_fortigate, logfast.fortigate_line, lines[:3000])
    claimed += compare(fortigate.parse_fortigate, logfast.fortigate_line, lines[3000:], whole=False)
    assert claimed > cases(5_000)


def test_fortigate_mutated_lines_read_the_same() -> None:
    rnd = random.Random(22)
    base = [_fg_line(rnd) for _ in range(2000)] + _samples("fortigate")
    lines = [mutate(rnd, rnd.choice(base)) for _ in range(cases(20_000))]
    claimed = compare(fortigate.parse_fortigate, logfast.fortigate_line, lines[:2000])
    claimed += compare(fortigate.parse_fortigate, logfast.fortigate_line, lines[2000:], whole=False)
    assert claimed > cases(3_000)


def test_fortigate_odd_text_goes_to_python() -> None:
    """Text fortigate_line leaves to Python (None), and latin-1 text it reads as Python does."""
    line = (
        'date=2024-01-03 time=13:15:29 logid="0000000013" type="traffic" subtype="forward" devname="fw1" '
        'srcip=10.1.100.11 srcport=54190 dstip=52.53.140.235 dstport=443 proto=6 action="deny" sentbyte=10'
    )
    assert logfast.fortigate_line(line) is not None
    # latin-1 text the values hold (not one parse_fortigate reads) is read in C too
    wide = [line.replace("fw1", "fwé"), line + ' profile="Filtrage_web_Avancé"', line + " msg=Ünïcödé×÷",
            line + ' x="é\\"ß" y=1']
    for w in wide:
        assert logfast.fortigate_line(w) is not None, w
    for odd in (
        line + "\x00", line + "\n", line.replace(" srcip", "\tsrcip"),
        line.replace("13:15:29", "13:15:29.5"), line.replace("2024-01-03", "0001-01-01"),
        line + " eventtime=" + "9" * 20, line.replace('action="deny"', 'action="dény"'),
        line + " clé=1", line + " é x=1", line + ' x="a\xa0b"', line + ' x="a\x85b"', line + " x=ệ",
        line.replace('type="traffic"', 'type="tràffic"'), 'é' + line, line + ' user="bé"',
    ):
        assert logfast.fortigate_line(odd) is None, odd
    compare(
        fortigate.parse_fortigate,
        logfast.fortigate_line,
        [
            line, line.replace("fw1", "x" * 100_001), line + " k=v" * 30_000,
            line.replace("10.1.100.11", "1" * 50_000), *wide,
        ],
    )


LATIN1 = ["é", "Avancé", "ÿ", "×÷", "¡¿", "\xa0", "\x85", "\x80", "ß\\", 'é"', "ệ", "ÀÁÂ"]


def test_fortigate_latin1_lines_read_the_same() -> None:
    """Latin-1 characters put anywhere in generated lines (in values quoted or not, keys, between
    pairs; with spaces of Unicode's and C1 controls; one past latin-1): fortigate_line reads the
    ones whose values hold them as the code-point split and Python do, and leaves the rest."""
    rnd = random.Random(29)
    lines = []
    for _ in range(cases(4_000)):
        line = _fg_line(rnd)
        for _ in range(rnd.randint(1, 3)):
            pos = rnd.randint(0, len(line))
            line = line[:pos] + rnd.choice(LATIN1) + line[pos:]
        lines.append(line)
    claimed = compare(fortigate.parse_fortigate, logfast.fortigate_line, lines[:500])
    claimed += compare(fortigate.parse_fortigate, logfast.fortigate_line, lines[500:], whole=False)
    assert claimed > cases(300)  # (most insertions land in a key, a gap or a value it reads)


def _fg_cef_claimed(line: str) -> bool:
    from nocsoc.collectors.logs.parsers.base import parse_cef

    c = parse_cef(line) if "|Fortinet|" in line[:40] else None
    return c is not None and logfast.fortigate_cef(c.ext, c.signature, c.name) is not None


FG_CEF_KEYS = [
    *fortigate._CEF_STD, "cat", "FTNTFGTlogid", "FTNTFGTsubtype", "FTNTFGTtype", "FTNTFGTeventtime",
    "FTNTFGTtz", "FTNTFGTdate", "FTNTFGTtime", "FTNTFGTui", "FTNTFGTuser", "FTNTFGTstatus", "FTNTFGT",
    "FortinetFortiGatesrcip", "ad.vd", "ad.", "externalId", "cs5", "cs5Label", "FTNTFGTtransip",
    "FTNTFGTsentdelta", "FTNTFGTlogdesc", "deviceExternalId", "FTNTFGTcef_name"
]


def _fg_cef_line(rnd: random.Random) -> str:
    sig = rnd.choice(["00013", "0100032001", "", "13"])
    name = rnd.choice(["traffic:forward close", "event:system login", "utm:webfilter", "noColon", "",
                       "a:b:c d"])
    pairs = []
    for k in rnd.sample(FG_CEF_KEYS, rnd.randint(0, 25)):
        native = fortigate._cef_native_name(k)
        v = rnd.choice(FG_VALUES.get(native, ['"x"', "y", "1", "a b", ""]))
        if rnd.random() < 0.05:
            v = rnd.choice(["Nguyễn", '"', "\\=", "\\n", "1.2.3.4\\n", "é"])
        pairs.append(f"{k}={v}")
    head = rnd.choice(["CEF:0|Fortinet|Fortigate|v6.0.3|", "CEF: 0|Fortinet|FortiGate|7.2|",
                       "<189>CEF:0|Fortinet|F|1|"])
    return f"{head}{sig}|{name}|3|" + " ".join(pairs)


def test_fortigate_cef_lines_read_the_same() -> None:
    samples = [m for m in _samples("fortigate") if "|Fortinet|" in m[:40]]
    assert sum(map(_fg_cef_claimed, samples)) == len(samples) == 32  # every CEF sample
    rnd = random.Random(23)
    lines = [_fg_cef_line(rnd) for _ in range(cases(8000))]
    n = compare(fortigate.parse_fortigate, _fg_cef_claimed, samples + lines[:1500])
    n += compare(fortigate.parse_fortigate, _fg_cef_claimed, lines[1500:], whole=False)
    assert n > cases(4_000)
    muts = [mutate(rnd, rnd.choice(lines + samples)) for _ in range(cases(8000))]
    assert compare(fortigate.parse_fortigate, _fg_cef_claimed, muts, whole=False) > cases(2_000)


# --- Check Point (syslog[key:"value"] and CEF) ---------------------------------------------------


def _cp_claimed(line: str) -> bool:
    from nocsoc.collectors.logs.parsers import checkpoint
    from nocsoc.collectors.logs.parsers.base import parse_cef

    text = line.strip()
    if "|Check Point|" in text[:40]:
        c = parse_cef(text)
        return (c is not None and c.vendor == "Check Point"
                and logfast.checkpoint_cef(c.ext, c.product, c.signature, c.name) is not None)
    if text.startswith("syslog[") or ('origin:"' in text and 'action:"' in text):
        return checkpoint._c_checkpoint_kv is not None and logfast.checkpoint_kv(text) is not None
    if text.startswith('"') and '" "Log" "' in text[:120]:
        return checkpoint._c_checkpoint_fw1 is not None and logfast.checkpoint_fw1(text) is not None
    return False


CP_KEYS = [
    "src", "dst", "s_port", "service", "proto", "action", "xlatesrc", "xlatedst", "xlatesport", "xlatedport",
    "ifname", "rule_name", "user", "src_user_name", "origin", "product", "time", "loguid", "a:b", "x_1",
    "layer_name", "inzone", "outzone", "sent_bytes",
]
CP_VALUES = [
    "1.2.3.4", "", " ", "  10.0.0.1 ", "host.example", "443", "https", " 80 ", "+5", "1_0", "9" * 19, "6",
    "tcp", "TCP extra", "Accept", "Drop", "Reject", "Allow", "Inform", "jdoe (John Doe)", " (x)", 'a\\"b',
    "x;y",
    "VPN-1 & FireWall-1", "Firewall", "SmartDefense", "URL Filtering", "Log Update", "a\\", "é",
]


def _cp_kv_line(rnd: random.Random) -> str:
    pairs = [f'{rnd.choice(CP_KEYS)}{rnd.choice([":", ":", "::"])}"{rnd.choice(CP_VALUES)}"'
             for _ in range(rnd.randint(1, 20))]
    if rnd.random() < 0.7:
        pairs += ['origin:"10.0.0.1"', 'action:"Accept"']
        rnd.shuffle(pairs)
    body = rnd.choice(["; ", ";", " ", "; x "]).join(pairs)
    return rnd.choice(["syslog[", "syslog [", "", "<134>1 "]) + body + rnd.choice(["]", "", ";]"])


def _cp_cef_line(rnd: random.Random) -> str:
    keys = [*checkpoint_cef_keys(), "ifname", "rule_name", "user_agent", "loguid", "origin"]
    pairs = [f"{rnd.choice(keys)}={rnd.choice(CP_VALUES)}" for _ in range(rnd.randint(0, 20))]
    head = rnd.choice(["CEF:0|Check Point|VPN-1 & FireWall-1|Check Point|",
                       "CEF:0||Check Point|SmartDefense|R81|", "0|Check Point|URL Filtering|Check Point|",
                       "CEF:0|Check Point|Firewall|x|"])
    sig, name = rnd.choice(["Log", "Drop", "Accept"]), rnd.choice(["https", "Log", ""])
    return f"{head}{sig}|{name}|5|" + " ".join(pairs)


def checkpoint_cef_keys() -> list[str]:
    from nocsoc.collectors.logs.parsers import checkpoint

    return list(checkpoint._CEF_MAP)


def test_checkpoint_lines_read_the_same() -> None:
    from nocsoc.collectors.logs.parsers import checkpoint

    samples = _samples("checkpoint")
    assert sum(map(_cp_claimed, samples)) >= 19  # 15 of the 16 CEF ones, the 4 syslog[...] ones
    rnd = random.Random(41)
    lines = [_cp_kv_line(rnd) for _ in range(cases(5000))] + [_cp_cef_line(rnd) for _ in range(cases(5000))]
    n = compare(checkpoint.parse_checkpoint, _cp_claimed, samples + lines[:1000])
    n += compare(checkpoint.parse_checkpoint, _cp_claimed, lines[1000:], whole=False)
    assert n > cases(5_000)
    muts = [mutate(rnd, rnd.choice(lines + samples)) for _ in range(cases(10_000))]
    assert compare(checkpoint.parse_checkpoint, _cp_claimed, muts, whole=False) > cases(3_000)


CP_FW1_COLUMNS = ["", "1", "eth1", "FOOBAR-HOST-01", "Log", "Accept", "Drop", "Decrypt", "443", "https",
                  "44250", "1.1.1.1", "2001:db8::1", "host.example", "tcp", "icmp", "TCP x", "Deny All",
                  "81-FooBar", 'a\\"b', "a\\", " x ", "é", "a;b", "10Dec2019", "23:44:49"]


def _cp_fw1_line(rnd: random.Random) -> str:
    """The quoted fw1 export (`"num" "date" "time" "iface" "origin" "Log" "action" ...`), with
    escaped quotes, a lone `\\` or `"` (a column's quote left open), fewer or more columns."""
    cols = [rnd.choice(CP_FW1_COLUMNS) for _ in range(rnd.randint(8, 22))]
    if len(cols) > 5:
        cols[5] = "Log"
    line = " ".join(f'"{c}"' for c in cols)
    if rnd.random() < 0.2:
        pos = rnd.randint(0, len(line))
        line = line[:pos] + rnd.choice(['"', "\\", '\\"', "x"]) + line[pos:]
    return line


def test_checkpoint_fw1_lines_read_the_same() -> None:
    from nocsoc.collectors.logs.parsers import checkpoint

    samples = [m for m in _samples("checkpoint") if m.startswith('"')]
    assert sum(map(_cp_claimed, samples)) == len(samples) == 3
    rnd = random.Random(43)
    lines = [_cp_fw1_line(rnd) for _ in range(cases(6000))]
    n = compare(checkpoint.parse_checkpoint, _cp_claimed, samples + lines[:1000])
    n += compare(checkpoint.parse_checkpoint, _cp_claimed, lines[1000:], whole=False)
    assert n > cases(3_000)
    muts = [mutate(rnd, rnd.choice(lines + samples)) for _ in range(cases(6000))]
    assert compare(checkpoint.parse_checkpoint, _cp_claimed, muts, whole=False) > cases(1_500)


# --- Sophos (SFOS/XG, UTM packet filter, WAF) -----------------------------------------------------

SO_KEYS = [
    "src_ip", "srcip", "dst_ip", "dstip", "src_port", "srcport", "dst_port", "dstport", "port",
    "user_name", "user", "translated_ip", "tran_src_ip", "localip", "tran_dst_ip", "sent_bytes", "size",
    "recv_bytes", "url", "method", "statuscode", "httpresponsecode", "useragent", "user_agent", "server",
    "domain", "fw_rule_id", "fwrule", "rule_id", "in_interface", "initf", "out_interface", "outitf",
    "protocol", "proto", "status", "action", "log_subtype", "sub", "caller", "name", "query", "device",
    "log_component"
]
SO_VALUES = [
    '"1.2.3.4"', "10.0.0.1", '"-"', '"N/A"', '""', "host", '"443"', "80", '"+5"', "1_0", "9" * 19, '"TCP"',
    "udp", '"6"', '"Allow"', '"Deny"', "Denied", '"drop"', '"Firewall"', '"Content Filtering"',
    '"packetfilter"', '"auth"', '"Authentication failed"', '"login FAILED"', '"ok"', '"?a=1"', "??x", "-",
    '"/index.php"', '"GET"', '"a b"', '"Mozilla/5.0 (X11)"', "é"
]


def _so_line(rnd: random.Random) -> str:
    head = rnd.choice([['device="SFW"', 'log_type="Firewall"'],
                       ["timestamp=1", 'device_model="XG"', "log_type=Event"],
                       ['id="2002"', 'severity="info"', 'sys="SecureNet"', 'sub="packetfilter"'],
                       ['id="0299"', 'sys="SecureWeb"'], ['id="2001"', 'sys="System"'], ["log_type="], []])
    pairs = [f"{k}={rnd.choice(SO_VALUES)}" for k in rnd.sample(SO_KEYS, rnd.randint(0, 20))]
    parts = head + pairs
    if rnd.random() < 0.1:
        rnd.shuffle(parts)
    return rnd.choice(["", "<30>", "device=x "]) + " ".join(parts)


def test_sophos_lines_read_the_same() -> None:
    from nocsoc.collectors.logs.parsers import sophos

    samples = _samples("sophos-firewall")
    assert sum(logfast.sophos_line(m) not in (None, False) for m in samples) >= 10
    rnd = random.Random(51)
    lines = [_so_line(rnd) for _ in range(cases(10_000))]

    def claimed(line: str) -> bool:
        return logfast.sophos_line(line) is not None

    n = compare(sophos.parse_sophos, claimed, samples + lines[:1500])
    n += compare(sophos.parse_sophos, claimed, lines[1500:], whole=False)
    assert n > cases(5_000)
    muts = [mutate(rnd, rnd.choice(lines + samples)) for _ in range(cases(10_000))]
    assert compare(sophos.parse_sophos, claimed, muts, whole=False) > cases(3_000)


# --- pf filterlog (pfSense / OPNsense) -------------------------------------------------------------


# IPv6 as pf writes it and near misses (_addr compresses a valid one, keeps any other as written)
_V6 = ["2001:0db8:85a3:0000:0000:8a2e:0370:7334", "2001:DB8:0:0:1:0:0:1", "fe80:0000::0001", "::",
       "::ffff:1.2.3.4", "1:2:3:4:5:6:7:8", "1:2:3", "1::2::3", "12345::1", "::ffff:999.1.1.1",
       "fe80::1%vtnet0",
       "0:0:0:0:0:0:0:0", "2001:db8:0:0:0:0:2:1", "2001:db8::1:0:0:1", "::1.2.3.4", "g::1", ":",
       "1:2:3:4:5:6:7:8:9"]


def _pf_line(rnd: random.Random) -> str:
    """pfSense's "Filter Log Format": rule, sub-rule, anchor, tracker, interface, reason, action,
    direction, IP version, then the IPv4 (tos, ecn, ttl, id, offset, flags, proto id, proto,
    length, src, dst) or IPv6 (class, flow label, hop limit, proto, proto id, length, src, dst)
    header, then TCP (ports, data length, flags, seq, ack, window, urg, options) or UDP (ports,
    length) fields."""
    ver = rnd.choice(["4", "4", "6", "5", ""])
    head = [rnd.choice(["5", "", "12"]), "", "", rnd.choice(["1000000103", "x"]),
            rnd.choice(["igb1", "em0", ""]), rnd.choice(["match", "", "fragment"]),
            rnd.choice(["block", "pass", "reject", "match", "drop", "Block"]), rnd.choice(["in", "out"]), ver]
    proto = rnd.choice(["tcp", "udp", "icmp", "TCP", "ipv6-icmp", "carp", "", "17"])
    pid = {"tcp": "6", "udp": "17"}.get(proto.lower(), "1")
    src = rnd.choice(["10.0.0.1", "192.168.1.20", "1.2.3", "2001:db8::1", "fe80::1%em0", "999.1.1.1", "a",
                      *_V6])
    dst = rnd.choice(["10.0.0.2", "8.8.8.8", "::1", "", *_V6])
    if ver == "6":
        ip = ["0x00", "0x00000", "64", proto, pid, "60", src, dst]
    else:
        ip = ["0x0", "", "64", "12345", "0", "DF", pid, proto, "60", src, dst]
    sport, dport = rnd.choice(["51234", "", "x", "9" * 19]), rnd.choice(["443", "53", "+1"])
    if proto.lower() == "tcp":
        tail = [sport, dport, "0", rnd.choice(["S", "SA", "FPA", ""]), "123", "", "64240", "", "mss;sackOK"]
    elif proto.lower() == "udp":
        tail = [sport, dport, "40"]
    else:
        tail = rnd.choice([["request", "1", "2"], [], ["x"]])
    if rnd.random() < 0.15:  # a tail cut short (0 to 4 of its fields)
        tail = tail[:rnd.randint(0, 4)]
    parts = head + ip + tail
    if rnd.random() < 0.1:
        del parts[rnd.randrange(len(parts))]
    return rnd.choice(["", " ", "  "]) + ",".join(parts) + rnd.choice(["", " ", ","])


def test_filterlog_lines_read_the_same() -> None:
    from nocsoc.collectors.logs.parsers import pf

    samples = _samples("openbsd-packet-filter")
    rnd = random.Random(61)
    lines = [_pf_line(rnd) for _ in range(cases(10_000))]
    # (as syslog carries them: the program routes the body to the parser)
    whole = [f"<134>Nov 25 01:02:03 fw1 filterlog[42]: {m}" for m in samples + lines[:1000]]

    def claimed(line: str) -> bool:
        return logfast.filterlog_body(line) is not None

    assert sum(logfast.filterlog_body(m.strip()) not in (None, False) for m in samples) >= 12
    # every length of a TCP or UDP tail after good addresses (the flags are its 4th field)
    tcp = ["51234", "443", "0", "S", "123", "", "64240", "", "mss"]
    for proto in ("tcp", "udp", "TCP", "icmp"):
        for k in range(len(tcp) + 1):
            lines.append(f"5,,,1000000103,igb1,match,block,in,4,0x0,,64,12345,0,DF,6,{proto},60,10.0.0.1,"
                         f"10.0.0.2,{','.join(tcp[:k])}".rstrip(","))
    n = compare(pf.parse_filterlog, claimed, samples + lines, whole=False)
    assert n > cases(5_000)
    compare(pf.parse_filterlog, claimed, whole)
    muts = [mutate(rnd, rnd.choice(lines + samples)) for _ in range(cases(10_000))]
    assert compare(pf.parse_filterlog, claimed, muts, whole=False) > cases(3_000)
