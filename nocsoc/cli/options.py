"""Options several commands share, declared once so their flag, type and help agree everywhere
(typer reads the `Annotated` metadata; each command gives the default)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

JsonOut = Annotated[bool, typer.Option("--json", help="machine-readable output (JSON) instead of text")]
Duration = Annotated[float | None, typer.Option("--duration", help="stop after this many seconds")]
SinkType = Annotated[str | None, typer.Option(
    "--sink", help="only the sinks of this type: stdout | sqlite | influxdb | influxdb1 (default: every "
    "sink in nocsoc.yaml)")]
Until = Annotated[str | None, typer.Option("--until", help="end of the window (default: now)")]


def since(default: str) -> Any:
    """`--since` of a history query whose window starts `default` ago unless told otherwise."""
    return typer.Option(None, "--since", help=f"30m, 2h, 7d, an ISO time or epoch (default {default})")
