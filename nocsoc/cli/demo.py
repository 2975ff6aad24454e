"""`nocsoc demo` (the whole platform on the simulated backbone) and `nocsoc top` (a live view)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import typer
from rich.live import Live
from rich.panel import Panel
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from nocsoc.cli import common


def _counter(statuses: list, worker: str, name: str) -> int:
    for s in statuses:
        if s.worker == worker:
            for counters in s.services.values():
                if name in counters:
                    return int(counters[name])
    return 0


def demo(
    workdir: Path = typer.Option(Path("demo"), "--dir", help="workspace: config, inventory, var/, grafana/"),
    duration: float = typer.Option(120.0, "--duration", min=10, help="real seconds to run"),
    speed: float = typer.Option(30.0, "--speed", min=1, help="simulated seconds per real second"),
    seed: int = typer.Option(7, "--seed", help="same seed, same traffic and attacks"),
) -> None:
    """Run the simulated provincial backbone through nocsoc and show what it saw."""
    from nocsoc.service.demo import DemoOptions, run_demo
    from nocsoc.service.summary import check_attacks, read_summary, render_attack_checks, render_summary

    opts = DemoOptions(workdir=workdir, duration_s=duration, speed=speed, seed=seed,
                       influx_url=os.environ.get("NOCSOC_INFLUX_URL") or None)
    console = common.console
    console.print(Panel.fit(
        "nocsoc demo: the Bình Phước backbone (48 devices, 11 sites) simulated on 127.10.0.0/16,\n"
        f"watched by `nocsoc run` for {duration:.0f} s ({duration * speed / 60:.0f} simulated minutes), "
        "writing to the embedded SQLite sink" + (f" and {opts.influx_url}" if opts.influx_url else "") + ".",
        title="nocsoc"))
    progress = Progress(TextColumn("{task.description}"), BarColumn(), TimeRemainingColumn(), console=console)
    task = progress.add_task("starting", total=duration)

    def on_tick(elapsed: float, statuses: list, sim: dict) -> None:
        progress.update(task, completed=min(elapsed, duration), description=(
            f"polls {_counter(statuses, 'snmp', 'polls_ok')}  "
            f"flow records {_counter(statuses, 'flows', 'records')}  "
            f"log lines {_counter(statuses, 'logs', 'received')}  "
            f"alerts {_counter(statuses, 'logs', 'alerts')}"))

    with progress:
        try:
            result = run_demo(opts, on_tick)
        except Exception as exc:  # one clear line; the logs say the rest
            common.fail(f"demo failed: {exc}")
    cfg = result.config_path
    names = {addr: d.name for addr, d in result.inventory.by_address().items()}
    summary = read_summary(result.db_path, result.alerts_db, since_ns=result.started_ns, names=names,
                           optics_min_dbm=result.optics_min_dbm)
    console.print(render_summary(summary))
    console.print(render_attack_checks(check_attacks(result.manifest, result.alerts_db)))
    console.print(
        f"\n{summary.points:,} values stored in {result.db_path}; "
        f"{result.dashboards} Grafana dashboards and provisioning in {result.grafana_dir}/ "
        "(see docs/grafana.md to mount them into Grafana).\n"
        f"Next: nocsoc -c {cfg} alerts list  |  nocsoc -c {cfg} inventory list  |  "
        f"nocsoc -c {cfg} top (beside a running `nocsoc -c {cfg} run`)",
        highlight=False)
    if result.console_url:
        console.print(
            f"\nSOC console (alerts, incidents, IOC screen, from the embedded store): run\n"
            f"  nocsoc -c {cfg} web\nthen open {result.console_url}ioc  (user {result.console_user}, "
            f"password in {result.console_password_file})", highlight=False)
    if result.run_exit != 0:
        log = result.config_path.parent / "var" / "run.log"
        common.fail(f"`nocsoc run` exited with {result.run_exit}: see {log}")


def top(
    interval: float = typer.Option(2.0, "--interval", min=0.5, help="refresh every N seconds"),
    once: bool = typer.Option(False, "--once", help="print one frame and exit"),
) -> None:
    """A live terminal view of a running nocsoc: links, devices, talkers, alerts."""
    from rich.console import Group

    from nocsoc.errors import NocsocError
    from nocsoc.service.summary import read_summary, render_summary
    from nocsoc.sinks.plugins.sqlite import SqliteSinkConfig

    rt = common.load_context_or_fail()
    sqlite = next((s for s in rt.config.sinks if isinstance(s, SqliteSinkConfig)), None)
    if sqlite is None:
        common.fail("nocsoc top reads the sqlite sink: add one to `sinks:` in the config", common.EXIT_USAGE)
    db = rt.path(sqlite.path)
    alerts_db = rt.path(rt.config.detections.alerts_db)

    try:
        names = {addr: d.name for addr, d in rt.load_inventory().by_address().items()}
    except NocsocError:
        names = {}

    def frame() -> Group:
        since = time.time_ns() - 15 * 60 * 1_000_000_000
        return render_summary(read_summary(db, alerts_db, since_ns=since, names=names))

    if once:
        common.console.print(frame())
        return
    with Live(frame(), console=common.console, refresh_per_second=1, screen=False) as live:
        try:
            while True:
                time.sleep(interval)
                live.update(frame())
        except KeyboardInterrupt:
            pass


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
    app.command("top")(top)
