"""Linux netfilter LOG lines (iptables and nftables `log prefix`) -> Sigma firewall fields."""

from __future__ import annotations

import re

from nocsoc.collectors.logs.parsers.base import Parsed

_KV = re.compile(r"\b([A-Z]+)=(\S*)")
_PREFIX = re.compile(r"^(?:\[\s*\d+\.\d+\]\s*)?(?P<prefix>.*?)\s*IN=")
_DROP = ("DROP", "REJECT", "DENY", "BLOCK")


def parse_netfilter(msg: str) -> Parsed | None:
    if "IN=" not in msg or "SRC=" not in msg:
        return None
    kv = dict(_KV.findall(msg))
    mp = _PREFIX.search(msg)
    prefix = mp["prefix"].strip() if mp else ""
    up = prefix.upper()
    if any(w in up for w in _DROP):
        action = "drop" if "REJECT" not in up else "reject"
    elif "ACCEPT" in up or "ALLOW" in up:
        action = "accept"
    else:
        action = "log"
    fields: dict[str, object] = {
        "src_ip": kv.get("SRC", ""), "dst_ip": kv.get("DST", ""),
        "network_protocol": kv.get("PROTO", "").lower(), "action": action,
        "blocked": "true" if action in ("drop", "reject") else "false",
        "log_prefix": prefix, "in_interface": kv.get("IN", ""), "out_interface": kv.get("OUT", ""),
    }
    for key, name in (("SPT", "src_port"), ("DPT", "dst_port"), ("LEN", "length"), ("TTL", "ttl")):
        if key in kv:
            try:
                fields[name] = int(kv[key])
            except ValueError:
                fields[name] = kv[key]
    if " SYN " in msg + " ":
        fields["tcp_flags"] = " ".join(f for f in ("SYN", "ACK", "FIN", "RST", "PSH", "URG")
                                       if f" {f} " in msg + " ")
    return Parsed("netfilter", fields, "linux", ("iptables", "syslog"), ("firewall",))
