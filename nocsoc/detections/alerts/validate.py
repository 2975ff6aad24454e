"""Suppression validation, shared by `nocsoc alerts suppress` and the console's editor.

Why: a suppression that never matches (a rule title instead of its id, `srcip=` for `src_ip=`)
or matches far too much (two --where of which only the last was kept) is worse than none, and
nothing shows it. So the rule is resolved (id, name or title -> id), every field must exist in
the rule's events (the alert columns, the fields the rule's detection names, the correlation's
group-by, the fields seen in its stored evidence), values are typed (an address must be one, a
port a number, a field whose stored values are all numbers a number), several conditions are
ANDed and an expiry is required.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from nocsoc.detections.alerts.store import SUPPRESS_FIELDS, Alert, Suppression, parse_duration

_IP_FIELD = re.compile(r"(^|_)(ip|addr|address)$|ipaddress$", re.IGNORECASE)
_PORT_FIELD = re.compile(r"(^|_)port$", re.IGNORECASE)
MAX_DAYS = 90


class SuppressionInvalid(ValueError):
    """Every problem found, one per line, each naming the condition it is about."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class ValidSuppression:
    rule_id: str
    rule_title: str
    conditions: list[tuple[str, str]]
    duration_s: float
    fields: list[str] = field(default_factory=list)  # what the rule's events offer


def _detection_fields(obj: Any, out: set[str]) -> None:
    """Field names a pySigma detection tree mentions (keyword items have none)."""
    items = getattr(obj, "detection_items", None)
    if items is None:
        name = getattr(obj, "field", None)
        if name:
            out.add(str(name))
        return
    for it in items:
        _detection_fields(it, out)


def rule_fields(ruleset: Any, rule: Any) -> set[str]:
    """Fields a rule's events carry as far as the rule says: its detection's fields, or for a
    correlation its group-by and the fields of the rules it counts."""
    out: set[str] = set()
    sigma = getattr(rule, "rule", None)
    if sigma is not None:
        for det in sigma.detection.detections.values():
            _detection_fields(det, out)
        return out
    out.update(str(g) for g in (getattr(rule, "group_by", None) or []))
    for ref in getattr(rule, "rules", None) or []:
        inner = ruleset.by_id(ref.reference)
        if inner is not None and inner is not rule:
            out |= rule_fields(ruleset, inner)
    return out


def rule_identity(rule: Any) -> tuple[str, str]:
    return str(rule.id), str(rule.title)


def _sample_fields(alerts: Iterable[Alert]) -> dict[str, list[Any]]:
    seen: dict[str, list[Any]] = {}
    for a in alerts:
        for s in a.samples:
            for k, v in (s.get("fields") or {}).items():
                seen.setdefault(str(k), []).append(v)
    return seen


def _check_value(fname: str, value: str, seen: list[Any]) -> str | None:
    if _IP_FIELD.search(fname):
        try:
            ipaddress.ip_address(value)
        except ValueError:
            return f"{fname}={value}: not an IP address"
    elif _PORT_FIELD.search(fname):
        if not value.isdigit() or not 0 <= int(value) <= 65535:
            return f"{fname}={value}: a port is a number 0-65535"
    elif seen and all((isinstance(v, int) and not isinstance(v, bool)) or
                      (isinstance(v, str) and v.isdigit()) for v in seen) and not value.lstrip("-").isdigit():
        return f"{fname}={value}: this field holds numbers in the rule's events"
    if not value.strip():
        return f"{fname}=: empty value"
    return None


def validate_suppression(ruleset: Any, rule_key: str, where: list[str], duration: str | None,
                         evidence: Iterable[Alert] = ()) -> ValidSuppression:
    """Check a suppression; raise SuppressionInvalid listing every problem.

    `where`: "field=value" strings (ANDed); `evidence`: stored alerts of the rule, whose event
    fields count as existing and type the values."""
    problems: list[str] = []
    rule = None if rule_key == "*" else ruleset.by_id(rule_key)
    if rule_key != "*" and rule is None:
        problems.append(f"rule {rule_key!r}: no such rule id, name or title (see `nocsoc rules list`)")
    rid, title = (rule_identity(rule) if rule is not None else ("*", "*"))
    evidence = [a for a in evidence if rid == "*" or a.rule_id == rid]
    seen = _sample_fields(evidence)
    known = set(SUPPRESS_FIELDS) | set(seen) | (rule_fields(ruleset, rule) if rule is not None else set())
    conds: list[tuple[str, str]] = []
    if not where:
        problems.append("at least one condition field=value is needed")
    for w in where:
        fname, sep, value = w.partition("=")
        fname, value = fname.strip(), value.strip()
        if not sep or not fname:
            problems.append(f"{w!r}: use field=value")
            continue
        if rule is not None and fname not in known:
            problems.append(f"{fname}: not a field of {title!r}'s events (known: {', '.join(sorted(known))})")
            continue
        if rule is None and rule_key == "*" and fname not in SUPPRESS_FIELDS:
            problems.append(f"{fname}: for every rule (*) only {', '.join(SUPPRESS_FIELDS)} can be used")
            continue
        bad = _check_value(fname, value, seen.get(fname, []))
        if bad:
            problems.append(bad)
            continue
        if fname in SUPPRESS_FIELDS and _IP_FIELD.search(fname):
            value = str(ipaddress.ip_address(value))
        if any(f == fname for f, _ in conds):
            problems.append(f"{fname}: given twice (conditions are ANDed: one value per field)")
            continue
        conds.append((fname, value))
    seconds = 0.0
    if not duration:
        problems.append("an expiry is required (e.g. 12h, 7d)")
    else:
        try:
            seconds = parse_duration(duration)
            if seconds <= 0 or seconds > MAX_DAYS * 86400:
                problems.append(f"expiry {duration}: between 1s and {MAX_DAYS} days")
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        raise SuppressionInvalid(problems)
    return ValidSuppression(rid, title, conds, seconds, sorted(known))


def preview(valid: ValidSuppression, alerts: Iterable[Alert]) -> list[Alert]:
    """The stored alerts the suppression would have hidden (the caller picks the window)."""
    probe = Suppression(0, valid.rule_id, valid.conditions[0][0], valid.conditions[0][1], 0.0, "", 0.0, "",
                        None, 0, conditions="" if len(valid.conditions) == 1 else
                        json.dumps([list(c) for c in valid.conditions]))
    return [a for a in alerts if probe.matches_alert(a)]
