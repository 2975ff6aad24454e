"""`nocsoc notify test ROUTE`: send a test message through every channel of a route, now."""

from __future__ import annotations

import time

import typer
from rich.markup import escape

from nocsoc.cli import common
from nocsoc.cli.lang import t

notify_app = typer.Typer(help="Notifications (the notify: routes of nocsoc.yaml).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(notify_app, name="notify")


@notify_app.command("test")
def notify_test(route: str = typer.Argument(..., help="route name")) -> None:
    """Deliver a test message through each channel of ROUTE (no dedup, no quiet hours); exit 1
    if a channel refused it. Channels are named by their URL scheme and server only (URLs hold secrets)."""
    import tempfile
    from pathlib import Path

    from nocsoc.notify.notifier import Notifier, channel_name, test_notification
    from nocsoc.notify.service import channel_resolver

    ctx = common.load_context_or_fail()
    cfg = ctx.config.notify
    r = next((x for x in cfg.routes if x.name == route), None)
    if r is None:
        names = ", ".join(x.name for x in cfg.routes) or "none configured"
        common.fail(f"no notify route {route!r} (routes: {names})", common.EXIT_USAGE)
    resolve = channel_resolver(ctx)
    with tempfile.TemporaryDirectory() as td:
        n = Notifier(cfg, Path(td), resolve)
        title, body = test_notification(route, time.time()).text(r.locale, n.tz)
        failed = 0
        for i, entry in enumerate(r.to):
            ok = n.send(r, i, title, body, "informational")
            try:
                shown = (
                    channel_name(resolve(entry, f"route {route}"))
                    if not entry.startswith(("env:", "file:"))
                    else entry
                )
            except Exception:
                shown = entry
            mark = f"[green]{t('notify.ok')}[/]" if ok else f"[red]{t('notify.failed')}[/]"
            common.console.print(f"{mark} {escape(shown)}", highlight=False)
            failed += not ok
    if failed:
        raise typer.Exit(common.EXIT_RUNTIME)
