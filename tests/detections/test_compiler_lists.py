"""Long OR-lists on one field (SigmaHQ's Windows rules): contains-lists searched with one
Aho-Corasick automaton, wildcard values with `?` merged into one regex; same answers as one
test per value."""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sigma.collection import SigmaCollection

from nocsoc.detections.compiler import compile_rule
from nocsoc.events import LogEvent

RULE = """
title: t
logsource: {product: windows, category: process_creation}
detection:
    sel_many:
        CommandLine|contains: [' -enc ', 'downloadstring', 'iex(', 'frombase64string', 'bypass']
    sel_wild:
        CommandLine|contains: ['-InstanceId 462?', 'EventCode=?25?', 'a*b?c']
    sel_anchor:
        Image: ['C:\\Windows\\Sy?tem32\\wevtutil.exe', '*\\tool?.exe']
    condition: 1 of sel_*
"""


def _m(**fields: str) -> bool:
    rule = compile_rule(SigmaCollection.from_yaml(RULE).rules[0])
    return rule.match(LogEvent("", dict(fields)))


def test_contains_list() -> None:
    assert _m(CommandLine="powershell -NoP IEX(New-Object Net.WebClient).DownloadString('x')")
    assert _m(CommandLine="x BYPASS y")
    assert not _m(CommandLine="powershell -File a.ps1")
    assert not _m(Image="x")


def test_wildcard_alternation() -> None:
    assert _m(CommandLine='Get-EventLog -InstanceId 4624 -Newest 5')
    assert _m(CommandLine="wmic EventCode='25' x")
    assert _m(CommandLine="zz A--B-C zz")  # a*b?c, case-insensitive
    assert not _m(CommandLine="-InstanceId 46")
    assert not _m(CommandLine="EventCode=25")
    assert _m(Image="c:\\windows\\System32\\wevtutil.exe")
    assert not _m(Image="D:\\c:\\windows\\System32\\wevtutil.exe")  # anchored at the start
    assert _m(Image="C:\\x\\tool1.exe")
    assert not _m(Image="C:\\x\\tool1.exe.bak")  # anchored at the end


def test_regex_needles_are_mandatory_literals() -> None:
    from nocsoc.detections.compiler import _regex_needle

    assert _regex_needle(r"\w+`(?:\w+|-|.)`[\w+|\s]") == "`"
    assert _regex_needle(r'"(?:\{\d\})+"\s*-f') == '"{'  # on through the repeat
    assert _regex_needle(r"\$PSHome\[\s*\d{1,3}\s*\]\s*\+\s*\$PSHome\[") == "$pshome["
    assert _regex_needle(r"(?i)\$\{`?e`?n`?v") == "${"
    assert _regex_needle(r"(abc)?d") == "d"  # an optional group promises nothing
    assert _regex_needle(r"(?:abc){2}x") == "abcx"  # the last repetition, then x
    assert _regex_needle(r"x(a\db)+y") == "xa"
    assert _regex_needle(r"a(?:b(?:c|d)e)f") == "ab"
    assert _regex_needle(r"a|b") is None  # nor does an alternation
    assert _regex_needle(r"[ab]+") is None
    assert _regex_needle(r"(") is None  # a pattern `re` rejects: no gate, the rule reports it
    # under IGNORECASE `s` matches U+017F and `i` U+0131, whose lowercase is not theirs: cut there
    assert _regex_needle(r"(?i)user") == "er" and _regex_needle(r"user") == "user"
    assert _regex_needle(r"user", True) == "er"


def _instance(items: object, rnd: random.Random) -> str:
    """A random text of a parsed regex sequence (re._parser's tree): what it would match,
    mostly (classes and lookarounds are only approximated: `re` itself says which match)."""
    out: list[str] = []
    pool = string.ascii_letters + string.digits + " -_./\\:;\"'`${}()[]|&%"
    for op, arg in items:  # type: ignore[attr-defined]
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name in ("NOT_LITERAL", "ANY"):
            out.append(rnd.choice([c for c in pool if name == "ANY" or ord(c) != arg]))
        elif name == "IN":
            choices = []
            for iop, iarg in arg:
                iname = str(iop)
                if iname == "LITERAL":
                    choices.append(chr(iarg))
                elif iname == "RANGE":
                    choices.append(chr(rnd.randint(iarg[0], iarg[1])))
                elif iname == "CATEGORY":
                    choices.append({"CATEGORY_DIGIT": "7", "CATEGORY_SPACE": " "}.get(str(iarg), "q"))
            out.append(rnd.choice(choices or list(pool)))
        elif name == "CATEGORY":
            out.append({"CATEGORY_DIGIT": "4", "CATEGORY_SPACE": " ", "CATEGORY_WORD": "w"}.get(
                str(arg), rnd.choice(pool)))
        elif name == "BRANCH":
            out.append(_instance(rnd.choice(arg[1]), rnd))
        elif name == "SUBPATTERN":
            out.append(_instance(arg[-1], rnd))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            top = min(arg[1], arg[0] + 3)
            out += [_instance(arg[2], rnd) for _ in range(rnd.randint(arg[0], top))]
    return "".join(out)


def _sigmahq_regexes(root: Path) -> list[tuple[str, int]]:
    """(pattern, flags) of every `|re` value of SigmaHQ's rules, with its i/m/s modifiers."""
    import yaml

    flags = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}
    out: list[tuple[str, int]] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                mods = str(k).split("|")[1:]
                if "re" in mods:
                    fl = sum(flags[m] for m in mods if m in flags)
                    out.extend((str(x), fl) for x in (v if isinstance(v, list) else [v]))
                else:
                    walk(v)
        elif isinstance(node, list):
            for x in node:
                walk(x)
    for f in sorted(root.rglob("*.yml")):
        text = f.read_text(encoding="utf-8")
        if "|re" not in text:  # most files: not parsed at all
            continue
        for doc in yaml.safe_load_all(text):
            if isinstance(doc, dict):
                walk(doc.get("detection"))
    return out


def _needle_misses(patterns: list[tuple[str, int]], needle: Callable[[str, bool], str | None],
                   parse: Callable[[str, int], Any]) -> list[str]:
    """Patterns a match of which lacks its needle (lowercased), over random instances of the
    pattern `parse` gives (re._parser.parse)."""
    rnd = random.Random(16)
    bad = []
    for pat, fl in patterns:
        n = needle(pat, bool(fl & re.IGNORECASE))
        if n is None:
            continue
        try:
            rx = re.compile(pat, fl)
            tree = list(parse(pat, fl))
        except re.error:
            continue
        for _ in range(40):
            text = rnd.choice(["", "x ", "C:\\a "]) + _instance(tree, rnd) + rnd.choice(["", " y"])
            if rnd.random() < 0.3:  # what IGNORECASE also matches: other case, dotless i, long s
                text = text.swapcase().replace("I", "\u0131").replace("S", "\u017f")
            m = rx.search(text)
            if m is not None and n not in m.group(0).lower():
                bad.append(f"{pat!r}: {n!r} not in the match {m.group(0)!r}")
                break
    return bad


def test_regex_needles_are_in_every_match_of_every_sigmahq_regex(shared_dir: Path) -> None:
    """The needle of each of SigmaHQ's regexes (and of the shapes above) is in every match of
    it, over random texts built from the pattern; a needle taken through an optional part (a
    mutation: repeats of zero made repeats of one) is caught missing, so this test can fail."""
    from re import _parser  # type: ignore[attr-defined]
    from unittest import mock

    from nocsoc.detections.compiler import _regex_needle

    own = [("user", re.IGNORECASE), ("(?i)kiss", 0), ("(?i:mimi)katz", 0)]
    own += [(p, 0) for p in (r'"(?:\{\d\})+"\s*-f', r"(?:abc){2}x", r"x(a\db)+y", r"a(?:b(?:c|d)e)f",
                            r"(abc)?d", r"x(?:ab)*y", r"(?i)\$\{`?e`?n`?v", r"net\s+user\s+")]
    patterns = own + _sigmahq_regexes(shared_dir / "sigmahq" / "rules")
    assert len(patterns) > 150  # 163 in the SigmaHQ snapshot of ../shared
    needle = _regex_needle.__wrapped__
    parse = _parser.parse
    assert _needle_misses(patterns, needle, parse) == []

    def optional_made_mandatory(pattern: str, flags: int = 0) -> Any:
        tree = parse(pattern, flags)

        def fix(items: Any) -> None:
            for k, (op, arg) in enumerate(items):
                if str(op) in ("MAX_REPEAT", "MIN_REPEAT") and arg[0] == 0:
                    items[k] = (op, (1, max(arg[1], 1), arg[2]))
                    fix(arg[2])
                elif str(op) == "SUBPATTERN":
                    fix(arg[-1])
        fix(tree)
        return tree
    with mock.patch.object(_parser, "parse", optional_made_mandatory):
        missed = _needle_misses(patterns, needle, parse)
    assert any(m.startswith("'(abc)?d'") for m in missed) and len(missed) > 5
    # the rule's `|i` ignored (a mutation): `user` is found missing where `re` matched `uſer`
    missed = _needle_misses(patterns, lambda p, _i: needle(p, False), parse)
    assert any(m.startswith("'user'") for m in missed)
