"""ATT&CK tags -> the tactic dashboards group alerts by (offline: tactic names are in the tags)."""

from __future__ import annotations

TACTICS = ("reconnaissance", "resource-development", "initial-access", "execution", "persistence",
           "privilege-escalation", "defense-evasion", "credential-access", "discovery",
           "lateral-movement", "collection", "command-and-control", "exfiltration", "impact")
_NORMAL = {t.replace("-", "_"): t for t in TACTICS}


def tactic_of(tags: tuple[str, ...] | list[str]) -> str:
    """The first ATT&CK tactic among the tags (`attack.credential-access`), or ''."""
    for tag in tags:
        if tag.startswith("attack."):
            name = tag[7:].lower()
            if name in TACTICS:
                return name
            if name in _NORMAL:
                return _NORMAL[name]
    return ""
