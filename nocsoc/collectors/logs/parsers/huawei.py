"""Huawei VRP (routers, switches) and USG/NGFW firewall syslog: `%%01MODULE/SEV/BRIEF(l)[n]:
description` (Huawei's "Log Format Description": version, module, severity 0-7, brief, the flag
l=log, t=trap, d=debug, s=security log, an optional serial number), also the spaced form
`%% 01 HWCM/5/EXIT(l)[1]:` older VRP writes, and a leading `CID=...;`/`VS=...-CID=...;`.

The description carries its parameters as `(Key=Value, Key=Value)` (VRP V8), `key=value, ...`
(USG session and policy logs) or `key:value key:value` (USG SHELL): all become fields, the ones
with a Sigma name mapped (src_ip, src_port, dst_ip, dst_port, user, network_protocol, command,
rule), and free-text forms (`login from 192.168.0.1`, `the peer 10.1.1.2`) fill what is left.

Events: product `huawei`; service `bgp` for BGP (SigmaHQ's huawei bgp rule), `aaa` for logins,
commands and configuration, else `syslog`; category `firewall` for USG policy/session logs."""

from __future__ import annotations

import re
from typing import Any

from nocsoc.collectors.logs.parsers.base import Parsed, digits, is_ip, transport
from nocsoc.collectors.logs.parsers.registry import ParserSpec
from nocsoc.logsources import LogSource

_HEAD = re.compile(r"%% ?(?P<ver>\d\d) ?(?P<mod>[A-Za-z0-9_-]+)/(?P<sev>[0-7])/(?P<brief>[A-Za-z0-9_]+)"
                   r"\((?P<flag>[ltds])\)(?:\[(?P<count>\d+)\])?:\s*(?P<text>.*)", re.S)
_CID = re.compile(r"^(?:VS=[^-;]*-)?(?:CID=[^;]*;|VS=[^;]*;)\s*")
_PARAMS = re.compile(r"\(([A-Za-z][\w-]*=[^()]*)\)\s*\.?\s*$")
_KV = re.compile(r"(?<![\w-])([A-Za-z][\w-]*+)=([^,;]*)")
_COLON_KV = re.compile(r"(?<![\w-])([a-z][\w-]*+):(\S+)")
_FROM = re.compile(r"(?:from|by) (?P<ip>\d{1,3}(?:\.\d{1,3}){3})")
_PEER = re.compile(r"peer (?P<ip>\d{1,3}(?:\.\d{1,3}){3})")
_USER_TEXT = re.compile(r"[Uu]ser(?:name)? ?(?:name)?[ :=]+\"?(?P<user>[\w.@\\-]+)")
_MAP: dict[str, str] = {
    "ip": "src_ip", "userip": "src_ip", "sourceip": "src_ip", "source-ip": "src_ip", "srcip": "src_ip",
    "srcaddr": "src_ip", "ipaddress": "src_ip", "ipaddr": "src_ip", "clientip": "src_ip",
    "sourceport": "src_port", "source-port": "src_port", "srcport": "src_port",
    "destinationip": "dst_ip", "destination-ip": "dst_ip", "dstip": "dst_ip", "dstaddr": "dst_ip",
    "destinationport": "dst_port", "destination-port": "dst_port", "dstport": "dst_port",
    "protocol": "proto", "user": "user", "username": "user", "user-name": "user", "loginusername": "user",
    "command": "command", "cmd": "command", "result": "result", "rule-name": "rule", "rulename": "rule",
    "policyname": "rule", "source-zone": "src_zone", "sourcezone": "src_zone", "destination-zone": "dst_zone",
    "destinationzone": "dst_zone", "vsys": "vsys", "application": "application", "peeraddress": "peer_ip",
    "neighboraddress": "peer_ip", "sourcenatip": "source.nat.ip", "destinationnatip": "destination.nat.ip",
    "source-nat-ip": "source.nat.ip", "destination-nat-ip": "destination.nat.ip",
}
_AAA_MODULES = {"SHELL", "SSH", "SSHS", "AAA", "TELNET", "TELNETS", "CLI", "HWCM", "CMD", "CFG", "LOGIN",
                "SNMP", "FTPS", "HTTP", "WEB", "UI"}
_FW_MODULES = {"SEC", "SECLOG", "POLICY", "FWLOG", "FW-LOG", "SESSION", "NAT", "IPS", "AV", "URL", "ATK"}
_INTS = {"src_port", "dst_port"}


def parse_huawei(msg: str, app: str = "", state: object = None) -> Parsed | None:
    if "%%" not in msg:
        return None
    m = _HEAD.search(msg)
    if m is None:
        return None
    mod, brief, text = m["mod"], m["brief"], m["text"].strip()
    text = _CID.sub("", text)
    fields: dict[str, Any] = {"module": mod, "severity": int(m["sev"]), "brief": brief,
                              "event_id": f"{mod}/{m['sev']}/{brief}", "log_flag": m["flag"], "message": text}
    params: list[tuple[str, str]] = []
    mp = _PARAMS.search(text)
    if mp is not None:
        params = _KV.findall(mp[1])
    elif "=" in text:
        params = _KV.findall(text.rstrip(". "))
    elif ":" in text:
        params = _COLON_KV.findall(text)
    for k, v in params:
        v = v.strip().strip('"')
        name = _MAP.get(k.lower())
        if name is None:
            fields.setdefault(f"huawei.{k}", v)
        elif v not in ("", "--", "N/A"):
            n = digits(v) if name in _INTS else None
            if n is None and name in _INTS and v.isdigit():
                continue  # a number too long to be one: left out, not kept as text
            fields.setdefault(name, v if n is None else n)
    if "proto" in fields:
        fields["network_protocol"] = transport(fields.pop("proto"))
    for k in ("src_ip", "dst_ip"):
        if k in fields and not is_ip(fields[k]):
            fields[k.replace("_ip", "_host")] = fields.pop(k)
    if "src_ip" not in fields:
        mf = _FROM.search(text)
        if mf is not None:
            fields["src_ip"] = mf["ip"]
    if "user" not in fields:
        mu = _USER_TEXT.search(text)
        if mu is not None:
            fields["user"] = mu["user"]
    up_mod = mod.upper()
    if up_mod == "BGP":
        mpeer = _PEER.search(text)
        if mpeer is not None:
            fields.setdefault("peer_ip", mpeer["ip"])
    up_brief = brief.upper()
    result = str(fields.get("result", "")).lower()
    if "FAIL" in up_brief or result.startswith("fail") or "failed" in text[:80].lower():
        fields["outcome"] = "failure"
    elif "SUCC" in up_brief or result.startswith("succ") or up_brief in ("LOGIN", "LOGOUT") \
            or "succeed" in text[:80].lower():
        fields["outcome"] = "success"
    categories: tuple[str, ...] = ()
    if up_mod in _FW_MODULES and ("src_ip" in fields or "dst_ip" in fields):
        categories = ("firewall",)
        deny = "DENY" in up_brief or "DROP" in up_brief or "BLOCK" in up_brief
        fields["action"] = "deny" if deny else "permit"
        fields["blocked"] = "true" if deny else "false"
    svc = "bgp" if up_mod == "BGP" else "aaa" if up_mod in _AAA_MODULES else "syslog"
    return Parsed("huawei", fields, "huawei", (svc, "syslog") if svc != "syslog" else ("syslog",), categories)


PARSERS = [
    ParserSpec("huawei", parse_huawei,
               (LogSource("huawei", ("bgp", "syslog")), LogSource("huawei", ("aaa", "syslog")),
                LogSource("huawei", ("syslog",)), LogSource("huawei", ("syslog",), ("firewall",))),
               markers=("%%",), order=43, description="Huawei VRP and USG `%%01MOD/SEV/BRIEF(l):`"),
]
