"""Network gear syslog: Cisco IOS `%FACILITY-SEV-MNEMONIC:` messages, Junos `TAG: text` messages
and FortiGate key=value logs, into fields the built-in pack and SigmaHQ's network rules use.

The `service` of each event follows SigmaHQ's network logsources: `aaa` (logins, commands,
configuration), `bgp`, `ldp`; link state changes get `link` (no SigmaHQ equivalent)."""

from __future__ import annotations

import re

from nocsoc.collectors.logs.parsers.base import Parsed, to_int
from nocsoc.collectors.logs.parsers.registry import ParserSpec
from nocsoc.logsources import LogSource

_CISCO = re.compile(
    r"%(?P<fac>[A-Z0-9_]+(?:-[A-Z0-9_]+)*?)-(?P<sev>[0-7])-(?P<mn>[A-Z0-9_]+):\s*(?P<text>.*)")
_BRACKETS = re.compile(r"\[(\w+): ([^\]]*)\]")
_IFACE = re.compile(r"Interface (?P<iface>[\w/.:-]+), changed state to (?P<state>[\w ]+?)\s*$")
_CFG_BY = re.compile(
    r"Configured from (?P<via>\S+) by (?P<user>\S+)(?: on (?P<line>\S+))?(?: \((?P<ip>[^)]+)\))?")
_LOGGEDCMD = re.compile(r"User:(?P<user>\S+)\s+logged command:(?P<cmd>.*)")
_CISCO_SVC = {"SEC_LOGIN": "aaa", "PARSER": "aaa", "SYS": "aaa", "AAA": "aaa", "SSH": "aaa",
              "BGP": "bgp", "IP-TCP": "bgp", "TCP": "bgp", "LDP": "ldp", "LINK": "link",
              "LINEPROTO": "link"}


def parse_cisco(msg: str, app: str = "", state: object = None) -> Parsed | None:
    m = _CISCO.search(msg)
    if m is None:
        return None
    fac, sev, mn, text = m["fac"], int(m["sev"]), m["mn"], m["text"]
    fields: dict[str, object] = {"facility": fac, "severity": sev, "mnemonic": mn,
                                 "event_id": f"{fac}-{sev}-{mn}", "message": text}
    for k, v in _BRACKETS.findall(text):
        k = k.lower()
        if k == "user":
            fields["user"] = v
        elif k == "source":
            fields["src_ip"] = v
        elif k == "localport":
            fields["dst_port"] = to_int(v)
        elif k == "reason":
            fields["reason"] = v
    mi = _IFACE.search(text)
    if mi:
        fields["interface"] = mi["iface"]
        fields["state"] = mi["state"]
    mc = _CFG_BY.search(text)
    if mc:
        fields["user"] = mc["user"]
        if mc["ip"]:
            fields["src_ip"] = mc["ip"]
    ml = _LOGGEDCMD.search(text)
    if ml:
        fields["user"] = ml["user"]
        fields["command"] = ml["cmd"].strip()
    if fac == "SEC_LOGIN":
        fields["outcome"] = "failure" if "FAIL" in mn else "success"
    svc = _CISCO_SVC.get(fac, _CISCO_SVC.get(fac.split("-")[0], "syslog"))
    if fac == "SYS" and mn != "CONFIG_I":
        svc = "syslog"
    return Parsed("cisco", fields, "cisco", (svc, "syslog") if svc != "syslog" else ("syslog",))


_JUNOS = re.compile(r"^(?P<tag>[A-Z][A-Z0-9]*_[A-Z0-9_]+): (?P<text>.*)")
_JUNOS_USER = re.compile(r"(?:for user|User) '(?P<user>[^']*)'")
_JUNOS_HOST = re.compile(r"from host '(?P<ip>[^']*)'|from (?P<ip2>\d+\.\d+\.\d+\.\d+)")
_JUNOS_IF = re.compile(r"ifName (?P<iface>[\w/.:-]+)")


def parse_junos(msg: str, app: str = "", state: object = None) -> Parsed | None:
    m = _JUNOS.match(msg)
    if m is None:
        return None
    tag, text = m["tag"], m["text"]
    fields: dict[str, object] = {"event_id": tag, "message": text}
    mu = _JUNOS_USER.search(text)
    if mu:
        fields["user"] = mu["user"]
    mh = _JUNOS_HOST.search(text)
    if mh:
        fields["src_ip"] = mh["ip"] or mh["ip2"]
    if tag.startswith("SNMP_TRAP_LINK_"):
        svc = "link"
        fields["state"] = tag.rsplit("_", 1)[1].lower()
        mi = _JUNOS_IF.search(text)
        if mi:
            fields["interface"] = mi["iface"]
    elif tag.startswith(("BGP_", "RPD_")) or app == "rpd":
        svc = "bgp"
    elif tag.startswith(("UI_", "SSHD_", "LOGIN_")):
        svc = "aaa"
        if "FAIL" in tag:
            fields["outcome"] = "failure"
    else:
        svc = "syslog"
    return Parsed("junos", fields, "juniper", (svc, "syslog") if svc != "syslog" else ("syslog",))


_JUNOS_APPS = ("mgd", "rpd", "mib2d", "chassisd", "dcd", "eventd", "jlaunchd", "RT_FLOW", "RT_IDS",
               "RT_SCREEN", "RT_UTM", "RT_IDP", "RT_AAMW", "RT_SECINTEL", "sshd")
PARSERS = [
    ParserSpec("cisco", parse_cisco,
               tuple(LogSource("cisco", (s, "syslog")) for s in ("aaa", "bgp", "ldp", "link"))
               + (LogSource("cisco", ("syslog",)),),
               markers=("%",), order=45, description="Cisco IOS/IOS-XE/NX-OS `%FAC-SEV-MNEMONIC:`"),
    ParserSpec("junos", parse_junos,
               tuple(LogSource("juniper", (s, "syslog")) for s in ("aaa", "bgp", "link"))
               + (LogSource("juniper", ("syslog",)),),
               programs=_JUNOS_APPS, prefixes=("RT_", "UI_", "SNMP_TRAP_", "BGP_", "RPD_", "SSHD_", "LOGIN_"),
               order=46, description="Junos `TAG: text` messages"),
]
