"""`nocsoc poll`, `nocsoc discover`, `nocsoc topology`: the SNMP collector from the command line.

Thin: parse, call the package (nocsoc.collectors.snmp), render.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from nocsoc.cli import common
from nocsoc.cli.lang import add_columns, t
from nocsoc.cli.options import Duration, SinkType

if TYPE_CHECKING:
    from nocsoc.collectors.snmp.poller import PollResult

STATE_WINDOW_S = 3600  # `topology` shows link state polled within the last hour


def _table(results: list[PollResult]) -> Table:
    table = Table(title=t("poll.title"), title_justify="left")
    numbers = ("ifaces", "points", "varbinds", "requests", "time")
    add_columns(table, "poll.col", ("device", "address", "sysname", "status", *numbers), right=numbers,
                overflow="fold")
    for r in results:
        status = f"[green]{t('poll.ok')}[/]" if r.ok else f"[red]{r.error_kind or t('poll.error')}[/]"
        table.add_row(
            r.device,
            f"{r.address}:{r.port}",
            r.sys_name,
            status,
            str(r.interfaces),
            str(r.points),
            str(r.varbinds),
            str(r.requests),
            f"{r.duration_s * 1000:.0f} ms",
        )
    return table


def _errors(results: list[PollResult]) -> list[str]:
    """One line per failed device (below the table: messages are too long for a cell)."""
    return [f"{r.error_kind}: {r.error}" for r in results if not r.ok]


def poll(
    once: bool = typer.Option(
        False, "--once", help="poll each device once (two readings for rates) and exit"
    ),
    device: list[str] = typer.Option([], "--device", "-d", help="only this device (repeatable)"),
    site: list[str] = typer.Option([], "--site", "-s", help="only devices of this site (repeatable)"),
    sink: SinkType = None,
    gap: float | None = typer.Option(None, "--gap", help="seconds between the two readings of --once"),
    as_json: bool = typer.Option(False, "--json", help="results as JSON (with --once)"),
    duration: Duration = None,
) -> None:
    """Poll devices over SNMP and write interfaces, health, optics and UPS points to the sinks."""
    from nocsoc.collectors.snmp.poller import SnmpPoller
    from nocsoc.component import counter_points
    from nocsoc.service.registry import ServiceContext
    from nocsoc.service.worker import Worker, WorkerSpec

    ctx = common.load_context_or_fail()
    with common.user_errors():
        inventory = ctx.load_inventory()
    known = {d.name for d in inventory.devices}
    unknown = [d for d in device if d not in known]
    if unknown:
        common.fail(
            f"unknown device(s) {', '.join(unknown)} (see `nocsoc inventory list`)", common.EXIT_USAGE
        )
    names = [
        d.name for d in inventory.devices if (not device or d.name in device) and (not site or d.site in site)
    ]
    if not names:
        common.fail("no device matches --device/--site", common.EXIT_USAGE)
    # With --sink stdout the line protocol owns stdout: the table goes to stderr.
    console = common.err_console if sink == "stdout" else common.console
    if once:
        with common.user_errors():
            out = ctx.build_sink(sink)
        poller = SnmpPoller(ctx.config.snmp, inventory, out, devices=device or None, sites=site or None,
                            secrets_dir=ctx.base_dir)
        try:
            results = poller.run_once(samples=2, gap_s=gap)
        finally:
            out.write([*poller.self_points(), *counter_points(poller.counter_sets())])
            out.flush(30)
            out.close()
        if as_json:
            common.print_json([r.__dict__ for r in results])
        else:
            console.print(_table(results))
            for line in _errors(results):
                console.print(f"[red]{escape(line)}[/]", highlight=False, soft_wrap=True)
        if not all(r.ok for r in results):
            raise typer.Exit(common.EXIT_RUNTIME)
        return

    pollers: list[SnmpPoller] = []

    def build(sc: ServiceContext) -> list[Any]:
        pollers.append(SnmpPoller(ctx.config.snmp, sc.inventory, sc.sink, devices=device or None,
                                  sites=site or None, secrets_dir=ctx.base_dir))
        return list(pollers)

    def started(w: Worker) -> None:
        console.print(f"polling {len(names)} device(s); Ctrl-C to stop")

    def tick(w: Worker) -> None:
        results = pollers[0].results()
        c = pollers[0].counters.snapshot()
        console.print(f"{sum(1 for r in results if r.ok)}/{len(results)} devices answered; "
                      f"cycles {c['cycles']}, timeouts {c['timeouts']}, errors {c['errors']}",
                      highlight=False)
        if w.last_reload is not None:
            console.print(f"inventory reload: {'applied' if w.last_reload.ok else 'refused'}: "
                          f"{escape(w.last_reload.message)}", highlight=False, soft_wrap=True)
            w.last_reload = None

    worker = Worker(WorkerSpec("poll", ctx, [], duration, sink_type=sink, build=build, on_started=started,
                               on_tick=tick, tick_s=ctx.config.snmp.interval_s, status_files=False))
    worker.install_signal_handlers()
    code = worker.run()
    if worker.start_error is not None:
        common.fail(str(worker.start_error), code)


def discover(
    cidrs: list[str] = typer.Argument(..., help="addresses or networks to probe (e.g. 127.0.10.0/24)"),
    profile: str = typer.Option(
        ..., "--profile", "-p", help="SNMP profile (from the inventory) to probe with"
    ),
    site: str | None = typer.Option(
        None, "--site", help="site of new devices (needed to --apply new devices)"
    ),
    port: int | None = typer.Option(None, "--port", min=1, max=65535,
                                    help="UDP port (default: the profile's)"),
    concurrency: int = typer.Option(32, "--concurrency", min=1, max=1024, help="probes at once"),
    apply: bool = typer.Option(False, "--apply", help="write the proposed changes to the inventory"),
    as_json: bool = typer.Option(False, "--json", help="probe results and plan as JSON"),
) -> None:
    """Probe addresses over SNMP, guess vendor and role, propose devices and LLDP links (a diff)."""
    from rich.progress import Progress

    from nocsoc.collectors.snmp import discovery
    from nocsoc.config import inventory_path
    from nocsoc.inventory.store import InventoryStore
    from nocsoc.secrets import resolve_secret

    config, path, inventory = common.load_config_and_inventory()
    try:
        prof = inventory.profile(profile)
    except KeyError:
        common.fail(f"no SNMP profile {profile!r} in the inventory", common.EXIT_USAGE)
    if site is not None:
        try:
            inventory.site(site)
        except KeyError:
            common.fail(f"no site {site!r} in the inventory", common.EXIT_USAGE)
    try:
        addresses = discovery.expand(cidrs)
    except ValueError as exc:
        common.fail(str(exc), common.EXIT_USAGE)

    with Progress(console=common.err_console, transient=True) as progress:
        task = progress.add_task("probing", total=len(addresses))
        with common.user_errors():
            probes = asyncio.run(
                discovery.probe_all(
                    addresses,
                    prof,
                    port=port,
                    concurrency=concurrency,
                    progress=lambda _p: progress.advance(task),
                    resolve=functools.partial(resolve_secret, base_dir=path.resolve().parent),
                )
            )
    found = [p for p in probes if p.ok]
    proposal = discovery.plan(inventory, found, profile, site or "?")
    if as_json:
        common.print_json({"probes": [p.__dict__ for p in found], "changes": proposal.diff()})
    else:
        table = Table(title=t("discover.title", found=len(found), total=len(addresses)), title_justify="left")
        add_columns(table, "discover.col", ("address", "sysname", "vendor", "role", "sysdescr", "lldp"),
                    overflow="fold")
        for p in found:
            table.add_row(
                f"{p.address}:{p.port}",
                p.sys_name,
                p.vendor,
                p.role.value if p.role else "",
                p.sys_descr[:60],
                ", ".join(f"{n.local_port}->{n.remote_name}" for n in p.neighbours),
            )
        common.console.print(table)
        for line in proposal.diff() or [t("discover.no_changes")]:
            style = "green" if line.startswith("+") else "yellow"
            common.console.print(f"[{style}]{escape(line)}[/]", highlight=False, soft_wrap=True)
    if apply and not proposal.empty:
        if proposal.add and site is None:
            common.fail("new devices need --site to be applied", common.EXIT_USAGE)
        with common.user_errors(), InventoryStore(inventory_path(config, path)).edit() as inv:
            # Planned again under the lock: another edit since the probe must not be overwritten.
            discovery.apply(inv, discovery.plan(inv, found, profile, site or "?"))
        common.console.print(f"applied {len(proposal.diff())} change(s)")


def topology(
    fmt: str = typer.Option("table", "--format", "-f", help="table | dot | json | svg | png"),
    out: Path | None = typer.Option(None, "--out", "-o", help="write the svg/png picture to this file"),
    live: bool = typer.Option(
        False, "--live", help="also read LLDP now: each link confirmed, missing or unexpected"
    ),
    apply: bool = typer.Option(False, "--apply", help="with --live: add the new LLDP links to the inventory"),
) -> None:
    """The backbone graph: inventory links with their state from the sink (and, with --live, LLDP).

    svg/png: sites where their coordinates put them, the ring labelled with utilization and state
    (Graphviz). table/svg/png speak --lang; dot and json are for other tools."""
    from nocsoc.collectors.snmp import topology as topo
    from nocsoc.collectors.snmp import topology_picture as pic
    from nocsoc.collectors.snmp.session import EnginePool, SnmpSession, build_credentials
    from nocsoc.config import config_relative, inventory_path
    from nocsoc.dashboards.base import backbone_links
    from nocsoc.inventory.model import Link
    from nocsoc.inventory.store import InventoryStore
    from nocsoc.sinks.plugins.sqlite import SqliteSinkConfig

    if fmt not in ("table", "dot", "json", *pic.FORMATS):
        common.fail(f"--format must be table, dot, json, svg or png, not {fmt!r}", common.EXIT_USAGE)
    if fmt == "png" and out is None:
        common.fail("--format png needs --out FILE (a picture is not for the terminal)", common.EXIT_USAGE)
    if out is not None:
        common.output_file_or_fail(out, "--out")
        if fmt not in pic.FORMATS:
            common.fail(f"--out {out}: pictures only (--format svg or png), not {fmt}", common.EXIT_USAGE)
    config, path, inventory = common.load_config_and_inventory()
    found_links: list[Link] = []
    marks: dict[str, pic.Lldp] = {}
    unexpected: list[Link] = []
    if live:

        async def read() -> topo.LldpScan:
            engines = EnginePool()
            profiles = {p.name: p for p in inventory.snmp_profiles}
            sessions = {}
            for d in inventory.devices:
                prof = profiles.get(d.profile)
                if prof is None:
                    continue
                cred = build_credentials(prof, base_dir=path.resolve().parent)
                sessions[d.name] = SnmpSession(
                    engines.get(cred.engine_key), d.name, d.address, d.snmp_port or prof.port, prof, cred
                )
            try:
                return await topo.gather_neighbours(sessions)
            finally:
                engines.close()

        with common.user_errors():
            scan = asyncio.run(read())
        for name, err in sorted(scan.errors.items()):
            common.err_console.print(f"[yellow]warning:[/] {escape(name)}: {escape(err)}", highlight=False)
        seen = topo.links_from_lldp(scan.neighbours, chassis=scan.chassis)
        marks, unexpected = pic.lldp_marks(inventory, seen, scan.neighbours)
        found_links = topo.new_links(inventory, seen)
        if apply and found_links:
            with common.user_errors(), InventoryStore(inventory_path(config, path)).edit() as inv:
                inv.links.extend(topo.new_links(inv, found_links))
            inventory.links.extend(found_links)
            marks.update({link.name: "confirmed" for link in found_links})
            found_links, unexpected = [], []
    sqlite = next((s for s in config.sinks if isinstance(s, SqliteSinkConfig)), None)
    db = config_relative(path, sqlite.path) if sqlite is not None else None
    # the last hour: an older reading is not the link's state now ("no data" says so)
    since = time.time_ns() - STATE_WINDOW_S * 1_000_000_000
    states = pic.read_link_states(db, inventory, since_ns=since) if db is not None else {}
    if fmt == "json":
        data = topo.graph_json(inventory)
        data["new_links"] = [link.model_dump() for link in found_links]
        data["state"] = {
            name: {"state": st.state, "a_out_util_pct": st.a.out_util_pct if st.a else None,
                   "b_out_util_pct": st.b.out_util_pct if st.b else None}
            for name, st in states.items()
        }
        if live:
            data["lldp"] = marks
        common.print_json(data)
        return
    if fmt == "dot":
        typer.echo(topo.graph_dot(inventory), nl=False)
        return
    words = {k: t(f"topology.word.{k.replace(' ', '_')}")
             for k in ("up", "down", "no data", "confirmed", "missing", "unexpected")}
    if fmt in pic.FORMATS:
        dcfg = config.dashboards
        backbone = len(backbone_links(inventory))
        title = t("topology.picture.title", links=backbone, sites=len({d.site for d in inventory.devices}))
        dot = pic.picture_dot(inventory, states, pic.Thresholds(dcfg.link_utilization_warn_pct,
                              dcfg.link_utilization_pct), words, marks, unexpected, title,
                              legend=_legend(t, dcfg.link_utilization_warn_pct, dcfg.link_utilization_pct))
        try:
            image = pic.render(dot, fmt)
        except pic.PictureError as exc:
            common.fail(str(exc))
        if out is None:
            typer.echo(image.decode(), nl=False)
            return
        out.write_bytes(image)
        common.console.print(t("topology.written", path=str(out), size=len(image)), highlight=False)
        return
    table = Table(title=t("topology.table.title", n=len(inventory.links)), title_justify="left")
    cols = ["link", "a", "a_port", "b", "b_port", "kind", "speed", "state", "util"]
    narrow = common.console.width < 140
    if narrow:  # a terminal: the link's whole name (it names its ends) and how it is now
        cols = ["link", "state", "util"]
        table.box = box.SIMPLE_HEAD
    cols += ["lldp"] if live else []
    for col in cols:
        table.add_column(t(f"topology.col.{col}"), overflow="fold", no_wrap=narrow and col == "link",
                         min_width=12 if narrow and col != "link" else None)

    def add(link: Link, cells: dict[str, str]) -> None:
        base = {"a": link.a.device, "a_port": link.a.interface, "b": link.b.device,
                "b_port": link.b.interface, "kind": link.kind,
                "speed": f"{link.speed_mbps} Mb/s" if link.speed_mbps else ""}
        table.add_row(*({**base, **cells}.get(c, "") for c in cols))

    for link in inventory.links:
        st = states.get(link.name)
        state = st.state if st else "no data"
        util = "" if st is None else (f"{_pct(st.a.out_util_pct if st.a else None)} / "
                                      f"{_pct(st.b.out_util_pct if st.b else None)}")
        colour = {"up": "green", "down": "red"}.get(state, "dim")
        mark = marks.get(link.name)
        lldp = {"confirmed": "[green]", "missing": "[red]"}.get(mark or "", "[dim]")
        lldp += words[mark] if mark else "-"
        add(link, {"link": escape(link.name), "state": f"[{colour}]{words[state]}[/]", "util": util,
                   "lldp": lldp + "[/]"})
    for link in found_links:
        add(link, {"link": f"[magenta]+ {escape(link.name)}[/]", "kind": "lldp",
                   "lldp": f"[magenta]{words['unexpected']}[/]"})
    common.console.print(table)


def _pct(v: float | None) -> str:
    return "?" if v is None else f"{v:.0f}%"


def _legend(tr: Callable[..., str], warn: float, alarm: float) -> list[tuple[str, str, str]]:
    """(colour, line style, text) rows of the picture's legend, in the reader's language."""
    return [
        ("#2ca02c", "solid", tr("topology.legend.below", pct=f"{warn:g}")),
        ("#ff8c00", "solid", tr("topology.legend.warn", low=f"{warn:g}", high=f"{alarm:g}")),
        ("#d62728", "solid", tr("topology.legend.alarm", pct=f"{alarm:g}")),
        ("#d62728", "dashed", tr("topology.legend.down")),
        ("#9e9e9e", "solid", tr("topology.legend.no_data")),
        ("#555555", "dotted", tr("topology.legend.lldp_missing")),
        ("#8e44ad", "dashed", tr("topology.legend.lldp_unexpected")),
    ]


def register(app: typer.Typer) -> None:
    """Add this module's commands to the nocsoc app."""
    app.command("poll")(poll)
    app.command("discover")(discover)
    app.command("topology")(topology)
