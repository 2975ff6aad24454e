"""The whole-line C path (_logfast.syslog_line: header and body in one call, for the programs
whose first parser has a C twin) gives exactly the events of the Python path, which stays the
reference: same parser, logsource, host, time, fields (values, types and key order) and repeat.

Lines: every SEKOIA sample and fuzz seed, lines generated from each twin's grammar (the forms
it claims and the near misses it must leave to Python: users with spaces, `from` or `@`,
IPv6 addresses cut at a colon, host names, ports past 18 digits, prefixes in brackets,
numbers int() reads differently...), and tens of thousands of mutations of them (NULs, tabs,
newlines, non-ASCII, truncation, splices, 100k-character lines)."""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from nocsoc.collectors.logs import parsers as parsers_mod
from nocsoc.collectors.logs.parsers import LineParser
from tests.collectors.logs.test_fuzz import ALL_SEEDS

logfast = pytest.importorskip("nocsoc.collectors.logs._logfast",
                              reason="C accelerator not built (tests/test_speedups.py says so)")


@functools.cache
def _c_refs() -> list[tuple[Any, str]]:
    """Every module-level reference the parsers hold to a C function (`_c_*`, `c_split_pairs`)."""
    import importlib
    import pkgutil

    from nocsoc.collectors.logs import syslog

    mods: list[Any] = [parsers_mod, syslog]
    mods += [importlib.import_module(f"{parsers_mod.__name__}.{i.name}")
             for i in pkgutil.iter_modules(parsers_mod.__path__)]
    return [(m, k) for m in mods for k in dir(m)
            if (k.startswith("_c_") or k == "c_split_pairs") and callable(getattr(m, k))]


@contextmanager
def _python_only() -> Iterator[None]:
    """Every C path off: the pure-Python reference."""
    saved = [(m, k, getattr(m, k)) for m, k in _c_refs()]
    for m, k, _ in saved:
        setattr(m, k, None)
    try:
        yield
    finally:
        for m, k, v in saved:
            setattr(m, k, v)


def test_the_switch_turns_every_c_path_off() -> None:
    names = {f"{m.__name__.rsplit('.', 1)[-1]}.{k}" for m, k in _c_refs()}
    assert {"parsers._c_line", "web._c_access_line", "auditd._c_audit_record", "syslog._c_bsd_header",
            "base._c_kv_pairs"} <= names


def _events(lp: LineParser, line: str, network: bool) -> list[tuple[Any, ...]]:
    evs = lp.events(line, network=network, sender="192.0.2.1" if network else "")
    # (key order matters: alert samples and `--json` show the fields as the dict has them)
    return [(e.raw, e.host, e.parser, e.product, e.services, e.categories, e.source, e.route_key,
             list(e.fields.items()), [type(v) for v in e.fields.values()], e.time) for e in evs] + [lp.repeat]


def _same_minute(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> bool:
    """Equal; the receive time each path read from the clock may differ by the call's duration,
    which moves a year-less stamp only across a year boundary: the same to within a minute."""
    if len(a) != len(b) or a[-1] != b[-1]:
        return False
    return all(x[:-1] == y[:-1] and abs(x[-1] - y[-1]) <= 60 for x, y in zip(a[:-1], b[:-1], strict=True))


def compare(lines: list[str]) -> int:
    """Assert both paths agree on every line (file and network); how many lines C claimed."""
    lp_c, lp_py = LineParser(default_host="h"), LineParser(default_host="h")
    claimed = 0
    for line in lines:
        got = logfast.syslog_line(line, lp_c._c_programs)
        if got is False:  # "no common header": the step it lets the caller skip finds none either
            assert lp_py._fast_syslog(line, "h", "file") is None, line[:400]
        elif got is not None:
            claimed += 1
        for network in (False, True):
            got = _events(lp_c, line, network)
            with _python_only():
                want = _events(lp_py, line, network)
            assert _same_minute(got, want), (network, line[:400], got, want)
    return claimed


METHODS = ["password", "publickey", "keyboard-interactive/pam", "gssapi-with-mic", "none", "hostbased",
           "keyboard-interactive/pam-x", "a/b/c", "-", "/x"]
USERS = ["root", "minh", "admin", "", "a b", "x from y", "from", "jdoe@corp.local", "@x", "a@", "*****",
         "****", "u:v", "user.name-1", "invalid", "illegal user z", "a  b", "for", "port"]
ADDRS = ["203.0.113.5", "10.0.0.1", "::1", "2001:db8::1", "::ffff:198.51.100.7", "::ffff:abc", "fe80::1%eth0",
         "host.example.org", "1.2.3.4:", "1.2.3", "12345", "1.2.3.a", "a1", "%", "-", ".", "1.2.3.4.5",
         "300.1.1.1", "_h", "::", "x:y"]
TAILS = [" ssh2", " ssh", "", ": RSA SHA256:abc", " ssh2: ED25519 SHA256:x", " [preauth]", ":", " sshx",
         " foo", "  ", " ssh2 ", "x", " port", " port x"]
PORTS = ["", " port 22", " port 40022", " port 0", " port 1" + "9" * 17, " port 1" + "9" * 18, " port 00022",
         " port", " port  22", " port 22x"]


# the session-end forms (sshd_ends): who closed, and what follows the address
KINDS = ["user ", "invalid user ", "illegal user ", "authenticating user ", "Invalid user ", "invalid ",
         "authenticating ", "user", "illegal  user "]
END_TAILS = ["", "", " [preauth]", " [preauth]", " [preauth] ", " [preauth]x", "  [preauth]", " [preauth",
             ":11: Bye Bye", ":11: Bye Bye [preauth]", ": 11: disconnected by user", ":", ": ", " x", "x",
             " ssh2", "::1:"]
END_HEADS = ["Connection closed by ", "Disconnected from ", "Received disconnect from ",
             "Connection reset by ", "Connection closed by  ", "Disconnected from", "Connection reset by"]


def _sshd_end(rnd: random.Random) -> str:
    who = rnd.choice([f"{rnd.choice(KINDS)}{rnd.choice(USERS)} ", rnd.choice(KINDS),
                      f"{rnd.choice(USERS)} ", "", "", f"{rnd.choice(KINDS)} "])
    return (rnd.choice(END_HEADS) + who + rnd.choice(ADDRS) + rnd.choice(PORTS) + rnd.choice(END_TAILS)
            + rnd.choice(["", "", "", " port 22", " [preauth]"]))


# the other forms (sshd_more), the prefixes parse_sshd skips, and the words it has no pattern for
MORE_PREFIXES = ["", "", "", "error: ", "fatal: ", "ssh_dispatch_run_fatal: ", "error: main: sshd: ",
                 "error:  ", "error: Accepted: ", "x:: ", "fatal: error: ", "Error: ", "PAM: ",
                 "error: Connection: ", "User: ", "maximum: "]
MORE_TAILS = ["", "", " ssh2", " ssh2 [preauth]", " [preauth]", ": x", ": no matching cipher found", ":",
              " id 0", " x", " port", "ssh2", " sshx", " not allowed because not listed in AllowUsers",
              " on 10.0.0.1 port 22", " on fe80::1%eth0 port 2222", " on ::1: port 22",
              " on 1.2.3.g port 22", " on 1.2.3.4 port x", " on 1.2.3.4% port 22", " on . port 22",
              ": Connection corrupted [preauth]", ":  x  [y] z", ": [x]",
              ": Too many authentication failures [preauth]"]
MORE_HEADS = ["maximum authentication attempts exceeded for {inv}{user} from ",
              "Starting session: {what} for {user} from ", "Unable to negotiate with ",
              "Did not receive identification string from ", "Timeout before authentication for ",
              "Timeout before authentication for connection from ", "Postponed {method} for {user} from ",
              "Partial {method} for {user} from ", "Connection from ", "Disconnecting {kind}{user} ",
              "User {user} from ", "Bad protocol version identification 'x' from ", "Address ",
              "reverse mapping checking getaddrinfo for x [", "Received disconnect from ",
              "Accepted {method} for {user} from ",
              "Failed {method} for {inv}{user} from ", "Invalid user {user} from ",
              "Connection closed by {kind}", "Connection reset by {kind}{user} ",
              "Disconnected from {kind}{user} ", "Connection closed by ",
              "Bad protocol version identification x from y from ",
              "Bad protocol version identification  from "]
MORE_FIXED = ["Accepted key RSA SHA256:abc found at /home/a/.ssh/authorized_keys:2",
              "Accepted key RSA SHA256:abc found at  /k ", "Accepted key RSA  found at /k",
              "Accepted key RSA x found", "Accepted key  x found at /k",
              "Accepted google_authenticator for root", "Accepted a-b/c for u@d", "Accepted x for ",
              "Accepted x for a b", "Accepted  for x", "User child is on pid 60225",
              "User child is on pid x", "User root not allowed because shell",
              "User  not allowed because x", "input_userauth_request: invalid user jdoe [preauth]",
              "input_userauth_request: illegal user ", "input_userauth_request: bad user x",
              "input_userauth_request:invalid user x", "main: sshd: ssh-rsa algorithm is disabled",
              "fatal: userauth_finish: send failure packet: Broken pipe",
              "error: kex_exchange_identification: Connection closed by remote host", "Connection from",
              "Starting session: for  for root from 1.2.3.4",
              "Starting session: shell on pts/0 for a for b from c", "Starting session: for x from",
              "sshd: ", "Unable", "error:", "x: y: z: Timeout", "Disconnecting"]


def _sshd_more(rnd: random.Random) -> str:
    if rnd.random() < 0.2:
        return rnd.choice(MORE_PREFIXES) + rnd.choice(MORE_FIXED)
    head = rnd.choice(MORE_HEADS).format(
        inv=rnd.choice(["", "", "invalid user ", "illegal user ", "invalid "]), user=rnd.choice(USERS),
        what=rnd.choice(["command", "shell on pts/0", "", "x for y", "subsystem 'sftp'"]),
        method=rnd.choice(METHODS), kind=rnd.choice(["user ", *KINDS, "invalid", "authenticating x "]))
    return (rnd.choice(MORE_PREFIXES) + head + rnd.choice(ADDRS) + rnd.choice(PORTS) + rnd.choice(MORE_TAILS)
            + rnd.choice(["", "", "", "]", " port 22", " [preauth]"]))


def _sshd_body(rnd: random.Random) -> str:
    form = rnd.random()
    if form < 0.25:
        return _sshd_end(rnd)
    if form < 0.5:
        return _sshd_more(rnd)
    form = rnd.random()
    user, addr = rnd.choice(USERS), rnd.choice(ADDRS)
    rest = addr + rnd.choice(PORTS) + rnd.choice(TAILS)
    if form < 0.3:
        return f"Accepted {rnd.choice(METHODS)} for {user} from {rest}"
    if form < 0.6:
        inv = rnd.choice(["", "", "invalid user ", "illegal user ", "Invalid user "])
        return f"Failed {rnd.choice(METHODS)} for {inv}{user} from {rest}"
    if form < 0.8:
        return f"{rnd.choice(['Invalid', 'Illegal', 'invalid'])} user {user} from {rest}"
    return rnd.choice([
        f"Connection closed by {addr} port 22 [preauth]", f"Disconnected from user {user} {rest}",
        "pam_unix(sshd:auth): authentication failure; rhost=1.2.3.4 user=root",
        f"Received disconnect from {rest}", "error: PAM: Authentication failure for root from 1.2.3.4",
        "PAM 2 more authentication failures; rhost=1.2.3.4", "SSHD_LOGIN_FAILED: Login failed for user 'x'",
        f"message repeated 3 times: [ Failed password for {user} from {rest}]",
        f"Accepted {rnd.choice(METHODS)} for {user}", "Accepted key RSA SHA256:x found at /k:1",
        f"Failed {rnd.choice(METHODS)} for {user} from  {rest}", f" Failed password for {user} from {rest}",
        f"Failed password for {user} from {rest} ", "Accepted", f"Accepted  password for {user} from {rest}",
        f"Failed password for {user} from {addr} from {rest}", f"Xccepted password for {user} from {rest}",
    ])


PREFIXES = ["NOCSOC-DROP", "[1.000] NOCSOC-DROP", "[ 12345.678901] FW-ACCEPT", "[1.2]", "", "[1.] DROP",
            "[.1] x", "[ 1.2 ]", "iptables-reject", "allow in", "DENY", "[1.2]   BLOCK  ", "Log me",
            "LOGIN-attempt", "A" * 300, "UFW BLOCK", "[UFW AUDIT]", "nft accept: ", "x=1 drop"]
PROTOS = ["TCP", "UDP", "ICMP", "UDPLITE", "tcp", "2", ""]
NUMS = ["1", "22", "65535", "0", "007", "+5", "-1", "1_0", "", "0x10", "9" * 18, "9" * 19, "1.5"]


def _num(rnd: random.Random) -> str:
    return str(rnd.randint(0, 65535)) if rnd.random() < 0.85 else rnd.choice(NUMS)


def _netfilter_body(rnd: random.Random) -> str:
    proto = rnd.choice(PROTOS)
    parts = [rnd.choice(PREFIXES), f"IN={rnd.choice(['eth0', '', 'br-1'])}",
             f"OUT={rnd.choice(['eth1', ''])}",
             f"SRC={rnd.choice(ADDRS)}", f"DST={rnd.choice(ADDRS)}", f"LEN={_num(rnd)}", "TOS=0x00",
             f"TTL={_num(rnd)}", f"ID={rnd.randint(0, 65535)}", rnd.choice(["DF", "", "CE"]),
             f"PROTO={proto}", f"SPT={_num(rnd)}", f"DPT={_num(rnd)}"]
    if proto.upper().startswith("UDP"):
        parts.append(f"LEN={_num(rnd)}")
    else:
        flags = rnd.sample(["SYN", "ACK", "FIN", "RST", "PSH", "URG"], rnd.randint(0, 4))
        parts += ["WINDOW=1024", "RES=0x00", *flags, "URGP=0"]
    for _ in range(rnd.choice([0, 0, 0, 1, 2])):  # what leaves the split to the regex, or changes a reading
        k = rnd.randrange(len(parts) + 1)
        parts.insert(k, rnd.choice(["[SRC=1.2.3.4 DST=5.6.7.8]", "mac=00:11", "MAC=00:11:22", "=x", "LEN=",
                                    "SPT", "SYN", "IN=", "PROTO=UDP", "LEN=77", "Syn"]))
    rnd.shuffle(parts) if rnd.random() < 0.1 else None
    return rnd.choice([" ", "  "]).join(parts) if rnd.random() < 0.9 else "".join(parts)


def _line(rnd: random.Random, body: str, program: str) -> str:
    pri = rnd.choice(["", "", "<38>", "<4>", "<191>", "", "<38>", "<1234>", "<>", "<x>", "<38>1 "])
    day = rnd.choice(["Nov 25", "Nov  5", "Feb 29", "Dec 31", "Jan  1", "Nov 5"])
    host = rnd.choice(["web1", "fw-dc1", "portal-web2", "10.0.0.5", "h_1", "a.b-c", "web1", "ICT"])
    tag = rnd.choice([f"{program}[{rnd.randint(1, 99999)}]", program, f"{program}[{rnd.randint(1, 99999)}]",
                      f"{program}[]", f"{program}[x y]"])
    hms = rnd.choice(["01:02:03", "23:59:59", "00:00:60"])
    return f"{pri}{day} {hms} {host} {tag}:{rnd.choice([' ', ' ', ''])}{body}"


GARBAGE = ["\x00", "\t", "\n", "\r", "\x7f", "é", "\ufffd", "ệ", " ", "  ", ":", "[", "]", ".", "@", "=",
           "from ", " port ", " ssh", "1", "::", "%", "-", "IN=", "SRC=", "PROTO=UDP ", " SYN",
           "LEN=", "\x1c"]


def _mutate(rnd: random.Random, line: str) -> str:
    for _ in range(rnd.randint(1, 3)):
        k = rnd.random()
        pos = rnd.randint(0, len(line))
        if k < 0.5:
            line = line[:pos] + rnd.choice(GARBAGE) + line[pos:]
        elif k < 0.7:
            line = line[:pos] + line[pos + rnd.randint(1, 4):]
        elif k < 0.9:
            line = line[:pos]
        else:
            line = line[:pos] + line[pos:] * rnd.randint(2, 5)
    return line


def _plain(rnd: random.Random) -> str:
    """A line as the daemons write it (most of a real log), with random values."""
    ip = (f"{rnd.randint(1, 254)}.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}"
          if rnd.random() < 0.8 else f"2001:db8::{rnd.randint(1, 65535):x}")
    user = rnd.choice(["root", "admin", "oracle", "minh", "ubuntu", "test", "a@b.c", "git"])
    pid = rnd.randint(100, 99999)
    hh, mm, ss = rnd.randint(0, 23), rnd.randint(0, 59), rnd.randint(0, 59)
    stamp = f"Nov {rnd.randint(1, 30):2d} {hh:02d}:{mm:02d}:{ss:02d}"
    port = rnd.randint(1, 65535)
    k = rnd.random()
    if k < 0.6:
        msg = rnd.choice([f"Failed password for {user} from {ip} port {port} ssh2",
                          f"Failed password for invalid user {user} from {ip} port {port} ssh2",
                          f"Accepted publickey for {user} from {ip} port {port} ssh2: RSA SHA256:x",
                          f"Accepted password for {user} from {ip} port {port} ssh2",
                          f"Invalid user {user} from {ip} port {port}",
                          f"Invalid user {user} from {ip}", f"Failed none for invalid user {user} from {ip}",
                          f"Accepted keyboard-interactive/pam for {user} from {ip} port 22 ssh2",
                          f"Connection closed by {ip} port {port} [preauth]", f"Connection closed by {ip}",
                          f"Connection closed by invalid user {user} {ip} port {port} [preauth]",
                          f"Connection closed by authenticating user {user} {ip} port {port} [preauth]",
                          f"Disconnected from user {user} {ip} port {port}",
                          f"Disconnected from invalid user {user} {ip} port {port} [preauth]",
                          f"Disconnected from {ip} port {port} [preauth]",
                          f"Received disconnect from {ip} port {port}:11: Bye Bye [preauth]",
                          f"Received disconnect from {ip} port {port}:11: disconnected by user",
                          f"Received disconnect from {ip}: 11: disconnected by user",
                          f"Connection reset by {ip} port {port} [preauth]",
                          f"Connection reset by authenticating user {user} {ip} port {port} [preauth]"])
        return f"{rnd.choice(['', '<38>', '<86>'])}{stamp} web{rnd.randint(1, 9)} sshd[{pid}]: {msg}"
    proto = rnd.choice(["TCP", "UDP", "ICMP"])
    tail = (f"SPT={rnd.randint(1, 65535)} DPT={rnd.randint(1, 65535)} "
            + (f"LEN={rnd.randint(8, 1500)}" if proto == "UDP" else
               f"WINDOW=1024 RES=0x00 {rnd.choice(['SYN', 'ACK PSH', 'SYN ACK', 'RST', 'FIN ACK'])} URGP=0")
            if proto != "ICMP" else "TYPE=8 CODE=0 ID=1 SEQ=2")
    prefix = rnd.choice(["NOCSOC-DROP", "UFW BLOCK", "fw-accept"])
    msg = (f"[{rnd.randint(0, 99999)}.{rnd.randint(0, 999999):06d}] {prefix} "
           f"IN=eth0 OUT= MAC=00:11:22:33:44:55 SRC={ip} DST=10.0.0.{rnd.randint(1, 254)} "
           f"LEN={rnd.randint(20, 1500)} "
           f"TOS=0x00 PREC=0x00 TTL={rnd.randint(1, 255)} ID={rnd.randint(0, 65535)} DF PROTO={proto} {tail}")
    return f"{rnd.choice(['', '<4>'])}{stamp} fw{rnd.randint(1, 9)} kernel: {msg}"


def _generated(seed: int, n: int) -> list[str]:
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        if rnd.random() < 0.4:
            out.append(_plain(rnd))
        elif rnd.random() < 0.5:
            prog = rnd.choice(["sshd", "sshd", "sshd-session", "sshd-auth", "kernel", "sshd-keygen"])
            out.append(_line(rnd, _sshd_body(rnd), prog))
        else:
            out.append(_line(rnd, _netfilter_body(rnd), rnd.choice(["kernel", "kernel", "sshd"])))
    return out


def test_sample_and_seed_lines_read_the_same() -> None:
    compare(list(ALL_SEEDS))


def _headered_samples() -> list[str]:
    """SEKOIA's samples as the golden tests and the bench's new-formats mix read them (a syslog
    header in front of a bare body: `<38>Nov 25 01:02:03 host1 sshd[42]: ...`)."""
    from tests.collectors.logs import golden
    from tests.conftest import SHARED

    root = SHARED / "log-samples"
    if not root.is_dir():
        pytest.skip(f"{root} absent")
    return [c.line for fmt in golden.FORMATS for c in golden.cases(root, fmt) if "\n" not in c.line]


def test_headered_samples_read_the_same() -> None:
    lines = _headered_samples()
    claimed = compare(lines)
    assert claimed >= 65  # the sshd forms with a C twin, netfilter, filterlog


def test_sshd_more_forms_read_the_same() -> None:
    """sshd_more's forms (Starting session, Postponed, Unable to negotiate, ...), behind the
    prefixes parse_sshd skips, and the bodies whose word has no pattern (`other`)."""
    rnd = random.Random(11)
    lines = [_line(rnd, _sshd_more(rnd), "sshd") for _ in range(20_000)]
    lp = LineParser(default_host="h")
    kinds = {got[-1]["event_type"] for got in (logfast.syslog_line(x, lp._c_programs) for x in lines) if got}
    assert {"max_attempts", "session_start", "negotiation_failed", "connection", "connection_error",
            "no_ident", "timeout", "not_allowed", "postponed", "partial", "child", "key_found",
            "disconnecting", "accepted_google_authenticator", "invalid_user", "other", "bad_protocol",
            "reset", "closed", "preauth_closed", "disconnected", "disconnect"} <= kinds
    assert any(k.startswith("failed_") for k in kinds)
    assert compare(lines) > 2_000


def test_mutated_headered_samples_read_the_same() -> None:
    rnd = random.Random(5)
    base = _headered_samples()
    compare([_mutate(rnd, rnd.choice(base)) for _ in range(6_000)])


@pytest.mark.parametrize("seed", [1, 2])
def test_generated_lines_read_the_same(seed: int) -> None:
    lines = _generated(seed, 12_000)
    claimed = compare(lines)
    assert claimed > 5_000  # the twins take most lines of their grammar (and leave the rest)


def test_mutated_lines_read_the_same() -> None:
    rnd = random.Random(3)
    base = _generated(4, 4_000)
    lines = [_mutate(rnd, rnd.choice(base)) for _ in range(20_000)]
    claimed = compare(lines)
    assert claimed > 2_000


def test_odd_text_goes_to_python_or_reads_the_same() -> None:
    base = "<38>Nov 25 01:02:03 web1 sshd[7]: Failed password for root from 203.0.113.5 port 22 ssh2"
    fw = ("Nov 25 01:02:03 fw kernel: [1.0] DROP IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=44 PROTO=TCP "
          "SPT=1 DPT=2 SYN URGP=0")
    lp = LineParser(default_host="h")
    for line in (base, fw):
        assert logfast.syslog_line(line, lp._c_programs) is not None
        for odd in (line + "\x00", line + "\r\n", line + " é", line.replace(" ", "\t", 1), line + "\udcff"):
            assert logfast.syslog_line(odd, lp._c_programs) is None
    compare([base, fw, base + "\x00", fw + "\n", base.replace("root", "rôot"), "x" * 100_000,
             base.replace("root", "r" * 100_000), fw.replace("DROP", "DROP" + "N" * 100_000),
             fw.replace("1.2.3.4", "1.2.3.4" * 20_000)])


def test_only_a_programs_first_parser_is_twinned() -> None:
    """The C twin stands for a program only when its spec comes first for it: a site parser
    registered before it (a lower `order`) takes the program back to Python."""
    from nocsoc.collectors.logs.parsers import registry
    from nocsoc.collectors.logs.parsers.registry import ParserSpec
    from nocsoc.logsources import LogSource

    mine = ParserSpec("mine", lambda msg, app, st: None, (LogSource("linux", ("sshd",)),), programs=("sshd",),
                      order=1)
    lp = LineParser(default_host="h", parsers=[mine, *registry.specs()])
    assert "sshd" not in lp._c_programs and "sshd-session" in lp._c_programs
    assert "kernel" in LineParser(default_host="h")._c_programs


# --- the access-log line (web.parse_access's C twin, _logfast.access_line) ---------------------

REQS = ["GET / HTTP/1.1", "GET /a/b.php?x=1&y=2 HTTP/1.1", "POST /login HTTP/2.0", "GET /x.tar.gz HTTP/1.0",
        "GET /a.b/c HTTP/1.1", "GET /%2e%2e/etc/passwd HTTP/1.1", "GET /a+b HTTP/1.1", "GET /? HTTP/1.1",
        "GET  HTTP/1.1", "GET /x", "-", "GET /a b HTTP/1.1", 'GET /\\"q\\" HTTP/1.1', "\\x16\\x03\\x01",
        "GET /.git/config HTTP/1.1", "GET /index.html?a.b HTTP/1.1", "OPTIONS * HTTP/1.1", "GET /a. HTTP/1.1"]
STAMPS = ["25/Nov/2026:08:12:01 +0700", "29/Feb/2024:23:59:59 -0000", "29/Feb/2025:00:00:00 +0000",
          "31/Apr/2026:01:02:03 +0700", "01/Jan/1970:00:00:00 +0000", "25/Nov/2026:24:00:00 +0700",
          "25/Nov/2026:08:12:60 +0700", "25/nov/2026:08:12:01 +0700", "25/Nov/2026:08:12:01 +2400",
          "25/Nov/2026:08:12:01 +2359", "25/Nov/2026:08:12:01 -1130", "25/Nov/2026:08:12:01 +0090",
          "25/Nov/2026:08:12:01", "25/Nov/2026:08:12:01 +0700 x", "01/Mar/2000:00:00:00 +0100",
          "28/Feb/2100:12:00:00 +0000", "29/Feb/2100:12:00:00 +0000", "15/Jun/9999:00:00:00 +0000",
          "15/Jun/0001:00:00:00 +0100", "00/Jan/2026:00:00:00 +0000"]
UAS = ['"-" "Mozilla/5.0 (X11; Linux x86_64)"', '"http://a/b" "curl/8.4.0"', "", ' "-" "-"', ' "a\\"b" "c"',
       '"-" "sqlmap/1.7 (+https://sqlmap.org)"', ' 1234 "-" "x"']


def _access(rnd: random.Random) -> str:
    ip = rnd.choice(["198.51.100.7", "2001:db8::1", "cafe", "10.0.0.1", "::1", "1.2.3.4"])
    user = rnd.choice(["-", "-", "jdoe", "a@b"])
    nbytes = rnd.choice(["-", "0", "1234", "9" * 18, "9" * 19, "007"])
    ua = rnd.choice(UAS)
    sep = " " if ua and not ua.startswith(" ") else ""
    status = rnd.choice(["200", "404", "304", "2000"])
    return f'{ip} - {user} [{rnd.choice(STAMPS)}] "{rnd.choice(REQS)}" {status} {nbytes}{sep}{ua}'


def _plain_access(rnd: random.Random) -> str:
    day = f"{rnd.randint(1, 28):02d}/{rnd.choice(['Jan', 'Nov', 'Dec'])}/{rnd.randint(2000, 2030)}"
    hms = f"{rnd.randint(0, 23):02d}:{rnd.randint(0, 59):02d}:{rnd.randint(0, 59):02d}"
    zone = f"{rnd.choice(['+', '-'])}{rnd.randint(0, 14):02d}{rnd.choice(['00', '30', '45'])}"
    path = f"/p/{rnd.randint(1, 999)}{rnd.choice(['.css', '.js', '', '?id=3'])}"
    return (f'203.0.113.{rnd.randint(1, 254)} - - [{day}:{hms} {zone}] "GET {path} HTTP/1.1" 200 '
            f'{rnd.randint(0, 99999)} "-" "Mozilla/5.0"')


def _parse_access_items(line: str) -> tuple[Any, ...] | None:
    from nocsoc.collectors.logs.parsers.web import parse_access

    p = parse_access(line, "nginx")
    if p is None:
        return None
    return (p.parser, p.product, p.services, p.categories, p.time, p.host, p.repeat, list(p.fields.items()),
            [type(v) for v in p.fields.values()])


def same_access(line: str) -> bool:
    """parse_access's Parsed, C twin on and off, the same (asserted); whether the twin claims it."""
    from nocsoc.collectors.logs.parsers import web

    got = _parse_access_items(line)
    saved = web._c_access_line
    web._c_access_line = None
    try:
        want = _parse_access_items(line)
    finally:
        web._c_access_line = saved
    assert got == want, (line, got, want)
    c = logfast.access_line(line)
    assert c is not False or want is None, line  # (False: parse_access gives None)
    return c is not None and c is not False


def test_access_lines_read_the_same() -> None:
    rnd = random.Random(7)
    lines = [_access(rnd) for _ in range(15_000)]
    lines += [_mutate(rnd, rnd.choice(lines)) for _ in range(15_000)]
    lines += [_plain_access(rnd) for _ in range(5_000)]
    claimed = sum(same_access(line) for line in lines)
    assert claimed > 6_000
    compare(lines[:3_000] + lines[-2_000:])  # and through LineParser, file and network


# --- audit records (auditd.parse_audit's C reading, _logfast.audit_record) ----------------------

def _hex(text: str) -> str:
    return text.encode("utf-8").hex().upper()


AUDIT_VALUES = ['"bash"', "2F746D702F6D7920746F6F6C", "2f746d70", "ABC", "AB", "A", '""', '"x y"', "0", "",
                _hex("/usr/bin/ls\x00"), _hex(" padded "), _hex("Nguyễn"), "00", "4142" * 300, '"a"b"', "?",
                "(none)", "203.0.113.5", "yes", "no", "failed", "success", "1", "+3", "3_0", "-1", "a=b"]


def _audit(rnd: random.Random, serial: int) -> str:
    node = rnd.choice(["", "", "", "node=web1 ", "node= ", "node=a b "])
    kind = rnd.choice(["SYSCALL", "EXECVE", "EXECVE", "USER_AUTH", "PATH", "CWD", "PROCTITLE"])
    ts = rnd.choice(["1795568523.100", "1795568523", "1795568523.", "1.5", "99999999999999999999.123"])
    head = f"{node}type={kind} msg=audit({ts}:{serial}):{rnd.choice([' ', '  ', ''])}"
    pairs = []
    if kind == "EXECVE":
        argc = rnd.randint(0, 5)
        argv = rnd.choice([str(argc), str(argc), str(argc + 2), "", "x", "+2", "0" + str(argc)])
        pairs.append(f"argc={argv}")
        for i in range(argc):
            if rnd.random() < 0.9:
                pairs.append(f"a{i}={rnd.choice(AUDIT_VALUES)}")
    else:
        pairs += [f"pid={rnd.randint(1, 9999)}", f"ppid={rnd.randint(1, 9999)}",
                  f"uid={rnd.choice(['0', '1000', '', '00'])}"]
    for _ in range(rnd.randint(0, 6)):
        key = rnd.choice(["exe", "comm", "cmd", "proctitle", "name", "cwd", "acct", "data", "old-data",
                          "path", "hostname", "terminal", "res", "success", "addr", "key", "User", "type",
                          "serial", "auid", "xexe", "argc", "a1", "outcome", "src_ip"])
        pairs.append(f"{key}={rnd.choice(AUDIT_VALUES)}")
    if rnd.random() < 0.05:
        pairs.append(rnd.choice(["msg='op=PAM acct=\"root\" res=failed'", "a1[0]=\"x\"", "x\x1dUID=\"root\"",
                                 "tok", "=v", 'k="unterminated', "a\\b=1"]))
    return head + " ".join(pairs)


def test_audit_records_read_the_same() -> None:
    """Records in sequence (the state joins an EXECVE to its SYSCALL and its parent) through the C
    and the pure-Python paths, each with its own LineParser: the same events."""
    rnd = random.Random(9)
    lines = []
    for serial in range(1, 6_001):
        pid = rnd.randint(100, 999)
        exe = rnd.choice(['"/usr/bin/bash"', _hex("/tmp/my tool")])
        stamp = f"1795568523.{serial % 1000:03d}:{serial}"
        lines.append(f"type=SYSCALL msg=audit({stamp}): arch=c000003e syscall=59 "
                     f"success=yes exit=0 ppid={rnd.randint(100, 999)} pid={pid} auid=1000 uid=0 "
                     f'comm="bash" exe={exe} key="exec"')
        lines.append(_audit(rnd, serial) if rnd.random() < 0.7 else
                     f'type=EXECVE msg=audit(1795568523.{serial % 1000:03d}:{serial}): argc=2 a0="ls" '
                     f"a1={_hex('-la /')}")
    lines += [_mutate(rnd, rnd.choice(lines)) for _ in range(8_000)]
    claimed = sum(logfast.audit_record(line) is not None for line in lines)
    assert claimed > 8_000
    compare(lines)
