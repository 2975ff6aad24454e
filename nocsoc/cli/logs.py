"""`nocsoc logs listen`: the syslog server and file tails, with detections, in the foreground."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import typer

from nocsoc.cli import common

logs_app = typer.Typer(help="Log ingestion: syslog (UDP/TCP) and file tails.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(logs_app, name="logs")


@logs_app.command("listen")
def listen(
    bind: str | None = typer.Option(None, "--bind",
                                    help="HOST:PORT for both UDP and TCP (default: nocsoc.yaml)"),
    file: list[Path] = typer.Option(None, "--file", "-f", help="also tail this file (repeatable)"),
    db: Path | None = typer.Option(None, "--db", help="alert store (default: nocsoc.yaml)"),
    no_sinks: bool = typer.Option(False, "--no-sinks", help="do not write alerts/self-metrics to sinks"),
    stats_every: float = typer.Option(10.0, "--stats-every", help="seconds between status lines (0: none)"),
) -> None:
    """Receive syslog and tail files; raise alerts into the alert store until Ctrl-C / SIGTERM."""
    from nocsoc.cli.detections import _config
    from nocsoc.collectors.logs.pipeline import LogPipeline
    from nocsoc.sinks.base import Sink

    if bind:
        common.bind_or_fail(bind, "--bind", ("udp", "tcp"))
    for f in file or []:
        if f.is_dir():
            common.fail(f"--file {f}: is a directory, expected a log file", common.EXIT_USAGE)
    if db:
        common.sqlite_file_or_fail(db, "--db")
    cfg, base = _config()
    logs_cfg = cfg.logs.model_copy()
    if bind:
        logs_cfg.syslog_udp = logs_cfg.syslog_tcp = bind
    if file:
        logs_cfg.files = [*logs_cfg.files, *(str(f.resolve()) for f in file)]
    det_cfg = cfg.detections.model_copy()
    if db:
        det_cfg.alerts_db = str(db.resolve())
    sink: Sink | None = None
    if not no_sinks:
        from nocsoc.sinks.factory import build_sinks
        from nocsoc.sinks.fanout import FanoutSink

        with common.user_errors():
            sinks = build_sinks(cfg, base)
        sink = FanoutSink(sinks) if len(sinks) != 1 else sinks[0]
    try:
        pipeline = LogPipeline(logs_cfg, det_cfg, sink, base_dir=base)
        pipeline.start()
    except (OSError, ValueError) as exc:
        if sink:
            sink.close()
        common.fail(f"cannot start the log pipeline: {exc}")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    st = pipeline.status()
    common.err_console.print(
        f"listening: udp {st['udp']} tcp {st['tcp']}; {st['rules']} rules, {st['correlations']} "
        f"correlations; alerts -> {pipeline.store.path}", highlight=False)
    last = time.monotonic()
    try:
        while not stop.wait(0.5):
            if stats_every and time.monotonic() - last >= stats_every:
                last = time.monotonic()
                if sink:
                    sink.write(pipeline.self_points())
                c = pipeline.counters.snapshot()
                common.err_console.print(
                    f"received {c['received']} parsed {c['parsed']} unparsed {c['unparsed']} "
                    f"dropped {c['dropped']} alerts {c['alerts']} suppressed {c['suppressed']} "
                    f"store errors {c['store_errors']} held {pipeline.status()['unstored']}",
                    highlight=False)
    except KeyboardInterrupt:
        pass
    finally:
        pipeline.stop()
        if sink:
            sink.close()
