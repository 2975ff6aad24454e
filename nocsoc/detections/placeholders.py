"""Sigma placeholders nocsoc fills when rules load: `Field|expand: '%site_networks%'`.

A rule that needs the province's own facts (which prefixes are "ours") names them with Sigma's
standard `expand` modifier and a placeholder, as SigmaHQ rules do for `%Admins_Workstations%`;
the rule file stays valid Sigma that any backend with a pipeline for the placeholder can run.
nocsoc expands the placeholder from the inventory when the rules load, into the values' own
Sigma type (`site_networks` -> CIDR expressions), so the engine compiles an ordinary `|cidr`
list; there is no pySigma pipeline here because pySigma's placeholder transformations only
produce strings, and a prefix must match by containment, not text.

A rule whose placeholder has no values is *disabled* (not loaded), never run with an empty list:
`not IpAddress|cidr: []` would be true for every address, so an "outside our networks" rule
would fire on every logon.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from sigma.rule import SigmaDetection, SigmaDetectionItem, SigmaRule
from sigma.types import Placeholder, SigmaCIDRExpression, SigmaString, SigmaType

if TYPE_CHECKING:
    from nocsoc.inventory.model import Inventory

SITE_NETWORKS = "site_networks"
# placeholder -> what fills it (for the message of a disabled rule)
KNOWN: dict[str, str] = {
    SITE_NETWORKS: "the `networks:` prefixes of the inventory's sites",
}


class PlaceholderError(ValueError):
    pass


def from_inventory(inv: Inventory | None) -> dict[str, list[str]]:
    """Placeholder values an inventory gives (an absent inventory gives none)."""
    return {SITE_NETWORKS: inv.networks() if inv is not None else []}


def _items(det: SigmaDetection) -> Iterator[SigmaDetectionItem]:
    for item in det.detection_items:
        if isinstance(item, SigmaDetection):
            yield from _items(item)
        else:
            yield item


def _placeholder(v: SigmaType) -> str | None:
    if isinstance(v, SigmaString) and v.contains_placeholder():
        parts = [p for p in v.s if p != ""]
        if len(parts) == 1 and isinstance(parts[0], Placeholder):
            return parts[0].name
        raise PlaceholderError(f"a placeholder must be the whole value, not part of {v}")
    return None


def used(rule: SigmaRule) -> list[str]:
    """The placeholders a rule's detection names, in order, once each."""
    out: dict[str, None] = {}
    for det in rule.detection.detections.values():
        for item in _items(det):
            for v in item.value:
                name = _placeholder(v)
                if name is not None:
                    out[name] = None
    return list(out)


def expand(rule: SigmaRule, values: Mapping[str, Sequence[str]]) -> None:
    """Replace each placeholder value by its values (in place). Every name must be in `KNOWN`
    and have values (the loader disables the rule first otherwise)."""
    for det in rule.detection.detections.values():
        for item in _items(det):
            out: list[SigmaType] = []
            changed = False
            for v in item.value:
                name = _placeholder(v)
                if name is None:
                    out.append(v)
                    continue
                changed = True
                if name == SITE_NETWORKS:
                    out.extend(SigmaCIDRExpression(n) for n in values[name])
                else:
                    raise PlaceholderError(f"unknown placeholder %{name}%")
            if changed:
                item.value = out
