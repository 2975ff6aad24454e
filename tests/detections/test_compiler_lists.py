"""Long OR-lists on one field (SigmaHQ's Windows rules): contains-lists searched with one
Aho-Corasick automaton, wildcard values with `?` merged into one regex; same answers as one
test per value."""

from __future__ import annotations

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
    assert _regex_needle(r'"(?:\{\d\})+"\s*-f') == "-f"
    assert _regex_needle(r"\$PSHome\[\s*\d{1,3}\s*\]\s*\+\s*\$PSHome\[") == "$pshome["
    assert _regex_needle(r"(?i)\$\{`?e`?n`?v") == "${"
    assert _regex_needle(r"(abc)?d") == "d"  # an optional group promises nothing
    assert _regex_needle(r"(?:abc){2}x") == "abc"
    assert _regex_needle(r"a|b") is None  # nor does an alternation
    assert _regex_needle(r"[ab]+") is None
    assert _regex_needle(r"(") is None  # a pattern `re` rejects: no gate, the rule reports it
