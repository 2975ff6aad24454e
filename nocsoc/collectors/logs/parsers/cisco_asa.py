"""Cisco ASA / Firepower Threat Defense (`%ASA-6-302013:`, `%FTD-`, `%NGIPS-`, `%PIX-`, `%FWSM-`)
-> the fields of each message ID, from Cisco's "Syslog Messages" reference: who (src_ip/src_port,
dst_ip/dst_port, interfaces, user), what (network_protocol, action, blocked), NAT (ECS
source.nat.ip / destination.nat.ip), bytes; and the AnyConnect/WebVPN bodies (`Group <G> User
<U> IP <A> ...`) that relays send without the tag.

Events: product `cisco`, service `asa` (plus `aaa` for logins and commands), category
`firewall` for connection, deny and translation messages."""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable
from typing import Any, Literal

from nocsoc.collectors.logs.parsers.base import IANA_PROTO, Guarded, Parsed, digits, is_ip, transport
from nocsoc.collectors.logs.parsers.registry import ParserSpec
from nocsoc.collectors.logs.rxprog import compile_program
from nocsoc.logsources import LogSource

# (six digits and no seventh: `%ASA-6-3020131:` is no message 302013)
_TAG = re.compile(
    r"%(?P<fac>ASA|FTD|NGIPS|PIX|FWSM)-(?P<sev>[0-7])-(?P<id>\d{6})(?!\d):? ?(?P<text>.*)", re.S
)
_IP = r"(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*[0-9A-Fa-f])"
# `[interface:]address[/port]`, optional `(idfw user)` after it
_S = rf"(?:(?P<sif>[A-Za-z_][^\s:/]*):)?(?P<src>{_IP})(?:/(?P<sport>\d+))?(?:\((?P<suser>[^)]*)\))?"
_D = rf"(?:(?P<dif>[A-Za-z_][^\s:/]*):)?(?P<dst>{_IP})(?:/(?P<dport>\d+))?(?:\((?P<duser>[^)]*)\))?"

# bodies that several message IDs share word for word
_DENY_FROM = rf"Deny (?P<dir>inbound|outbound) (?P<proto>\w+) from {_S} to {_D}"  # 106006, 106007
_DENY_SRC = rf"Deny (?P<dir>inbound|outbound) (?P<proto>\w+) src {_S} dst {_D}"  # 106010, 106014
_IKEV2_SA = (  # 750003, 750006: an IKEv2 SA's peers and user
    r"Local:(?P<src>[^\s:]+):(?P<sport>\d+) Remote:(?P<dst>[^\s:]+):(?P<dport>\d+) Username:(?P<user>\S+)"
)

_CRED_REJECTED = (  # 113016 (server), 113017 (local database)
    rf"AAA credentials (?P<res>rejected) : reason = [^:]* : (?:server = +(?P<dst>{_IP}) : )?"
    rf"(?:local database : )?user = (?P<user>[^\s:]+)(?: ?: user IP = (?P<src>{_IP}))?"
)
_CUT_THROUGH = (  # 109005 / 109006: cut-through proxy authentication of a connection
    rf"Authentication (?P<res>succeeded|failed) for user '(?P<user>[^']*)' from {_S} to {_D}"
)
_MGMT_LOGIN = (  # 605004 / 605005: SSH, Telnet, ASDM/HTTPS or serial console login to the box
    rf"Login (?P<res>denied|permitted) from (?:(?P<src>{_IP})/(?P<sport>\d+)|serial) to "
    rf"(?:(?P<dif>[^\s:]+):(?P<dst>{_IP})/(?P<svc>\S+)|console) for user [\"'\u201c\u2018]?"
    rf"(?P<user>[^\"'\u201d\u2019]*)"
)
# the result of an authentication message whose text does not say it in a `res` word
_FAILED_IDS = frozenset({"611102", "725006", "113006", "113021", "716039"})
_SUCCEEDED_IDS = frozenset({"611101", "716038"})
_SUCCESS_WORDS = frozenset({"successful", "succeeded", "permitted", "accept"})

_BY_ID: dict[str, tuple[str, str]] = {  # message ID -> (regex, kind)
    "106001": (rf"(?P<dir>Inbound|Outbound) (?P<proto>\w+) connection denied from {_S} to {_D}", "deny"),
    "106006": (_DENY_FROM, "deny"),
    "106007": (_DENY_FROM, "deny"),
    "106010": (_DENY_SRC, "deny"),
    "106012": (rf"Deny (?P<proto>IP) from {_S} to {_D}", "deny"),
    "106014": (_DENY_SRC, "deny"),
    "106015": (rf"Deny (?P<proto>\w+) \(no connection\) from {_S} to {_D}", "deny"),
    "106021": (rf"Deny (?P<proto>\w+) reverse path check from {_S} to {_D}", "deny"),
    "106023": (
        rf"Deny (?P<proto>\w+) src {_S} dst {_D}(?: \(type \d+, code \d+\))? by access-group "
        r'"(?P<acl>[^"]*)"',
        "deny",
    ),
    "106100": (
        rf"access-list (?P<acl>\S+) (?P<act>permitted|denied|est-allowed) (?P<proto>\w+) "
        rf"(?P<sif>[^\s/]+)/(?P<src>{_IP})\((?P<sport>\d+)\)(?:\([^)]*\))? -> "
        rf"(?P<dif>[^\s/]+)/(?P<dst>{_IP})\((?P<dport>\d+)\)",
        "acl",
    ),
    "110002": (rf"Failed to locate egress interface for (?P<proto>\w+) from {_S} to {_D}", "route"),
    "110003": (rf"Routing failed to locate next hop for (?P<proto>\w+) from {_S} to {_D}", "route"),
    "111007": (rf"Begin configuration: (?P<src>{_IP}) reading from", "config"),
    "111008": (r"User '(?P<user>[^']*)' executed the", "command"),
    "111009": (r"User '(?P<user>[^']*)' executed cmd", "command"),
    "111010": (rf"User '(?P<user>[^']*)', running '[^']*' from IP (?P<src>{_IP})", "command"),
    "113004": (
        rf"AAA user (?:authentication|authorization) (?P<res>Successful) : (?:server = +(?P<dst>{_IP}) "
        r": )?(?:local database : )?user = (?P<user>\S+)",
        "login",
    ),
    "113005": (
        rf"AAA user (?:authentication|authorization) (?P<res>Rejected) : (?:reason = [^:]* : )?"
        rf"(?:server = +(?P<dst>{_IP}) : )?user = (?P<user>\S+)(?: : user IP = (?P<src>{_IP}))?",
        "login",
    ),
    "113012": (
        r"AAA user authentication (?P<res>Successful) : local database : user = (?P<user>\S+)",
        "login",
    ),
    "113015": (
        rf"AAA user authentication (?P<res>Rejected) : reason = [^:]* : local database : user = "
        rf"(?P<user>\S+)(?: : user IP = (?P<src>{_IP}))?",
        "login",
    ),
    "113006": (r"User '(?P<user>[^']*)' locked out on exceeding", "login"),
    "113008": (r"AAA transaction status (?P<res>ACCEPT) : user = (?P<user>\S+)", "login"),
    "113016": (_CRED_REJECTED, "login"),
    "113017": (_CRED_REJECTED, "login"),
    "113019": (rf"Group = (?P<group>[^,]*), Username = (?P<user>[^,]*), IP = (?P<src>{_IP})", "vpn"),
    "113021": (r"Attempted console login failed\.? [Uu]ser '(?P<user>[^']*)'", "login"),
    "109005": (_CUT_THROUGH, "login"),
    "109006": (_CUT_THROUGH, "login"),
    "605004": (_MGMT_LOGIN, "login"),
    "605005": (_MGMT_LOGIN, "login"),
    "302013": (
        rf"Built (?P<dir>inbound|outbound) (?P<proto>\w+) connection (?P<cid>\d+) for {_S} "
        rf"\((?P<snat>{_IP})/(?P<snatport>\d+)\)(?:\((?P<suser2>[^)]*)\))? to {_D} "
        rf"\((?P<dnat>{_IP})/(?P<dnatport>\d+)\)",
        "conn",
    ),
    "302014": (
        rf"Teardown (?P<proto>\w+) connection (?P<cid>\d+) for {_S} to {_D} duration \S+ bytes "
        r"(?P<bytes>\d+)",
        "conn",
    ),
    "302020": (
        rf"Built (?:(?P<dir>inbound|outbound) )?(?P<proto>ICMP|ICMPv6) connection for faddr {_S} "
        rf"gaddr (?P<gaddr>{_IP})/\d+ laddr {_D}",
        "conn",
    ),
    "302021": (
        rf"Teardown (?P<proto>ICMP|ICMPv6) connection for faddr {_S} gaddr (?P<gaddr>{_IP})/\d+ "
        rf"laddr {_D}",
        "conn",
    ),
    "305011": (rf"Built (?:dynamic|static) (?P<proto>\w+) translation from {_S} to {_D}", "nat"),
    "305012": (rf"Teardown (?:dynamic|static) (?P<proto>\w+) translation from {_S} to {_D}", "nat"),
    "313001": (
        rf"Denied (?P<proto>ICMP) type=\d+, code=\d+ from (?P<src>{_IP}) on interface (?P<sif>\S+)",
        "deny",
    ),
    "313005": (rf"No matching connection for ICMP error message: (?P<proto>\w+) src {_S} dst {_D}", "deny"),
    "313008": (
        rf"Denied (?P<proto>IPv6-ICMP) type=\d+, code=\d+ from (?P<src>{_IP}) on interface (?P<sif>\S+)",
        "deny",
    ),
    "609001": (rf"Built local-host {_S}", "host"),
    "609002": (rf"Teardown local-host {_S}", "host"),
    "611101": (rf"User authentication succeeded: IP address: (?P<src>{_IP}), Uname: (?P<user>\S+)", "login"),
    "611102": (rf"User authentication failed: IP address: (?P<src>{_IP}), Uname: (?P<user>\S+)", "login"),
    "611103": (r"User logged out: Uname: (?P<user>\S+)", "logout"),
    "722051": (rf"WebVPN session for client user (?P<user>[^,]+), IP (?P<src>{_IP})", "vpn"),
    "725001": (rf"Starting SSL handshake with (?:client|server) {_S}", "ssl"),
    "725002": (rf"Device completed SSL handshake with (?:client|server) {_S}", "ssl"),
    "725006": (rf"Device failed SSL handshake with (?:client|server) {_S}", "ssl"),
    "725007": (rf"SSL session with (?:client|server) {_S} terminated", "ssl"),
    "737016": (rf"IPAA: Freeing local pool address (?P<src>{_IP})", "vpn"),
    "750003": (_IKEV2_SA, "vpn"),
    "750006": (_IKEV2_SA, "vpn"),
    "852001": (rf"for (?P<proto>\w+) flow {_S} to {_D}", "conn"),
    "109201": (rf"User=(?P<user>[^,]+), Assigned IP=(?P<src>{_IP})", "vpn"),
}
_COMPILED = {k: (re.compile(rx), kind) for k, (rx, kind) in _BY_ID.items()}
# AnyConnect / WebVPN session messages share one prefix (716xxx, 722xxx, 113039, untagged bodies)
_GROUP = re.compile(
    rf"(?:TunnelGroup <[^>]*> )?Group(?:Policy)? <(?P<group>[^>]*)> User <(?P<user>[^>]*)> "
    rf"IP <(?P<src>{_IP})>"
)
# searched only where `Group` is (~3 us of a 150-character text with no AnyConnect prefix in it;
# the C twin too)
_GROUP_G = Guarded(_GROUP, ("Group",))


# 722051: `... IP <public> IPv4 Address <assigned> IPv6 address <assigned> assigned to session`:
# the peer connects from its public address (src_ip) and its traffic inside carries the one the
# pool assigned, so that is the source's translated address (ECS source.nat.ip)
_ASSIGNED = re.compile(r"IPv4 Address <(?P<v4>[^>]*)> IPv6 address <(?P<v6>[^>]*)> assigned")
# certificate messages (717009, 717022, 717027-717029, 717037) name the peer's certificate as
# `serial number: N, subject name: <DN>, issuer_name: <DN>`; the user is the subject's CN, the
# attribute ASA takes the user name from by default (`username-from-certificate` CN)
_SUBJECT_CN = re.compile(r"subject name: (?:[^,]*,)*?\s*CN=(?P<cn>[^,]+)")
_FTD_KV = re.compile(r"(?:^|, )([A-Za-z_]\w*): ([^,]*)")
_FTD_MAP = {
    "SrcIP": "src_ip",
    "DstIP": "dst_ip",
    "SrcPort": "src_port",
    "DstPort": "dst_port",
    "InitiatorBytes": "source.bytes",
    "ResponderBytes": "destination.bytes",
    "User": "user",
    "URL": "c-uri",
    "URI": "c-uri",  # 430004/430005 (file and malware events)
    "UserAgent": "c-useragent",
    "AccessControlRuleAction": "action",
    "IngressInterface": "in_interface",
    "EgressInterface": "out_interface",
    "AccessControlRuleName": "rule_name",
}
_LOGIN_KINDS = {"login", "logout", "command", "config", "vpn"}
_FIREWALL_KINDS = {"deny", "acl", "conn", "nat", "route"}
_FTD_IDS = frozenset({"430001", "430002", "430003", "430004", "430005"})  # `Key: value` events


def _ftd_connection(text: str, fields: dict[str, object]) -> None:
    """430001-430005 (FTD intrusion, connection and file events): `Key: value, Key: value`."""
    for k, v in _FTD_KV.findall(text):
        v = v.strip()
        name = _FTD_MAP.get(k)
        if name is None:
            if k == "Protocol":
                fields["network_protocol"] = transport(v)
            else:
                fields[f"ftd.{k}"] = v
            continue
        if name in ("src_port", "dst_port", "source.bytes", "destination.bytes"):
            n = digits(v)
            if n is not None:
                fields[name] = n
        else:
            fields[name] = v.replace("<br/>", "")
    action = str(fields.get("action", "")).lower()
    if action:
        fields["blocked"] = "true" if ("block" in action or "deny" in action) else "false"


@functools.lru_cache(maxsize=4096)
def _canonical(ip: str) -> str:
    """An address as ECS keeps it (IPv6 in RFC 5952 form: `fe80:0011::` -> `fe80:11::`).
    Memoised: a pool hands out the same addresses again, and ipaddress takes ~5 us a call."""
    try:
        return ipaddress.ip_address(ip).compressed
    except ValueError:
        return ip


def _assigned_nat(text: str, src: str | None) -> str | None:
    """722051's `IPv4 Address <a> IPv6 address <b> assigned`: the pool's address (the first set of
    the two) as the source's translated address, when it is an address other than `src`."""
    ma = _ASSIGNED.search(text)
    if ma is None:
        return None
    assigned = next((a for a in (ma["v4"], ma["v6"]) if a not in ("", "0.0.0.0", "::")), None)
    if assigned and assigned != src and is_ip(assigned):
        return _canonical(assigned)
    return None


def _subject_user(text: str) -> str | None:
    """The CN of a certificate's `subject name: ` (the user ASA takes from it by default)."""
    mc = _SUBJECT_CN.search(text)
    return mc["cn"].strip() if mc is not None else None


def _user(v: str | None) -> str | None:
    """An idfw `DOMAIN\\user` or `user@domain` as the bare user name."""
    if not v or v in ("*****", "LOCAL", "?"):
        return None
    if "\\" in v:
        v = v.rsplit("\\", 1)[1]
    if "@" in v:
        v = v.split("@", 1)[0]
    return v


def parse_asa(msg: str, app: str = "", state: object = None) -> Parsed | None:
    if _c_asa is not None and (got := _c_asa(msg)) is not None:
        if got is False:
            return None
        return Parsed("cisco_asa", got[0], "cisco", got[1], got[2])
    m = _TAG.search(msg)
    fields: dict[str, object] = {}
    kind = ""
    if m is None:
        text = msg.strip()
        mg = _GROUP_G.search(text)
        if mg is None and not text.startswith(("Group = ", "Task ran for", "Tunnel group ")):
            return None
        fields["message"] = text
        msg_id = ""
    else:
        msg_id, text = m["id"], m["text"]
        fields.update({"facility": m["fac"], "severity": int(m["sev"]), "event_id": msg_id, "message": text})
        mg = None
    got = _COMPILED.get(msg_id)
    gd: dict[str, str | None] = {}
    if got is not None:
        mm = got[0].search(text)
        if mm is not None:
            gd, kind = mm.groupdict(), got[1]
    elif msg_id in _FTD_IDS:
        _ftd_connection(text, fields)
        kind = "conn"
    if not gd and kind != "conn":
        mg = mg or _GROUP_G.search(text)
        if mg is not None:
            gd, kind = mg.groupdict(), "vpn"
        else:
            mv = _COMPILED["113019"][0].search(text)
            if mv is not None:
                gd, kind = mv.groupdict(), "vpn"
    src, dst = gd.get("src"), gd.get("dst")
    if src:
        fields["src_ip" if is_ip(src) else "src_host"] = src
    if dst:
        fields["dst_ip" if is_ip(dst) else "dst_host"] = dst
    for k, name in (("sport", "src_port"), ("dport", "dst_port")):
        n = digits(gd.get(k) or "")
        if n is not None:
            fields[name] = n
    if gd.get("sif"):
        fields["in_interface"] = gd["sif"]
    if gd.get("dif"):
        fields["out_interface"] = gd["dif"]
    if gd.get("proto"):
        fields["network_protocol"] = transport(gd["proto"])
    if kind == "conn" and msg_id in ("302020", "302021"):
        fields["dst_port"] = 0
    if (gd.get("snat") and gd.get("snat") != src) or gd.get("snat"):
        fields["source.nat.ip"] = gd["snat"]
    if gd.get("dnat"):
        fields["destination.nat.ip"] = gd["dnat"]
    if gd.get("bytes"):
        fields["network.bytes"] = digits(gd["bytes"] or "0")
    user = _user(gd.get("user") or gd.get("suser") or gd.get("suser2") or gd.get("duser"))
    if user:
        fields["user"] = user
    if gd.get("group"):
        fields["group"] = gd["group"]
        if kind == "vpn" and "assigned" in text and (nat := _assigned_nat(text, src)) is not None:
            fields["source.nat.ip"] = nat
    if "user" not in fields and "subject name: " in text and (cn := _subject_user(text)) is not None:
        fields["user"] = cn
    if gd.get("acl"):
        fields["acl"] = gd["acl"]
    act = gd.get("act")
    if kind == "deny" or act == "denied":
        fields["action"], fields["blocked"] = "deny", "true"
    elif kind in ("acl", "conn", "nat") and "action" not in fields:
        fields["action"], fields["blocked"] = "permit", "false"
    if gd.get("svc"):
        fields["dst_service"] = gd["svc"]
    res = gd.get("res")
    if res:
        fields["outcome"] = "success" if res.lower() in _SUCCESS_WORDS else "failure"
    elif msg_id in _FAILED_IDS:
        fields["outcome"] = "failure"
    elif msg_id in _SUCCEEDED_IDS:
        fields["outcome"] = "success"
    services: tuple[str, ...] = ("asa", "aaa", "syslog") if kind in _LOGIN_KINDS else ("asa", "syslog")
    categories = ("firewall",) if kind in _FIREWALL_KINDS else ()
    return Parsed("cisco_asa", fields, "cisco", services, categories)


# the group names and kind flags _logfast_fw.c's asa_line reads (its AG_* and AK_* enums)
_C_GROUPS = ("src", "dst", "sport", "dport", "sif", "dif", "proto", "snat", "dnat", "bytes", "user", "suser",
             "suser2", "duser", "group", "acl", "act", "svc", "res")


def _c_entry(rx: re.Pattern[str], kind: str, needs: str = "") -> tuple[Any, ...]:
    """(pattern, kind flags, each _C_GROUPS name's group index or -1, the literal a text must
    hold to be searched ("": none), the pattern's rxprog program or None) for asa_line. Why the
    program: asa_line walks it in C (_logfast_asa.c) instead of calling `re`, which with its
    match object was a third of a one-line event; `re` stays the reference (test_rxprog.py)."""
    flags = ((1 if kind in _LOGIN_KINDS else 0) | (2 if kind in _FIREWALL_KINDS else 0)
             | (4 if kind == "deny" else 0) | (8 if kind in ("acl", "conn", "nat") else 0)
             | (16 if kind == "conn" else 0) | (32 if kind == "vpn" else 0))
    indexes = tuple(rx.groupindex.get(name, -1) for name in _C_GROUPS)
    return (rx, flags, indexes, needs, compile_program(rx))


def _c_setup() -> Callable[[str], tuple[Any, ...] | Literal[False] | None] | None:
    """parse_asa's C twin (_logfast_fw.c's asa_line) with this module's patterns and tables, or
    None when the extension is not built. Every pattern must have named groups (parse_asa's
    `not gd` is then "no match", as the twin reads it)."""
    try:
        from nocsoc.collectors.logs import _logfast
    except ImportError:
        return None
    if not hasattr(_logfast, "asa_line") or not all(rx.groupindex for rx, _ in _COMPILED.values()):
        return None
    outcome = {**{i: "success" for i in _SUCCEEDED_IDS}, **{i: "failure" for i in _FAILED_IDS}}
    by_id = {k: _c_entry(rx, kind) for k, (rx, kind) in _COMPILED.items()}
    group = _c_entry(_GROUP, "vpn", _GROUP_G.needs[0])
    # _assigned_nat walked in C when _ASSIGNED compiles (its groups, _canonical for IPv6, the
    # helper itself where the walk gives up)
    prog = compile_program(_ASSIGNED)
    assigned: Any = _assigned_nat if prog is None else (
        prog, _ASSIGNED.groupindex["v4"], _ASSIGNED.groupindex["v6"], _canonical, _assigned_nat)
    _logfast.asa_setup(by_id, group, _c_entry(_COMPILED["113019"][0], "vpn"), _FTD_IDS,
                       _FTD_MAP, outcome, frozenset(_SUCCESS_WORDS), IANA_PROTO, assigned, _subject_user)
    return _logfast.asa_line


# parse_asa's reading in C for printable ASCII lines (None: not built, or tests forcing it off)
_c_asa = _c_setup()

PARSERS = [
    ParserSpec(
        "cisco_asa",
        parse_asa,
        (
            LogSource("cisco", ("asa", "syslog")),
            LogSource("cisco", ("asa", "syslog"), ("firewall",)),
            LogSource("cisco", ("asa", "aaa", "syslog")),
        ),
        markers=("%ASA-", "%FTD-", "%NGIPS-", "%PIX-", "%FWSM-", "Group <", "Group = "),
        prefixes=("Tunnel group ", "Task ran for "),  # 717037, 711004 relayed without the tag
        order=44,
        description="Cisco ASA / FTD message IDs and AnyConnect sessions",
    ),
]
