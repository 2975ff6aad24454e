"""Which language the CLI speaks to a person, and its texts (`nocsoc.messages`).

`--lang vi|en` wins, then `NOCSOC_LANG`, then the locale (`LC_ALL`, `LC_MESSAGES`, `LANG`, the
first one set, as POSIX orders them): `vi_VN.UTF-8` gives Vietnamese, anything else English.
JSON output is never translated: its keys are an interface.

Covered: the --help of every command and option (`nocsoc/messages/help/vi.yaml`, keyed by
command path), the one-line errors' first word, and the tables, titles, labels and messages of
every command (`nocsoc/messages/*.yaml`, checked by tests/cli/test_lang.py). Left as they are:
the values a person types back (states, kinds, levels in --state/--level), the "listening on
HOST:PORT" lines scripts wait for, the message after a one-line error's first word (it names
the option and the value), and texts made below the CLI (check findings, triage and validation
errors, parser and store messages): those stay English.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from nocsoc import messages
from nocsoc.cli import common
from nocsoc.textcatalog import load_catalogue

HELP_DIR = Path(messages.__file__).parent / "help"
# typer's own words around the help texts, in English as typer has them
_TYPER_WORDS = {"ARGUMENTS_PANEL_TITLE": "Tham số", "OPTIONS_PANEL_TITLE": "Tùy chọn",
                "COMMANDS_PANEL_TITLE": "Lệnh", "DEFAULT_STRING": "[mặc định: {}]",
                "REQUIRED_LONG_STRING": "[bắt buộc]", "ENVVAR_STRING": "[biến môi trường: {}]"}
_TYPER_ENGLISH: dict[str, str] = {}


def current(explicit: str | None = None) -> str:
    """The language: `explicit` (a --lang value), else --lang as parsed, else $NOCSOC_LANG, else
    the locale."""
    for given in (explicit, common.OPTIONS.lang):
        if given in messages.LANGS:
            return given
    env = os.environ.get("NOCSOC_LANG", "")
    if env in messages.LANGS:
        return env
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return "vi" if value.lower().startswith("vi") else "en"
    return "en"


def t(key: str, **values: object) -> str:
    """The text for `key` in the current language."""
    return messages.text(current(), key, **values)


def word(prefix: str, value: str) -> str:
    """A value the program knows (a state, a kind) in the reader's language: `<prefix>.<value>`
    from the catalogue, or the value itself when this version has no text for it."""
    key = f"{prefix}.{value}"
    return t(key) if key in messages.catalog("en") else value


def add_columns(table: Any, prefix: str, names: Sequence[str], right: Sequence[str] = (),
                **options: Any) -> None:
    """Columns headed `<prefix>.<name>` in the reader's language; those in `right` right-justified
    (numbers)."""
    for name in names:
        table.add_column(t(f"{prefix}.{name}"), justify="right" if name in right else "left", **options)


def lang_in_args(args: Sequence[str]) -> str | None:
    """The value of `--lang` in a command line, read before click parses it: `--help` is handled
    while parsing, before the root callback sees --lang."""
    for i, arg in enumerate(args):
        if arg == "--lang" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


@cache
def help_texts(lang: str) -> dict[str, str]:
    """Help of commands and options by command path (`inventory list --site`); English is the
    code's own text, so only the other languages have a file."""
    return load_catalogue(HELP_DIR, lang, ("vi",), messages.MessageError)


_TYPER_OPTIONS = ("help", "install_completion", "show_completion")


def help_targets(command: Any, path: str = "") -> dict[str, Any]:
    """Every command and parameter under `command` that shows a help text, by its key in the
    help catalogue: `nocsoc` for the root, then command paths, each parameter after its command
    (`--opt`, or the argument's name). --help and typer's shell-completion options are typer's."""
    out: dict[str, Any] = {path or "nocsoc": command}
    for p in command.params:
        if p.name not in _TYPER_OPTIONS and getattr(p, "help", None):
            out[f"{path} {p.opts[0]}".strip()] = p
    for name, sub in getattr(command, "commands", {}).items():
        out.update(help_targets(sub, f"{path} {name}".strip()))
    return out


def _help_options(command: Any) -> list[Any]:
    """Each command's --help option: click makes it on first use and keeps it, so made here."""
    import click

    own = command.get_help_option(click.Context(command))
    found = [own] if own is not None else []
    for sub in getattr(command, "commands", {}).values():
        found += _help_options(sub)
    return found


def translate_help(root: Any, lang: str) -> None:
    """Put the help of `root` and every command under it in `lang`, in place (typer builds the
    click commands afresh for each invocation). A text the catalogue lacks stays English; the
    tests make sure none does."""
    from typer import rich_utils

    if not _TYPER_ENGLISH:
        _TYPER_ENGLISH.update({k: getattr(rich_utils, k) for k in _TYPER_WORDS})
    for name, word in (_TYPER_WORDS if lang == "vi" else _TYPER_ENGLISH).items():
        setattr(rich_utils, name, word)
    if lang == "en":
        return
    texts = help_texts(lang)
    for key, obj in help_targets(root).items():
        if key in texts:
            obj.help = texts[key]
            if hasattr(obj, "short_help"):
                obj.short_help = None  # listed under its group by the first line of its help
    for option in _help_options(root):
        option.help = texts.get("--help", option.help)
