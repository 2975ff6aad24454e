"""`nocsoc bus permissions`: the nats-server `authorization` block giving each role only what it
needs (nocsoc.bus.permissions), for the bus and shard settings of nocsoc.yaml."""

from __future__ import annotations

import typer

from nocsoc.cli import common

bus_app = typer.Typer(help="The message bus between receivers, decoders and detectors (NATS).",
                      no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(bus_app, name="bus")


@bus_app.command("permissions")
def permissions(role: list[str] = typer.Option(
        [], "--role", help="only this role (repeatable): receiver, decoder, detector, poller")) -> None:
    """Print a nats-server `authorization` block: one user per role, each allowed exactly the
    subjects nocsoc publishes and subscribes to for this config's prefix and partition counts.
    Put each user's password (or its bcrypt hash: `nats server passwd`) where it says, and the
    same user and a secret reference in that host's `bus.auth`."""
    from nocsoc.bus.permissions import ROLES, role_permissions, server_config

    unknown = [r for r in role if r not in ROLES]
    if unknown:
        common.fail(f"--role {unknown[0]!r}: not a role (roles: {', '.join(ROLES)})", common.EXIT_USAGE)
    ctx = common.context_or_defaults()
    perms = role_permissions(ctx.config.bus, ctx.config.snmp.shard)
    wanted = role or list(ROLES)
    typer.echo(server_config(perms, {r: f"<{r} password or bcrypt hash>" for r in wanted}), nl=False)
