"""Check Point gateways' logs in the forms Log Exporter and older exporters send: CEF (also
without the `CEF:` label, and with the vendor field doubled: `CEF:0||Check Point|...`), the
`syslog[key:"value"; ...]` format, and the quoted fw1 export format (`"num" "date" "time"
"iface" "origin" "type" "action" "service" "s_port" "src" "dst" "proto" ...`), into Sigma fields:
src_ip, src_port, dst_ip, dst_port, network_protocol, action, blocked, user, rule; ECS
source.nat.ip / destination.nat.ip, source/destination.bytes; c-uri and cs-method for URL
filtering. Events: product `checkpoint`, service the blade (`firewall`, `ips`, ...), category
`firewall` for firewall actions."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from nocsoc.collectors.logs.parsers.base import (
    CEF_FIELDS,
    IANA_PROTO,
    Parsed,
    is_ip,
    parse_cef,
    to_int,
    transport,
)
from nocsoc.collectors.logs.parsers.registry import ParserSpec
from nocsoc.logsources import LogSource

_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_SYSLOG_KV = re.compile(r'(?<![\w:])(\w[\w:]*?):"((?:[^"\\]|\\.)*+)";?')
_CEF_MAP = {
    **CEF_FIELDS,
    "user_agent": "c-useragent",
    "ifname": "interface",
    "rule_name": "rule",
}
_KV_MAP = {
    "src": "src_ip",
    "dst": "dst_ip",
    "s_port": "src_port",
    "service": "dst_port",
    "proto": "proto",
    "action": "action",
    "xlatesrc": "source.nat.ip",
    "xlatedst": "destination.nat.ip",
    "xlatesport": "source.nat.port",
    "xlatedport": "destination.nat.port",
    "ifname": "interface",
    "rule_name": "rule",
    "user": "src_user",
    "src_user_name": "src_user",
}
_INTS = {
    "src_port",
    "dst_port",
    "source.nat.port",
    "destination.nat.port",
    "source.bytes",
    "destination.bytes",
}
_BLOCKING = {"drop", "reject", "block", "prevent", "deny"}
_FW_ACTIONS = _BLOCKING | {"accept", "allow", "redirect", "decrypt", "encrypt"}


# the C twins (_logfast_fw.c) of _syslog_kv, of _cef's mapping and of _fw1_export, each with
# _finish; None from one: Python reads the message. Given this module's tables once.
_c_checkpoint_kv: Callable[[str], tuple[Any, ...] | None] | None
_c_checkpoint_cef: Callable[[dict[str, str], str, str, str], tuple[Any, ...] | None] | None
_c_checkpoint_fw1: Callable[[str], tuple[Any, ...] | None] | None
try:
    from nocsoc.collectors.logs._logfast import checkpoint_cef as _c_checkpoint_cef
    from nocsoc.collectors.logs._logfast import checkpoint_fw1 as _c_checkpoint_fw1
    from nocsoc.collectors.logs._logfast import checkpoint_kv as _c_checkpoint_kv
    from nocsoc.collectors.logs._logfast import checkpoint_setup as _c_setup

    _c_setup(_KV_MAP, _CEF_MAP, _INTS, _BLOCKING, _FW_ACTIONS, IANA_PROTO)
except ImportError:  # not built
    _c_checkpoint_kv = _c_checkpoint_cef = _c_checkpoint_fw1 = None


def _finish(fields: dict[str, Any], product: str) -> Parsed:
    for k in list(fields):
        v = fields[k]
        if isinstance(v, str):
            v = v.strip()
            fields[k] = v
        if v in ("", None):
            del fields[k]
        elif k in _INTS:
            fields[k] = to_int(v)
    for k in ("src_ip", "dst_ip"):
        if k in fields and not is_ip(fields[k]):
            fields[k.replace("_ip", "_host")] = fields.pop(k)
    if "proto" in fields:
        fields["network_protocol"] = transport(str(fields["proto"]).split()[0])
    if "dst_port" in fields and not isinstance(fields["dst_port"], int):
        fields["service_name"] = fields.pop("dst_port")
    action = str(fields.get("action", "")).lower()
    categories: tuple[str, ...] = ()
    if action in _FW_ACTIONS:
        categories = ("firewall",)
        fields["blocked"] = "true" if action in _BLOCKING else "false"
    user = fields.get("src_user")
    if isinstance(user, str) and user:
        fields["user"] = user.split(" (", 1)[0].strip()
    svc = product.lower().replace(" ", "_").replace("-", "_").replace("&", "and") or "firewall"
    if "firewall" in svc:
        svc = "firewall"
    return Parsed("checkpoint", fields, "checkpoint", (svc,), categories)


def _cef(msg: str) -> Parsed | None:
    cef = parse_cef(msg)
    if cef is None or cef.vendor != "Check Point":
        return None
    if _c_checkpoint_cef is not None and (
            got := _c_checkpoint_cef(cef.ext, cef.product, cef.signature, cef.name)) is not None:
        return Parsed("checkpoint", got[0], "checkpoint", got[1], got[2])
    fields: dict[str, Any] = {"event_type": cef.signature, "cp_name": cef.name}
    for k, v in cef.ext.items():
        name = _CEF_MAP.get(k)
        if name is not None:
            fields.setdefault(name, v)
        else:
            fields.setdefault(f"checkpoint.{k}", v)
    return _finish(fields, cef.product)


def _syslog_kv(msg: str) -> Parsed:
    if _c_checkpoint_kv is not None and (got := _c_checkpoint_kv(msg)) is not None:
        return Parsed("checkpoint", got[0], "checkpoint", got[1], got[2])
    fields: dict[str, Any] = {}
    for k, v in _SYSLOG_KV.findall(msg):
        k = k.rstrip(":")
        name = _KV_MAP.get(k)
        if name is not None:
            fields.setdefault(name, v)
        else:
            fields.setdefault(f"checkpoint.{k}", v)
    return _finish(fields, str(fields.get("checkpoint.product", "")))


def _fw1_export(msg: str) -> Parsed | None:
    if _c_checkpoint_fw1 is not None and (got := _c_checkpoint_fw1(msg)) is not None:
        return Parsed("checkpoint", got[0], "checkpoint", got[1], got[2])
    cols = _QUOTED.findall(msg)
    if len(cols) < 12:
        return None
    fields: dict[str, Any] = {
        "interface": cols[3],
        "origin": cols[4],
        "event_type": cols[5],
        "action": cols[6],
        "dst_port": cols[7],
        "src_port": cols[8],
        "src_ip": cols[9],
        "dst_ip": cols[10],
        "proto": cols[11],
    }
    if len(cols) > 13:
        fields["rule"] = cols[13]
    return _finish(fields, "")


def parse_checkpoint(msg: str, app: str = "", state: object = None) -> Parsed | None:
    text = msg.strip()
    if "|Check Point|" in text[:40]:
        return _cef(text)
    if text.startswith("syslog[") or ('origin:"' in text and 'action:"' in text):
        return _syslog_kv(text)
    if text.startswith('"') and '" "Log" "' in text[:120]:
        return _fw1_export(text)
    return None


PARSERS = [
    ParserSpec(
        "checkpoint",
        parse_checkpoint,
        (
            LogSource("checkpoint", ("firewall",), ("firewall",)),
            LogSource("checkpoint", ("firewall",)),
            LogSource("checkpoint", ("smartdefense",)),
            LogSource("checkpoint", ("url_filtering",)),
        ),
        markers=("|Check Point|", 'origin:"', '" "Log" "'),
        line_starts='Cs0"',
        order=53,
        description='Check Point CEF, syslog[key:"v"] and fw1 export',
    ),
]
