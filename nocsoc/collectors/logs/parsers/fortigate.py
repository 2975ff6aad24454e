"""Fortinet FortiGate (and FortiWeb/FortiADC `log_id=`) logs, every variant FortiOS sends:
space-separated `key=value`, comma-separated (`date=...,time=...`), `log_id=` instead of
`logid=`, and CEF (with extension keys prefixed `FTNTFGT`, `FortinetFortiGate` or `ad.`, or the
standard CEF keys src/dst/spt/dpt/suser/act...). All become FortiGate's native keys, then Sigma
fields: src_ip, src_port, dst_ip, dst_port, user, action, blocked, network_protocol, and ECS
source.nat.ip / destination.nat.ip / source.bytes / destination.bytes.

Logsource: product `fortigate`, service the log type (`traffic`, `event`, `utm`, ...), and
category `firewall` for traffic logs (SigmaHQ's fortigate rules use `service: event`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from nocsoc.collectors.logs.parsers.base import (
    Cef,
    Parsed,
    digits,
    is_ip,
    kv_pairs,
    kv_pairs_comma,
    parse_cef,
    transport,
)
from nocsoc.collectors.logs.parsers.registry import ParserSpec
from nocsoc.logsources import LogSource

_CEF_PREFIXES = ("FTNTFGT", "FortinetFortiGate", "ad.")
_CEF_STD = {
    "src": "srcip",
    "dst": "dstip",
    "spt": "srcport",
    "dpt": "dstport",
    "suser": "user",
    "duser": "dstuser",
    "act": "action",
    "proto": "proto",
    "deviceInboundInterface": "srcintf",
    "deviceOutboundInterface": "dstintf",
    "sourceTranslatedAddress": "transip",
    "sourceTranslatedPort": "transport",
    "destinationTranslatedAddress": "tranip",
    "destinationTranslatedPort": "tranport",
    "out": "sentbyte",
    "in": "rcvdbyte",
    "msg": "msg",
    "dvchost": "devname",
    "deviceExternalId": "devid",
    "shost": "srcname",
    "dhost": "dstname",
    "request": "url",
    "requestClientApplication": "agent",
    "app": "service",
    "requestMethod": "httpmethod",
}
_UI_IP = re.compile(r"\((\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:]+:[0-9A-Fa-f:]+)\)")
# A traffic log's `action` is how the session ended (FortiOS Log Message Reference, traffic logs):
# `deny` is the policy blocking it; accept/close/timeout/client-rst/server-rst/ip-conn/dns/start
# are sessions the policy allowed (a TCP reset by either end is a normal close, `ip-conn` a
# connection that got no answer). The other words are deny's spelling in CEF `act=` relays.
_BLOCKING = {"deny", "blocked", "block", "drop", "dropped", "reject"}
_SEVERITIES = ("emergency", "alert", "critical", "error", "warning", "notice", "information", "debug")


def _cef_native_name(k: str) -> str:
    """A CEF extension key as FortiOS's own: its vendor prefix dropped, or the standard key mapped."""
    for p in _CEF_PREFIXES:
        if k.startswith(p):
            return k[len(p) :]
    return _CEF_STD.get(k, k)


_CEF_NAMES: dict[str, str] = {}  # CEF key -> _cef_native_name(key): ~50 keys a line, ~3 tests each


def _native(msg: str, cef: Cef | None) -> dict[str, str] | None:
    """The message as FortiGate's own key=value pairs, whatever the wire variant (`cef`: the
    message read by parse_cef when it carries `|Fortinet|` in its first 40 characters)."""
    if cef is not None:
        kv: dict[str, str] = {}
        names = _CEF_NAMES
        for k, v in cef.ext.items():
            name = names.get(k)
            if name is None:
                name = _cef_native_name(k)
                if len(names) < 4096:
                    names[k] = name
            if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
                v = v[1:-1]
            kv.setdefault(name, v)
        # `cat=type:subtype`, else the CEF name FortiOS writes as `type:subtype action`
        cat = kv.get("cat", "") or (cef.name.split(" ", 1)[0] if ":" in cef.name else "")
        if "type" not in kv and cat:
            kv["type"] = cat.split(":", 1)[0]
            if ":" in cat:
                kv.setdefault("subtype", cat.split(":", 1)[1])
        if "logid" not in kv:
            kv["logid"] = cef.signature
        kv.setdefault("cef_name", cef.name)
        return kv
    head = msg[:200]
    if ",time=" in head or ",logid=" in head or ",devname=" in head:
        kv = kv_pairs_comma(msg)
    else:
        kv = kv_pairs(msg)
    if "logid" not in kv:
        if "log_id" in kv:
            kv["logid"] = kv["log_id"]
        elif not ("subtype" in kv and ("vd" in kv or "devname" in kv)):
            return None
    if "type" not in kv:
        return None
    return kv


def _port(v: str | None) -> int | None:
    return digits(v) if v else None


# parse_fortigate's reading in C (_logfast_fw.c) of a key=value line, and of a CEF line's
# extension after parse_cef; None from one: Python reads the line
_c_fortigate: Callable[[str], tuple[Any, ...] | Literal[False] | None] | None
_c_fortigate_cef: Callable[[dict[str, str], str, str], tuple[Any, ...] | None] | None
try:
    from nocsoc.collectors.logs._logfast import fortigate_cef as _c_fortigate_cef
    from nocsoc.collectors.logs._logfast import fortigate_line as _c_fortigate
    from nocsoc.collectors.logs._logfast import fortigate_setup as _c_setup

    _c_setup(_CEF_STD)
except ImportError:  # not built
    _c_fortigate = _c_fortigate_cef = None


def parse_fortigate(msg: str, app: str = "", state: object = None) -> Parsed | None:
    if _c_fortigate is not None and (got := _c_fortigate(msg)) is not None:
        if got is False:  # pairs that are not FortiGate's (the ones Python would find)
            return None
        return Parsed("fortigate", got[0], "fortigate", got[1], got[2], time=got[3], host=got[4])
    if "logid" not in msg and "log_id" not in msg and "|Fortinet|" not in msg[:40] and "subtype=" not in msg:
        return None
    cef = parse_cef(msg) if "|Fortinet|" in msg[:40] else None
    if cef is not None and _c_fortigate_cef is not None and (
            got := _c_fortigate_cef(cef.ext, cef.signature, cef.name)) is not None:
        return Parsed("fortigate", got[0], "fortigate", got[1], got[2], time=got[3], host=got[4])
    kv = _native(msg, cef)
    if kv is None:
        return None
    fields: dict[str, object] = dict(kv)
    ftype = kv.get("type", "")
    # FortiWeb/ADC write src/dst; VPN events name the peer remip; admin events the client in ui
    src = (
        kv.get("srcip")
        or kv.get("src")
        or kv.get("userip")
        or kv.get("sproc")
        or (kv.get("remip") if kv.get("subtype") == "vpn" else None)
    )
    if not src:
        mu = _UI_IP.search(kv.get("ui", ""))
        if mu is not None:
            src = mu[1]
        elif kv.get("subtype") == "system" and "dhcp" in kv.get("logdesc", "").lower():
            src = kv.get("ip")
    dst = kv.get("dstip") or kv.get("dst") or (kv.get("locip") if kv.get("subtype") == "vpn" else None)
    if src and is_ip(src):
        fields["src_ip"] = src
    if dst and is_ip(dst):
        fields["dst_ip"] = dst
    for name, keys in (
        ("src_port", ("srcport", "src_port", "remport")),
        ("dst_port", ("dstport", "dst_port", "locport")),
    ):
        for k in keys:
            port = _port(kv.get(k))
            if port is not None:
                fields[name] = port
                break
    for name, key in (
        ("source.nat.ip", "transip"),
        ("destination.nat.ip", "tranip"),
        ("source.nat.ip", "tunnelip"),
    ):
        v = kv.get(key)
        if v and is_ip(v) and v != "0.0.0.0":
            fields[name] = v
    # an interim log of a long session: its delta is what this log accounts for
    for name, keys in (
        ("source.bytes", ("sentdelta", "sentbyte", "obytes")),
        ("destination.bytes", ("rcvddelta", "rcvdbyte", "ibytes")),
    ):
        for k in keys:
            v = kv.get(k)
            if v:
                n = digits(v)
                if n is not None:
                    fields[name] = n
                break
    proto = kv.get("proto")
    if proto:
        fields["network_protocol"] = transport(proto)
    user = kv.get("user") or kv.get("srcuser") or kv.get("unauthuser") or kv.get("dstuser")
    if user and user not in ("N/A", "system"):
        user = user.split(",", 1)[0]  # `john.doe,cn=john.doe` (certificate users)
        fields["user"] = user.rsplit("\\", 1)[-1]
    http_keys: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("c-uri", ("url",)),
        ("cs-method", ("httpmethod", "method")),
        ("c-useragent", ("agent",)),
        ("cs-host", ("hostname",)),
    )
    for name, hkeys in http_keys:
        for k in hkeys:
            v = kv.get(k)
            if v and not (k == "method" and ftype != "utm" and kv.get("subtype") != "rest-api"):
                fields[name] = v
                break
    action = kv.get("action", "")
    if action:
        fields["action"] = action
    categories: tuple[str, ...] = ()
    if ftype == "traffic":
        categories = ("firewall",)
        fields["blocked"] = "true" if action in _BLOCKING else "false"
    status = kv.get("status", "")
    if status:
        fields["outcome"] = "success" if status in ("success", "200") else "failure"
    host = kv.get("devname")
    return Parsed(
        "fortigate",
        fields,
        "fortigate",
        (ftype,) if ftype else (),
        categories,
        time=_fortigate_time(kv),
        host=host,
    )


def _fortigate_time(kv: dict[str, str]) -> float | None:
    """`eventtime` (epoch s/ms/us/ns, FortiOS 6.2+), else `date`+`time` with `tz`, else None."""
    et = kv.get("eventtime", "")
    if et.isascii() and et.isdigit() and len(et) <= 20:  # ns since 1970 is 19 digits
        n = int(et)
        for scale in (1.0, 1e3, 1e6, 1e9):  # the smallest unit that gives a 10-digit epoch
            if n / scale < 1e10:
                return n / scale
    if "date" in kv and "time" in kv:
        tz = kv.get("tz", "+0000")
        if not (len(tz) == 5 and tz[0] in "+-" and tz[1:].isdigit()):
            tz = "+0000"
        try:
            return datetime.fromisoformat(f"{kv['date']}T{kv['time']}{tz[:3]}:{tz[3:5]}").timestamp()
        except ValueError:
            return None
    return None


_TYPES = ("traffic", "event", "utm", "anomaly", "dns", "appevent", "virus", "webfilter", "ips", "app-ctrl")
PARSERS = [
    ParserSpec(
        "fortigate",
        parse_fortigate,
        tuple(LogSource("fortigate", (t,), ("firewall",) if t == "traffic" else ()) for t in _TYPES),
        markers=("logid=", "log_id=", "|Fortinet|"),
        line_starts="dtleC0",
        order=50,
        description="FortiGate kv, comma-separated, log_id= and CEF",
    ),
]
