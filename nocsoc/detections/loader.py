"""Load Sigma rules (SigmaHQ format, unchanged) with pySigma and sort them into what nocsoc can run.

A rule whose logsource nocsoc does not ingest (Windows, Zeek, proxy, DNS...) is *unsupported*,
reported with the reason, never an error: SigmaHQ's trees mix many logsources. Errors are YAML
or Sigma errors, each naming the file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, cast

from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule, SigmaCorrelationType
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from nocsoc import logsources
from nocsoc.detections import placeholders as ph
from nocsoc.detections.compiler import CompiledRule, CompileError, compile_rule, needle_counts

SUPPORTED_CORRELATIONS = {SigmaCorrelationType.EVENT_COUNT, SigmaCorrelationType.VALUE_COUNT,
                          SigmaCorrelationType.TEMPORAL, SigmaCorrelationType.TEMPORAL_ORDERED}


def builtin_rules_dir() -> Path:
    return Path(str(resources.files("nocsoc.detections") / "rules"))


def logsource_reason(product: str | None, category: str | None, service: str | None) -> str | None:
    """None when some input produces events of this logsource, else why not. What is produced
    is declared by the inputs themselves (the log parser registry) in `nocsoc.logsources`."""
    if product == "windows":  # EVTX / Winlogbeat / NXLog: pySigma's Windows pipelines say
        from nocsoc.detections.windows import logsource_reason as windows_reason
        return windows_reason(category, service)
    return logsources.reason(product, category, service)


@dataclass
class LoadIssue:
    path: str
    rule: str
    message: str
    title: str = ""  # the rule's title, where it is worth showing (disabled rules)

    def to_dict(self) -> dict[str, str]:
        out = {"path": self.path, "rule": self.rule, "message": self.message}
        if self.title:
            out["title"] = self.title
        return out


@dataclass
class RuleSet:
    rules: list[CompiledRule] = field(default_factory=list)
    correlations: list[SigmaCorrelationRule] = field(default_factory=list)
    correlation_paths: dict[int, str] = field(default_factory=dict)
    unsupported: list[LoadIssue] = field(default_factory=list)
    errors: list[LoadIssue] = field(default_factory=list)
    # rules left out because a placeholder they need has no value here (`%site_networks%` with no
    # site listing `networks:`): not errors, each said once in the log and counted
    disabled: list[LoadIssue] = field(default_factory=list)
    files: int = 0
    collection: SigmaCollection | None = None
    origin: dict[int, str] = field(default_factory=dict)  # id(pySigma rule) -> file

    def by_id(self, key: str) -> CompiledRule | SigmaCorrelationRule | None:
        for r in self.rules:
            if key in (r.id, r.name, r.title):
                return r
        for c in self.correlations:
            if key in (str(c.id), c.name, c.title):
                return c
        return None


# pySigma validators that need ATT&CK / D3FEND data from the network (sigma-cli's `check`
# downloads it unless these are excluded); the rest run offline.
ONLINE_VALIDATORS = ("attacktag", "d3_fendtag", "namespace_tag")


def validate(rs: RuleSet) -> list[LoadIssue]:
    """pySigma's own rule validators (what `sigma check` runs), offline."""
    from sigma.plugins import InstalledSigmaPlugins
    from sigma.validation import SigmaValidator

    if rs.collection is None:
        return []
    validators = InstalledSigmaPlugins.autodiscover().validators
    chosen = [v for name, v in validators.items() if name not in ONLINE_VALIDATORS]
    validator = SigmaValidator(cast(Any, chosen))
    out = []
    for issue in validator.validate_rules(r for r in rs.collection.rules if isinstance(r, SigmaRule)):
        for r in issue.rules:
            sev = getattr(issue.severity, "name", str(issue.severity)).lower()
            out.append(LoadIssue(rs.origin.get(id(r), ""), _rule_label(r),
                                 f"{sev}: {type(issue).__name__}: {issue.description}"))
    return out


def rule_files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*") if q.suffix in (".yml", ".yaml") and q.is_file()))
        else:
            out.append(p)
    return out


def _rule_label(r: Any) -> str:
    return str(getattr(r, "id", None) or getattr(r, "name", None) or getattr(r, "title", "?"))


def load_rules(paths: list[Path], include_builtin: bool = False,
               placeholders: Mapping[str, Sequence[str]] | None = None) -> RuleSet:
    """Parse every rule file, resolve correlation references, compile what nocsoc can run.

    `placeholders`: values of the Sigma placeholders rules may name (`%site_networks%`, see
    `nocsoc.detections.placeholders`); a rule needing one without values is disabled."""
    files = rule_files(([builtin_rules_dir()] if include_builtin else []) + list(paths))
    rs = RuleSet(files=len(files))
    collections: list[SigmaCollection] = []
    origin: dict[int, str] = {}
    for f in files:
        try:
            text = f.read_text(encoding="utf-8")
        except OSError as exc:
            rs.errors.append(LoadIssue(str(f), "", f"cannot read: {exc}"))
            continue
        except UnicodeDecodeError as exc:  # a binary file given as a rule: name it, keep going
            rs.errors.append(LoadIssue(str(f), "", f"not UTF-8 text (byte {exc.start})"))
            continue
        try:
            col = SigmaCollection.from_yaml(text, collect_errors=True)
        except Exception as exc:  # yaml.YAMLError and pySigma errors: name the file, keep going
            rs.errors.append(LoadIssue(str(f), "", f"{type(exc).__name__}: {exc}"))
            continue
        for r in col.rules:
            origin[id(r)] = str(f)
            for err in r.errors:
                rs.errors.append(LoadIssue(str(f), _rule_label(r), str(err)))
        collections.append(col)
    merged = SigmaCollection.merge(collections) if collections else SigmaCollection([])
    rs.collection, rs.origin = merged, origin
    try:
        merged.resolve_rule_references()
    except SigmaError as exc:
        rs.errors.append(LoadIssue("", "", f"correlation reference: {exc}"))
    # rules referenced by correlations only alert themselves when a correlation says `generate`
    quiet: set[int] = set()
    loud: set[int] = set()
    for r in merged.rules:
        if isinstance(r, SigmaCorrelationRule) and not r.errors:
            for ref in r.rules or []:
                target = getattr(ref, "rule", None)
                if target is not None:
                    (loud if r.generate else quiet).add(id(target))
    common = needle_counts(r for r in merged.rules if isinstance(r, SigmaRule) and not r.errors)
    for r in merged.rules:
        path = origin.get(id(r), "")
        if r.errors:
            continue
        if isinstance(r, SigmaCorrelationRule):
            if r.type not in SUPPORTED_CORRELATIONS:
                rs.unsupported.append(LoadIssue(path, _rule_label(r),
                                                f"correlation type {r.type.name.lower()} is not supported"))
                continue
            if any(getattr(ref, "rule", None) is None for ref in r.rules or []):
                rs.errors.append(LoadIssue(path, _rule_label(r), "unresolved rule reference"))
                continue
            rs.correlations.append(r)
            rs.correlation_paths[id(r)] = path
            continue
        if not isinstance(r, SigmaRule):
            continue
        ls = r.logsource
        reason = logsource_reason(ls.product, ls.category, ls.service)
        if reason is not None:
            rs.unsupported.append(LoadIssue(path, _rule_label(r), reason))
            continue
        try:
            needs = ph.used(r)
            if needs:
                missing = [n for n in needs if n in ph.KNOWN and not (placeholders or {}).get(n)]
                unknown = [n for n in needs if n not in ph.KNOWN]
                if unknown:
                    raise ph.PlaceholderError(f"unknown placeholder %{unknown[0]}% (known: "
                                              + ", ".join(f"%{k}%" for k in ph.KNOWN) + ")")
                if missing:
                    why = (f"disabled: it needs %{missing[0]}% ({ph.KNOWN[missing[0]]}) and none is "
                           "configured")
                    # said by whoever loads: the log pipeline logs it once, `rules list` counts it
                    rs.disabled.append(LoadIssue(path, _rule_label(r), why, str(r.title)))
                    continue
                ph.expand(r, placeholders or {})
            c = compile_rule(r, path, common)
        except (CompileError, SigmaError, ph.PlaceholderError) as exc:
            rs.errors.append(LoadIssue(path, _rule_label(r), str(exc)))
            continue
        c.generate = not (id(r) in quiet and id(r) not in loud)
        rs.rules.append(c)
    return rs
