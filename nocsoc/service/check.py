"""`nocsoc check`, and the checks `nocsoc run` makes before it starts a worker.

Every problem is a `Problem` (file:line: key: message). Fatal ones stop `run` (exit 2): a
config or inventory that does not validate, a secret reference that does not resolve, a listen
address that cannot be bound, a state directory that cannot be written. Warnings do not: a sink
that does not answer now (its points wait in the spool), an SNMP profile no device uses whose
secret does not resolve.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from nocsoc.collectors.listen import bind_socket, parse_bind
from nocsoc.config import Config, load_config
from nocsoc.context import Context
from nocsoc.errors import NocsocError, Problem
from nocsoc.inventory.store import read_inventory, secret_problems
from nocsoc.service.lock import running_pid
from nocsoc.service.registry import SERVICES, Bind, enabled_services
from nocsoc.yamlio import YamlDoc, load_yaml

Severity = Literal["fatal", "warning"]


@dataclass
class Finding:
    severity: Severity
    problem: Problem

    def render(self) -> str:
        return self.problem.render()


@dataclass
class CheckReport:
    findings: list[Finding]
    context: Context | None  # None when the config itself did not load
    notes: list[str]

    @property
    def fatal(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "fatal"]

    @property
    def ok(self) -> bool:
        return not self.fatal


def _doc(path: Path) -> YamlDoc | None:
    try:
        return load_yaml(path, NocsocError, what="config file")
    except NocsocError:
        return None


def _at(doc: YamlDoc | None, file: Path, key_path: tuple[str | int, ...], message: str) -> Problem:
    if doc is not None:
        return doc.problem(key_path, message)
    return Problem(message, file=file, key=".".join(str(k) for k in key_path))


def _secret_fields(model: object) -> list[str]:
    fields = getattr(type(model), "model_fields", {})
    return [name for name, f in fields.items()
            if "secret reference" in (f.description or "") and getattr(model, name)]


def check_sinks(ctx: Context, doc: YamlDoc | None, probe: bool) -> list[Finding]:
    out: list[Finding] = []
    assert ctx.config_path is not None
    for i, cfg in enumerate(ctx.config.sinks):
        for name in _secret_fields(cfg):
            try:
                ctx.secret(getattr(cfg, name), f"sinks.{cfg.sink_name}.{name}")
            except NocsocError as exc:
                out.append(Finding("fatal", _at(doc, ctx.config_path, ("sinks", i, name), exc.first.message)))
        if probe:
            why = cfg.probe(ctx)
            if why:
                out.append(Finding("warning", _at(doc, ctx.config_path, ("sinks", i), why)))
    return out


def check_alert_store(ctx: Context, doc: YamlDoc | None, probe: bool) -> list[Finding]:
    """A shared PostgreSQL alert store: its password reference must resolve (fatal); a server
    that does not answer is a warning, as for sinks (the detector retries it)."""
    pg = ctx.config.detections.alerts_postgres
    if pg is None:
        return []
    assert ctx.config_path is not None
    key = ("detections", "alerts_postgres")
    password = None
    if pg.password:
        try:
            password = ctx.secret(pg.password, "detections.alerts_postgres.password")
        except NocsocError as exc:
            return [Finding("fatal", _at(doc, ctx.config_path, (*key, "password"), exc.first.message))]
    if not probe:
        return []
    import psycopg

    try:
        with psycopg.connect(pg.dsn, password=password, connect_timeout=max(1, int(pg.connect_timeout_s))):
            return []
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return [Finding("warning", _at(doc, ctx.config_path, key, f"alert store not reachable: {reason}"))]


def try_bind(bind: Bind) -> str | None:
    """None when `bind.address` can be bound now for its protocol, else why not."""
    try:
        host, port = parse_bind(bind.address)
    except ValueError as exc:
        return str(exc)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM if bind.proto == "udp"
                                   else socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return f"cannot resolve {host!r}: {exc.strerror}"
    family, kind, _, _, addr = infos[0]
    s = socket.socket(family, kind)
    try:
        if bind.proto == "tcp":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        bind_socket(s, bind.proto, bind.address, addr)
    except OSError as exc:
        return exc.strerror
    s.close()
    return None


def check_binds(ctx: Context, doc: YamlDoc | None, services: list[str]) -> list[Finding]:
    out: list[Finding] = []
    assert ctx.config_path is not None
    seen: dict[tuple[str, str], str] = {}
    for name in services:
        service = SERVICES[name]
        for bind in service.binds(service.config_of(ctx.config)):
            key = (bind.proto, bind.address)
            where = tuple(bind.where.split("."))
            if key in seen:
                out.append(Finding("fatal", _at(doc, ctx.config_path, where,
                                                f"{bind.proto} {bind.address} is also {seen[key]}")))
                continue
            seen[key] = bind.where
            why = try_bind(bind)
            if why:
                out.append(Finding("fatal", _at(doc, ctx.config_path, where, why)))
    return out


def check_state_dir(ctx: Context, doc: YamlDoc | None) -> list[Finding]:
    assert ctx.config_path is not None
    d = ctx.state_dir
    probe = d
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe.exists() and (not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK)):
        what = "is not a directory" if not probe.is_dir() else "is not writable"
        return [Finding("fatal", _at(doc, ctx.config_path, ("run", "state_dir"), f"{probe} {what}"))]
    return []


def check_rule_paths(ctx: Context, doc: YamlDoc | None, services: list[str]) -> list[Finding]:
    """Every `detections.rules` entry exists: a misspelt directory would otherwise run with none
    of its rules (fatal). What is wrong inside a rule file, `nocsoc rules check` tells."""
    if "logs" not in services or not ctx.config.detections.enabled:
        return []
    assert ctx.config_path is not None
    return [Finding("fatal", _at(doc, ctx.config_path, ("detections", "rules", i),
                                 f"{ctx.path(r)}: no such rule file or directory"))
            for i, r in enumerate(ctx.config.detections.rules) if not ctx.path(r).exists()]


def check_tls_files(ctx: Context, doc: YamlDoc | None, services: list[str]) -> list[Finding]:
    """The Winlogbeat input's certificate, key and client CA exist and can be read."""
    from nocsoc.collectors.windows.tls import file_problems

    win = ctx.config.logs.windows
    if "logs" not in services or not win.winlogbeat or win.winlogbeat_tls is None:
        return []
    assert ctx.config_path is not None
    return [Finding("fatal", _at(doc, ctx.config_path, ("logs", "windows", "winlogbeat_tls", name), why))
            for name, why in file_problems(win.winlogbeat_tls, ctx.path)]


def check_bus(ctx: Context, doc: YamlDoc | None) -> list[Finding]:
    """`bus.auth` secrets resolve and `bus.tls` files exist and are safe (every role connects
    with them; `nocsoc check` runs without a role, so whenever a bus is set)."""
    from nocsoc.bus.security import problems

    bus = ctx.config.bus
    if not bus.enabled or (bus.auth is None and bus.tls is None):
        return []
    assert ctx.config_path is not None
    return [Finding("fatal", _at(doc, ctx.config_path, tuple(key.split(".")), why))
            for key, why in problems(bus.for_dir(ctx.base_dir))]


def check_inventory(ctx: Context, services: list[str]) -> list[Finding]:
    try:
        loaded = read_inventory(ctx.inventory_path)
    except NocsocError as exc:
        return [Finding("fatal", p) for p in exc.problems]
    out = [Finding("fatal", p) for p in loaded.problems]
    if "snmp" in services:
        used = {d.profile for d in loaded.inventory.devices if d.profile}
        out += [Finding("fatal", p) for p in secret_problems(loaded, ctx.base_dir, used)]
        unused = {p.name for p in loaded.inventory.snmp_profiles} - used
        out += [Finding("warning", p) for p in secret_problems(loaded, ctx.base_dir, unused)]
    return out


def run_checks(config_path: Path, services: list[str] | None = None, *, probe_sinks: bool = True,
               binds: bool = True) -> CheckReport:
    """Every check; `services` defaults to what the config enables."""
    try:
        config: Config = load_config(config_path)
    except NocsocError as exc:
        return CheckReport([Finding("fatal", p) for p in exc.problems], None, [])
    ctx = Context(config, config_path)
    doc = _doc(config_path)
    names = services if services is not None else enabled_services(config)
    findings = check_inventory(ctx, names)
    findings += check_sinks(ctx, doc, probe_sinks)
    findings += check_alert_store(ctx, doc, probe_sinks)
    findings += check_rule_paths(ctx, doc, names)
    findings += check_state_dir(ctx, doc)
    findings += check_tls_files(ctx, doc, names)
    findings += check_bus(ctx, doc)
    notes: list[str] = []
    pid = running_pid(ctx.state_dir) if ctx.state_dir.is_dir() else None
    if pid == os.getpid():  # `nocsoc run` checking itself, the lock just taken
        pid = None
    if pid is not None:
        notes.append(f"nocsoc run (pid {pid}) is running on {ctx.state_dir}: listen addresses not tried")
    elif binds:
        findings += check_binds(ctx, doc, names)
    return CheckReport(findings, ctx, notes)
