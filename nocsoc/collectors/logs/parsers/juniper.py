"""Junos syslog (SRX firewalls, EX/QFX switches, MX routers): `TAG: text` messages and their
structured form (`TAG [junos@2636... key="value" ...]`), into Sigma fields.

- RT_FLOW_SESSION_CREATE/CLOSE/DENY (standard text and structured): src/dst and ports, NAT
  (ECS source.nat.ip / destination.nat.ip), protocol, policy, zones, bytes each way; category
  firewall, `blocked` on deny;
- RT_SCREEN_* / RT_IDS_* (screens: floods, sweeps, scans): attack name, src/dst, action;
- EX/QFX firewall filter logs (`FW: ifname A|D|R ... proto src dst sport dport (n packets)`);
- UI_* (logins with the ssh connection's addresses, commands, configuration), SSHD_*, LOGIN_*,
  BGP/RPD, SNMP_TRAP_LINK_* (link state), `rshd` remote commands.

The `service` follows SigmaHQ's network logsources: `aaa`, `bgp`, `link` (no SigmaHQ
equivalent for link state)."""

from __future__ import annotations

import re

from nocsoc.collectors.logs.parsers.base import Guarded, Parsed, digits, is_ip, kv_pairs, to_int, transport
from nocsoc.collectors.logs.parsers.registry import ParserSpec
from nocsoc.logsources import LogSource

_IP = r"(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*[0-9A-Fa-f])"
_TAGGED = re.compile(r"^(?P<tag>[A-Z][A-Z0-9]*_[A-Z0-9_]+)(?:: | \[(?P<sd>[^\]]*)\]\s*)(?P<text>.*)", re.S)
_IS_TAG = re.compile(r"^[A-Z][A-Z0-9]*_[A-Z0-9_]+$")
_USER = re.compile(r"(?:for user|User|user) '(?P<user>[^']*)'")
_HOST = re.compile(rf"from host '(?P<ip>[^']*)'|from (?P<ip2>{_IP})")
_IFNAME = re.compile(r"ifName (?P<iface>[\w/.:-]+)")
_SSH_CONN = re.compile(rf"ssh-connection '(?P<src>{_IP}) (?P<sport>\d+) (?P<dst>{_IP}) (?P<dport>\d+)'")
_FLOW = re.compile(
    rf"(?P<src>{_IP})/(?P<sport>\d+)->(?P<dst>{_IP})/(?P<dport>\d+) \S+ (?P<svc>\S+) "
    rf"(?P<nsrc>{_IP})/(?P<nsport>\d+)->(?P<ndst>{_IP})/(?P<ndport>\d+)"
)
_FLOW_TAIL = re.compile(
    r" (?P<proto>\d{1,3}) (?P<policy>\S+) (?P<szone>\S+) (?P<dzone>\S+) (?P<sid>\d+)"
    r"(?: (?P<pin>\d+)\((?P<bin>\d+)\) (?P<pout>\d+)\((?P<bout>\d+)\))?"
)
_CLOSE_REASON = re.compile(r"session closed (?P<reason>[^:]+):")
_SCREEN_TEXT = re.compile(
    rf"source: (?P<src>{_IP})(?::(?P<sport>\d+))?, destination: (?P<dst>{_IP})"
    rf"(?::(?P<dport>\d+))?"
)
_FW = re.compile(
    rf"^FW: (?P<iface>\S+)\s+(?P<act>[ADR]) .*?(?P<proto>\b[A-Za-z][\w-]*) (?P<src>{_IP}) "
    rf"(?P<dst>{_IP})\s+(?P<sport>\d+)\s+(?P<dport>\d+) \((?P<pkts>\d+) packets?\)"
)
_RSHD = re.compile(rf"^(?P<ruser>[^@\s]+)@(?P<ip>{_IP}) as (?P<user>\S+): cmd='(?P<cmd>.*)'")
_SD_FIELDS = {
    "source-address": "src_ip",
    "destination-address": "dst_ip",
    "source-port": "src_port",
    "destination-port": "dst_port",
    "nat-source-address": "source.nat.ip",
    "nat-destination-address": "destination.nat.ip",
    "bytes-from-client": "source.bytes",
    "bytes-from-server": "destination.bytes",
    "username": "user",
    "policy-name": "policy",
    "source-zone-name": "src_zone",
    "destination-zone-name": "dst_zone",
    "attack-name": "attack",
    "interface-name": "interface",
    "service-name": "service_name",
    "reason": "reason",
    "action": "action",
    "application": "application",
    "session-id-32": "session_id",
}
_FW_ACTIONS = {"A": "accept", "D": "discard", "R": "reject"}
# searched only where their literal is (~1 us each saved on an RT_FLOW line)
_USER_G, _HOST_G, _FLOW_G = Guarded(_USER, ("ser '",)), Guarded(_HOST, ("from ",)), Guarded(_FLOW, ("->",))
_JUNOS_PROGRAMS = (
    "mgd",
    "rpd",
    "mib2d",
    "chassisd",
    "dcd",
    "eventd",
    "jlaunchd",
    "RT_FLOW",
    "RT_IDS",
    "RT_SCREEN",
    "RT_UTM",
    "RT_IDP",
    "RT_AAMW",
    "RT_SECINTEL",
    "sshd",
    "rshd",
    "FW",
    "l2ald",
    "xntpd",
    "keyadmin",
    "PFE_FW_SYSLOG_ETH_IP",
    "PFE_FW_SYSLOG_IP",
)


def _flow(tag: str, text: str, fields: dict[str, object]) -> None:
    m = _FLOW_G.search(text)
    if m is None:
        return
    fields.update(
        {
            "src_ip": m["src"],
            "src_port": digits(m["sport"]),
            "dst_ip": m["dst"],
            "dst_port": digits(m["dport"]),
            "service_name": m["svc"],
            "source.nat.ip": m["nsrc"],
            "source.nat.port": digits(m["nsport"]),
            "destination.nat.ip": m["ndst"],
            "destination.nat.port": digits(m["ndport"]),
        }
    )
    mt = _FLOW_TAIL.search(text, m.end())
    if mt is not None:
        fields.update(
            {
                "network_protocol": transport(mt["proto"]),
                "policy": mt["policy"],
                "src_zone": mt["szone"],
                "dst_zone": mt["dzone"],
                "session_id": mt["sid"],
            }
        )
        if mt["bin"] is not None and tag.endswith("CLOSE"):
            fields["source.bytes"], fields["destination.bytes"] = digits(mt["bin"]), digits(mt["bout"])
    mr = _CLOSE_REASON.search(text)
    if mr is not None:
        fields["reason"] = mr["reason"]


def _structured(sd: str, fields: dict[str, object]) -> None:
    kv = kv_pairs(sd)
    for k, v in kv.items():
        name = _SD_FIELDS.get(k)
        if name is None:
            fields[f"junos.{k}"] = v
            continue
        if v in ("N/A", ""):
            continue
        if name in ("src_port", "dst_port", "source.bytes", "destination.bytes"):
            fields[name] = to_int(v)
        else:
            fields[name] = v
    if "protocol-id" in kv:
        fields["network_protocol"] = transport(kv["protocol-id"])


def parse_junos(msg: str, app: str = "", state: object = None) -> Parsed | None:
    m = _TAGGED.match(msg)
    sd: str | None = None
    if m is not None:
        tag, text, sd = m["tag"], m["text"], m["sd"]
    elif _IS_TAG.match(app):  # BSD syslog with the tag as program: `RT_FLOW_SESSION_CREATE: session ...`
        tag, text = app, msg
    elif msg.startswith("FW: ") or app == "FW":
        return _parse_fw(msg if msg.startswith("FW: ") else "FW: " + msg)
    elif app == "rshd":
        mr = _RSHD.match(msg)
        if mr is None:
            return None
        return Parsed(
            "junos",
            {
                "event_type": "rshd_command",
                "user": mr["user"],
                "src_user": mr["ruser"],
                "src_ip": mr["ip"],
                "command": mr["cmd"],
                "message": msg,
            },
            "juniper",
            ("aaa", "syslog"),
        )
    else:
        return None
    fields: dict[str, object] = {"event_id": tag, "message": text}
    categories: tuple[str, ...] = ()
    if sd is not None:
        _structured(sd, fields)
    if tag.startswith("RT_FLOW_SESSION"):
        if sd is None:
            _flow(tag, text, fields)
        categories = ("firewall",)
        denied = tag.endswith(("DENY", "REJECT"))
        fields.setdefault("action", "deny" if denied else "permit")
        fields["blocked"] = "true" if denied else "false"
    elif tag.startswith(("RT_SCREEN", "RT_IDS", "RT_IDP")):
        if sd is None:
            ms = _SCREEN_TEXT.search(text)
            if ms is not None:
                fields["src_ip"], fields["dst_ip"] = ms["src"], ms["dst"]
                for g, name in (("sport", "src_port"), ("dport", "dst_port")):
                    if (n := digits(ms[g] or "")) is not None:
                        fields[name] = n
            fields.setdefault("attack", text.split(" source:", 1)[0].strip())
        categories = ("firewall",)
    mu = _USER_G.search(text)
    if mu and "user" not in fields:
        fields["user"] = mu["user"]
    if "src_ip" not in fields:
        mc = _SSH_CONN.search(text)
        if mc is not None:
            fields.update(
                {
                    "src_ip": mc["src"],
                    "src_port": digits(mc["sport"]),
                    "dst_ip": mc["dst"],
                    "dst_port": digits(mc["dport"]),
                }
            )
        else:
            mh = _HOST_G.search(text)
            if mh:
                ip = mh["ip"] or mh["ip2"]
                fields["src_ip" if is_ip(ip) else "src_host"] = ip
    if tag.startswith("SNMP_TRAP_LINK_"):
        svc = "link"
        fields["state"] = tag.rsplit("_", 1)[1].lower()
        mi = _IFNAME.search(text)
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
    return Parsed("junos", fields, "juniper", (svc, "syslog") if svc != "syslog" else ("syslog",), categories)


def _parse_fw(msg: str) -> Parsed | None:
    m = _FW.match(msg)
    if m is None:
        return None
    act = _FW_ACTIONS[m["act"]]
    fields: dict[str, object] = {
        "event_id": "FW",
        "interface": m["iface"],
        "in_interface": m["iface"],
        "action": act,
        "blocked": "false" if act == "accept" else "true",
        "network_protocol": transport(m["proto"]),
        "src_ip": m["src"],
        "dst_ip": m["dst"],
        "src_port": digits(m["sport"]),
        "dst_port": digits(m["dport"]),
        "packets": digits(m["pkts"]),
        "message": msg,
    }
    return Parsed("junos", fields, "juniper", ("syslog",), ("firewall",))


PARSERS = [
    ParserSpec(
        "junos",
        parse_junos,
        (
            *tuple(LogSource("juniper", (s, "syslog")) for s in ("aaa", "bgp", "link")),
            LogSource("juniper", ("syslog",)),
            LogSource("juniper", ("syslog",), ("firewall",)),
        ),
        programs=_JUNOS_PROGRAMS,
        prefixes=("RT_", "UI_", "SNMP_TRAP_", "BGP_", "RPD_", "SSHD_", "LOGIN_", "FW: "),
        order=46,
        description="Junos: SRX RT_FLOW/RT_SCREEN/RT_IDS, EX firewall filters, UI_*",
    ),
]
