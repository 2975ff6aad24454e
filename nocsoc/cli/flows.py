"""`nocsoc flows listen` (the collector in the foreground) and `nocsoc flows decode FILE.pcap`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.live import Live
from rich.table import Table

from nocsoc.cli import common, options
from nocsoc.cli.lang import add_columns, t
from nocsoc.cli.options import Duration, JsonOut, SinkType, Until

flows_app = typer.Typer(help="Flow collector: NetFlow v5/v9, IPFIX and sFlow into rollups.",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add `nocsoc flows ...`."""
    app.add_typer(flows_app, name="flows")


def _stats_table(stats: dict[tuple[str, str], dict[str, int]], title: str) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD)
    shown = ("datagrams", "records", "decode_errors", "sequence_lost", "template_missing", "unsampled")
    counts = ("datagrams", "records", "decode_errors", "seq_lost", "no_template", "unsampled")
    add_columns(table, "flows.col", ("exporter", "version", *counts, "other"), right=counts)
    for (exporter, version), v in sorted(stats.items()):
        # what the exporter did beyond the textbook (padding, tunnels, lenient templates...)
        other = ", ".join(f"{k} {n:,}" for k, n in v.items() if n and k not in shown)
        table.add_row(exporter, version, *(f"{v[k]:,}" for k in shown), other)
    return table


@flows_app.command("listen")
def listen(
    bind: str | None = typer.Option(None, "--bind", help="NetFlow/IPFIX address (default from config: "
                                    "127.0.0.1:2055)"),
    sflow_bind: str | None = typer.Option(None, "--sflow-bind", help="sFlow address (default from "
                                          "config: 127.0.0.1:6343)"),
    interval: float | None = typer.Option(None, "--interval", help="rollup interval in seconds"),
    top_n: int | None = typer.Option(None, "--top-n", help="rows per top-N table"),
    sink: SinkType = None,
    duration: Duration = None,
) -> None:
    """Receive flows and write per-interval rollups to the configured sinks until Ctrl-C/SIGTERM.

    On stop, what was received is decoded and the open interval is written (partial)."""
    from pydantic import ValidationError

    from nocsoc.collectors.flows.collector import FlowCollector
    from nocsoc.service.registry import ServiceContext
    from nocsoc.service.worker import Worker, WorkerSpec

    ctx = common.context_or_defaults()
    updates: dict[str, Any] = {k: v for k, v in (("bind", bind), ("sflow_bind", sflow_bind),
                                                  ("interval_s", interval), ("top_n", top_n))
                               if v is not None}
    for opt, value in (("--bind", bind), ("--sflow-bind", sflow_bind)):
        if value is not None:  # HOST:PORT, and free now: one line naming it, not a late failure
            common.bind_or_fail(value, opt)
    try:
        config = ctx.config.flows.model_validate({**ctx.config.flows.model_dump(), **updates})
    except ValidationError as exc:
        common.invalid_options(exc, {"bind": "--bind", "sflow_bind": "--sflow-bind",
                                     "interval_s": "--interval", "top_n": "--top-n"})
    if not ctx.inventory_path.exists():
        common.err_console.print(t("flows.no_inventory", path=ctx.inventory_path), soft_wrap=True)
        ctx.inventory_optional = True
    collectors: list[FlowCollector] = []

    def build(sc: ServiceContext) -> list[Any]:
        from nocsoc.history.service import flow_writer

        collectors.append(FlowCollector(config, sc.inventory, sc.sink, state_dir=ctx.path(config.state_dir),
                                        base_dir=ctx.base_dir, ifnames_dir=ctx.state_dir,
                                        history=flow_writer(ctx.config.history, ctx)))
        return list(collectors)

    live: Live | None = None
    title = ""

    def started(w: Worker) -> None:
        nonlocal live, title
        addresses = ", ".join(f"{h}:{p}" for h, p in collectors[0].addresses())
        print(f"listening on {addresses}", flush=True)  # one plain line first: scripts wait for it
        title = f"flows on {addresses}"
        if common.err_console.is_terminal:  # a live table on a terminal; only the final one otherwise
            live = Live(_stats_table({}, title), console=common.err_console, auto_refresh=False,
                        transient=True)
            live.start()

    def tick(w: Worker) -> None:
        if live is not None:
            live.update(_stats_table(collectors[0].stats.snapshot(), title), refresh=True)

    worker = Worker(WorkerSpec("flows-listen", ctx, [], duration, sink_type=sink, build=build,
                               on_started=started, on_tick=tick, tick_s=1.0, status_files=False))
    worker.install_signal_handlers()
    try:
        code = worker.run()
    finally:
        if live is not None:
            live.stop()
    if worker.start_error is not None:
        common.fail(str(worker.start_error), code)
    common.print_table(_stats_table(collectors[0].stats.snapshot(), "flows received"))


def _read_pcap(path: Path) -> list[tuple[bytes, str, float]]:
    """UDP payloads of a capture with their source address and capture time (scapy reads
    ~20k packets/s: a progress bar shows how far it got)."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
    from scapy.layers.inet import IP, UDP
    from scapy.layers.inet6 import IPv6
    from scapy.utils import PcapReader

    out = []
    size = path.stat().st_size
    with Progress(TextColumn(f"reading {path.name}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                  console=common.err_console, transient=True) as progress, PcapReader(str(path)) as reader:
        task = progress.add_task("read", total=size)
        for i, pkt in enumerate(reader):
            if i % 2000 == 0:
                progress.update(task, completed=reader.f.tell())
            udp = pkt.getlayer(UDP)
            if udp is None:
                continue
            ip = pkt.getlayer(IP) or pkt.getlayer(IPv6)
            out.append((bytes(udp.payload), str(ip.src) if ip is not None else "", float(pkt.time)))
    return out


@flows_app.command("decode")
def decode(
    pcap: Path = typer.Argument(..., exists=True, dir_okay=False, help="capture of flow datagrams"),
    as_json: bool = typer.Option(False, "--json", help="every record as JSON"),
    top_n: int = typer.Option(10, "--top-n", help="rows per top table"),
) -> None:
    """Decode a capture of NetFlow v5/v9, IPFIX or sFlow datagrams (offline, no sink)."""
    from nocsoc.collectors.flows.collector import FlowPipeline
    from nocsoc.collectors.flows.config import FlowsConfig
    from nocsoc.collectors.flows.records import FlowBatch

    try:
        datagrams = _read_pcap(pcap)
    except Exception as exc:  # scapy raises plain Exception subclasses for non-pcap files
        common.fail(f"{pcap}: not a readable pcap/pcapng file ({exc})", common.EXIT_USAGE)
    pipeline = FlowPipeline(FlowsConfig(interval_s=1e12, top_n=top_n))  # one rollup for the file
    rows: list[dict[str, object]] = []

    def keep(batch: FlowBatch) -> None:
        if as_json:
            rows.extend(batch.rows())

    pipeline.process(datagrams, on_batch=keep)
    points = pipeline.rollups.flush_all()
    stats = pipeline.stats.snapshot()
    if as_json:
        common.print_json({
            "file": str(pcap),
            "exporters": [{"exporter": e, "version": v, **c} for (e, v), c in sorted(stats.items())],
            "records": rows,
        })
        return
    common.print_table(_stats_table(stats, t("flows.decode.title", name=pcap.name, n=f"{len(datagrams):,}")))
    totals = Table(title=t("flows.totals"), box=box.SIMPLE_HEAD)
    volumes = ("flows", "packets", "bytes")
    add_columns(totals, "flows.col", ("exporter", "ip", "sampled", *volumes), right=volumes)
    for p in points:
        if p.measurement == "flow_total":
            totals.add_row(p.tags["exporter"], p.tags["ip_version"], p.tags["sampled"],
                           f"{p.fields['flows']:,}", f"{p.fields['packets']:,}", f"{p.fields['bytes']:,}")
    common.print_table(totals)
    for kind in ("src", "dst", "service", "conversation"):
        table = Table(title=t(f"flows.top.{kind}"), box=box.SIMPLE_HEAD)
        add_columns(table, "flows.col", ("exporter", "rank", kind, *volumes), right=("rank", *volumes))
        for p in points:
            if p.measurement == "flow_top" and p.tags["kind"] == kind:
                table.add_row(p.tags["exporter"], str(p.fields["rank"] or "-"), p.tags["key"],
                              f"{p.fields['flows']:,}", f"{p.fields['packets']:,}", f"{p.fields['bytes']:,}")
        common.print_table(table)


QUERY_SINCE = "24h"  # `flows query` looks this far back unless --since says otherwise


@flows_app.command("query")
def query(
    ip: str = typer.Option(..., "--ip", help="the address to look up (IPv4 or IPv6)"),
    peer: str | None = typer.Option(None, "--peer", help="only traffic with this address"),
    port: int | None = typer.Option(None, "--port", help="only traffic on this port (either side)"),
    since: str | None = options.since(QUERY_SINCE),
    until: Until = None,
    limit: int = typer.Option(100, "--limit", min=1, help="rows, largest bytes first"),
    as_json: JsonOut = False,
) -> None:
    """What an address talked to, from the flow history: peers, ports, protocol, volumes, when."""
    from nocsoc.cli import history

    cfg, root = history.history_dir()
    start, end = history.window(since, until, QUERY_SINCE)
    with history.query_errors():
        if cfg.backend == "clickhouse":
            from nocsoc.history.clickhouse import query_flows_clickhouse

            ctx = common.context_or_defaults()
            found = query_flows_clickhouse(cfg.clickhouse, ctx.secret, ip, since=start, until=end,
                                           limit=limit)
            peers = [p for p in found if (peer is None or p.peer == peer)
                     and (port is None or port in (p.ip_port, p.peer_port))]
        else:
            from nocsoc.history.flows import query_flows

            history.note_if_empty(root, "flows", cfg)
            peers = query_flows(root, ip, peer=peer, port=port, since=start, until=end, limit=limit)
    if as_json:
        common.print_json({"ip": ip, "since": start, "until": end, "peers": [p.to_dict() for p in peers]})
        return
    title = t("hist.flows_title", ip=ip, n=len(peers), window=history.window_text(start, end))
    common.print_table(history.flows_table(peers, title))
