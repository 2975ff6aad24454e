"""`nocsoc ping`: ICMP reachability of inventory devices, and availability reports."""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

import typer
from rich.table import Table

from nocsoc.cli import common
from nocsoc.cli.lang import add_columns, t
from nocsoc.cli.options import JsonOut, SinkType


def register(app: typer.Typer) -> None:
    """Add `nocsoc ping`."""
    app.command("ping")(ping)


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"


def _results_table(results: list[Any], mode: str) -> Table:
    table = Table(title=t("ping.title", mode=mode), title_justify="left")
    numbers = ("sent", "recv", "loss", "min", "avg", "max")
    add_columns(table, "ping.col", ("device", "site", "address", "state", *numbers), right=numbers)
    for r in results:
        state = t("ping.up") if r.reachable else f"[red]{t('ping.no_reply')}[/]"
        table.add_row(r.device, r.site, r.address, state,
                      str(r.sent), str(r.received), f"{r.loss_pct:g}", _fmt(r.rtt_min_ms),
                      _fmt(r.rtt_avg_ms), _fmt(r.rtt_max_ms))
    return table


def _availability(since: str, device: list[str], site: list[str], as_json: bool,
                  snmp_max_age: float) -> None:
    from nocsoc.collectors.icmp.availability import device_availability, site_availability
    from nocsoc.detections.alerts.store import parse_duration
    from nocsoc.sinks.base import SinkError
    from nocsoc.sinks.plugins.sqlite import SqliteSinkConfig
    from nocsoc.sinks.sqlite import SqliteReader

    try:
        period = parse_duration(since)
    except ValueError as exc:
        common.fail(f"--since: {exc}", common.EXIT_USAGE)
    ctx = common.load_context_or_fail()
    sqlite = next((s for s in ctx.config.sinks if isinstance(s, SqliteSinkConfig)), None)
    if sqlite is None:
        common.fail("--availability reads the sqlite sink: add one to `sinks:` in the config",
                    common.EXIT_USAGE)
    now = time.time_ns()
    try:
        rows = device_availability(SqliteReader(ctx.path(sqlite.path)), now - int(period * 1e9), now,
                                   snmp_max_age_s=snmp_max_age)
    except SinkError as exc:
        common.fail(str(exc))
    rows = [r for r in rows if (not device or r.device in device) and (not site or r.site in site)]
    sites = site_availability(rows)
    if as_json:
        common.print_json({"since": since, "devices": [r.to_dict() for r in rows],
                           "sites": [s.to_dict() for s in sites]})
        return
    table = Table(title=t("ping.avail_title", since=since), title_justify="left")
    add_columns(table, "ping.acol", ("device", "site", "samples", "available", "snmp_down", "pct", "now"),
                right=("samples", "available", "snmp_down", "pct"))
    for r in rows:
        table.add_row(r.device, r.site, str(r.samples), str(r.available), str(r.snmp_down),
                      _fmt(r.availability_pct), r.last_state)
    common.print_table(table)
    st = Table(title=t("ping.per_site"), title_justify="left")
    add_columns(st, "ping.scol", ("site", "devices", "pct"), right=("devices", "pct"))
    for s in sites:
        st.add_row(s.site, str(s.devices), _fmt(s.availability_pct))
    common.print_table(st)


def ping(
    device: list[str] = typer.Option([], "--device", "-d", help="only this device (repeatable)"),
    site: list[str] = typer.Option([], "--site", "-s", help="only devices of this site (repeatable)"),
    once: bool = typer.Option(False, "--once", help="one round, then exit"),
    as_json: JsonOut = False,
    sink: SinkType = None,
    availability: bool = typer.Option(False, "--availability",
                                      help="report availability from the sqlite sink instead of pinging"),
    since: str = typer.Option("24h", "--since", help="period of --availability (30m, 24h, 7d)"),
    snmp_max_age: float = typer.Option(
        900.0, "--snmp-max-age", help="an SNMP poll counts for ping rounds up to this many seconds later"),
) -> None:
    """Ping inventory devices (ICMP echo) and write rtt and loss to the sinks; or, with
    --availability, report availability per device and site (SNMP down is not down)."""
    if availability:
        _availability(since, device, site, as_json, snmp_max_age)
        return
    from nocsoc.collectors.icmp.prober import PingResult, ping_devices
    from nocsoc.collectors.icmp.sockets import IcmpPermissionError, choose_mode

    ctx = common.load_context_or_fail()
    with common.user_errors():
        inventory = ctx.load_inventory()
    config = ctx.config
    known = {d.name for d in inventory.devices}
    unknown = [d for d in device if d not in known]
    if unknown:
        common.fail(f"unknown device(s) {', '.join(unknown)} (see `nocsoc inventory list`)",
                    common.EXIT_USAGE)
    devices = [d for d in inventory.devices if (not device or d.name in device)
               and (not site or d.site in site)]
    if not devices:
        common.fail("no device matches --device/--site", common.EXIT_USAGE)
    try:
        mode = choose_mode(config.icmp.privileged)
    except IcmpPermissionError as exc:
        common.fail(str(exc))
    with common.user_errors():
        out = ctx.build_sink(sink)
    console = common.err_console if sink == "stdout" else common.console
    stop = threading.Event()
    if not once:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    failed = False
    try:
        while True:
            started = time.monotonic()
            results: list[PingResult] = ping_devices(devices, config.icmp, mode)
            now = time.time_ns()
            out.write([r.point(now) for r in results])
            failed = any(not r.reachable for r in results)
            if as_json:
                common.print_json({"mode": mode, "results": [r.to_dict() for r in results]})
            else:
                console.print(_results_table(results, mode))
            if once or stop.wait(max(0.0, config.icmp.interval_s - (time.monotonic() - started))):
                break
    finally:
        out.close()
    if once and failed:
        raise typer.Exit(common.EXIT_RUNTIME)
