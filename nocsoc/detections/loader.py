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

import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import (
    SigmaCorrelationRule,
    SigmaCorrelationType,
    SigmaExtendedCorrelationCondition,
)
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from nocsoc import logsources
from nocsoc.detections import placeholders as ph
from nocsoc.detections.compiler import CompiledRule, CompileError, compile_rule, needle_counts
from nocsoc.detections.correlation import condition_bounds, prepare_documents

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
    # the engines' routes (detections.engine.Route, by route key), for the rules they were built
    # from: a route is the rules' alone, so engines of one rule set build each once (a bus
    # detector's engine per partition, a reload's, a bench's rounds)
    _routes: tuple[tuple[int, ...], dict[tuple[Any, ...], Any]] | None = field(
        default=None, repr=False, compare=False)

    def routes(self) -> dict[tuple[Any, ...], Any]:
        """The routes shared by the engines of these rules (a new table if the rules changed)."""
        key = tuple(map(id, self.rules))
        if self._routes is None or self._routes[0] != key:
            self._routes = (key, {})
        return self._routes[1]

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


def _references(r: SigmaCorrelationRule) -> list[str]:
    """Every rule a correlation names: in `rules` (or its extended condition) and in `aliases`."""
    if r.rules is not None:
        refs = [ref.reference for ref in r.rules]
    elif isinstance(r.condition, SigmaExtendedCorrelationCondition):
        refs = r.condition.get_referenced_rules()
    else:
        refs = []
    return refs + [ref.reference for alias in r.aliases for ref in alias.mapping]


def _resolve_references(merged: SigmaCollection, origin: dict[int, str],
                        errors: list[LoadIssue], context: set[int]) -> set[int]:
    """Resolve each correlation's references (by id or name) over the whole collection, one
    correlation at a time: a reference found nowhere skips that correlation only, with one line
    naming its file and the reference (pySigma's collection-wide resolution stops at the first
    and dropped the file). A correlation of a skipped correlation is skipped too. Returns the
    ids of the skipped correlations."""
    skipped: set[int] = set()
    corrs = [r for r in merged.rules if isinstance(r, SigmaCorrelationRule) and not r.errors
             and id(r) not in context]
    for r in corrs:
        missing = []
        for ref in _references(r):
            try:
                merged[ref]
            except SigmaError:
                missing.append(ref)
        if missing:
            skipped.add(id(r))
            errors.append(LoadIssue(origin.get(id(r), ""), _rule_label(r),
                                    f"rule reference {', '.join(map(repr, missing))} not found in "
                                    "the loaded rules: this correlation is skipped"))
            continue
        r.resolve_rule_references(merged)
        r.aliases.resolve_rule_references(merged)  # pySigma < 2 leaves these to the caller
    changed = True
    while changed:  # correlations of skipped (or broken) correlations
        changed = False
        for r in corrs:
            if id(r) in skipped:
                continue
            bad = [ref.reference for ref in r.rules or []
                   if id(ref.rule) in skipped or ref.rule.errors]
            if bad:
                skipped.add(id(r))
                changed = True
                errors.append(LoadIssue(origin.get(id(r), ""), _rule_label(r),
                                        f"rule reference {', '.join(map(repr, bad))} is a correlation "
                                        "that did not load: this correlation is skipped"))
    return skipped


_FAST_LOADER = getattr(yaml, "CSafeLoader", None)  # libyaml's parser: ~10x the pure-Python one


def yaml_documents(text: str) -> list[Any]:
    """The YAML documents of a rule file, as yaml.safe_load_all reads them. libyaml parses the
    2,400-odd SigmaHQ rules several times faster (a third of loading them was the pure-Python
    scanner); a text it refuses is read again by the pure loader, so a broken file's message is
    always PyYAML's own."""
    if _FAST_LOADER is not None:
        try:
            return list(yaml.load_all(text, Loader=_FAST_LOADER))  # CSafeLoader: safe
        except yaml.YAMLError:
            pass
    return list(yaml.safe_load_all(text))


def load_rules(paths: list[Path], include_builtin: bool = False,
               context: list[Path] | None = None,
               placeholders: Mapping[str, Sequence[str]] | None = None) -> RuleSet:
    """Parse every rule file, resolve correlation references, compile what nocsoc can run.
    `context`: rule files that only resolve references (`rules check FILE`: a correlation of the
    user's naming a built-in rule), neither compiled nor reported. `placeholders`: values of the
    Sigma placeholders rules may name (`%site_networks%`, see `nocsoc.detections.placeholders`);
    a rule needing one without values is disabled."""
    files = rule_files(([builtin_rules_dir()] if include_builtin else []) + list(paths))
    rs = RuleSet(files=len(files))
    collections: list[SigmaCollection] = []
    origin: dict[int, str] = {}
    known = set(files)
    ctx_files = [f for f in rule_files(list(context or [])) if f not in known]
    ctx: set[int] = set()  # ids of the context files' rules
    for f in ctx_files:
        try:
            docs = yaml_documents(f.read_text(encoding="utf-8"))
            col = SigmaCollection.from_dicts(prepare_documents(docs), collect_errors=True,
                                             resolve_references=False)
        except Exception:  # context only: its own check reports what is wrong with it
            continue
        ctx.update(id(r) for r in col.rules)
        collections.append(col)
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
            # references are resolved once over every file (below): a correlation may name a
            # rule of another file, whatever the order the files load in
            col = SigmaCollection.from_dicts(prepare_documents(yaml_documents(text)),
                                             collect_errors=True, resolve_references=False)
        except Exception as exc:  # yaml.YAMLError and pySigma errors: name the file, keep going
            rs.errors.append(LoadIssue(str(f), "", f"{type(exc).__name__}: {exc}"))
            continue
        for r in col.rules:
            origin[id(r)] = str(f)
            for err in r.errors:
                rs.errors.append(LoadIssue(str(f), _rule_label(r), str(err)))
        collections.append(col)
    merged = SigmaCollection.merge(collections, resolve_references=False)
    rs.collection, rs.origin = merged, origin
    skipped = _resolve_references(merged, origin, rs.errors, ctx)
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
        if r.errors or id(r) in ctx:
            continue
        if isinstance(r, SigmaCorrelationRule):
            if r.type not in SUPPORTED_CORRELATIONS:
                rs.unsupported.append(LoadIssue(path, _rule_label(r),
                                                f"correlation type {r.type.name.lower()} is not supported"))
                continue
            if id(r) in skipped:  # its line is in rs.errors already
                continue
            try:
                condition_bounds(r)
            except ValueError as exc:
                rs.errors.append(LoadIssue(path, _rule_label(r), str(exc)))
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
