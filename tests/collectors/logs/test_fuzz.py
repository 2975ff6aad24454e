"""Fuzzing every registered log parser: mutated real-shaped lines (truncated, spliced, garbage,
NULs, Vietnamese text, replacement characters from invalid UTF-8, partial JSON, 100k-character
lines) go to each parser's own function and through LineParser's dispatch. No parser may raise,
and every line comes out as at least one event that keeps its text verbatim (parsed or not).

Hypothesis draws the seeds of the mutation generator (and shrinks one on failure). The seed lines
are one or more per format, written as the devices write them; with ../shared present, the SEKOIA
samples are added.
"""

from __future__ import annotations

import json
import random
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nocsoc.collectors.logs.parsers import LineParser, registry
from tests.conftest import SHARED

SEEDS = [
    "<38>Nov 25 01:02:03 web1 sshd[123]: Failed password for invalid user admin from 203.0.113.5 "
    "port 40022 ssh2",
    "Nov 25 01:02:03 web1 sshd[9]: message repeated 3 times: [ Failed password for root from 203.0.113.5 "
    "port 22 ssh2]",
    "Nov 25 03:02:00 rhel4 sshd(pam_unix)[2811]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh "
    "ruser= rhost=203.0.113.60  user=root",
    "Nov 25 01:00:00 web1 sudo:    minh : TTY=pts/0 ; PWD=/home/minh ; USER=root ; COMMAND=/usr/bin/id",
    "Nov 25 01:01:00 db1 su[311]: FAILED su for root by minh",
    "Nov 25 02:00:00 db1 useradd[900]: new user: name=backup2, UID=1002, GID=1002, home=/home/backup2",
    "node=web1 type=SYSCALL msg=audit(1795568523.100:70): arch=c000003e syscall=59 success=yes ppid=900 "
    'pid=1000 uid=0 comm="bash" exe=2F746D702F6D7920746F6F6C\x1dSYSCALL=execve UID="root"',
    'type=EXECVE msg=audit(1795568523.100:70): argc=3 a0="nc" a1=2D65202F62696E2F7368 a2_len=4 a2[0]="44"',
    'type=USER_AUTH msg=audit(1795568600.5:80): pid=2222 uid=0 msg=\'op=PAM:authentication acct="admin" '
    "addr=203.0.113.70 res=failed'",
    "<4>Nov 25 11:00:20 fw-dc1 kernel: [1.2] NOCSOC-DROP IN=eth0 OUT=eth1 SRC=10.0.0.5 DST=10.10.0.5 LEN=44 "
    "PROTO=TCP SPT=61000 DPT=23 SYN URGP=0",
    '203.0.113.9 - - [25/Nov/2026:08:12:01 +0700] "GET /a?b=c HTTP/1.1" 404 1 "-" "curl/8"',
    "[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] [client 1.1.1.1:5555] oops",
    '2019/08/25 23:59:53 [error] 9841#9841: *1 connect() failed, client: 1.2.3.4, request: "GET / HTTP/1.1"',
    '{"remote_addr": "1.2.3.4", "request": "GET /x HTTP/1.1", "status": "200", "http_user_agent": "a"}',
    "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) "
    "cs(Referer) sc-status sc-substatus sc-win32-status time-taken",
    "2026-11-25 01:02:03 10.0.0.1 GET /x - 443 - 1.2.3.4 Mozilla/5.0 - 200 0 0 15",
    "<189>12: core1: Nov 25 12:10:01.001 ICT: %SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: x] "
    "[Source: 203.0.113.2] [localport: 22] [Reason: Login Authentication Failed]",
    "%ASA-6-302013: Built inbound TCP connection 1 for outside:2.2.2.2/40454 (2.2.2.2/40454) to "
    "inside:1.1.1.1/53 (1.1.1.1/53)",
    "Group <G> User <U> IP <1.1.1.1> AnyConnect session lost connection.",
    "<14>Nov 25 12:00:00 srx1 RT_FLOW: RT_FLOW_SESSION_CLOSE: session closed TCP FIN: 1.2.3.4/1->5.6.7.8/25 "
    "0x0 junos-smtp 1.2.3.4/1->5.6.7.8/25 0x0 N/A N/A N/A N/A 6 p z1 z2 15 6(52) 4(26) 3",
    'RT_SCREEN_ICMP [junos@2636.1.1.1.2.142 attack-name="Address sweep!" source-address="1.1.1.1"]',
    # (the C reader's PAM, Junos and generic bodies: _logfast_lx.c)
    "<38>Nov 25 01:02:03 host1 sshd[42]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 "
    "tty=ssh ruser= rhost=1.2.3.4  user=root",
    "<38>Nov 25 01:02:03 host1 sshd[42]: PAM 2 more authentication failures; rhost=1.2.3.4  user=root",
    "<38>Nov 25 01:02:03 host1 cron[42]: pam_unix(cron:session): session opened for user root(uid=0) "
    "by (uid=0)",
    '<38>Nov 25 01:02:03 host1 RT_FLOW: RT_FLOW_SESSION_CLOSE [junos@2636.1.1.1.2.142 reason="TCP FIN" '
    'source-address="192.168.1.1" source-port="56732" destination-port="8080" protocol-id="6" '
    'bytes-from-client="3676" username="N/A" nested-application="UNKNOWN"]',
    "<38>Nov 25 01:02:03 host1 mgd[54999]: UI_LOGIN_EVENT: User 'jdoe' login, class 'j-ids' [54999], "
    "ssh-connection '192.168.1.1 40382 192.168.1.2 22', client-mode 'cli'",
    "<38>Nov 25 01:02:03 host1 FW: et-1/1/1.2505 D 09c9:0800 4a:74:92:52:6c:20 -> bd:83:17:63:d5:f7  tcp "
    "1.2.3.4 5.6.7.8 46736  3405 (1 packets)",
    "<38>Nov 25 01:02:03 host1 rshd[93991]: root@192.168.1.1 as root: "
    "cmd='rcp -t //var/etc/dynamic_address.id+'",
    "<38>Nov 25 01:02:03 host1 xntpd: kernel time sync enabled 2001",
    "FW: ge-0/0/0.0   A icmp 1.2.3.4 5.6.7.8     8     0 (1 packets)",
    "1,2024/01/03 13:15:29,0267,TRAFFIC,end,2816,2024/01/03 13:15:29,1.2.3.4,5.6.7.8,0.0.0.0,0.0.0.0,R,,,ssl,"
    "vsys1,a,b,e1,e2,L,,1,1,443,443,0,0,0x0,tcp,allow,758,100,658",
    "CEF:0|Palo Alto Networks|LF|2.0|TRAFFIC|end|3|src=1.2.3.4 dst=5.6.7.8 spt=1 dpt=2 in=3 out=4",
    '{"LogType": "THREAT", "Subtype": "url", "SourceAddress": "1.2.3.4", "URL": "x"}',
    'date=2026-11-25 time=08:02:03 devname="FG100" logid="0000000013" type="traffic" subtype="forward" '
    'srcip=203.0.113.5 dstip=10.10.0.5 dstport=23 srcport=40000 action="deny"',
    "date=2016-02-12,time=14:10:42,logid=0720018433,type=anomaly,srcip=1.1.1.1,dstip=192.0.2.1",
    "CEF:0|Fortinet|Fortigate|v6.0.3|00013|traffic:forward close|3|FTNTFGTlogid=0000000013 src=1.1.1.1",
    'device="SFW" date=2020-04-23 time=19:36:57 log_id=010101600001 log_type="Firewall" src_ip=10.0.215.3',
    'id="2001" severity="info" sys="SecureNet" sub="packetfilter" name="Packet dropped" srcip="1.2.3.4"',
    "CEF:0||Check Point|VPN-1 & FireWall-1|Check Point|Log|https|Unknown|act=Accept src=1.1.1.1 dpt=443",
    'syslog[action:"Drop"; origin:"1.1.1.1"; src:"3.3.3.3"; dst:"2.2.2.2"; proto:"6"; s_port:"1"; ]',
    '"22" "10Dec2019" "23:44:49" "eth1" "H" "Log" "Accept" "443" "44250" "2.2.2.2" "1.1.1.1" "tcp" "81"',
    "<134>Nov 25 01:02:03 fw filterlog[1]: 341,,,1,vtnet9,match,pass,in,4,0x0,,63,26567,0,DF,6,tcp,60,"
    "1.2.3.4,5.6.7.8,40234,10050,0,S,1:2,,64240,,mss",
    "<188>Nov 25 2026 10:01:02 USG6550 %%01POLICY/6/POLICYDENY(l):vsys=public, protocol=6, "
    "source-ip=203.0.113.9, source-port=51000, destination-ip=10.0.0.5, destination-port=23.",
    "Nov 25 01:02:03 h1 cron[1]: (root) CMD (run-parts /etc/cron.hourly)",
]
GARBAGE = [
    "\x00",
    "\ufffd",
    "Đăng nhập thất bại cho người dùng quản trị viên",
    '"',
    "'",
    "=",
    "|",
    "%",
    "[",
    "]",
    "{",
    "}",
    "(",
    ")",
    ":",
    ",",
    ";",
    "\\",
    "\x1d",
    " ",
    "  ",
    "\t",
    "%%01",
    "CEF:0|",
    "type=",
    "a0=",
    "\u202e",
    "𝔘𝔫𝔦",
    "9" * 40,
    "FF" * 30,
]
MAX_LINE = 131_072  # twice the longest message inputs accept (LogsConfig.max_message)
PER_EXAMPLE = 60
EXAMPLES = 25


def _shared_seeds() -> list[str]:
    root = SHARED / "log-samples" / "sekoia"
    if not root.is_dir():
        return []
    out = []
    for f in sorted(root.glob("*/*.json")):
        if f.parent.name != "windows":
            out.append(str(json.loads(f.read_text(encoding="utf-8"))["input"]["message"]))
    return out


ALL_SEEDS = SEEDS + _shared_seeds()


def mutate(rnd: random.Random, seeds: list[str]) -> str:
    line = rnd.choice(seeds)
    for _ in range(rnd.randint(1, 4)):
        k = rnd.random()
        if k < 0.25:
            line = line[: rnd.randint(0, len(line))]  # truncation (partial JSON, cut CEF...)
        elif k < 0.45:
            other = rnd.choice(seeds)
            line = line[: rnd.randint(0, len(line))] + other[rnd.randint(0, len(other)) :]
        elif k < 0.8:
            pos = rnd.randint(0, len(line))
            line = line[:pos] + rnd.choice(GARBAGE) + line[pos:]
        elif k < 0.9:
            chars = list(line)
            for _ in range(rnd.randint(1, 5)):
                if chars:
                    chars[rnd.randrange(len(chars))] = chr(
                        rnd.choice([0, 0xFFFD, 0x110, 0x1EA1, rnd.randint(1, 0x2FFF)])
                    )
            line = "".join(chars)
        elif k < 0.98:
            line = line * rnd.randint(2, 50)
        else:
            line = line + rnd.choice(GARBAGE) * rnd.randint(1000, 100_000)
        line = line[:MAX_LINE]  # (each step: repeats of repeats would build gigabytes, MemoryError)
    return line


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.integers(min_value=0, max_value=2**32))
def test_no_parser_raises_and_every_line_is_kept(seed: int) -> None:
    rnd = random.Random(seed)
    specs = registry.specs()
    lp = LineParser(default_host="fuzz")
    states = {s.name: s.state() if s.state else None for s in specs}
    for _ in range(PER_EXAMPLE):
        line = mutate(rnd, ALL_SEEDS)
        app = rnd.choice(["", "sshd", "sudo", "kernel", "nginx", "RT_FLOW", "filterlog", "audispd", "su"])
        for s in specs:
            s.parse(line, app, states[s.name])  # a raise fails the test with the line shrunk
        evs = lp.events(line)
        assert evs and all(e.raw == evs[0].raw for e in evs)
        assert (
            evs[0].raw == line.rstrip("\r\n") or line.startswith("<") or evs[0].raw == line.rstrip("\r\n\x00")
        )
        net = lp.events(line, network=True, sender="192.0.2.1")
        assert net and net[0].raw == line.rstrip("\r\n")


def test_digit_runs_past_ints_limit_never_raise() -> None:
    """int() refuses more than 4,300 digits: a port, pid, byte or packet count an attacker
    stretches must leave the field empty, never raise (found by the fuzz test: sshd's port)."""
    huge = "9" * 5000
    lines = [
        f"Failed password for root from 198.51.100.7 port {huge} ssh2",
        f"RT_FLOW_SESSION_CREATE: session created 10.0.0.1/{huge}->10.0.0.2/{huge} 0x0 junos-ssh "
        f"10.0.0.1/{huge}->10.0.0.2/{huge} None None 6 x x x x 1 x x x",
        f"%ASA-6-302014: Teardown TCP connection 1 for outside:10.0.0.1/1 to inside:10.0.0.2/2 "
        f"duration 0:00:01 bytes {huge} TCP FINs",
        f"2024/01/01 00:00:00 [error] {huge}#{huge}: *1 open() failed",
    ]
    specs = registry.specs()
    states = {s.name: s.state() if s.state else None for s in specs}
    for line in lines:
        for app in ("", "sshd", "RT_FLOW", "nginx"):
            for s in specs:
                s.parse(line, app, states[s.name])
    (ev,) = LineParser(default_host="h").events(f"Dec  6 10:00:00 h sshd[1]: {lines[0]}")
    assert (ev.parser, ev.fields.get("src_ip"), ev.fields.get("src_port")) == ("sshd", "198.51.100.7", None)


H = "9" * 5000  # past int()'s 4,300-digit limit
SUP = "\u00b2"  # `²`: str.isdigit() says yes, int() says no
# (line through LineParser.events, parser that must still parse it, fields that must stay empty,
# a field read from elsewhere in the line and its value): each parser's numeric fields
LONG_NUMBERS = [
    (f"<38>Nov 25 01:02:03 h sshd[1]: Connection from 198.51.100.7 port {H} on 10.0.0.5 port {H}",
     "sshd", ("src_port", "dst_port"), ("src_ip", "198.51.100.7")),
    (f"<189>12: core1: Nov 25 12:10:01.001 ICT: %SEC-6-IPACCESSLOGP: list SSH permitted tcp 1.2.3.4({H}) "
     f"-> 5.6.7.8({H}), 1 packet", "cisco", ("src_port", "dst_port"), ("dst_ip", "5.6.7.8")),
    (f"<189>Nov 25 12:10:01 core1 %SYS-3-LOGGINGHOST_FAIL: Logging to host 1.2.3.4 port {H} failed",
     "cisco", ("dst_port",), ("dst_ip", "1.2.3.4")),
    (f"%ASA-6-302013: Built inbound TCP connection 1 for outside:2.2.2.2/{H} (2.2.2.2/{H}) to "
     f"inside:1.1.1.1/{H} (1.1.1.1/{H})", "cisco_asa", ("src_port", "dst_port"), ("src_ip", "2.2.2.2")),
    (f"%FTD-1-430003: SrcIP: 2.2.2.2, DstIP: 1.1.1.1, SrcPort: {H}, DstPort: 1{SUP}, Protocol: tcp, "
     f"InitiatorBytes: {H}", "cisco_asa", ("src_port", "dst_port", "source.bytes"), ("dst_ip", "1.1.1.1")),
    (f"%ASA-6-605004: Login denied from 203.0.113.70/{H} to outside:203.0.113.1/ssh for user \"admin\"",
     "cisco_asa", ("src_port",), ("user", "admin")),
    (f"<188>Nov 25 2026 10:01:02 USG6550 %%01POLICY/6/POLICYDENY(l):vsys=public, protocol=6, "
     f"source-ip=203.0.113.9, source-port={H}, destination-ip=10.0.0.5, destination-port=1{SUP}.",
     "huawei", ("src_port", "dst_port"), ("src_ip", "203.0.113.9")),
    (f"<14>Nov 25 12:00:00 srx1 RT_FLOW: RT_FLOW_SESSION_CLOSE: session closed TCP FIN: "
     f"1.2.3.4/1->5.6.7.8/25 0x0 junos-smtp 1.2.3.4/1->5.6.7.8/25 0x0 N/A N/A N/A N/A 6 p z1 z2 15 "
     f"6({H}) 4({H}) 3", "junos", ("source.bytes", "destination.bytes"), ("dst_ip", "5.6.7.8")),
    (f"<38>Nov 25 12:00:00 srx1 mgd[5]: UI_LOGIN_EVENT: User 'jdoe' login, class 'j-ids' [5], "
     f"ssh-connection '192.168.1.1 {H} 192.168.1.2 {H}', client-mode 'cli'",
     "junos", ("src_port", "dst_port"), ("src_ip", "192.168.1.1")),
    ("1,2024/10/25 16:10:48,024101010000,SYSTEM,userid,2562,2024/10/25 16:10:48,,connect-ldap-sever,"
     f'1.2.3.4,0,0,general,informational,"ldap cfg x connected to server 5.6.7.8:{H}, initiated by: '
     '0.0.1.1",7389706,0x0,0,0,0,0,,FFFFFF01,0,0,2024-10-25T16:10:48.575+02:00',
     "paloalto", ("dst_port",), ("dst_ip", "5.6.7.8")),
    (f"<134>Nov 25 01:02:03 fw filterlog[1]: 183,,,x,vtnet9,match,pass,in,4,0x0,,63,18292,0,DF,17,udp,72,"
     f"1.2.3.4,5.6.7.8,{H},5{SUP},52", "filterlog", ("src_port", "dst_port"), ("dst_ip", "5.6.7.8")),
    (f'date=2026-11-25 time=08:02:03 devname="FG1" logid="0000000013" type="traffic" subtype="forward" '
     f'eventtime={H} srcip=203.0.113.5 dstip=10.10.0.5 srcport={H} dstport=2{SUP} action="deny"',
     "fortigate", ("src_port", "dst_port"), ("src_ip", "203.0.113.5")),
    (f'mydomain:{H} 1.2.3.4 - - [31/Jul/2024:16:41:52 +{H}] "GET / HTTP/1.1" 200 5 "-" "curl/8"',
     "web", ("dst_port",), ("src_ip", "1.2.3.4")),
    (f"[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid {H}:tid 4328636416] [client 1.1.1.1:{H}] oops",
     "web_error", ("pid", "src_port"), ("src_ip", "1.1.1.1")),
    (f"::1, -, 11/20/2023, 15:44:03, W3SVC1, IIS-server, ::1, {H}, {H}, 143, {H}, 0, GET, /, -,",
     "iis", ("time-taken", "cs-bytes", "sc-status"), ("src_ip", "::1")),
    (f'type=EXECVE msg=audit(1795568523.100:70): argc=2 a0="nc" a{H}[0]="x" a1=2D65',
     "auditd", (), ("CommandLine", "nc -e")),
]


def test_each_parsers_numbers_past_ints_limit_leave_the_field_empty() -> None:
    """Every parser's numeric fields (ports, byte counts, pids, times) on numbers no int() takes:
    the line is still parsed by its parser (a raise would leave it unparsed, out of every rule),
    the number's field stays empty, and the rest of the line is read."""
    for line, parser, empty, (name, value) in LONG_NUMBERS:
        (ev,) = LineParser(default_host="h").events(line)
        assert (ev.parser, ev.fields.get(name)) == (parser, value), line[:120]
        assert [ev.fields.get(f) for f in empty] == [None] * len(empty), line[:120]


def test_iis_w3c_numbers_past_ints_limit() -> None:
    lp = LineParser(default_host="h")
    lp.events("#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip "
              "cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken")
    (ev,) = lp.events(f"2026-11-25 01:02:03 10.0.0.1 GET /x - {H} - 1.2.3.4 curl/8 - 2{SUP}0 0 0 {H}")
    assert (ev.parser, ev.fields.get("src_ip"), ev.fields.get("sc-substatus")) == ("iis", "1.2.3.4", 0)
    assert [ev.fields.get(f) for f in ("s-port", "sc-status", "time-taken")] == [None, None, None]


def _general(lp: LineParser, text: str, network: bool) -> list[dict[str, object]]:
    """The events of `LineParser.events` without its fast path: parse_syslog / parse_line."""
    if network or text[:1] == "<":
        ev = lp.parse_syslog(text, sender="192.0.2.1" if network else lp.default_host, source="file")
    else:
        ev = lp.parse_line(text, source="file")
    return [ev.to_dict() for _ in range(lp.repeat)]


def _same_events(fast: list[dict[str, object]], general: list[dict[str, object]]) -> bool:
    """Equal, the receive time (read from the clock by each path) to within a minute."""
    if len(fast) != len(general):
        return False
    for a, b in zip(fast, general, strict=True):
        ta, tb = a.pop("time"), b.pop("time")
        assert isinstance(ta, float) and isinstance(tb, float)
        if a != b or abs(ta - tb) > (60.0 if abs(tb - time.time()) < 3600 else 0.0):
            return False
    return True


def test_the_fast_path_gives_the_general_paths_events() -> None:
    """LineParser.events reads a live message with the common RFC 3164 header in one step; every
    line (SEKOIA's samples, the seeds, header variants and mutated lines) gives the events the
    general path (parse_syslog, parse_line) gives, file and network alike."""
    rnd = random.Random(22)
    lines = list(ALL_SEEDS)
    lines += [f"<{rnd.choice(['13', '191', '192', '0', '٣', ''])}>{s}" for s in SEEDS]
    lines += [s.replace(" 01:02:03 ", " 01:02:60 ") for s in SEEDS]
    lines += [mutate(rnd, ALL_SEEDS)[:2000] for _ in range(3000)]
    fast, general = LineParser(default_host="h"), LineParser(default_host="h")
    for line in lines:
        for network in (False, True):
            sender = "192.0.2.1" if network else ""
            got = [e.to_dict() for e in fast.events(line, network=network, sender=sender)]
            assert _same_events(got, _general(general, line, network)), (network, line[:300])
