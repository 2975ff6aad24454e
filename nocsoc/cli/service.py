"""`nocsoc run` (the long-running service) and `nocsoc status` (what it is doing)."""

from __future__ import annotations

import logging
import time

import typer
from rich.table import Table

from nocsoc.cli import common


def _parse_services(value: str | None, enabled: list[str]) -> list[str]:
    from nocsoc.service.registry import SERVICES

    if not value:
        return enabled
    names = [s.strip() for s in value.split(",") if s.strip()]
    unknown = [n for n in names if n not in SERVICES]
    if unknown:
        common.fail(f"--services: unknown service {', '.join(unknown)} (known: {', '.join(SERVICES)})",
                    common.EXIT_USAGE)
    return names


def run(
    services: str | None = typer.Option(None, "--services", help="comma list of snmp,flows,logs (default: "
                                        "what the config enables)"),
    single_process: bool = typer.Option(False, "--single-process", help="run every service in this process"),
    duration: float | None = typer.Option(None, "--duration", min=0.1, help="stop after this many seconds"),
    log_format: str = typer.Option("text", "--log-format", help="text | json"),
    worker: str | None = typer.Option(None, "--worker", hidden=True, help="internal: run as this worker"),
) -> None:
    """Run the enabled services until SIGTERM/SIGINT; SIGHUP reloads the inventory."""
    from nocsoc.logsetup import configure_logging
    from nocsoc.service.registry import enabled_services
    from nocsoc.service.supervisor import Supervisor, worker_argv
    from nocsoc.service.worker import Worker

    if log_format not in ("text", "json"):
        common.fail("--log-format must be text or json", common.EXIT_USAGE)
    configure_logging(max(common.OPTIONS.verbose, 1), log_format)
    loaded = common.load_runtime_or_fail()
    config, cfg_path = loaded.config, loaded.config_path
    names = _parse_services(services, enabled_services(config))
    if not names:
        common.fail("no service enabled in the config and none given with --services", common.EXIT_USAGE)
    if worker is None and not single_process and config.run.mode == "processes" and len(names) > 1:
        sup = Supervisor(
            {n: [*worker_argv(cfg_path, n, [n]), "--log-format", log_format] for n in names},
            stop_timeout_s=config.run.stop_timeout_s, restart_backoff_s=config.run.restart_backoff_s,
            duration_s=duration,
        )
        sup.install_signal_handlers()
        raise typer.Exit(sup.run())
    w = Worker(loaded.worker_spec(worker or "main", names, duration, watch_parent=worker is not None))
    w.install_signal_handlers()
    code = w.run()
    logging.getLogger("nocsoc").info("worker %s exited with %d", worker or "main", code)
    raise typer.Exit(code)


def status(json_out: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """What a running `nocsoc run` is doing: workers, services, sinks, spool, lag."""
    from nocsoc.service.status import read_statuses

    loaded = common.load_runtime_or_fail()
    statuses = read_statuses(loaded.state_dir)
    now = time.time()
    if json_out:
        common.print_json([{**s.__dict__, "stale": s.stale(now)} for s in statuses])
        return
    if not statuses:
        common.console.print(f"no status in {loaded.state_dir / 'status'}: is `nocsoc run` running?")
        raise typer.Exit(common.EXIT_RUNTIME)
    table = Table(title=f"nocsoc run: {loaded.state_dir}")
    for col in ("worker", "state", "pid", "up", "report", "service / sink", "counters"):
        table.add_column(col, overflow="fold")
    for s in statuses:
        state = "[red]stale[/]" if s.stale(now) else s.state
        parts = [(n, c) for n, c in s.services.items()] + [(f"sink {n}", c) for n, c in s.sinks.items()]
        for i, (what, counters) in enumerate(parts or [("-", {})]):
            shown = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                              for k, v in sorted(counters.items()) if v)
            head = (s.worker, state, str(s.pid), f"{now - s.started:.0f}s", f"{now - s.updated:.0f}s ago")
            table.add_row(*(head if i == 0 else ("",) * 5), what, shown or "-")
    common.console.print(table)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("status")(status)
