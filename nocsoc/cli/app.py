"""The `nocsoc` command: global options, then one module per command group."""

from __future__ import annotations

from pathlib import Path

import typer

from nocsoc import __version__
from nocsoc.cli import common

app = typer.Typer(
    name="nocsoc",
    help="NOC + SOC telemetry for the provincial backbone: inventory, SNMP, flows, logs, "
    "Sigma detections, alerts and Grafana dashboards.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    cls=common.OneLineErrors,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"nocsoc {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    config: Path | None = typer.Option(
        None, "--config", "-c", help="nocsoc.yaml (else $NOCSOC_CONFIG, else ./nocsoc.yaml)"
    ),
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="more log output (-vv: debug)"),
    lang: str | None = typer.Option(
        None, "--lang", help="language of tables and messages: vi or en (else $NOCSOC_LANG, else the locale)"
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="print the version and exit"
    ),
) -> None:
    common.OPTIONS.config_path = config
    common.OPTIONS.verbose = verbose
    if lang is not None and lang not in ("vi", "en"):
        common.fail(f"--lang must be vi or en, not {lang!r}", common.EXIT_USAGE)
    common.OPTIONS.lang = lang


def _register_all() -> None:
    # Each module adds its own commands or groups; the order here is the order in --help.
    from nocsoc.cli import (
        bus,
        dashboards,
        demo,
        detections,
        flows,
        inventory,
        logs,
        notify,
        ping,
        profiles,
        service,
        simulate,
        snmp,
        traps,
        web,
    )

    for module in (inventory, snmp, profiles, traps, ping, flows, logs, detections, dashboards, service,
                   simulate, demo, web, notify, bus):
        module.register(app)


_register_all()


def main() -> None:
    app()
