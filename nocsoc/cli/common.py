"""What every CLI command shares: the global options, config loading, JSON output, exit codes.

Exit codes: 0 ok, 1 runtime error, 2 usage or validation error.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from nocsoc.errors import NocsocError

if TYPE_CHECKING:
    from nocsoc.config import Config
    from nocsoc.context import Context
    from nocsoc.inventory.model import Inventory

EXIT_OK, EXIT_RUNTIME, EXIT_USAGE = 0, 1, 2

console = Console()
err_console = Console(stderr=True)


@dataclass
class GlobalOptions:
    config_path: Path | None = None
    verbose: int = 0
    lang: str | None = None  # --lang: language of human output (nocsoc.cli.lang)


OPTIONS = GlobalOptions()


def config_path() -> Path:
    """`--config`, else `NOCSOC_CONFIG`, else `./nocsoc.yaml`."""
    if OPTIONS.config_path is not None:
        return OPTIONS.config_path
    env = os.environ.get("NOCSOC_CONFIG")
    return Path(env) if env else Path("nocsoc.yaml")


def error_word() -> str:
    """`error:` in the reader's language, the first word of every one-line error."""
    from nocsoc.cli.lang import t

    return t("common.error")


def fail(message: str, code: int = EXIT_RUNTIME) -> NoReturn:
    """Print one clear error line and exit with `code`."""
    # escape(): messages quote user input such as `devices[core-01]`, which rich would take as markup
    err_console.print(f"[bold red]{error_word()}[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def fail_with(err: NocsocError) -> NoReturn:
    """Print every problem of `err` (one `error:` line each, file:line: key: message) and exit
    with its code (2 for bad input)."""
    for problem in err.problems:
        err_console.print(f"[bold red]{error_word()}[/] {escape(problem.render())}", highlight=False,
                          soft_wrap=True)
    raise typer.Exit(err.exit_code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn a `NocsocError` raised inside into a clean message and exit code, not a traceback."""
    try:
        yield
    except NocsocError as err:
        fail_with(err)


def load_config_or_fail() -> tuple[Config, Path]:
    """The validated config and the path it came from; a bad or missing file exits 2."""
    from nocsoc.config import load_config  # imported late: `nocsoc --help` stays fast

    path = config_path()
    with user_errors():
        return load_config(path), path
    raise AssertionError("unreachable")  # user_errors exits; this satisfies the type checker


def load_config_or_defaults() -> tuple[Config, Path | None]:
    """nocsoc.yaml and its path when the file exists (a bad one exits 2), else the defaults and
    None: commands that need neither inventory nor sink also work before `nocsoc init`."""
    from nocsoc.config import Config

    path = config_path()
    # A file named by -c must exist (a typo there is the user's mistake of the moment); the
    # ambient defaults, NOCSOC_CONFIG and ./nocsoc.yaml, may be absent.
    if not path.exists() and OPTIONS.config_path is None:
        return Config(), None
    return load_config_or_fail()


def load_config_and_inventory() -> tuple[Config, Path, Inventory]:
    """Config, its path and the fully valid inventory it names; any problem exits 2 with file:line."""
    from nocsoc.config import inventory_path
    from nocsoc.inventory.store import load_inventory

    config, path = load_config_or_fail()
    with user_errors():
        return config, path, load_inventory(inventory_path(config, path))
    raise AssertionError("unreachable")


def load_context_or_fail() -> Context:
    """The runtime context (config plus the paths, inventory and sinks it derives); a bad or
    missing config exits 2."""
    from nocsoc.context import load_context

    with user_errors():
        return load_context(config_path())
    raise AssertionError("unreachable")


def context_or_defaults() -> Context:
    """The context of nocsoc.yaml when it exists (a bad one exits 2), else of the defaults
    relative to the working directory: for commands that also work before `nocsoc init`."""
    from nocsoc.config import Config
    from nocsoc.context import Context

    if not config_path().exists() and OPTIONS.config_path is None:  # -c must name a file, as above
        return Context(Config(), None)
    return load_context_or_fail()


def print_table(renderable: Any) -> None:
    """Print a table on stdout. Not on a terminal (piped, captured) rich would wrap it at 80
    columns; a pipe has no width, so lay it out at its natural width (up to 250) instead."""
    if console.is_terminal:
        console.print(renderable)
        return
    buf = io.StringIO()
    Console(file=buf, width=250, highlight=False, color_system=None).print(renderable)
    lines = [line.rstrip() for line in buf.getvalue().splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


def print_json(data: Any) -> None:
    """Machine-readable output for `--json` (plain stdout, no colour, no wrapping)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


# --- argument checks shared by the commands: one `error:` line naming the option, exit 2 ----------
# Done before anything starts, so a typo never shows as a traceback or as a service that starts
# and then fails (or restarts) on it.

def bind_or_fail(value: str, option: str, kinds: tuple[str, ...] = ("udp",)) -> None:
    """Exit 2 naming `option` unless `value` is HOST:PORT and each of `kinds` ("udp", "tcp")
    can bind there now (probed and released, as `nocsoc check` does)."""
    for kind in kinds:
        problem = bind_problem(value, kind)
        if problem:
            fail(f"{option}: {problem}", EXIT_USAGE)


def bind_problem(value: str, kind: str) -> str | None:
    """Why `kind` ("udp"/"tcp") cannot listen on HOST:PORT `value` now, or None."""
    from nocsoc.service.check import try_bind
    from nocsoc.service.registry import Bind

    return try_bind(Bind("udp" if kind == "udp" else "tcp", value, ""))


def output_file_or_fail(path: Path, option: str, create_parent: bool = False) -> Path:
    """`path` when a file can be written there (its directory exists, or is created with
    `create_parent`, and takes a new file; `path` is not a directory); else exit 2 naming
    `option` and the path."""
    if path.is_dir():
        fail(f"{option} {path}: is a directory, expected a file path", EXIT_USAGE)
    parent = path.parent
    if create_parent and not parent.exists():
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            fail(f"{option} {path}: cannot create directory {parent}: {exc.strerror or exc}", EXIT_USAGE)
    if not parent.is_dir():
        what = "is not a directory" if parent.exists() else "does not exist"
        fail(f"{option} {path}: directory {parent} {what}", EXIT_USAGE)
    problem = _cannot_create_in(parent)
    if problem:
        fail(f"{option} {path}: cannot write in {parent}: {problem}", EXIT_USAGE)
    return path


def output_dir_or_fail(path: Path, option: str) -> Path:
    """`path` as an existing, writable directory (created if missing); else exit 2 naming
    `option` and the path."""
    if path.exists() and not path.is_dir():
        fail(f"{option} {path}: is a file, expected a directory", EXIT_USAGE)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"{option} {path}: cannot create the directory: {exc.strerror or exc}", EXIT_USAGE)
    problem = _cannot_create_in(path)
    if problem:
        fail(f"{option} {path}: cannot write in it: {problem}", EXIT_USAGE)
    return path


def _cannot_create_in(directory: Path) -> str | None:
    """Why no file can be created in `directory` (tried: access bits say nothing to root, or
    on /proc and read-only mounts), or None."""
    try:
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".nocsoc-check-"):
            pass
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def _click_exception_class() -> type[Exception]:
    """click's ClickException as typer uses it (typer vendors click: found from a public class
    rather than imported from a private module path)."""
    return next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


class OneLineErrors(TyperGroup):
    """The root command group: click's usage errors (an unknown option, a bad value, a missing
    argument) become one `error:` line naming the option and the command's --help, exit 2, as
    every other bad input does, instead of a usage banner and a framed box."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             windows_expand_args: bool = True, **extra: Any) -> Any:
        from nocsoc.cli import lang

        OPTIONS.lang = None  # this command line's --lang, not a previous one's (tests run many)
        given = lang.lang_in_args(list(args) if args is not None else sys.argv[1:])
        lang.translate_help(self, lang.current(given))
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        click_exception = _click_exception_class()
        try:
            rv = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except click_exception as exc:
            code = int(getattr(exc, "exit_code", EXIT_USAGE))
            ctx = getattr(exc, "ctx", None)
            if type(exc).__name__ == "NoArgsIsHelpError" or not hasattr(exc, "format_message"):
                from typer import rich_utils

                rich_utils.rich_format_error(exc)  # type: ignore[arg-type]  # typer's own display
                sys.exit(code)
            from nocsoc.cli.lang import t

            hint = t("common.see_help", command=ctx.command_path) if ctx is not None else ""
            message = " ".join(str(exc.format_message()).split())
            err_console.print(f"[bold red]{error_word()}[/] {escape(message)}{escape(hint)}", highlight=False,
                              soft_wrap=True)
            sys.exit(code)
        except typer.Abort:  # e.g. a confirmation prompt on a closed stdin: as typer shows it
            err_console.print("Aborted!", highlight=False)
            sys.exit(EXIT_RUNTIME)
        sys.exit(rv if isinstance(rv, int) else 0)


def url_or_fail(value: str, option: str) -> str:
    """`value` when it is an http(s) URL with a host; else exit 2 naming `option`."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a port that is no number or out of range
    except ValueError as exc:
        fail(f"{option} {value}: not a valid URL ({exc})", EXIT_USAGE)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        fail(f"{option} {value}: expected an http:// or https:// URL with a host, "
             "e.g. http://127.0.0.1:3000", EXIT_USAGE)
    return value


def sqlite_file_or_fail(path: Path, option: str) -> Path:
    """`path` as an SQLite database to open or create (its directory created); exit 2 naming
    `option` when it is a directory, cannot be written, or is a file of another kind."""
    import sqlite3
    from contextlib import closing

    output_file_or_fail(path, option, create_parent=True)
    if path.exists():
        try:
            with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
                conn.execute("PRAGMA schema_version")
        except sqlite3.Error as exc:
            fail(f"{option} {path}: not an SQLite database ({exc})", EXIT_USAGE)
    return path


def invalid_options(exc: Any, options: dict[str, str]) -> NoReturn:
    """Exit 2 with one line for the first problem of a pydantic ValidationError raised on
    command-line values, naming the option (`options` maps field names to flags)."""
    first = exc.errors()[0]
    field = str(first["loc"][0]) if first.get("loc") else ""
    name = options.get(field, field or "value")
    fail(f"{name} {first.get('input')!r}: {first['msg']}", EXIT_USAGE)
