"""Cisco IOS / IOS-XE / NX-OS syslog (`%FACILITY-SEV-MNEMONIC: text`) -> who and where for the
messages an analyst acts on: logins (SEC_LOGIN, SSH, DMI, PRIV_AUTH), configuration and
commands (CONFIG_I/P, PARSER, AAAA accounting, VSHD), ACL logs (SEC-6-IPACCESSLOG*: category
firewall with src/dst, ports, action), address conflicts, link state; NX-OS's PAM and sshd
messages relayed under AUTHPRIV/DAEMON.

The `service` of each event follows SigmaHQ's network logsources: `aaa` (logins, commands,
configuration), `bgp`, `ldp`; link state changes get `link` (no SigmaHQ equivalent). The
`[localport: N]` of a login message is the device's own port: dst_port."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo

from ahocorasick_rs import AhoCorasick

from nocsoc.collectors.logs.parsers.base import Parsed, digits, is_ip, to_int, transport
from nocsoc.collectors.logs.parsers.registry import ParserSpec
from nocsoc.collectors.logs.zones import zone
from nocsoc.logsources import LogSource

_CISCO = re.compile(
    r"%(?P<fac>[A-Z0-9_]+(?:-[A-Z0-9_]+)*?)-(?P<sev>[0-7])-(?P<mn>[A-Z0-9_]+):\s*(?P<text>.*)", re.S
)
_BRACKETS = re.compile(r"\[(\w+): ([^\]]*)\]")
_IFACE = re.compile(r"Interface (?P<iface>[\w/.:-]+), changed state to (?P<state>[\w ]+?)\s*$")
_IP = r"(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*[0-9A-Fa-f])"
# (literal that must be in the text, regex): every match fills the fields it names, first wins
_EXTRACT: list[tuple[str, re.Pattern[str]]] = [
    (g, re.compile(rx))
    for g, rx in (
        (
            "Configured ",
            r"Configured (?:from (?P<via>\S+) by|programmatically by process .*? from \S+ as) "
            rf"(?P<user>\S+)(?: on (?:[^\s(@]+@)?(?P<line>[^\s(]+))?(?: \((?P<ip>{_IP})\))?",
        ),
        # NX-OS: `on <remote host>@<tty>`, the session's origin as `show users` lists it
        ("Configured from", r"by \S+ on (?P<ip>[^\s(@]+)@"),
        ("logged command", r"User:(?P<user>\S+)\s+logged command:(?P<cmd>.*)"),
        ("executed the command", r"User:(?P<user>\S+) executed the command:(?P<cmd>.*)"),
        (
            "Username: ",
            r"Username: (?P<user>\S+)(?: Privilege level: \d+)?(?: Command: (?P<cmd>.*?)(?: <cr>)?$)?",
        ),
        ("username: ", r"username: (?P<user>\S+)"),
        (" by ", rf" by (?P<user>[^\s(]+) on \S+ \((?P<ip>{_IP})\)"),
        ("User '", r"User '(?P<user>[^']*)'"),
        ("for user '", r"for user '(?P<user>[^']*)'"),
        ("has exited tty", rf"User (?P<user>\S+) has exited tty session \d+\((?P<ip>{_IP})\)"),
        ("tty ", rf"tty \d+ \((?P<ip>{_IP})\)\)?,? user (?P<user>\S+)"),
        ("from ", rf"from (?P<ip>{_IP}):(?P<port>\d+)"),
        ("Session", rf"Session (?:request )?from (?P<ip>{_IP})"),
        (
            "list ",
            rf"list (?P<acl>\S+) (?P<act>permitted|denied) (?P<proto>\w+) (?P<ip>{_IP})\((?P<port>\d+)\)"
            rf"(?: \([^)]*\))? -> (?P<dip>{_IP})\((?P<dport>\d+)\)",
        ),
        (
            "list ",
            rf"list (?P<acl>\S+) (?P<act>permitted|denied) (?:(?P<proto>[a-z]+) )?(?P<ip>{_IP})"
            rf"(?: -> (?P<dip>{_IP}))?",
        ),
        ("Logging to host", rf"Logging to host (?P<dip>{_IP})(?: port (?P<dport>\d+))?"),
        ("Duplicate address", rf"Duplicate address (?P<ip>{_IP})"),
        ("Sticky ARP", rf"Sticky ARP entry: (?P<ip>{_IP})"),
        ("duplicate of local", rf"duplicate of local, (?P<ip>{_IP})"),
        ("illegal user", rf"for (?:illegal|invalid) user (?P<user>\S+) from (?P<ip>{_IP})"),
        ("Authentication failed from", rf"Authentication failed from (?P<ip>{_IP})"),
        ("NETCONF user", r"via NETCONF user (?P<user>\S+)"),
        ("RPC '", r"RPC '(?P<url>[^']*)'"),
        ("://", r"\((?P<url>\w+://[^)\s]*)\)"),
    )
]
# which guards a text holds, in one scan: testing 25 literals one by one cost more than the regexes
_GUARDS = sorted({g for g, _ in _EXTRACT})
_GUARD_SCAN = AhoCorasick(_GUARDS).find_matches_as_indexes
_BY_GUARD = [[(i, rx) for i, (g, rx) in enumerate(_EXTRACT) if g == guard] for guard in _GUARDS]
_PLANS: dict[frozenset[int], tuple[re.Pattern[str], ...]] = {}  # guards present -> extractors, in order


def _extractors(present: frozenset[int]) -> tuple[re.Pattern[str], ...]:
    got = _PLANS.get(present)
    if got is None:
        got = tuple(rx for _, rx in sorted(e for g in present for e in _BY_GUARD[g]))
        if len(_PLANS) < 1024:
            _PLANS[present] = got
    return got


def _plain(v: str) -> str:
    return v


# group name -> (field, conversion); `ip` is src_ip or src_host by its shape, `act` sets two fields
_GROUP_FIELDS: dict[str, tuple[str, Callable[[str], object]]] = {
    "user": ("user", _plain), "port": ("src_port", digits), "dip": ("dst_ip", _plain),
    "dport": ("dst_port", digits), "url": ("c-uri", _plain), "cmd": ("command", str.strip),
    "proto": ("network_protocol", transport), "via": ("via", _plain), "line": ("line", _plain),
    "acl": ("acl", _plain),
}
_CISCO_SVC = {
    "SEC_LOGIN": "aaa",
    "PARSER": "aaa",
    "SYS": "aaa",
    "AAA": "aaa",
    "AAAA": "aaa",
    "SSH": "aaa",
    "DMI": "aaa",
    "VSHD": "aaa",
    "AUTHPRIV": "aaa",
    "BGP": "bgp",
    "IP-TCP": "bgp",
    "TCP": "bgp",
    "LDP": "ldp",
    "LINK": "link",
    "LINEPROTO": "link",
    "ETHPORT": "link",
}
_SYS_AAA = ("CONFIG_I", "CONFIG_P", "PRIV_AUTH_FAIL", "PRIV_AUTH_PASS", "LOGOUT", "TTY_EXPIRE_TIMER")


# NX-OS stamps its own messages `2026 Nov 25 12:00:04 ICT: %FAC-SEV-MNEMONIC:` (with the year, in
# the zone `clock timezone` names). Sent without a syslog header, the header parser reads it
# (syslog.py); relayed behind another header, it is read here, the more exact event time.
_NXOS_TS = re.compile(
    r"(?:^|[\s:])(?P<y>\d{4}) (?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}(?P<d>\d{1,2}) "
    r"(?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d)(?:\.(?P<f>\d{1,6}))?"
    r"(?: (?P<tz>[+-]\d\d(?::?\d\d)?|[A-Za-z][\w+:-]{0,11}))?:\s*$"
)
_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}


def _zone(name: str | None) -> tzinfo | None:
    """NX-OS writes its zone's name; none at all is its default, UTC. A name `zones` cannot read
    gives None: the relay's syslog header time stands rather than a guess hours off."""
    return UTC if not name else zone(name)


def _device_time(prefix: str) -> float | None:
    """The NX-OS timestamp ending the text before `%FAC-SEV-MNEMONIC:`, as epoch seconds."""
    mt = _NXOS_TS.search(prefix)
    if mt is None:
        return None
    tz = _zone(mt["tz"])
    if tz is None:
        return None
    try:
        dt = datetime(int(mt["y"]), _MONTHS[mt["mon"]], int(mt["d"]), int(mt["h"]), int(mt["mi"]),
                      int(mt["s"]), tzinfo=tz)
    except ValueError:  # 2026 Feb 30, hour 25...
        return None
    if not 1 < dt.year < 9999:  # a zone could take it past what a datetime holds
        return None
    return dt.timestamp() + (int(mt["f"]) / 10 ** len(mt["f"]) if mt["f"] else 0.0)


def _outcome(fac: str, mn: str, text: str) -> str | None:
    """A login's result by its mnemonic (Cisco's message guides): `*FAIL*` failed; SEC_LOGIN's
    QUIET_MODE_ON is the lockout that failed attempts trigger (its text carries the last failed
    attempt), so a failure too; SSH's USERAUTH ends with the result (`Succeeded`/`Failed`);
    `*SUCCESS*`/`*PASS*` succeeded. Only logins (SEC_LOGIN, `*AUTH*` mnemonics) have one: a
    failed syslog host or config fetch is no authentication, nor are QUIET_MODE_OFF and
    session starts and ends."""
    if fac != "SEC_LOGIN" and "AUTH" not in mn:
        return None
    if "FAIL" in mn or mn == "QUIET_MODE_ON":
        return "failure"
    if mn.endswith("USERAUTH"):
        tail = text.rstrip(". ").rsplit(" ", 1)[-1].lower()
        return "success" if tail == "succeeded" else "failure" if tail == "failed" else None
    if "SUCCESS" in mn or "PASS" in mn:
        return "success"
    return None


def parse_cisco(msg: str, app: str = "", state: object = None) -> Parsed | None:
    m = _CISCO.search(msg)
    if m is None:
        return None
    t = _device_time(msg[: m.start()]) if m.start() >= 20 else None
    return cisco_parsed(m["fac"], int(m["sev"]), m["mn"], m["text"], t)


def cisco_parsed(fac: str, sev: int, mn: str, text: str, t: float | None = None) -> Parsed:
    """The event of `%fac-sev-mn: text` (the groups of `_CISCO`), at device time `t` if known:
    parse_cisco's reading once the message is found, also called with the groups
    _logfast.cisco_line read (LineParser.events)."""
    fields: dict[str, object] = {
        "facility": fac,
        "severity": sev,
        "mnemonic": mn,
        "event_id": f"{fac}-{sev}-{mn}",
        "message": text,
    }
    if "[" in text:
        for k, v in _BRACKETS.findall(text):
            k = k.lower()
            if k == "user":
                if v:
                    fields["user"] = v
            elif k == "source":
                fields["src_ip"] = v
            elif k == "localport":
                fields["dst_port"] = to_int(v)
            elif k == "reason":
                fields["reason"] = v
    if "changed state" in text:
        mi = _IFACE.search(text)
        if mi:
            fields["interface"] = mi["iface"]
            fields["state"] = mi["state"]
    categories: tuple[str, ...] = ()
    hits = _GUARD_SCAN(text, True)
    for rx in _extractors(frozenset([h[0] for h in hits])) if hits else ():
        mx = rx.search(text)
        if mx is None:
            continue
        for k, v in mx.groupdict().items():
            if not v:
                continue
            if k == "ip":
                fields.setdefault("src_ip" if is_ip(v) else "src_host", v)
            elif k == "act":
                fields["action"] = "permit" if v == "permitted" else "deny"
                fields["blocked"] = "true" if v == "denied" else "false"
                categories = ("firewall",)
            else:
                name, conv = _GROUP_FIELDS[k]
                if name not in fields and (val := conv(v)) is not None:
                    fields[name] = val
    outcome = _outcome(fac, mn, text)
    if outcome is not None:
        fields["outcome"] = outcome
    svc = _CISCO_SVC.get(fac, _CISCO_SVC.get(fac.split("-")[0], "syslog"))
    if fac == "SYS" and mn not in _SYS_AAA:
        svc = "syslog"
    return Parsed("cisco", fields, "cisco", (svc, "syslog") if svc != "syslog" else ("syslog",), categories,
                  time=t)


PARSERS = [
    ParserSpec(
        "cisco",
        parse_cisco,
        (
            *tuple(LogSource("cisco", (s, "syslog")) for s in ("aaa", "bgp", "ldp", "link")),
            LogSource("cisco", ("syslog",)),
            LogSource("cisco", ("syslog",), ("firewall",)),
        ),
        markers=("%",),
        order=45,
        description="Cisco IOS/IOS-XE/NX-OS `%FAC-SEV-MNEMONIC:`",
    ),
]
