"""What every CLI command shares: the global options, config loading, JSON output, exit codes.

Exit codes: 0 ok, 1 runtime error, 2 usage or validation error.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console

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
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    """Machine-readable output for `--json` (plain stdout, no colour, no wrapping)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()
