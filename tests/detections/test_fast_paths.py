"""The engine's shortcuts give exactly what the plain path gives (speed, never results)."""

from __future__ import annotations

import sys

from nocsoc.detections.compiler import _number
from nocsoc.events import LogEvent


def _reference(v: object) -> float | None:
    try:
        return float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def test_number_refuses_early_only_what_float_refuses() -> None:
    """`_number` skips float() for a text whose first character no number starts with: checked
    for every Unicode character as the first of a short text, and on the odd forms float() takes."""
    odd = ["", " 12", "\u00a012", "\u3000 7 ", "\u0661\u0662", "inf", "-Infinity", "nan", "+.5", "1_000",
           "1e3", "²", "0x10", "SEC_LOGIN-4-LOGIN_FAILED", "113006", "113006.0", "\t-0\n"]
    texts = odd + [f"{chr(c)}1" for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    wrong = [t for t in texts if repr(_number(t)) != repr(_reference(t))]  # repr: nan == nan
    assert wrong == []


def test_a_rule_with_two_gates_runs_only_when_both_occur_and_never_misses() -> None:
    """`Image|endswith: \\csi.exe` and `Company: Microsoft Corporation`: gated by both parts, the
    rule is not run on every Microsoft binary, and detects exactly what it detects ungated."""
    import dataclasses

    from nocsoc.detections.engine import Engine
    from nocsoc.detections.loader import RuleSet
    from tests.detections.test_compiler import rule

    r = rule("    sel_img:\n        Image|endswith: '\\\\csi.exe'\n"
             "    sel_co:\n        Company: 'Microsoft Corporation'\n    condition: sel_img and sel_co")
    gates = [[("Company", "microsoft corporation")], [("Image", "\\csi.exe")]]
    assert sorted([r.needles, r.needles2]) == gates
    runs = 0
    inner = r.match

    def counted(e: LogEvent) -> bool:
        nonlocal runs
        runs += 1
        return inner(e)
    gated = Engine(RuleSet([dataclasses.replace(r, match=counted)], []))
    plain = Engine(RuleSet([dataclasses.replace(r, needles=None)], []))
    images = ["C:\\Windows\\csi.exe", "C:\\Windows\\cmd.exe", "C:\\x\\CSI.EXE", None]
    companies = ["Microsoft Corporation", "microsoft corporation", "Contoso", None]
    got, want = [], []
    for image in images:
        for company in companies:
            fields = {k: v for k, v in (("Image", image), ("Company", company)) if v is not None}
            got.append(bool(gated.process(LogEvent("x", dict(fields), product="linux"))))
            want.append(bool(plain.process(LogEvent("x", dict(fields), product="linux"))))
    assert got == want and sum(got) == 4  # two csi.exe spellings x two Company spellings
    assert runs == 4  # run only where both needles occur


def test_an_and_nested_under_an_and_gives_the_second_gate() -> None:
    """`selection and not filter`, the selection `Image|endswith` with `Company`: pySigma nests
    the selection's AND in the outer one, whose other part (a NOT) has no needles. The nested
    parts gate both; gated, the rule runs only where both occur and detects exactly what it
    detects ungated. A wrong second gate (the filter's value, which no match needs) hides
    matches: the comparison can fail."""
    import dataclasses

    from nocsoc.detections.engine import Engine
    from nocsoc.detections.loader import RuleSet
    from tests.detections.test_compiler import rule

    r = rule("    selection:\n        Image|endswith: '\\\\csi.exe'\n"
             "        Company: 'Microsoft Corporation'\n"
             "    filter:\n        User|contains: 'svc'\n    condition: selection and not filter")
    gates = [[("Company", "microsoft corporation")], [("Image", "\\csi.exe")]]
    assert sorted([r.needles, r.needles2]) == gates
    images = ["C:\\Windows\\csi.exe", "C:\\Windows\\cmd.exe", "C:\\x\\CSI.EXE", None]
    companies = ["Microsoft Corporation", "Contoso", None]
    users = ["svc-backup", "alice", None]

    def detections(rr: object) -> tuple[list[bool], int]:
        runs = 0
        inner = rr.match  # type: ignore[attr-defined]

        def counted(e: LogEvent) -> bool:
            nonlocal runs
            runs += 1
            return bool(inner(e))
        engine = Engine(RuleSet([dataclasses.replace(rr, match=counted)], []))  # type: ignore[type-var]
        out = []
        for image in images:
            for company in companies:
                for user in users:
                    fields = {k: v for k, v in (("Image", image), ("Company", company), ("User", user))
                              if v is not None}
                    out.append(bool(engine.process(LogEvent("x", fields, product="linux"))))
        return out, runs

    got, runs = detections(r)
    want, all_runs = detections(dataclasses.replace(r, needles=None, needles2=None))
    assert got == want and sum(got) == 4  # two csi.exe spellings x two users not filtered
    assert all_runs == 36 and runs == 2 * 3  # both gates: the csi.exe events of Microsoft only
    wrong, _ = detections(dataclasses.replace(r, needles2=[("User", "svc")], exact2=frozenset()))
    assert wrong != want


def test_field_scans_remember_values_and_stay_bounded(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A big route scans each field on its own and remembers what a value admitted: the same
    values seen again (as Windows events repeat their Image, Company, ...) give the same
    detections as ungated rules, and the memory of values is bounded."""
    import dataclasses

    import nocsoc.detections.engine as engine_mod
    from nocsoc.detections.engine import Engine
    from nocsoc.detections.loader import RuleSet
    from tests.detections.test_compiler import rule

    monkeypatch.setattr(engine_mod, "_MEMO_VALUES", 3)
    rules = [dataclasses.replace(rule(d), id=f"r{i}") for i, d in enumerate([
        "    sel:\n        Image|endswith: '\\\\csi.exe'\n    condition: sel",
        "    sel:\n        CommandLine|contains: 'whoami'\n    condition: sel",
        "    sel:\n        CommandLine|contains|all: ['net', 'user']\n        Image|contains: 'net'\n"
        "    condition: sel"])]
    gated, plain = Engine(RuleSet(rules, [])), Engine(RuleSet(
        [dataclasses.replace(r, needles=None) for r in rules], []))
    values = [("C:\\csi.exe", "csi whoami"), ("C:\\net.exe", "net user x"), ("C:\\a.exe", "whoami"),
              ("C:\\net1.exe", "net1 user"), ("C:\\b.exe", "b")]
    got, want = [], []
    for _ in range(3):  # seen again: answered from memory (or scanned again once forgotten)
        for image, cli in values:
            def event(image: str = image, cli: str = cli) -> LogEvent:
                return LogEvent("x", {"Image": image, "CommandLine": cli}, product="linux")
            got.append(sorted(d.rule_id for d in gated.process(event())))
            want.append(sorted(d.rule_id for d in plain.process(event())))
    assert got == want and sum(map(len, got)) == 3 * 5
    (route,) = gated._routes.values()
    assert sorted(fs.field for fs in route.field_scans) == ["CommandLine", "Image"]
    assert all(0 < len(fs.memo) <= 3 for fs in route.field_scans)


def test_remembered_values_are_left_alone_by_the_cyclic_gc() -> None:
    """What a field gate remembers of each value is made of tuples, strings and ints only, so
    the cyclic GC stops tracking it at its first look: thousands of new values (paths, addresses)
    kept as lists aged into the oldest generation and made its full collections, which walk
    every object, run every couple of bench rounds. The same detections as ungated rules."""
    import dataclasses
    import gc

    from nocsoc.detections.engine import Engine
    from nocsoc.detections.loader import RuleSet
    from tests.detections.test_compiler import rule

    rules = [dataclasses.replace(rule(d), id=f"r{i}") for i, d in enumerate([
        "    sel:\n        Image|endswith: '\\\\csi.exe'\n    condition: sel",
        "    sel:\n        CommandLine|contains: ['whoami', 'net', 'user']\n    condition: sel",
        "    sel:\n        EventID: 4688\n    condition: sel"])]
    gated, plain = Engine(RuleSet(rules, [])), Engine(RuleSet(
        [dataclasses.replace(r, needles=None) for r in rules], []))
    got, want = [], []
    for i in range(200):
        fields = {"Image": f"C:\\{'csi' if i % 3 else 'a'}{i % 7}.exe", "CommandLine": f"net user {i}",
                  "EventID": 4688 if i % 2 else i}
        got.append(sorted(d.rule_id for d in gated.process(LogEvent("x", dict(fields), product="linux"))))
        want.append(sorted(d.rule_id for d in plain.process(LogEvent("x", dict(fields), product="linux"))))
    assert got == want and sum(map(len, got)) > 200
    # a tuple is untracked when a collection finds all it holds untracked: one holding a tuple
    # the same pass looks at after it (the slots tuples, shared) waits for the next collection
    gc.collect()
    gc.collect()
    (route,) = gated._routes.values()
    entries = [e for fs in route.field_scans for memo in (fs.memo, fs.ints) for e in memo.values()]
    assert len(entries) > 200
    assert [e for e in entries if gc.is_tracked(e)] == []


def test_keywords_found_in_the_raw_bytes_are_those_of_its_lowercase() -> None:
    """ASCII keyword needles are searched in the raw line's UTF-8 bytes lowercased: the same
    rules fire as on str.lower(), also with the two characters whose lowercase holds ASCII."""
    import dataclasses

    from nocsoc.detections.engine import Engine
    from nocsoc.detections.loader import RuleSet
    from tests.detections.test_compiler import rule

    traps = [chr(c) for c in range(128, sys.maxunicode + 1)
             if not 0xD800 <= c <= 0xDFFF and any(ch.isascii() for ch in chr(c).lower())]
    assert traps == ["\u0130", "\u212a"]  # the engine's list (nocsoc.detections.engine._raw_lower_bytes)
    rules = [dataclasses.replace(rule(f"    keywords:\n        - '{k}'\n    condition: keywords"), id=k)
             for k in ("kelvin", "istanbul", "mimikatz", "sekurlsa::")]
    gated, plain = Engine(RuleSet(rules, [])), Engine(RuleSet(
        [dataclasses.replace(r, needles=None) for r in rules], []))
    raws = ["\u212aELVIN \u00ae", "\u0130STANBUL", "ISTANBUL \u00ae", "MIMIKATZ\u00ae SEKURLSA::x",
            "mimi\u212aatz", "caf\u00e9 sekurlsa:", "\udcff kelvin"]
    got = [sorted(d.rule_id for d in gated.process(LogEvent(r, {}, product="linux"))) for r in raws]
    want = [sorted(d.rule_id for d in plain.process(LogEvent(r, {}, product="linux"))) for r in raws]
    assert got == want == [["kelvin"], [], ["istanbul"], ["mimikatz", "sekurlsa::"], ["mimikatz"], [],
                           ["kelvin"]]


def test_keywords_with_many_fields_scan_each_field_and_the_raw_line_apart() -> None:
    """A route mixing a keyword rule with rules on more than three fields gates field by field
    (remembered values) and searches the keywords alone in the raw line, found only where a
    leftmost search finds one: the same detections as ungated rules, none missed where needles
    overlap or repeat."""
    import dataclasses

    from nocsoc.detections.engine import Engine
    from nocsoc.detections.loader import RuleSet
    from tests.detections.test_compiler import rule

    rules = [dataclasses.replace(rule(d), id=f"r{i}") for i, d in enumerate([
        "    keywords:\n        - 'sekurlsa::'\n        - 'kurl'\n    condition: keywords",
        "    sel:\n        Image|endswith: '\\\\csi.exe'\n    condition: sel",
        "    sel:\n        CommandLine|contains: 'whoami'\n    condition: sel",
        "    sel:\n        ParentImage|contains: 'explorer'\n    condition: sel",
        "    sel:\n        User|contains: 'admin'\n    condition: sel",
        "    sel:\n        TargetObject|contains: '\\\\run\\\\'\n    condition: sel"])]
    gated, plain = Engine(RuleSet(rules, [])), Engine(RuleSet(
        [dataclasses.replace(r, needles=None) for r in rules], []))
    rows = [("C:\\csi.exe", "whoami", "explorer.exe", "ADMIN", "HKLM\\Run\\x"),
            ("C:\\a.exe", "x SEKURLSA::logonpasswords", "cmd.exe", "bob", "-"),
            ("C:\\a.exe", "kurl", "cmd.exe", "bob", "-"), ("C:\\b.exe", "b", "c", "d", "e")]
    got, want = [], []
    for _ in range(2):
        for image, cli, parent, user, target in rows:
            fields = {"Image": image, "CommandLine": cli, "ParentImage": parent, "User": user,
                      "TargetObject": target}
            raw = " ".join(fields.values())
            for engine, out in ((gated, got), (plain, want)):
                ev = LogEvent(raw, dict(fields), product="linux")
                out.append(sorted(d.rule_id for d in engine.process(ev)))
    assert got == want == [["r1", "r2", "r3", "r4", "r5"], ["r0"], ["r0"], []] * 2
    (route,) = gated._routes.values()
    assert sorted(fs.field for fs in route.field_scans) == [
        "CommandLine", "Image", "ParentImage", "TargetObject", "User"]


def test_remembered_values_tell_types_apart() -> None:
    """Field values that are one dict key but lowercase differently (1, 1.0, True) and values
    that are no key at all (a list) gate as their own lowercase does, met again and again."""
    import dataclasses

    from nocsoc.detections.engine import Engine
    from nocsoc.detections.loader import RuleSet
    from tests.detections.test_compiler import rule

    rules = [dataclasses.replace(rule(f"    sel:\n        Flag: '{v}'\n    condition: sel"), id=v)
             for v in ("1", "true", "1.0", "a")]
    gated, plain = Engine(RuleSet(rules, [])), Engine(RuleSet(
        [dataclasses.replace(r, needles=None) for r in rules], []))
    values = [1, True, 1.0, "1", "TRUE", ["a"], None]
    got, want = [], []
    for _ in range(2):
        for v in values:
            for engine, out in ((gated, got), (plain, want)):
                ev = LogEvent("x", {"Flag": v}, product="linux")
                out.append(sorted(d.rule_id for d in engine.process(ev)))
    assert got == want == [["1"], ["true"], ["1.0"], ["1"], ["true"], [], []] * 2


def test_needles_of_one_value_past_the_bound_of_unions(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Past the bound on sets of slots made one, each needle's own slots gate: same results."""
    import nocsoc.detections.engine as engine_mod

    monkeypatch.setattr(engine_mod, "_MAX_UNIONS", 1)
    test_field_scans_remember_values_and_stay_bounded(monkeypatch)
    test_keywords_with_many_fields_scan_each_field_and_the_raw_line_apart()


def test_short_needles_are_tested_apart_and_never_missed() -> None:
    """Needles of one or two characters (`:` and `@` of SigmaHQ's "Remote File Copy", `;` of a
    URL rule) are left out of the automata and tested with `in`: in keywords and fields, first
    and second gates, ASCII (the raw line searched as bytes) and not (as str), the same
    detections as ungated rules; and with the short needles ignored, some are missed, so this
    test can fail."""
    import dataclasses

    from nocsoc.detections.engine import Engine
    from nocsoc.detections.loader import RuleSet
    from tests.detections.test_compiler import rule

    defs = {
        "copy": "    tools:\n        - 'scp '\n    filter:\n        - '@'\n        - ':'\n"
                "    condition: tools and filter",
        "semi": "    sel:\n        uri|contains:\n            - ';'\n            - '|'\n    condition: sel",
        "two": "    sel:\n        uri|contains: 'cmd='\n        ua|contains: '-o'\n    condition: sel",
        "kw": "    keywords:\n        - '~'\n    condition: keywords",
    }
    rules = [dataclasses.replace(rule(d), id=k) for k, d in defs.items()]
    cyr = [dataclasses.replace(rule("    keywords:\n        - '\u0430'\n        - 'xyz'\n"
                                    "    condition: keywords"), id="cyr")]
    events = [("scp a b", "/", "x"), ("scp a user@b", "/", "x"), ("SCP x:y", "/a;b", "x"),
              ("copy", "/x?cmd=1", "curl -o"), ("copy", "/x?CMD=1", "curl -O"), ("copy", "/x?cmd=1", "-x"),
              ("a ~ b", "/a|b", "x"), ("none", "/", "x"), ("\u0430bc", "/", "x"), ("xyz", "/", "x"),
              ("\u0410BC", "/", "x")]

    def run(rs: list, ignore_short: bool = False) -> list[list[str]]:
        engine = Engine(RuleSet(rs, []))
        out = []
        for _ in range(2):  # the second pass from remembered values
            for raw, uri, ua in events:
                ev = LogEvent(raw, {"uri": uri, "ua": ua}, product="linux")
                if ignore_short:
                    route = engine.route(ev)
                    route.short = ()
                    for fs in route.field_scans:
                        fs.short = ()
                    route.refresh()
                out.append(sorted(d.rule_id for d in engine.process(ev)))
        return out

    for rs in (rules, cyr):
        plain = [dataclasses.replace(r, needles=None, needles2=None) for r in rs]
        assert run(rs) == run(plain)
    assert run(rules)[:11] == [[], ["copy"], ["copy", "semi"], ["two"], ["two"], [], ["kw", "semi"],
                               [], [], [], []]
    assert run(cyr)[:11] == [[]] * 8 + [["cyr"], ["cyr"], ["cyr"]]
    # the short needles are out of the automata, and tested: ignoring them misses detections.
    # A second gate with a short keyword ("copy": `@`, `:`) is no gate (`_weak_second`): the
    # rule runs on its first gate's `scp `, its predicate deciding
    route = Engine(RuleSet(rules, [])).route(LogEvent("x", {}, product="linux"))
    assert sorted(n for n, _ in route.short) == [b"~"]
    assert route.two == {2}  # "two" keeps its second gate (`-o` in a field, remembered per value)
    assert {fs.field: sorted(n for n, _ in fs.short) for fs in route.field_scans} == {
        "uri": [";", "|"], "ua": ["-o"]}
    assert run(rules, ignore_short=True) != run(rules)
    # a non-ASCII one (SigmaHQ's emoji, homoglyphs) is rare: it stays in the automaton
    assert Engine(RuleSet(cyr, [])).route(LogEvent("x", {}, product="linux")).short == ()


def test_many_short_needles_of_a_field_stay_in_its_automaton() -> None:
    """Past _MAX_SHORT short needles in one field (windash lists: `-a`, `/a`, ...), they stay
    in the field's automaton, and detect the same."""
    import dataclasses

    from nocsoc.detections.engine import _MAX_SHORT, Engine
    from nocsoc.detections.loader import RuleSet
    from tests.detections.test_compiler import rule

    flags = [f"-{c}" for c in "abcdefghij"]
    assert len(flags) > _MAX_SHORT
    rules = [dataclasses.replace(rule(f"    sel:\n        cli|contains: '{f}'\n    condition: sel"), id=f)
             for f in flags]
    gated = Engine(RuleSet(rules, []))
    plain = Engine(RuleSet([dataclasses.replace(r, needles=None) for r in rules], []))
    clis = ["x -a -b", "-j", "/c -C", "none", "-A-B-c"]
    got, want = ([sorted(d.rule_id for d in e.process(LogEvent("r", {"cli": c}, product="linux")))
                  for c in clis] for e in (gated, plain))
    assert got == want == [["-a", "-b"], ["-j"], ["-c"], [], ["-a", "-b", "-c"]]
    (fs,) = gated.route(LogEvent("r", {}, product="linux")).field_scans
    assert fs.short == () and fs.scan is not None


def test_long_raw_lines_searched_case_free_first_miss_nothing(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Long raw lines (EVTX records' JSON) are searched for a piece of each keyword in every
    case spelling before being lowered: the same rules fire as on the lowered line, needles in
    any case, after U+0130 / KELVIN SIGN and non-Latin-1 text, at the start, the end and across
    the pieces; a line with none is not lowered at all. With the spellings cut to lowercase
    (a mutation), upper-case needles are missed: this test can fail."""
    import dataclasses

    import nocsoc.detections.engine as engine_mod
    from nocsoc.detections.engine import Engine
    from nocsoc.detections.loader import RuleSet
    from tests.detections.test_compiler import rule

    words = ("sekurlsa::", "kerberos::golden", "\\mimilib.dll", "eo.oe.kiwi", "kelvin")
    rules = [dataclasses.replace(rule(f"    keywords:\n        - '{k}'\n    condition: keywords"), id=k)
             for k in words]
    pad = "x" * 600
    raws = [pad + "SEKURLSA::logonpasswords", "Kerberos::Golden " + pad, pad + "\u212aELVIN",
            "\u0130 " + pad + " kelvin", pad + "\u4e2d\\MimiLib.DLL", pad + "EO.oe.KIWI\u00ae",
            pad + "sekurlsa:", pad + "kerberos:: golden", pad, "short sekurlsa::"]

    def run() -> list[list[str]]:
        gated = Engine(RuleSet(rules, []))
        return [sorted(d.rule_id for d in gated.process(LogEvent(r, {}, product="linux"))) for r in raws]
    plain = Engine(RuleSet([dataclasses.replace(r, needles=None) for r in rules], []))
    want = [sorted(d.rule_id for d in plain.process(LogEvent(r, {}, product="linux"))) for r in raws]
    assert run() == want == [["sekurlsa::"], ["kerberos::golden"], ["kelvin"], ["kelvin"], ["\\mimilib.dll"],
                             ["eo.oe.kiwi"], [], [], [], ["sekurlsa::"]]
    route = Engine(RuleSet(rules, [])).route(LogEvent("x", {}, product="linux"))
    assert route.haystack(LogEvent(pad, {}, product="linux")) == b""  # nothing to find: not lowered
    monkeypatch.setattr(engine_mod, "_case_spellings", lambda piece: [piece])
    assert run() != want


def test_rules_gated_only_by_numbers_read_values_as_the_rules_do() -> None:
    """A rule with no other gate is gated by its numbers (`event_id: 113006`, ports): the
    field's value read as a number as the rules read it (ints, floats, texts of any spelling
    float() takes, ints remembered apart from 1.0 and True), the same detections as ungated;
    with the numbers' table emptied (a mutation), detections are missed."""
    import dataclasses

    from nocsoc.detections.compiler import NUMBER_NEEDLE
    from nocsoc.detections.engine import Engine
    from nocsoc.detections.loader import RuleSet
    from tests.detections.test_compiler import rule

    rules = [dataclasses.replace(rule(d), id=i) for i, d in (
        ("lock", "    sel:\n        event_id:\n            - 113006\n            - 'QUIET_MODE_ON'\n"
                 "    condition: sel"),
        ("ports", "    sel:\n        dst_port: [21, 23, 1]\n    condition: sel"))]
    assert [sorted(n for _, n in r.needles or []) for r in rules] == [
        [f"{NUMBER_NEEDLE}113006", "quiet_mode_on"],
        [f"{NUMBER_NEEDLE}1", f"{NUMBER_NEEDLE}21", f"{NUMBER_NEEDLE}23"]]
    values = [113006, "113006", "113006.0", " 113006 ", "1.13006e5", 113006.0, "+113006", "x", ["113006"],
              "quiet_mode_on", 21, 21.0, "21", True, 1, 1.0, "1", False, 0, 2**70, "nan", None]
    events = [{"event_id": v, "dst_port": v} for v in values] * 2  # again: from remembered values

    def run(rs: list, empty: bool = False) -> list[list[str]]:
        engine = Engine(RuleSet(rs, []))
        out = []
        for f in events:
            ev = LogEvent("x", {k: v for k, v in f.items() if v is not None}, product="linux")
            if empty:
                for fs in engine.route(ev).field_scans:
                    if fs.numbers:
                        fs.numbers = {}
            out.append(sorted(d.rule_id for d in engine.process(ev)))
        return out
    want = run([dataclasses.replace(r, needles=None) for r in rules])
    assert run(rules) == want
    assert want[:len(values)] == [["lock"]] * 7 + [[], [], ["lock"], ["ports"], ["ports"], ["ports"], [],
                                                    ["ports"], ["ports"], ["ports"], [], [], [], [], []]
    assert run(rules, empty=True) != want
