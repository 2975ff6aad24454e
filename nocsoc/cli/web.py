"""`nocsoc web`, `nocsoc users ...`, `nocsoc tokens ...`: the console alone, its users, API tokens.

Passwords come from a prompt or stdin (`--password-stdin`), never an argument (an argument is
visible to every user of the machine in `ps` and lands in shell history). A token is printed
once, at creation; only its hash is kept.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from nocsoc.cli import common
from nocsoc.cli.lang import add_columns, t

if TYPE_CHECKING:
    from nocsoc.web.auth import AuthStore

users_app = typer.Typer(help="Console users (viewer, analyst, admin).", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens for /api/v1 (scoped, revocable).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("web")(web)
    app.add_typer(users_app, name="users")
    app.add_typer(tokens_app, name="tokens")


def _auth() -> AuthStore:
    from nocsoc.web.auth import AuthStore

    ctx = common.load_context_or_fail()
    return AuthStore(ctx.path(ctx.config.web.users_db))


@contextmanager
def _auth_or_fail() -> Iterator[AuthStore]:
    """The user store; an `AuthError` in the block ends the command with its one line (usage)."""
    from nocsoc.web.auth import AuthError

    with _auth() as auth:
        try:
            yield auth
        except AuthError as exc:
            common.fail(str(exc), common.EXIT_USAGE)


def _password(stdin: bool, confirm: bool = True) -> str:
    if stdin:
        pw = sys.stdin.readline().rstrip("\r\n")
    else:
        pw = typer.prompt("password", hide_input=True, confirmation_prompt=confirm)
    return pw


def _ts(t: float | None) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M") if t else ""


def web(
    bind: str | None = typer.Option(None, "--bind", help="HOST:PORT (default: web.bind, 127.0.0.1:8080)"),
) -> None:
    """Serve the SOC console and /api/v1 alone (without the collectors), until Ctrl-C."""
    import signal
    import threading

    from nocsoc.errors import NocsocError
    from nocsoc.inventory.model import Inventory
    from nocsoc.service.summary import read_summary
    from nocsoc.web.service import WebService, console_deps

    ctx = common.load_context_or_fail()
    try:
        inv = ctx.load_inventory()
    except NocsocError as exc:
        common.err_console.print(
            f"[yellow]warning:[/] inventory: {escape(str(exc))}; the console runs without it"
        )
        inv = Inventory()
    try:
        sink = ctx.build_sink()
        svc = WebService(console_deps(ctx, inv, read_summary, sink=sink), bind or ctx.config.web.bind)
        svc.start()
    except (ValueError, OSError) as exc:
        common.fail(f"web: {exc}", common.EXIT_USAGE)
    with _auth() as auth:
        if not auth.users():
            common.err_console.print(f"[yellow]{t('web.no_users')}[/] {t('web.add_one')}")
    common.console.print(t("web.console", url=f"http://{svc.host}:{svc.port}/"), highlight=False)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        while not done.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    svc.stop()
    sink.close()


@users_app.command("add")
def users_add(
    name: str = typer.Argument(...),
    role: str = typer.Option(..., "--role", help="viewer | analyst | admin"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from stdin"),
) -> None:
    """Add a user; the password is asked (or read from stdin), never given as an argument."""
    from nocsoc.web.auth import AuthError

    with _auth_or_fail() as auth:
        if role not in ("viewer", "analyst", "admin"):
            raise AuthError(f"role {role!r}: one of viewer, analyst, admin")
        auth.add_user(name, role, _password(password_stdin))
    common.console.print(t("web.user_added", name=escape(name), role=role), highlight=False)


@users_app.command("passwd")
def users_passwd(
    name: str = typer.Argument(...), password_stdin: bool = typer.Option(False, "--password-stdin")
) -> None:
    """Set a user's password (ends their sessions, lifts a lockout)."""
    from nocsoc.web.auth import AuthError

    with _auth_or_fail() as auth:
        if auth.user(name) is None:
            raise AuthError(f"no user {name}")
        auth.set_password(name, _password(password_stdin))
    common.console.print(t("web.password_changed", name=escape(name)), highlight=False)


@users_app.command("remove")
def users_remove(name: str = typer.Argument(...)) -> None:
    """Remove a user and end their sessions."""
    with _auth_or_fail() as auth:
        auth.remove_user(name)
    common.console.print(t("web.user_removed", name=escape(name)), highlight=False)


@users_app.command("list")
def users_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """Users, their roles and whether they are locked out."""
    with _auth() as auth:
        users = auth.users()
    now = time.time()
    if as_json:
        common.print_json(
            [
                {"name": u.name, "role": u.role, "created_at": u.created_at, "locked": u.locked_until > now}
                for u in users
            ]
        )
        return
    table = Table(title=t("web.users", n=len(users)))
    add_columns(table, "web.ucol", ("name", "role", "created", "locked"))
    for u in users:
        table.add_row(
            escape(u.name), u.role, _ts(u.created_at), _ts(u.locked_until) if u.locked_until > now else ""
        )
    common.print_table(table)


@tokens_app.command("create")
def tokens_create(
    name: str = typer.Option("ioc", "--name", help="what the token is for"),
    scope: list[str] = typer.Option(
        ..., "--scope", help="read:kpi, read:alerts, read:inventory, write:triage (repeat for several)"
    ),
    by: str | None = typer.Option(None, "--by", help="who creates it (default: login name)"),
) -> None:
    """Create an API token and print it ONCE (only its hash is kept)."""
    from nocsoc.cli.detections import _who
    with _auth_or_fail() as auth:
        tok, secret = auth.create_token(name, scope, _who(by))
    common.err_console.print(t("web.token_created", id=tok.id, name=escape(tok.name),
                               scopes=" ".join(tok.scopes)), highlight=False)
    print(secret)


@tokens_app.command("list")
def tokens_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """Tokens (never their secret): scopes, creator, last use, revocation."""
    with _auth() as auth:
        toks = auth.tokens()
    if as_json:
        common.print_json([k.__dict__ | {"scopes": list(k.scopes)} for k in toks])
        return
    table = Table(title=t("web.tokens", n=len(toks)))
    add_columns(table, "web.tcol", ("id", "name", "scopes", "by", "created", "last_used", "revoked"))
    for k in toks:
        table.add_row(
            str(k.id),
            escape(k.name),
            " ".join(k.scopes),
            escape(k.created_by),
            _ts(k.created_at),
            _ts(k.last_used),
            _ts(k.revoked_at),
        )
    common.print_table(table)


@tokens_app.command("revoke")
def tokens_revoke(token_id: int = typer.Argument(...)) -> None:
    """Revoke a token: its next request is refused."""
    with _auth_or_fail() as auth:
        auth.revoke_token(token_id)
    common.console.print(t("web.token_revoked", id=token_id))
