"""`nocsoc simulate`: run the simulated provincial backbone (SNMP agents, flows, syslog)."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import typer
from pydantic import ValidationError
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from nocsoc.cli import common
from nocsoc.cli.lang import t
from nocsoc.errors import NocsocError

if TYPE_CHECKING:
    from nocsoc.inventory.model import Inventory
    from nocsoc.simulate.events import Script
    from nocsoc.simulate.scenario import Scenario


def _load_inventory(path: Path | None) -> Inventory:
    """The inventory at `path`, else the packaged sample backbone."""
    from nocsoc.inventory.sample import SAMPLE_INVENTORY
    from nocsoc.inventory.store import load_inventory

    try:
        return load_inventory(path or SAMPLE_INVENTORY)
    except NocsocError as exc:
        common.fail(str(exc), common.EXIT_USAGE)


def _load_script(path: Path) -> Script:
    """The event script at `path`; a broken one is a NocsocError naming file, line and key."""
    from nocsoc.simulate.events import Script
    from nocsoc.yamlio import load_yaml, validation_problems

    doc = load_yaml(path, NocsocError, what="event script")
    try:
        return Script.model_validate(doc.data or {})
    except ValidationError as exc:
        raise NocsocError(problems=validation_problems(exc, doc, Script)) from None


def _destinations(flows_to: str | None, syslog_to: str | None) -> tuple[str | None, str | None, list[str]]:
    """Where flows and syslog go: the option when given, else where nocsoc.yaml (-c /
    NOCSOC_CONFIG / ./nocsoc.yaml) makes the collectors listen, else the defaults (the same
    127.0.0.1:2055 and :5514 as an empty config). Returns (flows, syslog, notes)."""
    cfg, path = common.load_config_or_defaults()
    where = f"{path}" if path is not None else "defaults (no nocsoc.yaml)"
    notes: list[str] = []

    def from_config(bind: str | None, key: str) -> str | None:
        if bind is None:
            notes.append(f"{key} is off in {where}: nothing sent there (pass the option to send)")
            return None
        from nocsoc.collectors.listen import parse_bind

        try:
            host, port = parse_bind(bind)
        except ValueError as exc:
            common.fail(f"{where}: {key}: {exc}", common.EXIT_USAGE)
        if host in ("", "0.0.0.0", "::"):  # a collector on every address also listens on loopback
            host = "127.0.0.1"
        return f"{host}:{port}"

    flows = flows_to if flows_to is not None else from_config(cfg.flows.bind, "flows.bind")
    syslog = syslog_to if syslog_to is not None else from_config(cfg.logs.syslog_udp, "logs.syslog_udp")
    return flows, syslog, notes


def _nobody_listens(dest: str | None) -> bool:
    """True when no UDP socket on this machine is bound where `dest` points (the simulator only
    sends to 127.0.0.0/8, so a bind probe can tell: an address in use means a receiver)."""
    return dest is not None and common.bind_problem(dest, "udp") is None


def _status_table(scenario: Scenario, started: float) -> Table:
    st = scenario.status()
    tod = st["sim_time_of_day"]
    table = Table(title="nocsoc simulate", show_header=False, box=None)
    table.add_column(style="bold cyan")
    table.add_column()
    table.add_row(
        t("sim.time"),
        t("sim.time_value", hhmm=f"{int(tod // 3600):02d}:{int(tod % 3600 // 60):02d}",
          minutes=f"{st['sim_elapsed_s'] / 60:.1f}", speed=f"{scenario.lab.clock.speed:g}"),
    )
    table.add_row(t("sim.elapsed"), t("sim.elapsed_value", s=f"{time.time() - started:.0f}"))
    snmp = st["snmp"]
    agents = t("sim.agents_value", devices=st["agents"], replies=snmp.get("responses", 0),
               varbinds=snmp.get("varbinds", 0), cpu=f"{st['snmp_cpu_s']:.2f}")
    table.add_row(t("sim.agents"), agents)
    cfg = scenario.config
    to_flows = t("sim.to", dest=cfg.flows_to) if cfg.flows_to else ""
    to_syslog = t("sim.to", dest=cfg.syslog_to) if cfg.syslog_to else ""
    table.add_row(t("sim.flows"), t("sim.flows_value", records=st["flow_records"],
                                    datagrams=st["flow_datagrams"]) + to_flows)
    table.add_row(t("sim.syslog"), t("sim.syslog_value", lines=st["syslog_lines"],
                                     attacks=st["attack_lines"]) + to_syslog)
    if st["late_ticks"] or st["send_errors"]:
        problems = t("sim.problems_value", late=st["late_ticks"], errors=st["send_errors"])
        table.add_row(t("sim.problems"), problems)
    return table


def register(app: typer.Typer) -> None:
    """Add this module's commands to the nocsoc app."""

    @app.command("simulate")
    def simulate(
        inventory: Path | None = typer.Option(
            None, "--inventory", "-i", help="inventory YAML (default: sample)"
        ),
        seed: int = typer.Option(1, "--seed", help="same seed, same traffic, logs and flows"),
        speed: float = typer.Option(1.0, "--speed", help="simulated seconds per real second"),
        duration: float | None = typer.Option(None, "--duration", help="stop after S real seconds"),
        flows_to: str | None = typer.Option(
            None, "--flows-to", help="NetFlow/IPFIX collector (default: flows.bind of nocsoc.yaml)"
        ),
        syslog_to: str | None = typer.Option(
            None, "--syslog-to", help="syslog receiver, UDP (default: logs.syslog_udp of nocsoc.yaml)"
        ),
        no_flows: bool = typer.Option(False, "--no-flows", help="do not export flows"),
        no_syslog: bool = typer.Option(False, "--no-syslog", help="do not send syslog"),
        flow_version: str = typer.Option("mixed", "--flow-version", help="9, 10 (IPFIX) or mixed"),
        flow_sampling: int = typer.Option(100, "--flow-sampling", help="1:N where the inventory sets none"),
        start_time: str = typer.Option("08:00", "--start-time", help="simulated local time of day at start"),
        script: Path | None = typer.Option(None, "--script", help="event script YAML (default: built in)"),
        manifest: Path | None = typer.Option(None, "--manifest", help="write the ground truth JSON here"),
        json_out: bool = typer.Option(False, "--json", help="print the manifest as JSON at the end"),
    ) -> None:
        """Serve the backbone's SNMP agents, export flows and send syslog, all on 127.0.0.0/8.

        Flows and syslog go where nocsoc.yaml (-c, NOCSOC_CONFIG) makes the collectors listen,
        unless --flows-to / --syslog-to say otherwise."""
        from nocsoc.simulate.lab import ScriptError
        from nocsoc.simulate.netguard import UnsafeAddressError
        from nocsoc.simulate.scenario import Scenario, SimulateConfig

        if manifest is not None:
            common.output_file_or_fail(manifest, "--manifest")
        if not no_flows or not no_syslog:
            flows_to, syslog_to, notes = _destinations(flows_to, syslog_to)
        else:
            notes = []
        inv = _load_inventory(inventory)
        script_model = None
        if script is not None:
            with common.user_errors():  # file:line: key: message, like nocsoc.yaml and the inventory
                script_model = _load_script(script)
        try:
            cfg = SimulateConfig.model_validate(
                {
                    "seed": seed,
                    "speed": speed,
                    "duration_s": duration,
                    "start_time_of_day": start_time,
                    "flows_to": None if no_flows else flows_to,
                    "syslog_to": None if no_syslog else syslog_to,
                    "flow_version": flow_version,
                    "flow_sampling": flow_sampling,
                    "script": script_model,
                }
            )
            scenario = Scenario(inv, cfg)
        except UnsafeAddressError as exc:
            common.fail(str(exc), common.EXIT_USAGE)
        except ValidationError as exc:
            common.invalid_options(exc, {
                "seed": "--seed", "speed": "--speed", "duration_s": "--duration",
                "start_time_of_day": "--start-time", "flows_to": "--flows-to", "syslog_to": "--syslog-to",
                "flow_version": "--flow-version", "flow_sampling": "--flow-sampling"})
        except (ScriptError, ValueError, OSError) as exc:
            common.fail(f"cannot set up the simulation: {exc}", common.EXIT_USAGE)
        try:
            scenario.start()
        except NocsocError as exc:  # e.g. a secret reference whose variable is not set
            common.fail(str(exc), common.EXIT_USAGE)
        except OSError as exc:  # e.g. the port is taken by another simulator
            common.fail(str(exc))
        stop = {"now": False}

        def _on_signal(signum: int, frame: FrameType | None) -> None:
            stop["now"] = True

        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
        deaf = [
            (what, dest)
            for what, dest in (("flows", scenario.config.flows_to), ("syslog", scenario.config.syslog_to))
            if _nobody_listens(dest)
        ]
        for what, dest in deaf:
            scenario.warnings.append(
                f"nothing listens on {dest} (UDP) for {what}: start `nocsoc run` with the same config "
                "(-c), or point --flows-to/--syslog-to at the collector"
            )
        for w in [*notes, *scenario.warnings]:
            common.err_console.print(f"[yellow]{t('svc.warning')}[/] {escape(w)}", highlight=False)
        started = time.time()
        try:
            with Live(
                _status_table(scenario, started),
                console=common.err_console,
                refresh_per_second=2,
                transient=json_out,
            ) as live:
                while not stop["now"] and not scenario.finished.is_set():
                    scenario.finished.wait(0.5)
                    live.update(_status_table(scenario, started))
        finally:
            scenario.stop()
            if manifest is not None:
                scenario.write_manifest(manifest)
        st = scenario.status()
        sent = {"flows": st["flow_datagrams"], "syslog": st["syslog_lines"]}
        for what, dest in deaf:
            if sent[what] and _nobody_listens(dest):
                common.err_console.print(f"[yellow]{t('svc.warning')}[/] " + t(
                    "sim.nobody", n=sent[what], what=what, dest=dest), highlight=False)
        if scenario.error is not None:
            common.fail(f"simulation stopped: {scenario.error}")
        if json_out:
            common.print_json(scenario.manifest())
