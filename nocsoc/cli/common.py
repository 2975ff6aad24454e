"""What every CLI command shares: the global options, config loading, JSON output, exit codes.

Exit codes: 0 ok, 1 runtime error, 2 usage or validation error.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

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


OPTIONS = GlobalOptions()


def config_path() -> Path:
    """`--config`, else `NOCSOC_CONFIG`, else `./nocsoc.yaml`."""
    if OPTIONS.config_path is not None:
        return OPTIONS.config_path
    env = os.environ.get("NOCSOC_CONFIG")
    return Path(env) if env else Path("nocsoc.yaml")


def fail(message: str, code: int = EXIT_RUNTIME) -> NoReturn:
    """Print one clear error line and exit with `code`."""
    # escape(): messages quote user input such as `devices[core-01]`, which rich would take as markup
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def fail_with(err: NocsocError) -> NoReturn:
    """Print every problem of `err` (one `error:` line each, file:line: key: message) and exit
    with its code (2 for bad input)."""
    for problem in err.problems:
        err_console.print(f"[bold red]error:[/] {escape(problem.render())}", highlight=False, soft_wrap=True)
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
    if not path.exists():
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

    if not config_path().exists():
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
