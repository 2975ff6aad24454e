"""Golden samples of log formats: SEKOIA.io's intake-format tests in ../shared/log-samples/sekoia/
(real lines with the fields a production parser extracts), compared field by field with nocsoc's
parse. Used by test_golden.py, which also regenerates the table in docs/log-formats.md.

SEKOIA's expected events are ECS; nocsoc's fields are Sigma's (ECS where Sigma has none).
`FIELD_MAP` is the correspondence scored: only these fields count (the rest of SEKOIA's event is
its own vocabulary: event.category, action.*, vendor namespaces). Values are compared as
lower-cased strings (ECS lower-cases `network.transport`; ports and codes are numbers on
both sides but may be strings in either)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nocsoc.collectors.logs.parsers import LineParser
from nocsoc.events import LogEvent

# SEKOIA (ECS) field -> nocsoc field
FIELD_MAP: dict[str, str] = {
    "source.ip": "src_ip",
    "source.port": "src_port",
    "destination.ip": "dst_ip",
    "destination.port": "dst_port",
    "user.name": "user",
    "source.nat.ip": "source.nat.ip",
    "destination.nat.ip": "destination.nat.ip",
    "network.transport": "network_protocol",
    "source.bytes": "source.bytes",
    "destination.bytes": "destination.bytes",
    "url.original": "c-uri",
    "http.request.method": "cs-method",
    "http.response.status_code": "sc-status",
    "user_agent.original": "c-useragent",
    "client.ip": "src_ip",
}

# format -> program name a syslog relay would have put in front of SEKOIA's header-less bodies
# (None: the lines are complete as they are: device syslog bodies, access logs, JSON; "": the
# bodies start with their own `program[pid]: ` tag, only the syslog header is missing)
FORMATS: dict[str, str | None] = {
    "openssh": "sshd",
    "fortigate": None,
    "cisco-secure-firewall": None,
    "cisco-ios": None,
    "cisco-nx-os": None,
    "juniper-ngfw": "",
    "juniper-switches": "",
    "paloalto-ngfw": None,
    "sophos-firewall": None,
    "checkpoint": None,
    "openbsd-packet-filter": "filterlog",
    "netfilter": "kernel",
    "apache": None,
    "nginx": None,
    "microsoft-iis": None,
}
# Where nocsoc deliberately reads a line differently from SEKOIA's expectation: (format, sample,
# field) -> why. Listed in the docs table; the test checks each still differs (no stale entries).
DISAGREE: dict[tuple[str, str, str], str] = {
    **{
        ("cisco-ios", case, "source.port"): "Cisco's SEC_LOGIN messages (IOS Login Enhancements) "
        "give `[Source: <client address>] [localport: <port>]`: the device's own port the login came "
        "to (22 SSH, 23 Telnet, 80 HTTP; 0 with Source 0.0.0.0 on the console), the connection's "
        "destination, so dst_port (ECS: source.port is the port of the source, 1.2.3.4 here). "
        "SEKOIA itself puts the device's port 22 in destination.port for the same event from sshd "
        "(openssh connection_from) and Junos (juniper-ngfw UI_LOGIN_EVENT); the client's port is "
        "not in the message"
        for case in (
            "test_login",
            "test_login_failed_2",
            "test_login_failed_with_tz",
            "test_login_quiet_mode_on",
        )
    },
    (
        "cisco-nx-os",
        "test_vshd_syslog_config",
        "destination.ip",
    ): "NX-OS writes `Configured from vty by <user> on <remote host>@<tty>`: the remote host of "
    "the operator's session (as `show users` lists it), the host the change came from: src_ip; "
    "the destination is the switch itself. SEKOIA reads the IOS form of the same event "
    "(`Configured from console by <user> on vty1 (<remote host>)`, cisco-ios test_config_1) as "
    "source.ip, as Auditbeat reads a login's `from <address>`",
    **{
        (
            "paloalto-ngfw",
            case,
            "url.original",
        ): "PAN-OS logs the URL without a scheme; nocsoc does not guess one"
        for case in (
            "network_threat_alert_1",
            "network_threat_alert_2",
            "test_new_url_type",
            "test_threat",
            "threat-url-xff",
        )
    },
    **{
        ("fortigate", case, f): "FortiGate's CEF `out`/`in` are the session's totals (sentbyte/"
        "rcvdbyte) and `sentdelta`/`rcvddelta` what this (interim) log accounts for; nocsoc reads "
        "the delta where the log has one, in every FortiGate form, so that summing a session's logs "
        "counts each byte once. SEKOIA reads the delta in the key=value form of the same log "
        "(test_long_lived_session, test_unauthuser, traffic_with_pass_and_cert) but the total in CEF"
        for case in ("traffic_forward-RDP.CEF", "traffic_forward.CEF-4")
        for f in ("source.bytes", "destination.bytes")
    },
    (
        "fortigate",
        "vpn.STANDARD",
        "http.request.method",
    ): "`method=\"HTTP\"` of a VPN certificate event is how the CRL was fetched (HTTP, LDAP, SCEP), "
    "no HTTP request method (GET, POST)",
    (
        "juniper-ngfw",
        "cron_mail",
        "source.bytes",
    ): "`(root) MAIL (mailed 39 bytes of output ...)`: the size of the mail cron sent with a job's "
    "output, no network exchange between a source and a destination (ECS source.bytes)",
    (
        "checkpoint",
        "CEF_decrypt",
        "network.transport",
    ): "`proto=6` is TCP; SEKOIA's `6 scheme:=ike` takes in the next key of the line",
    (
        "paloalto-ngfw",
        "test_system_event_14",
        "user.name",
    ): "`failed authentication for user john.doe. Reason: ...`: the period ends PAN-OS's sentence, "
    "it is no part of the user name",
    (
        "paloalto-ngfw",
        "traffic2_csv",
        "user.name",
    ): "`suser=user.name@corp.com`: nocsoc's user is the short name (ECS user.name, 'short name or "
    "login'), the whole form staying in src_user; SEKOIA itself strips the domain of `domain\\user` "
    "(globalprotect_cef, sctp_cef) but not of `user@domain`",
    (
        "paloalto-ngfw",
        "url_cef",
        "url.original",
    ): "the log's `request` is `?%`; SEKOIA builds `https://` from the port, nocsoc keeps what the "
    "firewall wrote",
    **{
        ("cisco-secure-firewall", case, f): "ASA 722051 (`Group <g> User <u> IP <public> IPv4 Address "
        "<assigned> IPv6 address <assigned> assigned to session`): the peer connects from its public "
        "address, the source; inside, its traffic carries the assigned one, the source's translated "
        "address (ECS source.nat.ip). SEKOIA reads the same message the other way round here and as "
        "nocsoc does in test_FTD_722051_1 (source.ip = the public address)"
        for case in ("test_group_1_2", "test_group_1_3")
        for f in ("source.ip", "source.nat.ip")
    },
    (
        "cisco-secure-firewall",
        "test_ASA_111007",
        "network.transport",
    ): "`Begin configuration: <ip> reading from http [POST]` names the configuration's channel "
    "(http, console, a file); ECS network.transport (Sigma network_protocol) is the transport layer "
    "(tcp, udp): http is no transport and nocsoc does not put it there",
}
_HEADER = re.compile(r"^(?:<\d+>)?[A-Z][a-z]{2} +\d+ \d\d:\d\d:\d\d \S+ [\w()./-]+(?:\[\d+\])?: ")
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


@dataclass
class Case:
    name: str
    line: str
    expected: dict[str, Any]  # SEKOIA field -> value, scored fields only


@dataclass
class Score:
    fmt: str
    samples: int = 0
    parsed: int = 0
    right: int = 0
    expected: int = 0
    disagreed: int = 0  # misses listed in DISAGREE
    misses: list[str] = field(default_factory=list)
    stale: list[tuple[str, str, str]] = field(default_factory=list)  # DISAGREE entries now right

    @property
    def ratio(self) -> float:
        return self.right / self.expected if self.expected else 1.0

    @property
    def ratio_agreed(self) -> float:
        """Share right among the fields nocsoc and SEKOIA read the same way."""
        n = self.expected - self.disagreed
        return self.right / n if n else 1.0


def cases(root: Path, fmt: str) -> list[Case]:
    prog = FORMATS[fmt]
    out = []
    for f in sorted((root / "sekoia" / fmt).glob("*.json")):
        doc = json.loads(f.read_text(encoding="utf-8"))
        msg = doc["input"]["message"]
        line = msg
        appname = flatten(doc["input"]).get("log.syslog.appname")
        if appname:
            line = f"<38>Nov 25 01:02:03 host1 {appname}: {msg.strip()}"
        elif prog == "":
            line = f"<38>Nov 25 01:02:03 host1 {msg.strip()}"
        elif prog is not None and not _HEADER.match(msg):
            line = f"<38>Nov 25 01:02:03 host1 {prog}[42]: {msg.strip()}"
        exp = {k: v for k, v in flatten(doc["expected"]).items() if k in FIELD_MAP}
        out.append(Case(f.stem, line, exp))
    return out


def _same(ours: Any, theirs: Any) -> bool:
    return ours is not None and str(ours).lower() == str(theirs).lower()


def score(root: Path, fmt: str) -> tuple[Score, list[LogEvent]]:
    sc = Score(fmt)
    evs = []
    for case in cases(root, fmt):
        parser = LineParser(default_host="collector")
        got = parser.events(case.line, now=NOW)
        ev = got[0]
        evs.append(ev)
        sc.samples += 1
        sc.parsed += ev.parser not in ("unparsed", "syslog")
        for k, v in case.expected.items():
            sc.expected += 1
            ours = ev.fields.get(FIELD_MAP[k])
            listed = (fmt, case.name, k) in DISAGREE
            if _same(ours, v):
                sc.right += 1
                if listed:
                    sc.stale.append((fmt, case.name, k))
            elif listed:
                sc.disagreed += 1
            else:
                sc.misses.append(f"{case.name}: {k}={v!r} -> {FIELD_MAP[k]}={ours!r} ({ev.parser})")
    return sc, evs


def table(scores: list[Score]) -> str:
    rows = [
        "| format | samples | parsed by a format parser | fields right / expected | share | "
        "documented disagreements | share of the rest |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in scores:
        rows.append(
            f"| `{s.fmt}` | {s.samples} | {s.parsed} | {s.right} / {s.expected} | "
            f"{100 * s.ratio:.1f}% | {s.disagreed} | {100 * s.ratio_agreed:.1f}% |"
        )
    total = Score(
        "all",
        sum(s.samples for s in scores),
        sum(s.parsed for s in scores),
        sum(s.right for s in scores),
        sum(s.expected for s in scores),
        sum(s.disagreed for s in scores),
    )
    rows.append(
        f"| **all** | {total.samples} | {total.parsed} | {total.right} / {total.expected} | "
        f"{100 * total.ratio:.1f}% | {total.disagreed} | {100 * total.ratio_agreed:.1f}% |"
    )
    return "\n".join(rows) + "\n"


def disagreements() -> str:
    return (
        "\n".join(f"- `{fmt}` {case} `{fld}`: {why}" for (fmt, case, fld), why in sorted(DISAGREE.items()))
        + "\n"
    )
