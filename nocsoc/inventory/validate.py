"""Cross-reference checks the pydantic model cannot make on one item alone.

The model checks each site, profile, device and link by itself (types, addresses, secret
references). Here we check them against each other: duplicate names or addresses, devices on
unknown sites or profiles, links whose ends name no device or reuse an interface.

Findings carry a path into the inventory (`("devices", 3, "site")`); the store turns a path into
file:line, so the checks stay pure functions of the model.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from nocsoc.inventory.model import Inventory
from nocsoc.yamlio import YamlPath


@dataclass(frozen=True)
class Finding:
    path: YamlPath
    message: str
    related: YamlPath | None = None  # where the thing it clashes with was first defined


def _unknown(kind: str, value: str, known: Iterable[str]) -> str:
    known = sorted(known)
    text = f"unknown {kind} {value!r}"
    close = difflib.get_close_matches(value, known, n=1, cutoff=0.6)
    if close:
        text += f" (did you mean {close[0]!r}?)"
    elif known:
        text += f"; known: {', '.join(known)}"
    else:
        text += f"; no {kind}s are defined"
    return text


def _duplicates(section: str, key: str, values: list[str], what: str) -> list[Finding]:
    first: dict[str, int] = {}
    out = []
    for i, v in enumerate(values):
        if v in first:
            out.append(Finding((section, i, key), f"duplicate {what} {v!r}", (section, first[v], key)))
        else:
            first[v] = i
    return out


def check_inventory(inv: Inventory, skip: frozenset[str] = frozenset()) -> list[Finding]:
    """Every cross-reference problem, in file order. Names in `skip` (items that failed model
    validation and were left out) are treated as existing, so one broken device does not also
    produce a "dangling link" for every link to it."""
    out: list[Finding] = []
    out += _duplicates("sites", "id", [s.id for s in inv.sites], "site id")
    out += _duplicates("snmp_profiles", "name", [p.name for p in inv.snmp_profiles], "profile name")
    out += _duplicates("devices", "name", [d.name for d in inv.devices], "device name")
    out += _duplicates("links", "name", [lk.name for lk in inv.links], "link name")

    sites = {s.id for s in inv.sites}
    profiles = {p.name for p in inv.snmp_profiles}
    owner: dict[str, tuple[int, str]] = {}  # management address -> (device index, name)
    for i, d in enumerate(inv.devices):
        if d.address in owner and owner[d.address][1] != d.name:
            j, other = owner[d.address]
            out.append(
                Finding(("devices", i, "address"), f"{d.address} is already used by device {other!r}",
                        ("devices", j, "address"))
            )
        owner.setdefault(d.address, (i, d.name))
    for i, d in enumerate(inv.devices):
        if d.site not in sites and d.site not in skip:
            out.append(Finding(("devices", i, "site"), _unknown("site", d.site, sites)))
        if d.profile not in profiles and d.profile not in skip:
            out.append(Finding(("devices", i, "profile"), _unknown("profile", d.profile, profiles)))
        for key in ("flow_exporter", "syslog_source"):
            addr = getattr(d, key)
            if addr and addr in owner and owner[addr][1] != d.name:
                j, other = owner[addr]
                out.append(
                    Finding(("devices", i, key), f"{addr} is the management address of device {other!r}",
                            ("devices", j, "address"))
                )

    devices = {d.name for d in inv.devices}
    used: dict[tuple[str, str], tuple[int, str, str]] = {}  # (device, interface) -> (link idx, end, name)
    for i, lk in enumerate(inv.links):
        if (lk.a.device, lk.a.interface) == (lk.b.device, lk.b.interface):
            out.append(Finding(("links", i, "b"), f"link {lk.name!r} connects an interface to itself"))
            continue
        for end_name, end in (("a", lk.a), ("b", lk.b)):
            if end.device not in devices and end.device not in skip:
                out.append(
                    Finding(("links", i, end_name, "device"),
                            f"dangling link: {_unknown('device', end.device, devices)}")
                )
                continue
            slot = (end.device, end.interface)
            if slot in used:
                j, other_end, other = used[slot]
                out.append(
                    Finding(("links", i, end_name, "interface"),
                            f"interface {end.interface} of {end.device} is already used by link {other!r}",
                            ("links", j, other_end, "interface"))
                )
            else:
                used[slot] = (i, end_name, lk.name)
    return sorted(out, key=lambda f: _order(f.path))


_SECTION_ORDER = {"version": 0, "sites": 1, "snmp_profiles": 2, "devices": 3, "links": 4}


def _order(path: YamlPath) -> tuple[int, int]:
    section = _SECTION_ORDER.get(str(path[0]), 9) if path else 9
    index = path[1] if len(path) > 1 and isinstance(path[1], int) else -1
    return section, index
