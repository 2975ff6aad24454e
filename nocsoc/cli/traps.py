"""`nocsoc traps listen`: the SNMP trap receiver in the foreground, one line (or JSON) per trap."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from typing import Any

import typer
from rich import box
from rich.table import Table

from nocsoc.cli import common

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


def _counters_table(counts: dict[str, int]) -> Table:
    table = Table(title="traps received", box=box.SIMPLE_HEAD)
    table.add_column("counter")
    table.add_column("value", justify="right")
    for k, v in counts.items():
        if v:
            table.add_row(k, f"{v:,}")
    return table


@traps_app.command("listen")
def listen(
    bind: str | None = typer.Option(None, "--bind", help="listen address (default from config: "
                                    "127.0.0.1:1162; port 162 needs CAP_NET_BIND_SERVICE)"),
    sink: str | None = typer.Option(None, "--sink", help="stdout | sqlite | influxdb | influxdb1 "
                                    "(default: every sink in nocsoc.yaml)"),
    as_json: bool = typer.Option(False, "--json", help="one JSON object per trap on stdout"),
    no_alerts: bool = typer.Option(False, "--no-alerts", help="do not write to the alert store"),
    duration: float | None = typer.Option(None, "--duration", help="stop after this many seconds"),
) -> None:
    """Receive SNMP traps until Ctrl-C/SIGTERM: print each one's event, write `snmp_trap` and
    interface-status points to the sinks, and raise alerts in the SOC alert store."""
    from nocsoc.cli.snmp import _sink
    from nocsoc.collectors.traps.receiver import TrapReceiver
    from nocsoc.detections.alerts import AlertStore
    from nocsoc.errors import NocsocError

    runtime = common.load_runtime_or_fail()
    updates: dict[str, Any] = {"bind": bind} if bind else {}
    if no_alerts:
        updates["alerts"] = False
    config = runtime.config.traps.model_validate({**runtime.config.traps.model_dump(), **updates})
    inventory = None
    if runtime.inventory_path.exists():
        with common.user_errors():
            inventory = runtime.load_inventory()
    else:
        common.err_console.print(f"note: no inventory at {runtime.inventory_path}: every source is "
                                 "unknown (set traps.accept_unknown_sources to decode them)")
    out = _sink(runtime.config, runtime.config_path, sink)
    store = None
    if config.alerts:
        store = AlertStore(runtime.path(runtime.config.detections.alerts_db),
                           runtime.config.detections.dedup_window_s)
    lock = threading.Lock()

    def show(ev: Any) -> None:
        text = json.dumps(ev.to_dict(), ensure_ascii=False, default=str) if as_json else _line(ev)
        with lock:
            print(text, flush=True)

    try:
        receiver = TrapReceiver(config, inventory, out, base_dir=runtime.base_dir, store=store,
                                on_event=show)
        receiver.bind()
    except NocsocError as err:
        out.close()
        common.fail_with(err)
    except OSError as exc:
        out.close()
        common.fail(str(exc.strerror or exc))
    receiver.start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    host, port = receiver.address()
    # one plain line first, on stderr with --json/--sink stdout so stdout stays machine-readable;
    # scripts and tests wait for it
    print(f"listening on {host}:{port}", file=sys.stderr if as_json or sink == "stdout" else sys.stdout,
          flush=True)
    deadline = time.monotonic() + duration if duration else None
    try:
        while not stop.wait(0.5):
            if deadline and time.monotonic() >= deadline:
                break
    finally:
        receiver.stop()
        out.write(receiver.self_points())
        out.close()
        if store is not None:
            store.close()
    common.err_console.print(_counters_table(receiver.counters.snapshot()))
