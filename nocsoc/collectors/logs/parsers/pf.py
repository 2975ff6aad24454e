"""pf `filterlog` CSV as pfSense and OPNsense write it (documented in pfSense's "Filter Log
Format"): rule, interface, reason, action (pass/block/reject), direction, IP version, then the
IPv4 or IPv6 header fields, src and dst, and the protocol's own (ports for TCP/UDP, flags for
TCP). IPv6 addresses are written compressed (`2001:db8::1`), so one host has one spelling.
Events: product `pf`, services `filterlog`, category `firewall`."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable
from typing import Any, Literal

from nocsoc.collectors.logs.parsers.base import Parsed, digits, is_ip, transport
from nocsoc.collectors.logs.parsers.registry import ParserSpec
from nocsoc.logsources import LogSource

_ACTIONS = ("pass", "block", "reject", "match", "scrub", "nat", "rdr", "binat")


@functools.lru_cache(maxsize=4096)
def _addr(v: str) -> str:
    """The address compressed (`2001:db8::1`), or as written when it is none. Memoised: a
    firewall logs the same hosts line after line, and ipaddress's parse and compression of an
    IPv6 address cost ~5 us, twice a line (two thirds of an IPv6 line, which C leaves here)."""
    try:
        return ipaddress.ip_address(v).compressed
    except ValueError:
        return v


# parse_filterlog in C (_logfast_fw.c) for printable ASCII text; False: not a filterlog line
# (None here too); None: Python reads it
_c_filterlog: Callable[[str], tuple[Any, ...] | Literal[False] | None] | None
try:
    from nocsoc.collectors.logs._logfast import filterlog_body as _c_filterlog
    from nocsoc.collectors.logs._logfast import filterlog_setup
except ImportError:  # not built
    _c_filterlog = None
else:  # (the twin calls _addr for an IPv6 address: the same memoised reading, no Python line path)
    filterlog_setup(_addr)


def parse_filterlog(msg: str, app: str = "", state: object = None) -> Parsed | None:
    if _c_filterlog is not None and (got := _c_filterlog(msg)) is not None:
        if got is False:
            return None
        return Parsed("filterlog", got[0], "pf", got[1], got[2])
    parts = msg.strip().split(",")
    if len(parts) < 12 or parts[6] not in _ACTIONS or parts[8] not in ("4", "6"):
        return None
    fields: dict[str, Any] = {"rule_number": parts[0], "anchor": parts[2], "tracker": parts[3],
                              "interface": parts[4], "in_interface": parts[4], "reason": parts[5],
                              "action": parts[6], "direction": parts[7], "ip_version": int(parts[8])}
    # src,dst: the first two consecutive address fields after the IP version (the IPv4 and IPv6
    # headers differ in length, and OPNsense adds fields)
    i = 9
    while i + 1 < len(parts) and not (is_ip(parts[i]) and is_ip(parts[i + 1])):
        i += 1
    if i + 1 >= len(parts):
        return None
    fields["src_ip"], fields["dst_ip"] = _addr(parts[i]), _addr(parts[i + 1])
    head = parts[9:i]
    proto = next((h for h in reversed(head) if h.isalpha() or (h and h[0].isalpha() and "-" in h)), "")
    if proto:
        fields["network_protocol"] = transport(proto.lower())
    rest = parts[i + 2:]
    sport, dport = (digits(rest[0]), digits(rest[1])) if len(rest) >= 2 else (None, None)
    if proto.lower() in ("tcp", "udp") and sport is not None and dport is not None:
        fields["src_port"], fields["dst_port"] = sport, dport
        if proto.lower() == "tcp" and len(rest) >= 4:
            fields["tcp_flags"] = rest[3]
    fields["blocked"] = "true" if parts[6] in ("block", "reject") else "false"
    return Parsed("filterlog", fields, "pf", ("filterlog",), ("firewall",))


PARSERS = [
    ParserSpec("filterlog", parse_filterlog, (LogSource("pf", ("filterlog",), ("firewall",)),),
               programs=("filterlog",), markers=(",match,", ",pass,", ",block,"), order=55,
               fast="filterlog", description="pfSense/OPNsense/OpenBSD pf filterlog CSV"),
]
