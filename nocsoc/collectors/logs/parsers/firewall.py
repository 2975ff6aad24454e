"""Linux netfilter LOG lines (iptables and nftables `log prefix`) -> Sigma firewall fields."""

from __future__ import annotations

import re

from nocsoc.collectors.logs.parsers.base import Parsed
from nocsoc.collectors.logs.parsers.base import c_split_pairs as _c_split_pairs
from nocsoc.collectors.logs.parsers.registry import ParserSpec
from nocsoc.logsources import LogSource

_KV = re.compile(r"\b([A-Z]+)=(\S*)")
_PREFIX = re.compile(r"^(?:\[\s*\d+\.\d+\]\s*)?(?P<prefix>.*?)\s*IN=")


_FLAGS = tuple((f, f" {f} ") for f in ("SYN", "ACK", "FIN", "RST", "PSH", "URG"))


def _pairs(msg: str) -> dict[str, str]:
    """`KEY=value` pairs, later keys winning. Splitting on whitespace gives what the regex gives
    when every token with `=` is KEY=... with an all-capitals KEY (what the kernel writes), at a
    third of its cost; any other token (`[SRC=` of an ICMP error's inner header, a `=` in the
    log prefix) leaves the line to the regex."""
    if _c_split_pairs is not None and (got := _c_split_pairs(msg, 0)) is not None:
        return got  # the same split in C (None: a token for the regex, or non-ASCII text)
    out: dict[str, str] = {}
    for tok in msg.split():
        k, eq, v = tok.partition("=")
        if eq:
            if k.isupper() and k.isalpha() and k.isascii():
                out[k] = v
            else:
                return dict(_KV.findall(msg))
    return out


def parse_netfilter(msg: str, app: str = "", state: object = None) -> Parsed | None:
    if "IN=" not in msg or "SRC=" not in msg:
        return None
    kv = _pairs(msg)
    mp = _PREFIX.search(msg)
    prefix = mp["prefix"].strip() if mp else ""
    up = prefix.upper()
    if "DROP" in up or "REJECT" in up or "DENY" in up or "BLOCK" in up:  # (any of these words)
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
    # the kernel writes the IP header's LEN (the packet's size) after DST, and UDP's own LEN (its
    # header and payload) again after DPT: the packet's size is the first one
    if "PROTO=UDP" in msg or "PROTO=UDPLITE" in msg:
        i = msg.find(" LEN=")
        if i >= 0:
            j = msg.find(" ", i + 5)
            ip_len = msg[i + 5:j if j > 0 else len(msg)]
            if ip_len.isdigit() and len(ip_len) < 7 and isinstance(fields.get("length"), int):
                fields["udp_length"] = fields.get("length")
                fields["length"] = int(ip_len)
    if isinstance(fields.get("length"), int):
        fields["source.bytes"] = fields["length"]  # one logged packet: what the source sent
    padded = msg + " "
    if " SYN " in padded:
        fields["tcp_flags"] = " ".join([f for f, spaced in _FLAGS if spaced in padded])
    return Parsed("netfilter", fields, "linux", ("iptables", "syslog"), ("firewall",))


PARSERS = [
    ParserSpec("netfilter", parse_netfilter, (LogSource("linux", ("iptables", "syslog"), ("firewall",)),),
               programs=("kernel",), markers=("IN=",), order=40, fast="netfilter",
               description="iptables/nftables LOG lines (kernel)"),
]
