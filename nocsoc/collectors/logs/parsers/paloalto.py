"""Palo Alto Networks PAN-OS logs in the three forms firewalls and Cortex Data Lake send:
CSV syslog (field positions per log type, from PAN-OS's "Syslog Field Descriptions"), CEF
(standard keys plus `PanOS*`) and JSON (Strata Logging Service / CDL key names).

Log types: TRAFFIC and THREAT (and DECRYPTION, which shares their first 31 fields): src/dst,
NAT (ECS source.nat.ip / destination.nat.ip), ports, protocol, rule, users, action, bytes, URL;
SYSTEM (authentication messages give user, src_ip (`From:`) and the auth server as dst_ip; an
admin's action its user; DHCP renewals and URL cloud elections the firewall's exchange);
CONFIG (admin, client address, command); GLOBALPROTECT; USERID; HIPMATCH; AUTH.
Events: product `paloalto`, service the log type lower-cased, category `firewall` for TRAFFIC."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from typing import Any

from nocsoc.collectors.logs.parsers.base import (
    CEF_FIELDS,
    IANA_PROTO,
    Parsed,
    digits,
    is_ip,
    loads_json,
    parse_cef,
    to_int,
    transport,
)
from nocsoc.collectors.logs.parsers.registry import ParserSpec
from nocsoc.logsources import LogSource

_TYPES = (
    "TRAFFIC",
    "THREAT",
    "SYSTEM",
    "CONFIG",
    "GLOBALPROTECT",
    "USERID",
    "HIPMATCH",
    "DECRYPTION",
    "AUTH",
    "IPTAG",
    "SCTP",
    "TUNNEL",
    "CORRELATION",
    "GTP",
)
# positions after the common header (0 future, 1 receive time, 2 serial, 3 type, 4 subtype, 5 future,
# 6 generated time)
_SESSION = {
    7: "src_ip",
    8: "dst_ip",
    9: "source.nat.ip",
    10: "destination.nat.ip",
    11: "rule",
    12: "src_user",
    13: "dst_user",
    14: "application",
    15: "vsys",
    16: "src_zone",
    17: "dst_zone",
    18: "in_interface",
    19: "out_interface",
    20: "log_action",
    22: "session_id",
    24: "src_port",
    25: "dst_port",
    26: "source.nat.port",
    27: "destination.nat.port",
    29: "proto",
    30: "action",
}
_BY_TYPE: dict[str, dict[int, str]] = {
    "TRAFFIC": {
        **_SESSION,
        31: "network.bytes",
        32: "source.bytes",
        33: "destination.bytes",
        34: "packets",
        37: "category",
    },
    "THREAT": {
        **_SESSION,
        31: "misc",
        32: "threat_id",
        33: "category",
        34: "threat_severity",
        35: "direction",
        46: "c-useragent",
        48: "xff",
        49: "cs-referrer",
        63: "cs-method",
    },
    "DECRYPTION": dict(_SESSION),
    "SYSTEM": {7: "vsys", 8: "event_id", 9: "object", 12: "module", 13: "event_severity", 14: "description"},
    "CONFIG": {
        7: "src_ip",
        8: "vsys",
        9: "command",
        10: "user",
        11: "client",
        12: "result",
        13: "config_path",
    },
    "GLOBALPROTECT": {
        7: "vsys",
        8: "event_id",
        9: "stage",
        10: "auth_method",
        11: "tunnel_type",
        12: "src_user",
        13: "src_region",
        14: "machine_name",
        15: "src_ip",
        16: "public_ipv6",
        17: "private_ip",
        18: "private_ipv6",
        19: "host_id",
        20: "serial_number",
        21: "client_version",
        22: "client_os",
        23: "client_os_version",
        24: "repeat_count",
        25: "reason",
        26: "error",
        27: "description",
        28: "status",
    },
    "USERID": {
        7: "vsys",
        8: "src_ip",
        9: "src_user",
        10: "datasource_name",
        11: "event_id",
        12: "repeat_count",
        13: "timeout",
        14: "src_port",
        15: "dst_port",
        16: "datasource",
        17: "datasource_type",
    },
    "HIPMATCH": {7: "src_user", 8: "vsys", 9: "machine_name", 10: "os", 11: "src_ip", 12: "hip_match_name"},
    "AUTH": {
        7: "vsys",
        8: "src_ip",
        9: "src_user",
        10: "normalized_user",
        11: "object",
        12: "auth_policy",
        13: "repeat_count",
        14: "auth_id",
        15: "vendor",
        16: "log_action",
        17: "server_profile",
        18: "description",
        19: "client_type",
        20: "event_type",
    },
}
_CSV_TYPE = re.compile(",(?:" + "|".join(_TYPES) + "),")
_INT_FIELDS = {
    "src_port",
    "dst_port",
    "source.nat.port",
    "destination.nat.port",
    "network.bytes",
    "source.bytes",
    "destination.bytes",
    "packets",
    "repeat_count",
}
_FROM = re.compile(
    r"(?:From: ?|from '?|initiated by:? )(?P<ip>\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]+)"
)
# SYSTEM event descriptions that name the firewall's own exchange with a server (PAN-OS's
# "System Log Events"): a DHCP lease renewed by an interface (client address, server), the URL
# cloud server elected for lookups
_DHCP = re.compile(r"DHCP (?:RENEW|BOUND|REBIND)\w*: interface [^,]+, ip (?P<ip>[\d.]+) .*dhcp server: "
                   r"(?P<server>[\d.]+)")
_ELECTED = re.compile(r"CLOUD ELECTION: (?P<host>\S+) IP: (?P<ip>[\d.]+) was elected")
# an administrator's action: `User admin logged in via Web from ...`, `... upgraded ... by admin`
_ADMIN_USER = re.compile(r"^User (?P<user>\S+) logged (?:in|out) via |\bby (?P<by>[A-Za-z_][\w.@\\-]*)\.?$")
_SERVER = re.compile(
    r"(?:[Ss]erver [Aa]ddress '?|connected to server |connect to address: )"
    r"(?P<ip>\d{1,3}(?:\.\d{1,3}){3})'?(?:(?::| port: )(?P<port>\d+))?"
)
_AUTH_USER = re.compile(
    r"(?:authenticated for user|authentication for user|authenticating user|"
    r"failed authentication for user|job succeeded +for user) '?(?P<user>[^'\s]+?)'?"
    r"(?:\.\s|\.?$|'|,|\s)"
)
_CEF_MAP = {
    **CEF_FIELDS,
    "requestClientApplication": "c-useragent",
    "cs1": "rule",
    "app": "application",
    "PanOSSourceUserName": "src_user",  # GlobalProtect, SCTP (no suser)
}
_JSON_MAP = {
    "SourceAddress": "src_ip",
    "SourceIP": "src_ip",
    "DestinationAddress": "dst_ip",
    "NATSource": "source.nat.ip",
    "NATDestination": "destination.nat.ip",
    "SourcePort": "src_port",
    "DestinationPort": "dst_port",
    "NATSourcePort": "source.nat.port",
    "NATDestinationPort": "destination.nat.port",
    "Protocol": "proto",
    "SourceUser": "src_user",
    "SourceUserName": "src_user",
    "DestinationUser": "dst_user",
    "Action": "action",
    "Rule": "rule",
    "BytesSent": "source.bytes",
    "BytesReceived": "destination.bytes",
    "URL": "c-uri",
    "HTTPMethod": "cs-method",
    "UserAgent": "c-useragent",
    "Application": "application",
    "PublicIPv4": "src_ip",
    "EventDescription": "description",
    "Description": "description",
    "EventID": "event_id",
    "User": "src_user",
    "Users": "src_user",
    "ThreatName": "threat_name",
    "DNSResolverIP": "dst_ip",
}
_BLOCKING = {
    "deny",
    "drop",
    "drop-icmp",
    "reset-client",
    "reset-server",
    "reset-both",
    "block-url",
    "block",
    "blocked",
    "sinkhole",
    "drop-all-packets",
}


def _bare_user(u: str) -> str:
    """`domain\\user` (as PAN-OS writes it) -> `user`."""
    u = u.replace("\\\\", "\\")
    u = u.rsplit("\\", 1)[1] if "\\" in u else u
    return u.split("@", 1)[0] if "@" in u[1:] else u


def _finish(kind: str, subtype: str, fields: dict[str, Any]) -> Parsed:
    # empty values dropped (`v in ("", None)`, in one pass: ~60 keys a JSON log), numbers read
    fields = {k: v for k, v in fields.items() if v is not None and v != ""}
    for k in _INT_FIELDS.intersection(fields):
        v = fields[k]
        if isinstance(v, str):
            fields[k] = to_int(v)
    if "proto" in fields:
        fields["network_protocol"] = transport(fields["proto"])
    user = fields.get("src_user") or fields.get("user") or fields.get("dst_user")
    desc = str(fields.get("description", ""))
    if desc and kind in ("SYSTEM", "CONFIG"):
        mu = _AUTH_USER.search(desc)
        if mu and not user:
            user = mu["user"]
        mf = _FROM.search(desc)
        if mf:
            fields.setdefault("src_ip", mf["ip"])
        ms = _SERVER.search(desc)
        if ms and is_ip(ms["ip"]):
            fields.setdefault("dst_ip", ms["ip"])
            if ms["port"] and (n := digits(ms["port"])) is not None:
                fields.setdefault("dst_port", n)
        if not user and (ma := _ADMIN_USER.search(desc)) and (ma["user"] or ma["by"]) != "system":
            user = ma["user"] or ma["by"]  # (`... by system`: the firewall's own doing)
        if desc.startswith("DHCP ") and (md := _DHCP.match(desc)):
            fields.setdefault("src_ip", md["ip"])
            fields.setdefault("dst_ip", md["server"])
        elif desc.startswith("CLOUD ELECTION") and (me := _ELECTED.match(desc)):
            fields.setdefault("dst_ip", me["ip"])
            fields.setdefault("dst_host", me["host"])
        if subtype == "auth" or "auth" in str(fields.get("event_id", "")):
            fields["outcome"] = (
                "failure" if "fail" in str(fields.get("event_id", "")) + desc[:40] else "success"
            )
    if isinstance(user, str) and user.startswith("x-fwd-for: "):
        # no user mapped to the X-Forwarded-For address: PAN-OS writes the address there
        fields.setdefault("xff", user[11:])
        fields.pop("src_user", None)
    elif isinstance(user, str) and user:
        fields["user"] = _bare_user(user)
    for k in ("src_ip", "dst_ip"):
        if k in fields and not is_ip(fields[k]):
            fields[k.replace("_ip", "_host")] = fields.pop(k)
    misc = fields.get("misc")
    if kind == "THREAT" and isinstance(misc, str) and subtype == "url":
        fields["c-uri"] = misc
    action = str(fields.get("action", "")).lower()
    categories: tuple[str, ...] = ()
    if kind == "TRAFFIC":
        categories = ("firewall",)
        fields["blocked"] = "true" if action in _BLOCKING else "false"
    return Parsed("paloalto", fields, "paloalto", (kind.lower(),), categories)


# the C twins (_logfast_fw.c) of the CSV reading (_csv and _finish), of _cef's and _json's
# mappings (and _finish); None from one: Python reads the line. Given this module's tables once.
_c_paloalto: Callable[[str], tuple[Any, ...] | None] | None
_c_paloalto_cef: Callable[[dict[str, str], str, str], tuple[Any, ...] | None] | None
_c_paloalto_json: Callable[[dict[str, Any]], tuple[Any, ...] | None] | None
try:
    from nocsoc.collectors.logs._logfast import paloalto_cef as _c_paloalto_cef
    from nocsoc.collectors.logs._logfast import paloalto_json as _c_paloalto_json
    from nocsoc.collectors.logs._logfast import paloalto_line as _c_paloalto
    from nocsoc.collectors.logs._logfast import paloalto_setup as _c_setup

    _c_setup(_TYPES, _BY_TYPE, frozenset(_INT_FIELDS), frozenset(_BLOCKING), IANA_PROTO, _CEF_MAP, _JSON_MAP)
except ImportError:  # not built: Python reads every line
    _c_paloalto = _c_paloalto_cef = _c_paloalto_json = None


def _csv(msg: str) -> Parsed | None:
    text = msg.lstrip(": ")
    try:
        row = next(csv.reader([text]))
    except (csv.Error, StopIteration):
        return None
    if len(row) < 8 or row[3] not in _TYPES:
        return None
    kind, subtype = row[3], row[4]
    fields: dict[str, Any] = {"log_type": kind, "log_subtype": subtype, "serial": row[2]}
    for i, name in _BY_TYPE.get(kind, {}).items():
        if i < len(row):
            fields[name] = row[i]
    if kind == "CONFIG" and "user" not in fields and len(row) > 10:
        fields["user"] = row[10]
    if kind == "SYSTEM" and subtype == "auth" and len(row) > 8:
        fields["event_id"] = row[8]
    return _finish(kind, subtype, fields)


def _cef(msg: str) -> Parsed | None:
    cef = parse_cef(msg)
    if cef is None:
        return None
    if _c_paloalto_cef is not None and (got := _c_paloalto_cef(cef.ext, cef.signature, cef.name)) is not None:
        return _from_c(got)
    kind = cef.signature.upper()
    fields: dict[str, Any] = {"log_type": kind, "log_subtype": cef.name}
    for k, v in cef.ext.items():
        name = _CEF_MAP.get(k)
        if name is not None:
            fields[name] = v
        elif k.startswith("PanOS"):
            fields[f"panos.{k[5:]}"] = v
        else:
            fields.setdefault(k, v)
    if kind == "THREAT" and cef.name == "url" and "c-uri" not in fields and "request" in cef.ext:
        fields["c-uri"] = cef.ext["request"]
    return _finish(kind, cef.name, fields)


def _json(msg: str) -> Parsed | None:
    try:
        obj = loads_json(msg)
    except ValueError:
        return None
    if not isinstance(obj, dict) or "LogType" not in obj:
        return None
    if _c_paloalto_json is not None and (got := _c_paloalto_json(obj)) is not None:
        return _from_c(got)
    kind = str(obj.get("LogType", "")).upper()
    subtype = str(obj.get("Subtype") or obj.get("SubType") or "")
    fields: dict[str, Any] = {"log_type": kind, "log_subtype": subtype}
    jmap, scalar, names = _JSON_MAP, _SCALARS, _PANOS_NAMES
    for k, v in obj.items():
        name = jmap.get(k)
        if name is not None and v not in (None, "", []):
            if isinstance(v, list):
                v = v[0]
            fields.setdefault(name, v if not isinstance(v, dict) else json.dumps(v))
        elif type(v) in scalar:  # (JSON decodes to these exact types, no subclasses)
            pk = names.get(k)
            if pk is None:
                pk = f"panos.{k}"
                if len(names) < 4096:
                    names[pk[6:]] = pk
            fields.setdefault(pk, v)
    return _finish(kind, subtype, fields)


_SCALARS = frozenset((str, int, float, bool))
_PANOS_NAMES: dict[str, str] = {}  # JSON key -> `panos.<key>` (the same few hundred names recur)


def _from_c(got: tuple[Any, ...]) -> Parsed:
    """A C twin's answer, (fields, services, categories), as the Parsed _finish returns."""
    return Parsed("paloalto", got[0], "paloalto", got[1], got[2])


def parse_paloalto(msg: str, app: str = "", state: object = None) -> Parsed | None:
    if _c_paloalto is not None and (got := _c_paloalto(msg)) is not None:  # a CSV line, read in C
        return _from_c(got)
    # an access log's `198.51.100.7 - ...` starts with a digit too: refused before any copy (what
    # the tests below give for it: no `{`, no CEF label, no `,` second)
    if msg[1:2] != "," and msg[:1].isdigit() and "|Palo Alto Networks|" not in msg[:60]:
        return None
    text = msg.strip()
    if text.startswith("{"):
        return _json(text) if '"LogType"' in text[:4000] else None
    if "|Palo Alto Networks|" in text[:60]:
        return _cef(text)
    # CSV: `<future_use>,<receive time>,<serial>,<TYPE>,...`; the first test rejects an access
    # log line (`198.51.100.7 - - [...`) that shares its first character at once
    if text[:1] == ":":  # `: 1,2023/08/01 ...` (a relay's empty tag)
        text = text.lstrip(": ")
    if text[1:2] != "," or not text[:1].isdigit():
        return None
    m = _CSV_TYPE.search(text, 0, 100)
    return _csv(text) if m is not None else None


PARSERS = [
    ParserSpec(
        "paloalto",
        parse_paloalto,
        tuple(LogSource("paloalto", (t.lower(),), ("firewall",) if t == "TRAFFIC" else ()) for t in _TYPES),
        markers=(
            ",TRAFFIC,",
            ",THREAT,",
            ",SYSTEM,",
            ",CONFIG,",
            ",GLOBALPROTECT,",
            ",USERID,",
            ",HIPMATCH,",
            ",DECRYPTION,",
            ",AUTH,",
            "|Palo Alto Networks|",
        ),
        line_starts="1:{C",
        order=48,
        description="PAN-OS CSV, CEF and JSON (CDL) logs",
    ),
]
