"""`nocsoc run` (the long-running service), `check` (before it starts), `status` (what it is
doing) and `reload` (apply an inventory edit)."""

from __future__ import annotations

import logging
import os
import signal
import time
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from nocsoc.cli import common
from nocsoc.cli.lang import t, word
from nocsoc.cli.options import JsonOut

if TYPE_CHECKING:
    from nocsoc.service.check import CheckReport


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


def _print_report(report: CheckReport) -> None:
    for f in report.findings:
        label = (f"[bold red]{common.error_word()}[/]" if f.severity == "fatal"
                 else f"[yellow]{t('svc.warning')}[/]")
        common.err_console.print(f"{label} {escape(f.render())}", highlight=False, soft_wrap=True)
    for note in report.notes:
        common.err_console.print(f"{t('svc.note')} {escape(note)}", highlight=False, soft_wrap=True)


def run(
    services: str | None = typer.Option(None, "--services", help="comma list of snmp,flows,logs (default: "
                                        "what the config enables)"),
    single_process: bool = typer.Option(False, "--single-process", help="run every service in this process"),
    duration: float | None = typer.Option(None, "--duration", min=0.1, help="stop after this many seconds"),
    log_format: str = typer.Option("text", "--log-format", help="text | json"),
    worker: str | None = typer.Option(None, "--worker", hidden=True, help="internal: run as this worker"),
    role: str = typer.Option("all", "--role", help="all (one machine) | receiver | decoder | detector | "
                             "poller: this machine's part when nocsoc runs on several (bus.url)"),
) -> None:
    """Run the enabled services until SIGTERM/SIGINT; SIGHUP (or `nocsoc reload`) reloads the
    inventory. Refuses to start (exit 2) on a problem `nocsoc check` calls fatal."""
    from nocsoc.logsetup import configure_logging
    from nocsoc.service.check import run_checks
    from nocsoc.service.lock import AlreadyRunning, RunLock
    from nocsoc.service.registry import role_services
    from nocsoc.service.supervisor import Supervisor, worker_argv
    from nocsoc.service.worker import Worker, WorkerSpec

    if log_format not in ("text", "json"):
        common.fail("--log-format must be text or json", common.EXIT_USAGE)
    configure_logging(max(common.OPTIONS.verbose, 1), log_format)
    ctx = common.load_context_or_fail()
    assert ctx.config_path is not None
    config = ctx.config
    try:
        role_names = role_services(config, role)
    except ValueError as exc:
        common.fail(f"--role: {exc}", common.EXIT_USAGE)
    names = _parse_services(services, role_names)
    if not names:
        common.fail("no service enabled in the config and none given with --services", common.EXIT_USAGE)
    lock: RunLock | None = None
    if worker is None:  # the top process: one per state dir, and only on a config that checks
        lock = RunLock(ctx.state_dir)
        try:
            lock.acquire()
        except AlreadyRunning as exc:
            common.fail(str(exc), common.EXIT_USAGE)
        except OSError as exc:
            common.fail(f"run.state_dir {ctx.state_dir}: {exc.strerror or exc}", common.EXIT_USAGE)
        report = run_checks(ctx.config_path, names, probe_sinks=True, binds=True)
        _print_report(report)
        if not report.ok:
            common.fail(f"{len(report.fatal)} problem(s) in the configuration: not starting "
                        "(`nocsoc check` lists them)", common.EXIT_USAGE)
    try:
        if worker is None and not single_process and config.run.mode == "processes" and len(names) > 1:
            sup = Supervisor(
                {n: [*worker_argv(ctx.config_path, n, [n]), "--log-format", log_format] for n in names},
                stop_timeout_s=config.run.stop_timeout_s, restart_backoff_s=config.run.restart_backoff_s,
                duration_s=duration,
            )
            sup.install_signal_handlers()
            raise typer.Exit(sup.run())
        w = Worker(WorkerSpec(worker or "main", ctx, names, duration, watch_parent=worker is not None))
        w.install_signal_handlers()
        code = w.run()
        if w.start_error is not None and worker is None:
            common.err_console.print(f"[bold red]{common.error_word()}[/] {escape(str(w.start_error))}",
                                     highlight=False, soft_wrap=True)
        logging.getLogger("nocsoc").info("worker %s exited with %d", worker or "main", code)
        raise typer.Exit(code)
    finally:
        if lock is not None:
            lock.release()


def check(
    services: str | None = typer.Option(None, "--services", help="check these services (default: enabled)"),
    probe: bool = typer.Option(True, "--probe/--no-probe", help="try to reach the sinks"),
    as_json: JsonOut = False,
) -> None:
    """Validate config, inventory, every secret reference, listen addresses and sinks; exit 2 on
    any fatal problem (each named with file:line)."""
    from nocsoc.config import load_config
    from nocsoc.errors import NocsocError
    from nocsoc.service.check import run_checks
    from nocsoc.service.registry import enabled_services

    path = common.config_path()
    names = None
    if services:
        try:
            enabled = enabled_services(load_config(path))
        except NocsocError:
            enabled = []
        names = _parse_services(services, enabled)
    report = run_checks(path, names, probe_sinks=probe)
    if as_json:
        common.print_json({
            "config": str(path), "ok": report.ok, "notes": report.notes,
            "problems": [{"severity": f.severity, "file": str(f.problem.file) if f.problem.file else None,
                          "line": f.problem.line, "key": f.problem.key, "message": f.problem.message}
                         for f in report.findings],
        })
    else:
        _print_report(report)
        if report.ok:
            ctx = report.context
            assert ctx is not None
            n = len(ctx.inventory.devices) if not report.fatal else 0
            services = ", ".join(names or enabled_services(ctx.config)) or t("svc.none")
            common.console.print(t("svc.check_ok", path=escape(str(path)), devices=n, services=services),
                                 highlight=False, soft_wrap=True)
    if not report.ok:
        raise typer.Exit(common.EXIT_USAGE)


def reload(
    wait: float = typer.Option(10.0, "--wait", min=0, help="seconds to wait for the workers' answer"),
) -> None:
    """Tell the running `nocsoc run` to reload the inventory (SIGHUP) and report each worker's
    result: what changed, or why the new inventory was refused (file:line)."""
    from nocsoc.service.lock import running_pid
    from nocsoc.service.status import read_statuses

    ctx = common.load_context_or_fail()
    pid = running_pid(ctx.state_dir)
    if pid is None:
        common.fail(f"no `nocsoc run` is running on {ctx.state_dir}", common.EXIT_RUNTIME)
    sent = time.time()
    try:
        os.kill(pid, signal.SIGHUP)
    except OSError as exc:
        common.fail(f"cannot signal nocsoc run (pid {pid}): {exc.strerror}", common.EXIT_RUNTIME)
    deadline = time.monotonic() + wait
    while True:
        running = [s for s in read_statuses(ctx.state_dir) if s.state == "running"]
        answered = [s for s in running if s.reload and s.reload.get("time", 0) >= sent]
        if running and len(answered) == len(running):
            break
        if time.monotonic() >= deadline:
            common.fail(f"signalled pid {pid}, but {len(running) - len(answered)} worker(s) did not report "
                        f"a reload within {wait:g}s (see `nocsoc status`)", common.EXIT_RUNTIME)
        time.sleep(0.1)
    refused = False
    for s in answered:
        ok = bool(s.reload.get("ok"))
        refused |= not ok
        mark = f"[green]{t('svc.reload_ok')}[/]" if ok else f"[bold red]{t('svc.refused')}[/]"
        common.console.print(f"{escape(s.worker)}: {mark} {escape(str(s.reload.get('message', '')))}",
                             highlight=False, soft_wrap=True)
    if refused:
        raise typer.Exit(common.EXIT_USAGE)


def status(json_out: JsonOut = False) -> None:
    """What a running `nocsoc run` is doing: workers, services, sinks, spool, reloads; exits 1
    when a worker failed or stopped reporting."""
    from nocsoc.service.status import read_statuses

    ctx = common.load_context_or_fail()
    statuses = read_statuses(ctx.state_dir)
    now = time.time()
    unhealthy = [s for s in statuses if s.state == "failed" or s.stale(now)]
    if json_out:
        common.print_json([{**s.__dict__, "stale": s.stale(now)} for s in statuses])
        if unhealthy:
            raise typer.Exit(common.EXIT_RUNTIME)
        return
    if not statuses:
        common.console.print(t("svc.no_status", path=ctx.state_dir / "status"))
        raise typer.Exit(common.EXIT_RUNTIME)
    table = Table(title=f"nocsoc run: {ctx.state_dir}")
    for col in ("worker", "state", "pid", "up", "report", "what", "counters"):
        table.add_column(t(f"svc.col.{col}"), overflow="fold")
    for s in statuses:
        state = word("svc.state", s.state)
        if s.stale(now):
            state = f"[red]{t('svc.stale')}[/]"
        elif s.state == "failed":
            state = f"[bold red]{state}[/]"
        parts = ([(n, c) for n, c in s.services.items()]
                 + [(t("svc.sink", name=n), c) for n, c in s.sinks.items()])
        for i, (what, counters) in enumerate(parts or [("-", {})]):
            shown = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                              for k, v in sorted(counters.items()) if v)
            ago = t("svc.ago", s=f"{now - s.updated:.0f}")
            head = (s.worker, state, str(s.pid), f"{now - s.started:.0f}s", ago)
            table.add_row(*(head if i == 0 else ("",) * 5), escape(what), escape(shown) or "-")
    common.print_table(table)
    for s in statuses:
        if s.state == "failed" and s.error:
            why = t("svc.why.config") if s.config_error else t("svc.why.error")
            failed = t("svc.worker_failed", worker=escape(s.worker), why=why)
            common.console.print(f"[bold red]{failed}[/] {escape(s.error)}", highlight=False, soft_wrap=True)
        if s.reload:
            ok = t("svc.applied") if s.reload.get("ok") else f"[red]{t('svc.refused')}[/]"
            when = time.strftime("%H:%M:%S", time.localtime(float(s.reload.get("time", 0))))
            message = escape(str(s.reload.get("message", "")))
            line = t("svc.last_reload", worker=escape(s.worker), when=when, ok=ok, message=message)
            common.console.print(line, highlight=False, soft_wrap=True)
    if unhealthy:
        raise typer.Exit(common.EXIT_RUNTIME)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("check")(check)
    app.command("reload")(reload)
    app.command("status")(status)
