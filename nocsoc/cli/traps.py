"""`nocsoc traps listen`: the SNMP trap receiver in the foreground, one line (or JSON) per trap."""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from nocsoc.cli import common
from nocsoc.cli.lang import t as tr
from nocsoc.cli.options import Duration, SinkType

traps_app = typer.Typer(help="SNMP trap receiver: v1, v2c and v3 traps and informs to events and "
                        "alerts.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add `nocsoc traps ...`."""
    app.add_typer(traps_app, name="traps")


def safe(text: str) -> str:
    """Trap content is the sender's: control characters are shown escaped, never interpreted."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _line(ev: Any) -> str:
    t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ev.time))
    vbs = "" if ev.entry is not None else " " + json.dumps(ev.varbinds(), ensure_ascii=False, default=str)
    return safe(f"{t}Z {ev.device_name} v{ev.trap.version} {ev.event} {ev.severity}: {ev.message}{vbs}")


def _counters_table(counts: dict[str, int | float]) -> Table:
    table = Table(title=tr("traps.received"), box=box.SIMPLE_HEAD)
    table.add_column(tr("traps.col.counter"))
    table.add_column(tr("traps.col.value"), justify="right")
    for k, v in counts.items():
        if v:
            table.add_row(k, f"{v:,}")
    return table


@traps_app.command("listen")
def listen(
    bind: str | None = typer.Option(None, "--bind", help="listen address (default from config: "
                                    "127.0.0.1:1162; port 162 needs CAP_NET_BIND_SERVICE)"),
    sink: SinkType = None,
    as_json: bool = typer.Option(False, "--json", help="one JSON object per trap on stdout"),
    no_alerts: bool = typer.Option(False, "--no-alerts", help="do not write to the alert store"),
    duration: Duration = None,
) -> None:
    """Receive SNMP traps until Ctrl-C/SIGTERM: print each one's event, write `snmp_trap` and
    interface-status points to the sinks, and raise alerts in the SOC alert store."""
    from nocsoc.collectors.ifnames import EntityNames, InterfaceNames
    from nocsoc.collectors.listen import parse_bind
    from nocsoc.collectors.snmp.profiles import user_dir
    from nocsoc.collectors.traps.receiver import TrapReceiver
    from nocsoc.detections.alerts.factory import open_alert_store
    from nocsoc.service.registry import ServiceContext
    from nocsoc.service.worker import Worker, WorkerSpec

    ctx = common.context_or_defaults()
    updates: dict[str, Any] = {}
    if bind is not None:
        try:
            parse_bind(bind)
        except ValueError as exc:
            common.fail(f"--bind: {exc}", common.EXIT_USAGE)
        updates["bind"] = bind
    if no_alerts:
        updates["alerts"] = False
    with common.user_errors():
        config = ctx.config.traps.model_validate({**ctx.config.traps.model_dump(), **updates})
    if not ctx.inventory_path.exists():
        common.err_console.print(tr("traps.no_inventory", path=ctx.inventory_path), soft_wrap=True)
        ctx.inventory_optional = True
    lock = threading.Lock()

    def show(ev: Any) -> None:
        text = json.dumps(ev.to_dict(), ensure_ascii=False, default=str) if as_json else _line(ev)
        with lock:
            print(text, flush=True)

    receivers: list[TrapReceiver] = []

    def build(sc: ServiceContext) -> list[Any]:
        detections = ctx.config.detections
        opener = (lambda: open_alert_store(detections, ctx)) if config.alerts else None
        receivers.append(TrapReceiver(config, sc.inventory, sc.sink, base_dir=ctx.base_dir, open_store=opener,
                                      dedup_window_s=ctx.config.detections.dedup_window_s, on_event=show,
                                      ifnames=InterfaceNames.in_state_dir(ctx.state_dir),
                                      entnames=EntityNames.in_state_dir(ctx.state_dir),
                                      profiles_dir=user_dir(ctx.config.snmp.profiles_dir, ctx.base_dir)))
        return list(receivers)

    def started(w: Worker) -> None:
        host, port = receivers[0].address()
        # one plain line first (scripts wait for it); on stderr when stdout is machine-readable
        print(f"listening on {host}:{port}", file=sys.stderr if as_json or sink == "stdout" else sys.stdout,
              flush=True)

    worker = Worker(WorkerSpec("traps-listen", ctx, [], duration, sink_type=sink, build=build,
                               on_started=started, tick_s=1.0, status_files=False))
    worker.install_signal_handlers()
    code = worker.run()
    if worker.start_error is not None:
        common.fail(str(worker.start_error), code)
    common.err_console.print(_counters_table(receivers[0].counters.snapshot()))


@traps_app.command("catalog")
def catalog(
    as_json: bool = typer.Option(False, "--json", help="the entries as JSON"),
    locale: str = typer.Option("en", "--locale", help="title language: en | vi"),
) -> None:
    """The trap catalogue in use: built-in entries, the device profiles' vendor traps and the
    files in `traps.catalog`."""
    from nocsoc.collectors.snmp.profiles import load_catalog, user_dir
    from nocsoc.collectors.traps.catalog import TrapCatalog

    if locale not in ("en", "vi"):
        common.fail(f"--locale must be en or vi, not {locale!r}", common.EXIT_USAGE)
    ctx = common.context_or_defaults()
    with common.user_errors():
        profiles = load_catalog(user_dir(ctx.config.snmp.profiles_dir, ctx.base_dir))
        cat = TrapCatalog.load([ctx.path(p) for p in ctx.config.traps.catalog], profiles=profiles)
    entries = sorted(cat.entries(), key=lambda e: tuple(int(x) for x in e.oid.split(".")))
    if as_json:
        common.print_json([{**e.model_dump(), "source": cat.source(e.oid)} for e in entries])
        return
    table = Table(title=tr("traps.catalog.title", n=len(entries)), box=box.SIMPLE_HEAD)
    for col in ("oid", "name", "mib", "event", "kind", "severity", "alert", "title", "source"):
        table.add_column(tr(f"traps.col.{col}"))
    for e in entries:
        alert = tr("traps.yes") if e.alert else tr("traps.no")
        table.add_row(e.oid, e.name, e.mib, e.event, e.kind, e.severity, alert,
                      escape(getattr(e.title, locale)), escape(cat.source(e.oid)))
    common.print_table(table)
