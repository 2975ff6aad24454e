"""Errors name file, line and key: nocsoc.errors and the line-keeping YAML reader/dumper."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from nocsoc.errors import ConfigError, InventoryError, NocsocError, Problem
from nocsoc.yamlio import FlowList, FlowMap, dump_yaml, key_label, parse_yaml, validation_problems

F = Path("x.yaml")


def test_problem_render_leaves_out_unknown_parts() -> None:
    assert Problem("bad", F, 3, "a.b").render() == "x.yaml:3: a.b: bad"
    assert Problem("bad", F, None, "a.b").render() == "x.yaml: a.b: bad"
    assert Problem("bad", F).render() == "x.yaml: bad"
    assert Problem("bad", key="--address").render() == "--address: bad"
    assert Problem("bad").render() == "bad"


def test_error_with_several_problems_is_one_line_each() -> None:
    err = InventoryError("first", file=F, line=1, problems=[Problem("second", F, 9, "k")])
    assert str(err) == "x.yaml:1: first\nx.yaml:9: k: second"
    assert (err.file, err.line, err.key) == (F, 1, None)
    assert err.exit_code == 2
    assert isinstance(err, NocsocError) and isinstance(ConfigError("x"), NocsocError)
    with pytest.raises(ValueError):
        NocsocError()


def test_key_label() -> None:
    assert key_label(("devices", 3, "address")) == "devices[3].address"
    assert key_label((0, "a")) == "[0].a"
    assert key_label(()) == ""


def test_parse_keeps_line_of_every_key_and_item() -> None:
    doc = parse_yaml("a: 1\nb:\n  - x: 1\n    y: 2\n\n  - z: 3\n", F)
    assert doc.data == {"a": 1, "b": [{"x": 1, "y": 2}, {"z": 3}]}
    assert doc.lines[("a",)] == 1
    assert doc.lines[("b", 0)] == 3
    assert doc.lines[("b", 0, "y")] == 4
    assert doc.lines[("b", 1, "z")] == 6
    # a path below a scalar falls back to its nearest ancestor
    assert doc.line_of(("b", 1, "z", "deeper")) == 6
    assert doc.problem(("b", 0, "y"), "nope").render() == "x.yaml:4: b[0].y: nope"


def test_parse_refuses_duplicate_keys_naming_both_lines() -> None:
    with pytest.raises(NocsocError) as exc:
        parse_yaml("snmp:\n  a: 1\nflows: {}\nsnmp:\n  a: 2\n", F)
    assert str(exc.value) == "x.yaml:4: snmp: duplicate key (first defined on line 1)"


def test_parse_syntax_error_names_line() -> None:
    with pytest.raises(ConfigError) as exc:
        parse_yaml("a: 1\nb: [1,\n", F, ConfigError)
    assert str(exc.value) == "x.yaml:3: invalid YAML: did not find expected node content"


def test_parse_merge_keys_and_empty_document() -> None:
    doc = parse_yaml("base: &b {x: 1}\nitem:\n  <<: *b\n  y: 2\n", F)
    assert doc.data["item"] == {"x": 1, "y": 2}
    assert parse_yaml("# only a comment\n", F).data is None


def test_parse_refuses_python_tags() -> None:
    with pytest.raises(NocsocError) as exc:
        parse_yaml("a: !!python/object:os.system {}\n", F)
    assert str(exc.value) == (
        "x.yaml:1: a: cannot read this value: unsupported tag 'tag:yaml.org,2002:python/object:os.system'"
    )
    with pytest.raises(NocsocError) as exc:
        parse_yaml("a: 1\nb: !!python/name:os.system ''\n", F)
    assert str(exc.value).startswith("x.yaml:2: b: cannot read this value: could not determine a constructor")


def test_dump_is_stable_and_readable() -> None:
    data: dict[str, Any] = {"b": "Đồng Xoài", "a": [1, 2], "e": FlowMap(device="r1", interface="xe-0/1/0"),
            "t": FlowList(["dc", "ring"]), "n": "line1\nline2\n", "v": "3"}
    text = dump_yaml(data, header="title\n\nmore")
    assert text == (
        "# title\n#\n# more\n"
        "b: Đồng Xoài\n"
        "a:\n  - 1\n  - 2\n"
        "e: {device: r1, interface: xe-0/1/0}\n"
        "t: [dc, ring]\n"
        "n: |\n  line1\n  line2\n"
        "v: '3'\n"
    )
    assert parse_yaml(text, F).data == {**data, "e": dict(data["e"]), "t": list(data["t"])}


class _Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    interval_s: float = 1.0
    password: str | None = None


class _Outer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    inner: _Inner = _Inner()


def _problems(text: str) -> list[str]:
    doc = parse_yaml(text, F)
    with pytest.raises(ValidationError) as exc:
        _Outer.model_validate(doc.data)
    return [p.render() for p in validation_problems(exc.value, doc, _Outer)]


def test_validation_problems_name_line_and_key() -> None:
    assert _problems("name: a\ninner:\n  intervl_s: 2\n") == [
        "x.yaml:3: inner.intervl_s: unknown key (did you mean `interval_s`?); allowed: interval_s, password"
    ]
    assert _problems("inner:\n  interval_s: soon\n") == [
        "x.yaml:1: name: missing required key",
        "x.yaml:2: inner.interval_s: Input should be a valid number, unable to parse string as a number "
        "(got 'soon')",
    ]


def test_validation_problems_never_echo_a_secret_value() -> None:
    problems = _problems("name: a\ninner:\n  password: 123456\n")
    assert problems == ["x.yaml:3: inner.password: Input should be a valid string"]
