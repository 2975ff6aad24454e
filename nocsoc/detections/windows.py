"""Windows logsources: which Sigma (service, category) an event of a channel and EventID belongs to.

Not a hand-written table: the mapping is read from pySigma's own pipelines, inverted. A backend
applies them to a rule (adding `Channel: ...` and `EventID: ...` conditions); nocsoc applies them
to the event instead, once per distinct (channel, EventID), so each rule keeps its original
detection and the engine routes an event only to the rules its logsource satisfies:

- services -> channels: `sigma.pipelines.common.windows_logsource_mapping` (pySigma core, the
  table `pysigma-pipeline-windows` builds its `Channel` conditions from);
- Sysmon categories -> EventIDs: `sigma.pipelines.sysmon` (pysigma-pipeline-sysmon);
- PowerShell categories (ps_script, ps_module, ps_classic_*) -> service + EventID:
  `sigma.pipelines.windows` (pysigma-pipeline-windows' windows-logsources pipeline);
- process_creation and registry categories on Security 4688/4657, with their field names:
  pysigma-pipeline-windows' windows-audit pipeline (SigmaHQ's regression CI maps 4688 the same
  way in tests/thor.yml). Its field mapping (rule name -> 4688/4657 name) becomes aliases on the
  event (Image from NewProcessName, ...), so rules stay unchanged.

Versions: both pipeline packages (windows 2.0.1, sysmon 2.0.0) require pySigma >= 1, < 2, as
sigma-cli 3.1 does: nocsoc stays on pySigma 1.5.x, where all three agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from sigma.pipelines.common import windows_logsource_mapping
from sigma.pipelines.sysmon.sysmon import sysmon_generic_logsource_eventid_mapping
from sigma.pipelines.windows.windows import (
    generic_logsource_to_windows_audit_event_mapping,
    windows_audit_pipeline,
    windows_audit_registry_categories,
    windows_audit_registry_fieldmappings,
    windows_generic_category_channel_mapping,
)
from sigma.processing.transformations import FieldMappingTransformation

PRODUCT = "windows"


def _as_list(v: Any) -> list[Any]:
    return list(v) if isinstance(v, list | tuple) else [v]


# service -> channels, and back (a channel belongs to exactly one service in pySigma's table)
SERVICE_CHANNELS: dict[str, tuple[str, ...]] = {
    str(svc): tuple(_as_list(ch)) for svc, ch in windows_logsource_mapping.items()}
CHANNEL_SERVICE: dict[str, str] = {
    ch.lower(): svc for svc, chans in SERVICE_CHANNELS.items() for ch in chans}


@dataclass(frozen=True, slots=True)
class CategoryMap:
    """One category's events: a channel's service, the EventIDs, optional extra field values
    (4657's OperationType) and field aliases (rule name -> event name)."""

    category: str
    service: str
    event_ids: frozenset[int]
    extra: tuple[tuple[str, frozenset[str]], ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()


def _audit_aliases() -> dict[str, str]:
    """The generic field mapping of the windows-audit pipeline (Image -> NewProcessName, ...),
    read from the pipeline object: the package keeps it inline, not in a module constant."""
    for item in windows_audit_pipeline().items:
        if item.identifier == "windows_audit_fieldmappings" and isinstance(
                item.transformation, FieldMappingTransformation):
            return {str(k): str(_as_list(v)[0]) for k, v in item.transformation.mapping.items()}
    return {}


def _category_maps() -> list[CategoryMap]:
    out = [CategoryMap(cat, "sysmon", frozenset(int(x) for x in _as_list(ids)))
           for cat, ids in sysmon_generic_logsource_eventid_mapping.items()]
    out += [CategoryMap(cat, str(info["service"]), frozenset({int(str(info["EventID"]))}))
            for cat, info in windows_generic_category_channel_mapping.items()]
    generic = _audit_aliases()
    # annotated `ast.Dict` upstream; it is a plain dict of category -> conditions
    audit = cast(dict[str, dict[str, Any]], generic_logsource_to_windows_audit_event_mapping)
    for cat, cond in audit.items():
        extra = tuple((k, frozenset(str(x).lower() for x in _as_list(v)))
                      for k, v in cond.items() if k != "EventID")
        names = dict(generic)
        if cat in windows_audit_registry_categories:
            names.update(windows_audit_registry_fieldmappings)
        # a rule field the event lacks reads the event's own name for it
        out.append(CategoryMap(cat, "security", frozenset(int(x) for x in _as_list(cond["EventID"])),
                               extra, tuple(names.items())))
    return out


CATEGORY_MAPS = _category_maps()
CATEGORIES: frozenset[str] = frozenset(m.category for m in CATEGORY_MAPS)
_BY_SERVICE_EVENT: dict[tuple[str, int], list[CategoryMap]] = {}
for _m in CATEGORY_MAPS:
    for _eid in _m.event_ids:
        _BY_SERVICE_EVENT.setdefault((_m.service, _eid), []).append(_m)


def logsource_reason(category: str | None, service: str | None) -> str | None:
    """None when a Windows rule of this logsource can run on events nocsoc maps, else why not."""
    if service is not None and service not in SERVICE_CHANNELS:
        return (f"service {service!r} has no Windows channel in pySigma's mapping"
                " (sigma.pipelines.common.windows_logsource_mapping)")
    if category is not None and category not in CATEGORIES:
        return (f"category {category!r} is mapped to no channel and EventID by pySigma's Windows"
                " and Sysmon pipelines")
    return None


@dataclass(frozen=True, slots=True)
class Logsource:
    """What one (channel, EventID[, extra]) of Windows events is, for routing."""

    services: tuple[str, ...]
    categories: tuple[str, ...]
    aliases: tuple[tuple[str, str], ...] = ()
    known: bool = True  # the channel is one pySigma maps
    unknown_event: bool = False  # a Sysmon EventID pysigma-pipeline-sysmon gives no category


_CACHE: dict[tuple[str, int, str], Logsource] = {}
# (channel, EventID) -> logsource, for the pairs whose categories need no extra field value (all
# but Security 4657's registry operations): one lookup, no lowercasing, no key to build
_PLAIN: dict[tuple[str, int], Logsource] = {}


def classify(channel: str, event_id: int, fields: dict[str, Any] | None = None) -> Logsource:
    """The services and categories of an event (cached per channel, EventID and, where a
    category needs it, the extra field's value)."""
    got = _PLAIN.get((channel, event_id))
    if got is not None:
        return got
    svc = CHANNEL_SERVICE.get(channel.lower())
    maps = _BY_SERVICE_EVENT.get((svc, event_id), ()) if svc else ()
    extra_key = ""
    if maps and fields is not None:
        extra_key = "\x00".join(str(fields.get(k, "")).lower() for m in maps for k, _ in m.extra)
    key = (channel, event_id, extra_key)
    got = _CACHE.get(key)
    if got is not None:
        return got
    if svc is None:
        got = Logsource((), (), (), False)
    else:
        cats: list[str] = []
        aliases: dict[str, str] = {}
        for m in maps:
            if all(str((fields or {}).get(k, "")).lower() in vals for k, vals in m.extra):
                cats.append(m.category)
                aliases.update(m.aliases)
        # the Sysmon pipeline gives every Sysmon event type a category: one without is newer
        # than the mapping (or no Sysmon event at all)
        got = Logsource((svc,), tuple(cats), tuple(aliases.items()),
                        unknown_event=svc == "sysmon" and not cats)
    if len(_CACHE) < 100_000:
        _CACHE[key] = got
        if not any(m.extra for m in maps):  # the answer does not depend on `fields`
            _PLAIN[(channel, event_id)] = got
    return got


def required_event_ids(node: Any) -> frozenset[int] | None:
    """EventIDs one of which every event the condition matches carries; None when the condition
    does not say (so the rule runs on any EventID of its logsource). Used to route by EventID."""
    from sigma.conditions import (
        ConditionAND,
        ConditionFieldEqualsValueExpression,
        ConditionNOT,
        ConditionOR,
    )
    from sigma.types import SigmaNumber, SigmaString

    if isinstance(node, ConditionOR):
        out: set[int] = set()
        for a in node.args:
            r = required_event_ids(a)
            if r is None:
                return None
            out |= r
        return frozenset(out)
    if isinstance(node, ConditionAND):
        best: frozenset[int] | None = None
        for a in node.args:
            r = required_event_ids(a)
            if r is not None:
                best = r if best is None else best & r
        return best
    if isinstance(node, ConditionNOT):
        return None
    if isinstance(node, ConditionFieldEqualsValueExpression) and node.field == "EventID":
        v = node.value
        if isinstance(v, SigmaNumber) and isinstance(v.number, int):
            return frozenset({v.number})
        if isinstance(v, SigmaString) and not v.contains_special():
            try:
                return frozenset({int(str(v))})
            except ValueError:
                return None
    return None


def rule_event_ids(conditions: Iterable[Any]) -> frozenset[int] | None:
    """Union over a rule's conditions (a rule with several matches if any does)."""
    out: set[int] = set()
    for c in conditions:
        r = required_event_ids(c)
        if r is None:
            return None
        out |= r
    return frozenset(out)
