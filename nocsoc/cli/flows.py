"""`nocsoc flows listen` (the collector in the foreground) and `nocsoc flows decode FILE.pcap`."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.live import Live
from rich.table import Table

from nocsoc.cli import common

flows_app = typer.Typer(help="Flow collector: NetFlow v5/v9, IPFIX and sFlow into rollups.",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add `nocsoc flows ...`."""
    app.add_typer(flows_app, name="flows")


def _stats_table(stats: dict[tuple[str, str], dict[str, int]], title: str) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD)
    shown = ("datagrams", "records", "decode_errors", "sequence_lost", "template_missing", "unsampled")
    for col in ("exporter", "version", "datagrams", "records", "decode errors", "seq. lost",
                "no template", "unsampled", "other counters"):
        table.add_column(col, justify="left" if col in ("exporter", "version", "other counters") else "right")
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
    duration: float | None = typer.Option(None, "--duration", help="stop after this many seconds"),
) -> None:
    """Receive flows and write per-interval rollups to the configured sinks until Ctrl-C/SIGTERM.

    On stop, what was received is decoded and the open interval is written (partial)."""
    from nocsoc.collectors.flows.collector import FlowCollector
    from nocsoc.errors import NocsocError

    runtime = common.load_runtime_or_fail()
    updates: dict[str, Any] = {k: v for k, v in (("bind", bind), ("sflow_bind", sflow_bind),
                                                  ("interval_s", interval), ("top_n", top_n))
                               if v is not None}
    config = runtime.config.flows.model_validate({**runtime.config.flows.model_dump(), **updates})
    inventory = None
    if runtime.inventory_path.exists():
        with common.user_errors():
            inventory = runtime.load_inventory()
    else:
        common.err_console.print(f"note: no inventory at {runtime.inventory_path}: exporters are not "
                                 "enriched and have no sampling fallback")
    from nocsoc.collectors.flows.geoip import GeoIpError

    try:
        sink = runtime.build_sink()
    except NocsocError as err:
        common.fail_with(err)
    try:
        collector = FlowCollector(config, inventory, sink, state_dir=runtime.path(config.state_dir),
                                  base_dir=runtime.base_dir)
    except GeoIpError as exc:
        sink.close()
        common.fail(f"{common.config_path()}: flows: {exc}", common.EXIT_USAGE)
    try:
        collector.start()
    except OSError as exc:
        sink.close()
        common.fail(str(exc))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    addresses = ", ".join(f"{h}:{p}" for h, p in collector.addresses())
    # one plain line first: scripts and tests wait for it
    print(f"listening on {addresses}", flush=True)
    deadline = time.monotonic() + duration if duration else None
    last_self = time.monotonic()
    live = Live(_stats_table({}, f"flows on {addresses}"), console=common.err_console,
                auto_refresh=False, transient=True) if common.err_console.is_terminal else None
    try:
        if live is not None:
            live.start()
        while not stop.wait(1.0):
            if deadline and time.monotonic() >= deadline:
                break
            if live is not None:  # a live table on a terminal; nothing but the final table otherwise
                live.update(_stats_table(collector.stats.snapshot(), f"flows on {addresses}"), refresh=True)
            if time.monotonic() - last_self >= config.interval_s:
                last_self = time.monotonic()
                sink.write(collector.self_points())
    finally:
        if live is not None:
            live.stop()
        collector.stop()
        sink.write(collector.self_points())
        sink.close()
    common.print_table(_stats_table(collector.stats.snapshot(), "flows received"))


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
    common.print_table(_stats_table(stats, f"{pcap.name}: {len(datagrams):,} UDP datagrams"))
    totals = Table(title="totals", box=box.SIMPLE_HEAD)
    for col in ("exporter", "ip", "sampled", "flows", "packets", "bytes"):
        totals.add_column(col, justify="right" if col in ("flows", "packets", "bytes") else "left")
    for p in points:
        if p.measurement == "flow_total":
            totals.add_row(p.tags["exporter"], p.tags["ip_version"], p.tags["sampled"],
                           f"{p.fields['flows']:,}", f"{p.fields['packets']:,}", f"{p.fields['bytes']:,}")
    common.print_table(totals)
    for kind in ("src", "dst", "service", "conversation"):
        table = Table(title=f"top {kind}", box=box.SIMPLE_HEAD)
        for col in ("exporter", "rank", kind, "flows", "packets", "bytes"):
            table.add_column(col, justify="right" if col in ("rank", "flows", "packets", "bytes") else "left")
        for p in points:
            if p.measurement == "flow_top" and p.tags["kind"] == kind:
                table.add_row(p.tags["exporter"], str(p.fields["rank"] or "-"), p.tags["key"],
                              f"{p.fields['flows']:,}", f"{p.fields['packets']:,}", f"{p.fields['bytes']:,}")
        common.print_table(table)
