"""The CLI in Vietnamese (issue 18 item 7): every command's and option's --help comes from the vi
catalogue (nocsoc/messages/help/vi.yaml, checked against docs/glossary.md by test_glossary.py),
the rendered --help of each command shows it, and the machine-readable output is the same in
both languages (JSON keys and values are an interface)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from nocsoc.cli import lang
from nocsoc.cli.app import app

WIDE = {"COLUMNS": "400", "TERMINAL_WIDTH": "400", "NO_COLOR": "1", "LANG": "C.UTF-8", "LC_ALL": ""}


def commands() -> dict[str, object]:
    return lang.help_targets(typer.main.get_command(app))


def paths() -> list[str]:
    """Every command path, the root first."""
    return [k for k, obj in commands().items() if not hasattr(obj, "opts")]


def flat(text: str) -> str:
    """Help as rich renders it in boxes, with the box drawing and line breaks taken out."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def test_every_help_text_has_its_vietnamese_and_no_key_is_stale() -> None:
    found = commands()
    texts = lang.help_texts("vi")
    assert sorted(set(found) - set(texts)) == []  # a command or option without Vietnamese help
    assert sorted(set(texts) - set(found) - {"--help"}) == []  # a key naming nothing
    same = [k for k in found if texts[k] == getattr(found[k], "help", None)]
    # only a list of the values to type (`text | json`) reads the same in both languages
    assert [k for k in same if not re.fullmatch(r"[\w.:-]+( \| [\w.:-]+)+", texts[k])] == []


@pytest.mark.parametrize("path", paths())
def test_help_of_each_command_in_vietnamese(path: str) -> None:
    args = [] if path == "nocsoc" else path.split()
    vi = CliRunner().invoke(app, ["--lang", "vi", *args, "--help"], env=WIDE)
    en = CliRunner().invoke(app, ["--lang", "en", *args, "--help"], env=WIDE)
    assert vi.exit_code == en.exit_code == 0, vi.output
    vi_text, en_text = flat(vi.output), flat(en.output)
    texts = lang.help_texts("vi")
    own = {k: obj for k, obj in commands().items() if k == path or k.startswith(f"{path} -")
           or (k.startswith(f"{path} ") and hasattr(obj, "opts") and " " not in k[len(path) + 1:])}
    if path == "nocsoc":
        own = {k: v for k, v in commands().items() if k == "nocsoc" or k.startswith("--")}
    for key, obj in own.items():
        if getattr(obj, "hidden", False):
            continue  # not shown (e.g. run --worker), translated all the same
        english = flat(str(getattr(obj, "help", "")))
        # the first words of each text: rich wraps and may cut a long command help in the list
        assert flat(texts[key])[:40] in vi_text, (key, vi_text)
        assert english[:40] in en_text, (key, en_text)
        if english[:40] not in flat(texts[key]):  # not a list of values both languages share
            assert english[:40] not in vi_text, (key, "English left on the Vietnamese screen")
    assert "Tùy chọn" in vi_text and "Options" not in vi_text
    assert "in hướng dẫn này rồi thoát" in vi_text and "Show this message" not in vi_text


def test_the_locale_asks_for_vietnamese_and_lang_wins() -> None:
    by_locale = CliRunner().invoke(app, ["inventory", "--help"], env={**WIDE, "LANG": "vi_VN.UTF-8"})
    assert "Danh mục thiết bị" in flat(by_locale.output)
    by_env = CliRunner().invoke(app, ["inventory", "--help"], env={**WIDE, "NOCSOC_LANG": "vi"})
    assert "Danh mục thiết bị" in flat(by_env.output)
    english = CliRunner().invoke(app, ["--lang", "en", "inventory", "--help"],
                                 env={**WIDE, "LANG": "vi_VN.UTF-8"})
    assert "The device inventory" in flat(english.output) and "Danh mục" not in english.output
    # and typer's words go back to English for the next command in the same process
    assert "Options" in flat(CliRunner().invoke(app, ["inventory", "--help"], env=WIDE).output)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("lang")
    assert CliRunner().invoke(app, ["init", str(d)]).exit_code == 0
    return d / "nocsoc.yaml"


SECRETS = {"NOCSOC_SNMP_COMMUNITY": "lab-community", "NOCSOC_SNMP_AUTH": "lab-auth-pass",
           "NOCSOC_SNMP_PRIV": "lab-priv-pass"}
JSON_COMMANDS = [
    ["inventory", "list", "--json"],
    ["inventory", "show", "tankhai-dist-01", "--json"],
    ["inventory", "validate", "--json"],
    ["inventory", "export", "--format", "json"],
    ["profiles", "list", "--json"],
    ["profiles", "show", "cisco", "--json"],
    ["rules", "list", "--json"],
    ["traps", "catalog", "--json"],
    ["check", "--json"],
    ["dashboards", "list", "--json"],
    ["alerts", "list", "--json"],
    ["topology", "--format", "json"],
]


@pytest.mark.parametrize("args", JSON_COMMANDS, ids=" ".join)
def test_json_is_the_same_in_both_languages(project: Path, args: list[str]) -> None:
    env = {**WIDE, **SECRETS}
    runs = [CliRunner().invoke(app, ["-c", str(project), "--lang", lg, *args], env=env)
            for lg in ("vi", "en")]
    # same exit code (`check` says 2 when, say, another program holds a listen port: JSON still)
    assert runs[0].exit_code == runs[1].exit_code, (runs[0].output, runs[1].output)
    vi, en = (json.loads(r.stdout) for r in runs)
    assert vi == en
