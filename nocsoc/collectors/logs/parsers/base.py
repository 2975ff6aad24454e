"""What a parser returns: Sigma-taxonomy fields and the logsource they belong to."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_KV = re.compile(r'([A-Za-z_][\w.-]*)=("(?:[^"\\]|\\.)*"|\S*)')


@dataclass(slots=True)
class Parsed:
    parser: str
    fields: dict[str, Any]
    product: str | None = None
    services: tuple[str, ...] = ()
    categories: tuple[str, ...] = field(default_factory=tuple)
    time: float | None = None  # when the body carries a better timestamp than the header
    host: str | None = None


def kv_pairs(text: str) -> dict[str, str]:
    """`k=v k2="v 2"` pairs (auditd, FortiGate, iptables); quotes removed, escapes kept simple."""
    out: dict[str, str] = {}
    for k, v in _KV.findall(text):
        if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
            v = v[1:-1].replace('\\"', '"')
        out[k] = v
    return out


def to_int(v: str | None) -> int | str | None:
    if v is None:
        return None
    try:
        return int(v)
    except ValueError:
        return v
