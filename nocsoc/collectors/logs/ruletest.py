"""Rule tests: the log lines beside each built-in rule that must and must not make it fire.

`rules/tests/<rule name or id>.match.log` must fire (a detection rule on every line, a
correlation exactly once); `.nomatch.log` must not fire at all. Lines go through the same
parsers and engine as live traffic (a line starting with `<PRI>` is syslog from the network, one
starting with `{` a Windows event document: NXLog, Winlogbeat or evtx_dump JSON).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sigma.correlations import SigmaCorrelationRule

from nocsoc.collectors.logs.parsers import LineParser
from nocsoc.detections.compiler import CompiledRule
from nocsoc.detections.engine import Detection, Engine
from nocsoc.detections.loader import RuleSet, builtin_rules_dir
from nocsoc.events import LogEvent

# The site networks the built-in rules' tests assume (a province's own come from its inventory's
# `networks:`): the private ranges its offices use. The Remote Desktop rule's samples are written
# against these; `nocsoc rules check` loads the built-in pack with them.
TEST_PLACEHOLDERS: dict[str, list[str]] = {
    "site_networks": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"],
}


def parse_lines(lines: Iterable[str], parser: LineParser | None = None,
                now: datetime | None = None, source: str = "file") -> Iterator[LogEvent]:
    import orjson

    from nocsoc.collectors.logs.parsers.base import hand_on_json, take_json
    from nocsoc.collectors.windows.documents import kind_of, object_event
    from nocsoc.collectors.windows.report import MAX_EVENT_BYTES, InputReport

    parser = parser or LineParser(default_host="localhost")
    windows = InputReport("rule test")
    # lines the C reader takes whole (no `{`: Windows documents are never its), then the rest
    read = parser.fast() if now is None else None
    read_json = parser.json_fast() if read is not None else None  # (Palo Alto's JSON, decoded here)
    for line in lines:
        if read is not None:
            ev = read(line, "", source, False)
            if ev is not None:
                yield ev
                continue
        raw_len = len(line)
        line = line.rstrip("\r\n")
        if not line:
            continue
        if line.startswith("{") and len(line) <= MAX_EVENT_BYTES:
            # a Windows event as NXLog, Winlogbeat or evtx_dump JSON? (documents.windows_line,
            # with the object kept: any other JSON line's parser takes it rather than decoding
            # the same text again, ~2 us of a Palo Alto line)
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                obj = None
            if kind_of(obj) is not None:
                ev = object_event(obj, line, windows, source)
                if ev is not None:
                    yield ev
                    continue
            elif obj is not None:
                # (the text `read` declined: events would call json_event next, with this object)
                ev = read_json(line, obj, source) if read_json is not None and len(line) == raw_len else None
                if ev is not None:
                    yield ev
                    continue
                hand_on_json(line, obj)
                events = parser.events(line, source=source, now=now)
                take_json(line)  # (not taken: forgotten, not kept until the next line)
                yield from events
                continue
        yield from parser.events(line, source=source, now=now)


@dataclass
class RuleTestResult:
    rule: str
    title: str
    kind: str  # "rule" | "correlation"
    path: str
    expect_match: bool
    lines: int
    hits: int  # lines matched (rule) or incidents raised (correlation)

    @property
    def ok(self) -> bool:
        if not self.expect_match:
            return self.hits == 0
        return self.hits == self.lines if self.kind == "rule" else self.hits == 1

    def to_dict(self) -> dict[str, object]:
        return {"rule": self.rule, "title": self.title, "kind": self.kind, "path": self.path,
                "expect": "match" if self.expect_match else "nomatch", "lines": self.lines,
                "hits": self.hits, "ok": self.ok}


def run_engine(ruleset: RuleSet, events: Iterable[LogEvent]) -> tuple[Engine, list[Detection]]:
    engine = Engine(ruleset)
    out: list[Detection] = []
    last = 0.0
    for ev in events:
        out.extend(engine.process(ev))
        last = max(last, ev.time)
    out.extend(engine.flush(last + 10 * 365 * 86400))
    return engine, out


def rule_test(ruleset: RuleSet, rule: CompiledRule | SigmaCorrelationRule, path: Path,
              expect_match: bool, now: datetime | None = None) -> RuleTestResult:
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    engine, dets = run_engine(ruleset, parse_lines(lines, now=now))
    if isinstance(rule, CompiledRule):
        hits = engine.rule_hits.get(rule.id, 0)
        return RuleTestResult(rule.id, rule.title, "rule", str(path), expect_match, len(lines), hits)
    rid = str(rule.id) if rule.id else (rule.name or rule.title)
    incidents = sum(1 for d in dets if d.rule_id == rid and d.new)
    return RuleTestResult(rid, rule.title, "correlation", str(path), expect_match, len(lines), incidents)


def builtin_tests(ruleset: RuleSet, now: datetime | None = None) -> list[RuleTestResult]:
    """Every test file beside the built-in pack, run against the loaded rules."""
    out: list[RuleTestResult] = []
    for path in sorted((builtin_rules_dir() / "tests").glob("*.log")):
        key, _, kind = path.name[:-4].rpartition(".")
        rule = ruleset.by_id(key)
        if rule is None:
            raise LookupError(f"{path}: no rule named or with id {key!r}")
        out.append(rule_test(ruleset, rule, path, kind == "match", now))
    return out
