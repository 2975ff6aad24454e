"""Cisco ASA / FTD's C twin (_logfast_fw.c: asa_line) gives exactly what cisco_asa.parse_asa gives
in pure Python, which stays the reference: the same Parsed (fields with their values, types and
key order, logsource) and, through LineParser, the same events, file and network alike.

Lines: every SEKOIA sample of the format; lines made from Cisco's "Syslog Messages" reference
(the formats of the message IDs parse_asa reads, and of IDs it does not), FTD connection events
built from the documented field list, and the AnyConnect bodies relayed without the tag, with
near misses (interfaces, IPv6 and names for addresses, idfw users with domains, empty and
masked users, ports past 18 digits, `<br/>`, `, ` inside a value, keys that are not words,
a seventh ID digit, tags without the colon); and mutations of them (NUL, tabs, non-ASCII,
truncation, splices, huge lines)."""

from __future__ import annotations

import random
from unittest import mock

import pytest

from nocsoc.collectors.logs.parsers import LineParser, cisco_asa
from tests.collectors.logs.test_logfast_fw import NOW, mutate
from tests.collectors.logs.test_logfast_fw import _samples as fw_samples
from tests.collectors.logs.test_logfast_fw import compare as fw_compare
from tests.collectors.logs.test_logfast_lines import _c_refs, _python_only
from tests.collectors.logs.test_logfast_reader import compare as reader_compare
from tests.scale import cases

logfast = pytest.importorskip(
    "nocsoc.collectors.logs._logfast", reason="C accelerator not built (tests/test_speedups.py says so)"
)


def _samples() -> list[str]:
    return fw_samples("cisco-secure-firewall")


def compare(lines: list[str], whole: int = 0) -> int:
    """Assert C on and all C off agree on every line: parse_asa's result and, for the first
    `whole` lines, LineParser's events (file and network); how many lines the twin claimed."""
    assert cisco_asa._c_asa is not None
    return fw_compare(lambda msg, *_: cisco_asa.parse_asa(msg), logfast.asa_line, lines, whole)


def test_the_switch_turns_the_twin_off() -> None:
    """The comparisons mean something only if `_python_only` turns this path off."""
    assert ("cisco_asa", "_c_asa") in {(m.__name__.rsplit(".", 1)[-1], k) for m, k in _c_refs()}


def test_samples_read_the_same() -> None:
    lines = _samples()
    claimed = compare(lines, whole=len(lines))
    assert claimed >= 70  # of 83: the rest are not printable ASCII (left to Python)
    # the whole-line reader takes the header-less tagged ones (the events compared above)
    read = LineParser(default_host="h").fast()
    assert read is not None
    assert sum(read(line, "", "file", False) is not None for line in lines) >= 60


def test_the_reader_leaves_lines_another_parser_claims_first() -> None:
    """A tagged line holding a marker of a parser ordered before cisco_asa is that parser's to
    try first: the reader leaves it to the Python path (which the comparisons check)."""
    read = LineParser(default_host="h").fast()
    assert read is not None
    line = "%ASA-4-106023: Deny tcp src outside:1.2.3.4/5 dst inside:10.0.0.1/22 by access-group \"a\""
    assert read(line, "", "file", False) is not None
    for marker in LineParser(default_host="h").dispatch.ahead("cisco_asa")[0]:
        assert read(line + " " + marker, "", "file", False) is None, marker
    # (an untagged start: parse_syslog keeps the whole line as the body, cisco_asa's marker in it)
    assert read("x" + line, "", "file", False) is not None
    assert read("x" + line + " IN=eth0", "", "file", False) is None
    compare([line + " IN=eth0", line + " pam_unix(sshd:auth)", line + " %%01X", line, "x" + line], whole=5)
    reader_compare(["x" + line, "x" + line + " IN=eth0", "x: " + line, "Jan " + line])


def test_a_file_line_with_a_sender_keeps_the_default_host() -> None:
    """parse_line reads a file line as sent by the input's default host, whoever the caller
    names as sender; a network message is its sender's."""
    lp_c, lp_py = LineParser(default_host="h"), LineParser(default_host="h")
    with mock.patch("time.time", return_value=NOW):
        for line in _samples():
            for network in (False, True):
                got = [(e.host, e.raw, e.time) for e in lp_c.events(line, sender="10.9.8.7", network=network)]
                with _python_only():
                    want = [(e.host, e.raw, e.time)
                            for e in lp_py.events(line, sender="10.9.8.7", network=network)]
                assert got == want, (network, line)


# --- lines from Cisco's message reference ---------------------------------------------------

_IFACES = ["outside", "inside", "dmz", "Gi0/1", "mgmt", "identity", "_x", "OUT-1", "9bad", "ifc.2"]
_USERS = ["jdoe", "CORP\\jdoe", "jdoe@corp.example", "CORP\\", "@x", "*****", "LOCAL", "?", "", "a\\b\\c",
          "first last", "x@y@z"]


def _ip(rnd: random.Random) -> str:
    return rnd.choice([
        f"{rnd.randint(1, 223)}.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}",
        "10.0.0.1", "fe80::1", "2001:db8::a:b", "fe80:0011:2233:4455:6677:8899:aabb:ccdd", "::", "0.0.0.0",
        "1.2.3", "1234.1.1.1", "host.example", "::1%eth0", "fe80::", "1:2",
    ])


def _port(rnd: random.Random) -> str:
    return rnd.choice([str(rnd.randint(0, 65535)), "0", "443", "9" * 19, "012"])


def _end(rnd: random.Random) -> str:
    """`[interface:]address[/port][(user)]` as the reference writes an endpoint, and near misses."""
    out = rnd.choice([f"{rnd.choice(_IFACES)}:", "", ""]) + _ip(rnd)
    if rnd.random() < 0.8:
        out += "/" + _port(rnd)
    if rnd.random() < 0.3:
        out += f"({rnd.choice(_USERS)})"
    return out


def _proto(rnd: random.Random) -> str:
    return rnd.choice(["TCP", "UDP", "ICMP", "icmp", "6", "17", "gre", "IP", "ICMPv6", "esp", "50"])


# message ID -> its text as the reference spells it ({s}/{d} endpoints, {p} protocol, {u} user,
# {ip} address, {n} number, {w} a word); IDs parse_asa has no pattern for come along too
_TEMPLATES: dict[str, list[str]] = {
    "106001": ["{dir} {p} connection denied from {s} to {d} flags SYN  on interface {i}"],
    "106006": ["Deny inbound {p} from {s} to {d} on interface {i}"],
    "106007": ["Deny outbound {p} from {s} to {d} due to DNS Query"],
    "106010": ["Deny inbound {p} src {s} dst {d}"],
    "106012": ["Deny IP from {ip} to {ip}, IP options: \"Router Alert\""],
    "106014": ["Deny inbound {p} src {s} dst {d} (type 8, code 0)"],
    "106015": ["Deny {p} (no connection) from {s} to {d} flags RST  on interface {i}"],
    "106021": ["Deny {p} reverse path check from {ip} to {ip} on interface {i}"],
    "106023": ["Deny {p} src {s} dst {d} by access-group \"{w}\" [0x0, 0x0]",
               "Deny {p} src {s} dst {d} (type 3, code 3) by access-group \"{w}\""],
    "106100": ["access-list {w} {act} {p} {i}/{ip}({n}) -> {i}/{ip}({n}) hit-cnt 1 first hit [0x1, 0x0]",
               "access-list {w} {act} {p} {i}/{ip}({n})(CORP\\u) -> {i}/{ip}({n}) hit-cnt 1 300-second "
               "interval"],
    "110002": ["Failed to locate egress interface for {p} from {s} to {d}"],
    "110003": ["Routing failed to locate next hop for {p} from {s} to {d}"],
    "111007": ["Begin configuration: {ip} reading from terminal"],
    "111008": ["User '{u}' executed the 'show run' command."],
    "111009": ["User '{u}' executed cmd: show run"],
    "111010": ["User '{u}', running 'CLI' from IP {ip}, executed 'write memory'"],
    "113004": ["AAA user authentication Successful : server =  {ip} : user = {u}",
               "AAA user authorization Successful : local database : user = {u}"],
    "113005": ["AAA user authentication Rejected : reason = AAA failure : server = {ip} : user = {u} : "
               "user IP = {ip}", "AAA user authentication Rejected : reason = Invalid password : user = {u}"],
    "113006": ["User '{u}' locked out on exceeding '3' successive failed authentication attempts"],
    "113008": ["AAA transaction status ACCEPT : user = {u}"],
    "113012": ["AAA user authentication Successful : local database : user = {u}"],
    "113015": ["AAA user authentication Rejected : reason = Invalid password : local database : user = {u} : "
               "user IP = {ip}"],
    "113016": ["AAA credentials rejected : reason = Invalid password : server = {ip} : user = {u} : "
               "user IP = {ip}"],
    "113017": ["AAA credentials rejected : reason = Invalid password : local database : user = {u}: "
               "user IP = {ip}"],
    "113019": ["Group = {w}, Username = {u}, IP = {ip}, Session disconnected. Session Type: SSL, Duration: "
               "0h:05m:00s, Bytes xmt: 1, Bytes rcv: 2, Reason: User Requested"],
    "113021": ["Attempted console login failed. User '{u}' did NOT have appropriate Admin Rights."],
    "113039": ["Group <{w}> User <{u}> IP <{ip}> AnyConnect parent session started."],
    "109005": ["Authentication succeeded for user '{u}' from {s} to {d} on interface {i}"],
    "109006": ["Authentication failed for user '{u}' from {s} to {d} on interface {i}"],
    "605004": ["Login denied from {ip}/{n} to {i}:{ip}/ssh for user \"{u}\"",
               "Login denied from serial to console for user \u201c{u}\u201d"],
    "605005": ["Login permitted from {ip}/{n} to {i}:{ip}/https for user '{u}'"],
    "302013": ["Built {dirl} {p} connection {n} for {s} ({ip}/{n}) to {d} ({ip}/{n})",
               "Built {dirl} {p} connection {n} for {s} ({ip}/{n})({u}) to {d} ({ip}/{n}) ({u})"],
    "302014": ["Teardown {p} connection {n} for {s} to {d} duration 0:00:30 bytes {n} TCP FINs from {i}",
               "Teardown {p} connection {n} for {s} to {d} duration 0:00:30 bytes {n} TCP Reset-O ({u})"],
    "302015": ["Built {dirl} UDP connection {n} for {s} ({ip}/{n}) to {d} ({ip}/{n})"],
    "302016": ["Teardown UDP connection {n} for {s} to {d} duration 0:02:01 bytes {n}"],
    "302020": ["Built {dirl} {p} connection for faddr {s} gaddr {ip}/{n} laddr {d} type 8 code 0",
               "Built ICMP connection for faddr {s} gaddr {ip}/0 laddr {d}"],
    "302021": ["Teardown {p} connection for faddr {s} gaddr {ip}/{n} laddr {d} type 0 code 0"],
    "305011": ["Built dynamic {p} translation from {s} to {d}",
               "Built static {p} translation from {s} to {d}"],
    "305012": ["Teardown dynamic {p} translation from {s} to {d} duration 0:00:30"],
    "313001": ["Denied ICMP type=8, code=0 from {ip} on interface {i}"],
    "313005": ["No matching connection for ICMP error message: icmp src {s} dst {d} (type 3, code 3) on {i} "
               "interface.  Original IP payload: udp src {s} dst {d}."],
    "313008": ["Denied IPv6-ICMP type=134, code=0 from {ip} on interface {i}"],
    "609001": ["Built local-host {s}"],
    "609002": ["Teardown local-host {s} duration 0:00:00"],
    "611101": ["User authentication succeeded: IP address: {ip}, Uname: {u}"],
    "611102": ["User authentication failed: IP address: {ip}, Uname: {u}"],
    "611103": ["User logged out: Uname: {u}"],
    "716039": ["Group <{w}> User <{u}> IP <{ip}> Authentication: rejected, Session Type: WebVPN."],
    "717037": ["Tunnel group search using certificate maps failed for peer certificate: serial number: 0A, "
               "subject name: UID=U1,CN={w},OU=x, issuer_name: CN=ca."],
    "717022": ["Certificate was successfully validated. serial number: 0A, subject name: CN= {w} ,O=x."],
    "722051": ["Group <{w}> User <{u}> IP <{ip}> IPv4 Address <{ip}> IPv6 address <{ip}> assigned to session",
               "Group <{w}> User <{u}> IP <{ip}> IPv4 Address <> IPv6 address <> assigned to session"],
    "725001": ["Starting SSL handshake with client {s} for TLS session."],
    "725002": ["Device completed SSL handshake with server {s} to {d} for TLSv1.2 session"],
    "725006": ["Device failed SSL handshake with client {s}"],
    "725007": ["SSL session with client {s} terminated."],
    "733100": ["[ Scanning] drop rate-1 exceeded. Current burst rate is 0 per second"],
    "737016": ["IPAA: Freeing local pool address {ip}"],
    "750003": ["Local:{ip}:{n} Remote:{ip}:{n} Username:{u} IKEv2 Negotiation aborted due to ERROR"],
    "750006": ["Local:{ip}:{n} Remote:{ip}:{n} Username:{u} IKEv2 SA UP. Reason: New Connection Established"],
    "852001": ["Received Lightweight to full proxy event from application Snort for TCP flow {s} to {d}"],
    "109201": ["UAUTH: Session=0x1, User={u}, Assigned IP={ip}, Succeeded adding entry."],
    "199019": ["{w}"],
}
_UNTAGGED = [
    "Group <{w}> User <{u}> IP <{ip}> Client Type: Cisco AnyConnect VPN Agent for Windows 4.10",
    "TunnelGroup <{w}> GroupPolicy <{w}> User <{u}> IP <{ip}> No IPv6 address available for SVC connection",
    "Group = {w}, Username = {u}, IP = {ip}, Session disconnected.",
    "Task ran for 100 msecs, process = ssh, PC = 1, Call stack = 0x1",
    "Tunnel group search using certificate maps failed for peer certificate: serial number: 1, subject name: "
    "CN={w}, issuer_name: CN=x.",
    "  Group <{w}> User <{u}> IP <{ip}> AnyConnect session lost connection.  ",
    "Group = {w}, no user here", "Tunnel group {w}", "Not an ASA line at all",
]
# FTD connection, intrusion and file events: `Key: value, Key: value` (the FMC field names)
_FTD_KEYS = ["EventPriority", "DeviceUUID", "InstanceID", "FirstPacketSecond", "ConnectionID",
             "AccessControlRuleAction", "SrcIP", "DstIP", "SrcPort", "DstPort", "Protocol",
             "IngressInterface", "EgressInterface", "IngressZone", "EgressZone", "ACPolicy",
             "AccessControlRuleName", "User",
             "UserAgent", "Client", "ApplicationProtocol", "InitiatorPackets", "ResponderPackets",
             "InitiatorBytes", "ResponderBytes", "NAPPolicy", "URL", "URI", "URLCategory", "DNSQuery",
             "FileDirection", "FileAction", "SHA_Disposition", "_x", "a1", "Key9"]
_FTD_VALUES = ["Allow", "Block", "Block with reset", "Trust", "DENY-ALL", "blocked", "", " padded ", "tcp",
               "6", "17", "", "443", "9" * 19, "-1", "x<br/>y", "<br/><br/>", "a:b", "https://a.example/p?q=1",
               "Mozilla/5.0", "CORP\\jdoe"]


def _fill(rnd: random.Random, text: str) -> str:
    out = text
    for key, make in (("{s}", _end), ("{d}", _end), ("{ip}", _ip), ("{n}", _port), ("{p}", _proto)):
        while key in out:
            out = out.replace(key, make(rnd), 1)
    while "{u}" in out:
        out = out.replace("{u}", rnd.choice(_USERS), 1)
    while "{i}" in out:
        out = out.replace("{i}", rnd.choice(_IFACES), 1)
    while "{w}" in out:
        out = out.replace("{w}", rnd.choice(["EXAMPLE", "acl_out", "a b", "x,y", "", "Grp-1"]), 1)
    return (out.replace("{dir}", rnd.choice(["Inbound", "Outbound", "inbound"]))
            .replace("{dirl}", rnd.choice(["inbound", "outbound", "Inbound"]))
            .replace("{act}", rnd.choice(["permitted", "denied", "est-allowed", "dropped"])))


def _ftd(rnd: random.Random) -> str:
    keys = rnd.sample(_FTD_KEYS, rnd.randint(1, 14))
    parts = []
    for k in keys:
        v = _ip(rnd) if k in ("SrcIP", "DstIP") else rnd.choice(_FTD_VALUES)
        parts.append(rnd.choice([f"{k}: {v}", f"{k}: {v}", f"{k}:{v}", f"{k} : {v}", f"{k}: {v}, x"]))
    # (a text starting with `, ` is read from 2 as from 0: findall's `^` and `, ` both start there)
    return rnd.choice(["", "", "", ", ", ","]) + rnd.choice([", ", ", ", ",", " , "]).join(parts)


def _asa_line(rnd: random.Random) -> str:
    k = rnd.random()
    if k < 0.12:
        return _fill(rnd, rnd.choice(_UNTAGGED))
    fac = rnd.choice(["ASA", "ASA", "FTD", "NGIPS", "PIX", "FWSM"])
    if k < 0.3:
        msg_id = rnd.choice(["430001", "430002", "430003", "430004", "430005"])
        text = _ftd(rnd)
    else:
        msg_id = rnd.choice(list(_TEMPLATES))
        text = _fill(rnd, rnd.choice(_TEMPLATES[msg_id]))
    sev = rnd.choice("01234567")
    sep = rnd.choice([": ", ": ", ":", " ", ""])
    tag = f"%{fac}-{sev}-{msg_id}{sep}"
    if rnd.random() < 0.03:
        tag = rnd.choice([f"%{fac}-8-{msg_id}: ", f"%{fac}-{sev}-{msg_id}7: ",
                          f"%{fac.lower()}-{sev}-{msg_id}: ", f"%{fac}-{sev}-{msg_id[:5]}: ",
                          f"%% %{fac}-{sev}-{msg_id}: "])
    head = rnd.choice(["", "", "Dec 16 2024 10:01:02: ", "<166>Dec 16 2024 10:01:02 fw1 : ", "fw1 "])
    if rnd.random() < 0.05:  # a marker of a parser tried before cisco_asa (netfilter's, PAM's, Huawei's)
        text += rnd.choice([" IN=eth0", " pam_unix", " %%01SHELL", " x"])
    return head + tag + text


def test_generated_lines_read_the_same() -> None:
    rnd = random.Random(21)
    lines = [_asa_line(rnd) for _ in range(5000)]
    claimed = compare(lines, whole=1000)
    assert claimed > 4300  # printable ASCII: every line is the twin's (False when not ASA's)


def test_mutated_lines_read_the_same() -> None:
    rnd = random.Random(22)
    base = [_asa_line(rnd) for _ in range(800)] + _samples()
    lines = [mutate(rnd, rnd.choice(base)) for _ in range(3000)]
    claimed = compare(lines, whole=300)
    assert claimed > 1200


def test_odd_text_goes_to_python() -> None:
    line = ("%ASA-6-302013: Built inbound TCP connection 1 for outside:1.2.3.4/5 (1.2.3.4/5) to "
            "inside:10.0.0.1/80 (10.0.0.1/80)")
    got = logfast.asa_line(line)
    assert got is not None and got is not False and got[0]["src_ip"] == "1.2.3.4"
    assert got[0]["dst_port"] == 80 and got[2] == ("firewall",)
    for odd in (line + "\x00", line + "\n", line.replace("outside", "outsidé"), "\t" + line, line + "\x7f"):
        assert logfast.asa_line(odd) is None, odd
    assert logfast.asa_line("nothing of Cisco's") is False
    compare([line, line.replace("outside", "x" * 100_001), line + " (a/1)" * 20_000,
             "%FTD-1-430003: " + "K: v, " * 30_000, "%ASA-6-302013: ", "%ASA-6-302013", "%ASA-6-30201"])


def test_not_a_str_is_an_error() -> None:
    with pytest.raises(TypeError, match="asa_line"):
        logfast.asa_line(b"%ASA-6-302013: x")


def test_a_seventh_id_digit_is_no_message_id() -> None:
    """`%ASA-6-3020131:` is no message 302013 (six digits, then none): parse_asa and its twin
    refuse it alike and Cisco's generic reading takes it; a real tag later in the text is read."""
    body = ("Built inbound TCP connection 1 for outside:1.2.3.4/5 (1.2.3.4/5) to inside:10.0.0.1/80 "
            "(10.0.0.1/80)")
    seven, later = f"%ASA-6-3020131: {body}", f"%ASA-6-3020131: x %ASA-6-302013: {body}"
    assert logfast.asa_line(seven) is False
    with _python_only():
        assert cisco_asa.parse_asa(seven) is None
        got = cisco_asa.parse_asa(later)
    assert got is not None and got.fields["event_id"] == "302013" and got.fields["src_ip"] == "1.2.3.4"
    ev = LineParser(default_host="h").events(seven)[0]
    assert ev.parser == "cisco" and ev.fields["event_id"] == "ASA-6-3020131" and "src_ip" not in ev.fields
    compare([seven, later, f"%FTD-6-4300021: {body}", f"%ASA-6-302013{body}", f"%ASA-6-3020131{body}"],
            whole=5)


# --- the whole-line reader: bodies without the tag or any header, tags after a stamp ----------

# stamps parse_syslog reads before a tagged body (cisco_core's forms): the year ASA writes, a
# `<PRI>`, a host or sequence prefix, fractions, zone names known, unknown and ambiguous (counted)
_HEADS = ["Jun 07 2025 17:31:57: ", "<166>Nov 09 2022 10:01:59: ", "<166>Nov  9 10:01:59: ",
          "Dec 16 2024 10:01:02.123 UTC: ", "Dec 16 2024 10:01:02 CST: ", "fw1: Dec 16 2024 10:01:02: ",
          "<189>12: fw-2: Dec 16 10:01:02.5 ICT: ", "Dec 16 10:01:02 XYZ: ", "Dec 16 10:01:02 cst: ",
          "Feb 29 2023 10:01:02: ", "Dec 16 2024 10:01:60: ", "Dec 16 0001 00:00:01 CST: ",
          "*Dec 16 10:01:02: ", "123: Dec 16 2024 10:01:02 CDT: ", "Dec 16 2024 10:01:02: fw1 ",
          "Dec 16 2024 10:01:02 ", ""]
# header-less bodies parse_syslog keeps whole, and near misses (a `host: ` or month start, rsyslog's
# `message repeated`, no marker, a marker of a parser ordered before cisco_asa)
_BARE = ["Group <{w}> User <{u}> IP <{ip}> SVC closing connection: DPD failure.",
         "TunnelGroup <{w}> GroupPolicy <{w}> User <{u}> IP <{ip}> No IPv6 address available",
         "Group = {w}, Username = {u}, IP = {ip}, Session disconnected.", "Task ran for 9 msec, PC = 1",
         "Tunnel group search using certificate maps failed: subject name: CN={w},O=x",
         "Group: <{w}> User <{u}> IP <{ip}>", "Jan Group <{w}> User <{u}> IP <{ip}>",
         "message repeated 2 times: [ Group <{w}> User <{u}> IP <{ip}> lost]", "fw1: Group <{w}> x",
         "x.y-z_1 Group <{w}> User <{u}> IP <{ip}>", "x.y: Group <{w}> User <{u}> IP <{ip}>",
         "group <{w}> user <{u}>", "Group <{w}> User <{u}> IP <{ip}> IN=eth0 SRC={ip}",
         "Group <{w}> User <{u}> IP <{ip}> pam_unix(sshd:auth): x", "Tunnel group {w}", "Task ran for",
         "Session Group = {w}, Username = {u}", " Group <{w}> User <{u}> IP <{ip}> x", "  Task ran for 1",
         " Jan 1 Group <{w}> x", " message repeated 2 times: [ Group <{w}> x]", "(Group <{w}> x",
         "a%ASA-6-113039: Group <{w}> User <{u}> IP <{ip}> started."]


def _reader_line(rnd: random.Random) -> str:
    if rnd.random() < 0.3:
        return _fill(rnd, rnd.choice(_BARE))
    line = _asa_line(rnd)
    if line.startswith("%") and rnd.random() < 0.8:
        line = rnd.choice(_HEADS) + line
    return line


def test_the_reader_reads_every_sample() -> None:
    """SEKOIA's samples as sent: the reader builds the event of every one (the bare AnyConnect
    bodies, `Task ran for`, the year-stamped headers too), Python's event for each; as file lines,
    all but one starting with a space (the access and nginx JSON parsers' first character, tried
    first in Python)."""
    lines = _samples()
    read = LineParser(default_host="h").fast()
    assert read is not None
    assert [line for line in lines if read(line, "", "syslog", True) is None] == []
    left = [line for line in lines if read(line, "", "file", False) is None]
    assert len(left) <= 1 and all(line.startswith(" ") for line in left), left
    assert reader_compare(lines) >= 3 * len(lines) - 1
    assert reader_compare(lines, zone_names={"CST": -360}) >= 3 * len(lines) - 1


def test_reader_lines_read_the_same() -> None:
    """Tagged bodies after each stamp cisco_core reads, bare bodies and their near misses, with
    the zone names counted alike (LineParser.unknown_zones), then mutations of them."""
    rnd = random.Random(24)
    lines = [_reader_line(rnd) for _ in range(cases(4_000))]
    assert reader_compare(lines) > cases(4_500)
    assert reader_compare(lines[:1_000], zone_names={"CST": -360, "XYZ": 60}) > 1_100
    mutated = [mutate(rnd, rnd.choice(lines)) for _ in range(cases(4_000))]
    assert reader_compare(mutated) > cases(1_500)


def test_the_group_guard_is_exact() -> None:
    """parse_asa (and its twin) search _GROUP only in a text holding its literal (_GROUP_G): every match
    of it, on the generated lines, their mutations and the samples, holds that literal."""
    rnd = random.Random(25)
    texts = [_reader_line(rnd) for _ in range(3_000)] + _samples()
    texts += [mutate(rnd, rnd.choice(texts)) for _ in range(3_000)]
    found = 0
    for text in texts:
        m = cisco_asa._GROUP.search(text)
        if m is not None:
            found += 1
            assert cisco_asa._GROUP_G.holds(m[0]), text
    assert found > 300


def test_ftd_keys_past_the_kept_names_read_the_same() -> None:
    """The C reading keeps the `ftd.<Key>` names it meets up to a bound (_logfast_asa.c): keys
    past it, long keys and keys differing in one character are read as Python reads them."""
    rnd = random.Random(23)
    keys = [f"K{i}" for i in range(700)]
    keys += ["K" * 63, "K" * 64, "K" * 65, "K" * 200, "Kx", "KX", "SrcPor", "SrcPortt"]
    lines = []
    for _ in range(400):
        parts = [f"{k}: {rnd.choice(['1', 'x', ' y ', '<br/>a', '99'])}" for k in rnd.sample(keys, 12)]
        parts.append(rnd.choice(["SrcPort: 5", "Protocol: tcp", "URL: a<br/>b",
                                 "AccessControlRuleAction: Block"]))
        rnd.shuffle(parts)
        lines.append("%FTD-1-430003: " + ", ".join(parts))
    assert compare(lines, whole=50) == len(lines)


def test_assigned_addresses_read_the_same() -> None:
    """722051's `IPv4 Address <a> IPv6 address <b> assigned` read in C (_assigned_nat's twin):
    empty, unspecified, the peer's own, non-address, leading-zero, out-of-range, uncompressed
    and zoned IPv6 values give what the Python helper gives."""
    rnd = random.Random(24)
    values = ["", "0.0.0.0", "::", "10.0.0.7", "1.2.3.4", "010.0.0.1", "300.1.1.1", "fe80:0011:2233::1",
              "2001:db8:0:0:0:0:0:1", "fe80::1%eth0", "::ffff:1.2.3.4", "host-a", "1.2.3", "a:b", "::1"]
    lines = []
    for _ in range(600):
        v4, v6 = rnd.choice(values), rnd.choice(values)
        src = rnd.choice(["1.2.3.4", "fe80::1", "2001:db8::1"])
        body = f"Group <G> User <u> IP <{src}> IPv4 Address <{v4}> IPv6 address <{v6}> assigned to session"
        lines.append(rnd.choice(["", "%FTD-4-722051: ", "%ASA-6-113039: "]) + body)
    assert compare(lines, whole=60) == len(lines)
