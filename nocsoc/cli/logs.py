"""`nocsoc logs listen`: the syslog server and file tails, with detections, in the foreground."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from nocsoc.cli import common, options
from nocsoc.cli.lang import t
from nocsoc.cli.options import Duration, JsonOut, SinkType, Until

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
    sink: SinkType = None,
    stats_every: float = typer.Option(10.0, "--stats-every", help="seconds between status lines (0: none)"),
    duration: Duration = None,
) -> None:
    """Receive syslog and tail files; raise alerts into the alert store until Ctrl-C / SIGTERM."""
    from nocsoc.collectors.logs.pipeline import LogPipeline
    from nocsoc.service.registry import ServiceContext
    from nocsoc.service.worker import Worker, WorkerSpec

    ctx = common.context_or_defaults()
    ctx.inventory_optional = True
    logs_cfg = ctx.config.logs.model_copy()
    if bind:  # HOST:PORT, and free now for both: one line naming it, not a late failure
        common.bind_or_fail(bind, "--bind", ("udp", "tcp"))
        logs_cfg.syslog_udp = logs_cfg.syslog_tcp = bind
    for f in file or []:
        if f.is_dir():
            common.fail(f"--file {f}: is a directory, expected a log file", common.EXIT_USAGE)
    if file:
        logs_cfg.files = [*logs_cfg.files, *(str(f.resolve()) for f in file)]
    det_cfg = ctx.config.detections.model_copy()
    if db:
        common.sqlite_file_or_fail(db, "--db")  # a directory, /proc, a file of another kind
        det_cfg.alerts_db = str(db.resolve())
    pipelines: list[LogPipeline] = []

    def build(sc: ServiceContext) -> list[Any]:
        from nocsoc.detections.placeholders import from_inventory
        from nocsoc.history.service import log_writer

        pipelines.append(LogPipeline(logs_cfg, det_cfg, None if no_sinks else sc.sink, base_dir=ctx.base_dir,
                                     archive=log_writer(ctx.config.history, ctx),
                                     placeholders=from_inventory(sc.inventory)))
        return list(pipelines)

    def started(w: Worker) -> None:
        p = pipelines[0]
        st = p.status()
        common.err_console.print(t("logs.listening", udp=st["udp"], tcp=st["tcp"], rules=st["rules"],
                                   correlations=st["correlations"], store=p.store.path), highlight=False)

    def tick(w: Worker) -> None:
        p = pipelines[0]
        c = p.counters.snapshot()
        common.err_console.print(t("logs.tick", held=p.status()["unstored"], **c), highlight=False)

    worker = Worker(WorkerSpec("logs-listen", ctx, [], duration, sink_type=None if no_sinks else sink,
                               build=build, on_started=started, on_tick=tick if stats_every else None,
                               tick_s=stats_every or 1.0, status_files=False,
                               discard_sink=no_sinks))
    worker.install_signal_handlers()
    code = worker.run()
    if worker.start_error is not None:
        common.fail(str(worker.start_error), code)


SEARCH_SINCE = "2h"  # `logs search` looks this far back unless --since says otherwise


@logs_app.command("search")
def search(
    ip: str | None = typer.Option(None, "--ip", help="source or destination address"),
    host: str | None = typer.Option(None, "--host", help="host name (case-insensitive)"),
    user: str | None = typer.Option(None, "--user", help="user name (case-insensitive)"),
    text: str | None = typer.Option(None, "--text", help="text anywhere in the line (case-insensitive)"),
    since: str | None = options.since(SEARCH_SINCE),
    until: Until = None,
    limit: int = typer.Option(1000, "--limit", min=1, help="lines at most"),
    as_json: JsonOut = False,
) -> None:
    """Archived log lines (every line received, not only those that matched), oldest first."""
    from nocsoc.cli import history
    from nocsoc.history.logs import search_logs

    cfg, root = history.history_dir()
    start, end = history.window(since, until, SEARCH_SINCE)
    history.note_if_empty(root, "logs", cfg)
    with history.query_errors():
        lines = search_logs(root, ip=ip, host=host, user=user, text=text, since=start, until=end, limit=limit)
    if as_json:
        common.print_json({"since": start, "until": end, "lines": [ln.to_dict() for ln in lines]})
        return
    title = t("hist.logs_title", n=len(lines), window=history.window_text(start, end))
    common.print_table(history.logs_table(lines, title))
