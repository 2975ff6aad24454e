"""CLI commands for simulate (registered by nocsoc.cli.app)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the nocsoc app."""
