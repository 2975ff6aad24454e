"""Sophos firewalls: SFOS / XG (`device="SFW" ... log_id=... log_type="Firewall"`, and the v19+
form starting `timestamp=... device_model=...`), UTM 9 packet filter and system messages
(`id="2002" severity="info" sys="SecureNet" sub="packetfilter" ...`) and UTM's web application
firewall (`id="0299" srcip=... method=... url=...`), into Sigma fields: src_ip, src_port, dst_ip,
dst_port, user, action, blocked, network_protocol; ECS source.nat.ip, source/destination.bytes.
Events: product `sophos`, service the log type, category `firewall` for firewall/packet-filter
logs, `webserver` for the WAF."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from nocsoc.collectors.logs.parsers.base import Parsed, is_ip, kv_pairs, to_int, transport
from nocsoc.collectors.logs.parsers.registry import ParserSpec
from nocsoc.logsources import LogSource

_KEYS: dict[str, tuple[str, ...]] = {
    "src_ip": ("src_ip", "srcip"),
    "dst_ip": ("dst_ip", "dstip"),
    "src_port": ("src_port", "srcport"),
    "dst_port": ("dst_port", "dstport", "port"),
    "user": ("user_name", "user"),
    "source.nat.ip": ("translated_ip", "tran_src_ip", "localip"),
    "destination.nat.ip": ("tran_dst_ip",),
    "source.bytes": ("sent_bytes", "size"),
    "destination.bytes": ("recv_bytes",),
    "c-uri": ("url",),
    "cs-method": ("method",),
    "sc-status": ("statuscode", "httpresponsecode"),
    "c-useragent": ("useragent", "user_agent"),
    "cs-host": ("server", "domain"),
    "rule_id": ("fw_rule_id", "fwrule", "rule_id"),
    "in_interface": ("in_interface", "initf"),
    "out_interface": ("out_interface", "outitf"),
}
_INTS = {"src_port", "dst_port", "source.bytes", "destination.bytes", "sc-status"}
_BLOCKING = {"deny", "drop", "denied", "reject", "blocked", "block"}
_KEY_ITEMS = tuple((name, keys, name in _INTS) for name, keys in _KEYS.items())
_PREFIXED: dict[str, str] = {}  # key -> `sophos.<key>` (the same few tens recur)


def _prefixed(k: str) -> str:
    pk = f"sophos.{k}"
    if len(_PREFIXED) < 4096:
        _PREFIXED[k] = pk
    return pk


# parse_sophos in C (_logfast_fw.c) for printable ASCII text, given this module's tables once;
# False from it: not Sophos's (None here too); None: Python reads the line
_c_sophos: Callable[[str], tuple[Any, ...] | Literal[False] | None] | None
try:
    from nocsoc.collectors.logs._logfast import sophos_line as _c_sophos
    from nocsoc.collectors.logs._logfast import sophos_setup as _c_setup

    _c_setup(_KEYS, _INTS, _BLOCKING)
except ImportError:  # not built
    _c_sophos = None


def parse_sophos(msg: str, app: str = "", state: object = None) -> Parsed | None:
    if _c_sophos is not None and (got := _c_sophos(msg)) is not None:
        if got is False:
            return None
        return Parsed("sophos", got[0], "sophos", got[1], got[2])
    if 'log_type=' not in msg and 'sys="' not in msg and 'id="0299"' not in msg:
        return None
    kv = kv_pairs(msg)
    if not ("log_type" in kv or ("sys" in kv and "sub" in kv) or kv.get("id") == "0299"):
        return None
    # (the lines C leaves: not ASCII, ~50 pairs; the prefixed names come from a bounded cache)
    names = _PREFIXED
    fields: dict[str, Any] = {names.get(k) or _prefixed(k): v for k, v in kv.items()}
    get = kv.get
    for name, keys, is_int in _KEY_ITEMS:
        for k in keys:
            v = get(k)
            if v not in (None, "", "-", "N/A"):
                fields[name] = to_int(v) if is_int else v
                break
    for k in ("src_ip", "dst_ip", "source.nat.ip"):
        if k in fields and not is_ip(fields[k]):
            fields.pop(k)
    if kv.get("id") == "0299":  # WAF: a web request through the reverse proxy
        query = kv.get("query", "")
        if "c-uri" in fields and query and query != "-":
            fields["c-uri-query"] = query.lstrip("?")
        fields["c-ip"] = fields.get("src_ip")
        return Parsed("sophos", fields, "sophos", ("waf",), ("webserver",))
    proto = kv.get("protocol") or kv.get("proto")
    if proto:
        fields["network_protocol"] = transport(proto)
    action = (kv.get("status") or kv.get("action") or kv.get("log_subtype") or "").lower()
    if action:
        fields["action"] = action
    log_type = kv.get("log_type") or kv.get("sub") or ""
    categories: tuple[str, ...] = ()
    if log_type.lower() in ("firewall", "packetfilter"):
        categories = ("firewall",)
        fields["blocked"] = "true" if action in _BLOCKING or kv.get("log_subtype") == "Denied" else "false"
    if kv.get("sub") == "auth" or kv.get("caller"):
        fields["outcome"] = "failure" if "fail" in kv.get("name", "").lower() else "success"
    svc = log_type.lower().replace(" ", "_") or "syslog"
    return Parsed("sophos", fields, "sophos", (svc,), categories)


PARSERS = [
    ParserSpec("sophos", parse_sophos,
               (LogSource("sophos", ("firewall",), ("firewall",)), LogSource("sophos", ("packetfilter",),
                                                                             ("firewall",)),
                LogSource("sophos", ("waf",), ("webserver",)), LogSource("sophos", ("content_filtering",)),
                LogSource("sophos", ("auth",))),
               markers=("log_component=", 'sys="Secure', 'sys="System"', 'id="0299"'), line_starts="dti",
               order=52, description="Sophos SFOS/XG, UTM 9 packet filter and WAF"),
]
