"""`nocsoc demo` (the whole platform on the simulated backbone) and `nocsoc top` (a live view)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import typer
from rich.console import Group
from rich.live import Live
from rich.panel import Panel
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

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
    fresh: bool = typer.Option(
        False, "--fresh", help="start with an empty alert store (the old one is backed up first)"
    ),
) -> None:
    """Run the simulated provincial backbone through nocsoc and show what it saw.

    A workspace's alert store (acknowledgements, comments) is kept from run to run; --fresh
    moves it to <dir>/backups/ first."""
    from nocsoc.cli.lang import current, t
    from nocsoc.service.demo import DemoOptions, run_demo
    from nocsoc.service.summary import check_attacks, read_summary, render_attack_checks, render_summary

    common.output_dir_or_fail(workdir, "--dir")
    opts = DemoOptions(workdir=workdir, duration_s=duration, speed=speed, seed=seed,
                       influx_url=os.environ.get("NOCSOC_INFLUX_URL") or None, fresh=fresh)
    console = common.console
    also = t("demo.and_influx", url=opts.influx_url) if opts.influx_url else ""
    header = t("demo.header", seconds=f"{duration:.0f}", minutes=f"{duration * speed / 60:.0f}", also=also)
    console.print(Panel.fit(header, title="nocsoc"))
    progress = Progress(TextColumn("{task.description}"), BarColumn(), TimeRemainingColumn(), console=console)
    task = progress.add_task(t("demo.starting"), total=duration)

    def on_tick(elapsed: float, statuses: list, sim: dict) -> None:
        progress.update(task, completed=min(elapsed, duration), description=t(
            "demo.progress", polls=_counter(statuses, "snmp", "polls_ok"),
            records=_counter(statuses, "flows", "records"), lines=_counter(statuses, "logs", "received"),
            alerts=_counter(statuses, "logs", "alerts")))

    with progress:
        try:
            result = run_demo(opts, on_tick)
        except Exception as exc:  # one clear line; the logs say the rest
            common.fail(f"demo failed: {exc}")
    cfg = result.config_path
    names = {addr: d.name for addr, d in result.inventory.by_address().items()}
    summary = read_summary(result.db_path, result.alerts_db, since_ns=result.started_ns, names=names,
                           optics_min_dbm=result.optics_min_dbm)
    console.print(render_summary(summary, lang=current(), optics_min_dbm=result.optics_min_dbm))
    checks = check_attacks(result.manifest, result.alerts_db, since=result.started)
    console.print(render_attack_checks(checks, lang=current()))
    ws = result.workspace
    if ws is not None and ws.backup is not None:
        console.print(t("demo.backup", path=ws.backup), highlight=False)
    elif ws is not None and ws.kept_alerts:
        console.print(t("demo.kept", n=ws.kept_alerts, path=result.alerts_db), highlight=False)
    console.print("\n" + t("demo.stored", points=f"{summary.points:,}", db=result.db_path,
                           dashboards=result.dashboards, grafana=result.grafana_dir) + "\n"
                  + t("demo.next", cfg=cfg), highlight=False)
    if result.console_url:
        console.print("\n" + t("demo.console", cfg=cfg, url=result.console_url, user=result.console_user,
                               password_file=result.console_password_file), highlight=False)
    if result.run_exit != 0:
        log = result.config_path.parent / "var" / "run.log"
        common.fail(f"`nocsoc run` exited with {result.run_exit}: see {log}")


WINDOW_MIN = 15
COMPACT_BELOW = 100  # columns: narrower terminals get the 80x24 layout


def top(
    interval: float = typer.Option(2.0, "--interval", min=0.5, help="refresh every N seconds"),
    once: bool = typer.Option(False, "--once", help="print one frame and exit"),
) -> None:
    """A live terminal view of a running nocsoc: collectors, links, devices, talkers, alerts."""
    from nocsoc.cli.lang import current
    from nocsoc.errors import NocsocError
    from nocsoc.sinks.plugins.sqlite import SqliteSinkConfig

    rt = common.load_context_or_fail()
    sqlite = next((s for s in rt.config.sinks if isinstance(s, SqliteSinkConfig)), None)
    if sqlite is None:
        common.fail("nocsoc top reads the sqlite sink: add one to `sinks:` in the config", common.EXIT_USAGE)
    db = rt.path(sqlite.path)
    alerts_db = rt.path(rt.config.detections.alerts_db)
    state_dir = rt.state_dir
    cfg = rt.config.dashboards

    try:
        names = {addr: d.name for addr, d in rt.load_inventory().by_address().items()}
    except NocsocError:
        names = {}

    def frame() -> Group:
        return top_frame(db, alerts_db, state_dir, names, current(), interval, common.console.width,
                         cfg.link_utilization_warn_pct, cfg.link_utilization_pct, cfg.optics_rx_min_dbm)

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


def top_frame(
    db: Path,
    alerts_db: Path,
    state_dir: Path,
    names: dict[str, str],
    lang: str,
    interval: float,
    width: int,
    warn_pct: float,
    alarm_pct: float,
    optics_min_dbm: float,
    now: float | None = None,
) -> Group:
    """One frame of `nocsoc top`: the header (window, refresh time, each collector's liveness from
    its status file) over the summary of the last WINDOW_MIN minutes."""
    from nocsoc.messages import text
    from nocsoc.service.status import read_statuses
    from nocsoc.service.summary import read_summary, render_summary

    now = time.time() if now is None else now

    def t(key: str, **values: object) -> str:
        return text(lang, key, **values)

    since = int((now - WINDOW_MIN * 60) * 1e9)
    summary = read_summary(db, alerts_db, since_ns=since, names=names, optics_min_dbm=optics_min_dbm)
    head = Text()
    head.append(t("top.title"), style="bold")
    head.append(" · " + t("top.window", minutes=WINDOW_MIN))
    head.append(" · " + t("top.refreshed", time=time.strftime("%H:%M:%S", time.localtime(now)),
                          interval=f"{interval:g}s"))
    workers = Text(t("top.collectors") + ": ")
    statuses = read_statuses(state_dir)
    if not statuses:
        workers.append(t("top.worker.none", path=str(state_dir / "status")), style="yellow")
    for i, st in enumerate(statuses):
        if i:
            workers.append(" · ")
        age = f"{max(now - st.updated, 0):.0f}s"
        if st.state == "running" and not st.stale(now):
            workers.append(f"{st.worker} ● ", style="green")
            workers.append(t("top.worker.running", age=age))
        elif st.state == "running":
            workers.append(f"{st.worker} ✗ ", style="red")
            workers.append(t("top.worker.stale", age=age), style="red")
        elif st.state == "failed":
            workers.append(f"{st.worker} ✗ ", style="red")
            workers.append(t("top.worker.failed", error=st.error[:40]), style="red")
        else:
            workers.append(f"{st.worker} ○ ", style="dim")
            workers.append(t("top.worker.stopped"), style="dim")
    body = render_summary(summary, lang=lang, compact=width < COMPACT_BELOW, warn_pct=warn_pct,
                          alarm_pct=alarm_pct, optics_min_dbm=optics_min_dbm, width=width)
    return Group(head, workers, body)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
    app.command("top")(top)
