"""`nocsoc detect`, `nocsoc rules ...`, `nocsoc alerts ...`: hunting, rule checks, triage.

Thin: parse, call nocsoc.detections, render. Without a nocsoc.yaml the defaults apply (alert
store ./var/alerts.db, built-in pack), so an analyst can hunt through files with nothing set up.
"""

from __future__ import annotations

import getpass
import lzma
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from nocsoc.cli import common
from nocsoc.cli.lang import t as tr
from nocsoc.cli.lang import word
from nocsoc.cli.options import JsonOut
from nocsoc.paths import resolve_path

rules_app = typer.Typer(help="Sigma rules: the built-in pack and your own.", no_args_is_help=True)
alerts_app = typer.Typer(help="Alerts: list, inspect and triage (with an audit trail).",
                         no_args_is_help=True)

LEVELS = ("informational", "low", "medium", "high", "critical")
_LEVEL_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan",
                "informational": "dim"}


def register(app: typer.Typer) -> None:
    app.command("detect")(detect_command)
    app.add_typer(rules_app, name="rules")
    app.add_typer(alerts_app, name="alerts")


# --- helpers -----------------------------------------------------------------------------------

def _config() -> tuple[Any, Path]:
    """(Config, base dir): nocsoc.yaml when it exists, else defaults relative to the cwd."""
    cfg, path = common.load_config_or_defaults()
    return cfg, path.parent if path is not None else Path.cwd()


def _store(db: Path | None) -> Any:
    """The alert store (--db, else detections.alerts_db); one line and exit 2 when it cannot be
    opened (a directory, an unwritable place, a file that is not an alert store)."""
    import sqlite3

    from nocsoc.detections.alerts import AlertStore

    if db is not None:
        common.sqlite_file_or_fail(db, "--db")
    cfg, base = _config()
    if db is None and cfg.detections.alerts_postgres is not None:
        return _postgres_store(cfg, base)
    path = resolve_path(base, db or cfg.detections.alerts_db)
    what = "--db" if db is not None else "detections.alerts_db"
    if path.is_dir():
        common.fail(f"{what} {path}: is a directory, expected the alert store file", common.EXIT_USAGE)
    try:
        return AlertStore(path, cfg.detections.dedup_window_s)
    except (OSError, sqlite3.Error) as exc:
        common.fail(f"{what} {path}: cannot open the alert store: {exc}", common.EXIT_USAGE)


def _postgres_store(cfg: Any, base: Path) -> Any:
    """The shared PostgreSQL store of detections.alerts_postgres; one line and exit 2 when its
    password reference or the server fails (the message names the server, never the secret)."""
    import psycopg

    from nocsoc.detections.alerts.factory import open_alert_store
    from nocsoc.errors import SecretError
    from nocsoc.secrets import DirResolver

    dsn = cfg.detections.alerts_postgres.dsn
    try:
        return open_alert_store(cfg.detections, DirResolver(base))
    except SecretError as exc:
        common.fail(f"detections.alerts_postgres.password: {exc}", common.EXIT_USAGE)
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        common.fail(f"detections.alerts_postgres {dsn}: cannot open the alert store: {reason}",
                    common.EXIT_USAGE)


def _who(by: str | None) -> str:
    if by:
        return by
    try:
        return os.environ.get("NOCSOC_USER") or getpass.getuser()
    except Exception:
        return "unknown"


def _write_triage(alerts: list[Any]) -> None:
    """The new state of triaged alerts to the configured sinks (the dashboards count open alerts
    from them). Without a nocsoc.yaml there are no sinks; a sink that fails is warned about: the
    triage itself is stored."""
    from nocsoc.detections.alerts.points import alert_point
    from nocsoc.errors import NocsocError

    _cfg, path = common.load_config_or_defaults()
    if path is None or not alerts:
        return
    try:
        sink = common.load_context_or_fail().build_sink()
        try:
            now = time.time_ns()
            sink.write([alert_point(a, 0, now + i) for i, a in enumerate(alerts)])
        finally:
            sink.close()
    except (NocsocError, OSError) as exc:
        common.err_console.print(f"[yellow]warning:[/] triage not written to the sinks: {escape(str(exc))}")


def _ts(t: float | None) -> str:
    if not t:
        return ""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _parse_since(text: str) -> float:
    from nocsoc.timespec import parse_time

    try:
        return parse_time(text, time.time())
    except ValueError:
        common.fail(f"--since {text!r}: use a duration (30m, 24h, 7d) or an ISO time", common.EXIT_USAGE)


def _site_placeholders() -> dict[str, list[str]]:
    """Placeholder values (`%site_networks%`) from the inventory of nocsoc.yaml, when there is
    one. Hunting does not need an inventory: a broken one is said in one line and the rules
    that need it are disabled (each said once), the rest still run."""
    from nocsoc.detections.placeholders import from_inventory
    from nocsoc.errors import NocsocError

    ctx = common.context_or_defaults()
    if not ctx.inventory_path.exists():
        return from_inventory(None)
    try:
        return from_inventory(ctx.inventory)
    except NocsocError as exc:
        common.err_console.print(f"[yellow]warning[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return from_inventory(None)


def _ruleset(paths: list[Path] | None, builtin: bool = True, context: bool = False,
             placeholders: dict[str, list[str]] | None = None) -> Any:
    """`context`: the built-in pack resolves correlation references without being loaded;
    `placeholders`: default, the inventory's (`%site_networks%`)."""
    from nocsoc.detections.loader import builtin_rules_dir, load_rules

    for p in paths or []:
        if not p.exists():
            common.fail(f"rules path {p} does not exist", common.EXIT_USAGE)
    values = placeholders if placeholders is not None else _site_placeholders()
    return load_rules(list(paths or []), include_builtin=builtin,
                      context=[builtin_rules_dir()] if context else None, placeholders=values)


def _level(level: str) -> str:
    return f"[{_LEVEL_STYLE.get(level, '')}]{level}[/]"


# --- detect ------------------------------------------------------------------------------------

def detect_command(
    files: list[str] = typer.Argument(
        ..., help="log files, directories or globs (syslog, auth.log, access.log, audit.log, .jsonl; "
                  ".gz/.bz2/.xz; Windows .evtx), read oldest first"),
    rules: list[Path] = typer.Option(None, "--rules", "-r", help="extra Sigma rule files or directories"),
    no_builtin: bool = typer.Option(False, "--no-builtin", help="leave the built-in pack out"),
    as_json: JsonOut = False,
    store: bool = typer.Option(False, "--store", help="also write the alerts to the alert store"),
    db: Path | None = typer.Option(None, "--db", help="alert store (default: from nocsoc.yaml)"),
) -> None:
    """Hunt: run the streaming engine over files and print the alerts they raise (deduplicated)."""
    from nocsoc.collectors.logs import hunt_inputs
    from nocsoc.collectors.logs.parsers import LineParser, json_event
    from nocsoc.collectors.windows.documents import windows_line
    from nocsoc.collectors.windows.evtx import InputReport, read_evtx
    from nocsoc.detections.alerts import AlertStore
    from nocsoc.detections.engine import Detection, Engine
    from nocsoc.events import LogEvent

    try:
        paths = hunt_inputs.expand(list(files))
    except hunt_inputs.InputError as exc:
        common.fail(str(exc), common.EXIT_USAGE)
    if not paths:
        common.fail(f"{', '.join(files)}: no input file (the directories are empty)", common.EXIT_USAGE)
    reports: list[InputReport] = []
    target = _store(db) if store else None
    keys: dict[Path, str] = {}
    if target is not None:  # a file already stored is not counted twice (its content's key)
        for f in list(paths):
            keys[f] = hunt_inputs.content_key(f)
            if target.input_offset(keys[f]) is not None:
                skipped = tr("detect.skipped", path=escape(str(f)))
                common.err_console.print(f"[yellow]{tr('svc.note')}[/] {skipped}")
                paths.remove(f)
    rs = _ruleset(rules, builtin=not no_builtin)
    for e in rs.errors:
        common.err_console.print(
            f"[yellow]{tr('svc.warning')}[/] {escape(e.path)}: {escape(e.rule)}: {escape(e.message)}")
    from nocsoc.detections.config import DetectionsConfig

    dflt = DetectionsConfig()  # a merged log is put back in event-time order as the live stream is
    engine = Engine(rs, reorder_window_s=dflt.reorder_window_s, reorder_max_events=dflt.reorder_max_events)
    dets: list[Detection] = []
    total = sum(f.stat().st_size for f in paths)
    events = unparsed = 0
    last = 0.0
    done = 0
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TextColumn(tr("detect.events")), TimeRemainingColumn(),
                  console=common.err_console, transient=True, disable=as_json) as progress:
        task = progress.add_task(tr("detect.hunting"), total=total or 1, events=0)
        for f in paths:
            if f.suffix.lower() == ".evtx":
                rep = InputReport(str(f))
                reports.append(rep)
                for wev in read_evtx(f, rep):
                    events += 1
                    last = max(last, wev.time)
                    dets.extend(engine.process(wev))
                done += f.stat().st_size
                progress.update(task, completed=done, events=events)
                continue
            parser = LineParser(default_host=f.name.split(".", 1)[0])
            jsonl = ".jsonl" in f.suffixes or ".ndjson" in f.suffixes
            wrep = InputReport(str(f))  # Windows documents (Winlogbeat, NXLog, evtx_dump) in JSONL
            try:
                for raw in hunt_inputs.lines(f):
                    line = raw.decode("utf-8", "replace").rstrip("\r\n")
                    if not line.strip():
                        continue
                    evs: list[LogEvent]
                    wdoc = windows_line(line, wrep, "file") if jsonl else None
                    if wdoc is not None:
                        evs = [wdoc]
                    elif jsonl:
                        try:
                            evs = [json_event(line, default_host=f.stem)]
                        except ValueError:
                            evs = [LogEvent(line, {"message": line}, host=f.stem)]
                    else:
                        evs = parser.events(line, source="file")
                    for ev in evs:
                        events += 1
                        unparsed += ev.parser == "unparsed"
                        last = max(last, ev.time)
                        dets.extend(engine.process(ev))
                    if events % 2000 == 0:
                        progress.update(task, events=events)
            except (OSError, EOFError, lzma.LZMAError) as exc:  # a corrupt .gz/.bz2/.xz
                why = tr("detect.unreadable", path=escape(str(f)), error=escape(str(exc)))
                common.err_console.print(f"[yellow]{tr('svc.warning')}[/] {why}")
            if wrep.events or wrep.bad:
                reports.append(wrep)
            done += f.stat().st_size
            progress.update(task, completed=done, events=events)
    dets.extend(engine.flush(last + 366 * 86400))
    import tempfile

    with tempfile.TemporaryDirectory() as td:
        sink = target if target is not None else AlertStore(Path(td) / "hunt.db")
        with sink:
            # the stored files' keys go in the same transaction as their alerts
            offsets = {keys[f]: (0, f.stat().st_size) for f in paths if f in keys}
            res = sink.ingest(dets, offsets=offsets or None)
            alerts = [a for _, a in res.touched.values()]
    alerts.sort(key=lambda a: (a.first_seen, a.id))
    for rep in reports:
        if rep.bad or rep.unknown_channels or rep.unknown_event_ids:
            common.err_console.print(f"[yellow]{tr('svc.warning')}[/] {escape(_input_problems(rep))}",
                                     highlight=False)
    if as_json:
        common.print_json({"events": events, "unparsed": unparsed, "rules": len(rs.rules),
                           "correlations": len(rs.correlations),
                           "inputs": [r.to_dict() for r in reports],
                           "alerts": [a.to_dict() for a in alerts]})
        return
    _alerts_table(alerts, tr("detect.title", alerts=len(alerts), events=events, unparsed=unparsed))


def _input_problems(rep: Any) -> str:
    """One line per input with bad records: what was skipped, counted, and the first reason."""
    parts = [f"{n} {what}" for n, what in ((rep.bad_chunks, "unreadable chunks"),
                                           (rep.not_events, "records that are no event"),
                                           (rep.oversized, "oversized records")) if n]
    if rep.unknown_channels:
        chans = ", ".join(f"{c or '(none)'} ({n})" for c, n in sorted(rep.unknown_channels.items()))
        parts.append(f"events of channels no rule logsource maps: {chans}")
    if rep.unknown_event_ids:
        ids = ", ".join(f"{k} ({n})" for k, n in sorted(rep.unknown_event_ids.items()))
        parts.append(f"Sysmon EventIDs pySigma's Sysmon pipeline does not know: {ids}")
    first = f"; first: {rep.messages[0]}" if rep.messages else ""
    return f"{rep.name}: {rep.events} events read; " + "; ".join(parts) + first


def _state(state: str) -> str:
    """An alert's state in the reader's language (the value typed to --state stays as it is)."""
    return word("alerts.state", state)


def _alerts_table(alerts: list[Any], title: str) -> None:
    t = Table(title=title)
    for col in ("id", "level", "rule", "host", "src", "user", "count", "first_seen", "last_seen", "state"):
        t.add_column(tr(f"alerts.col.{col}"), justify="right" if col in ("id", "count") else "left")
    for a in alerts:
        t.add_row(str(a.id), _level(a.level), escape(a.rule_title), escape(a.host), escape(a.src_ip),
                  escape(a.user), str(a.count), _ts(a.first_seen), _ts(a.last_seen), _state(a.state))
    common.print_table(t)


# --- rules -------------------------------------------------------------------------------------

@rules_app.command("list")
def rules_list(
    rules: list[Path] = typer.Option(None, "--rules", "-r", help="extra rule files or directories"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The rules the engine would run (built-in pack plus --rules), correlations included."""
    rs = _ruleset(rules)
    rows = [{"id": r.id, "name": r.name, "title": r.title, "level": r.level, "kind": "rule",
             "logsource": {"product": r.product, "category": r.category, "service": r.service},
             "tags": list(r.tags), "alerts": r.generate, "path": r.path} for r in rs.rules]
    for c in rs.correlations:
        rows.append({"id": str(c.id), "name": c.name, "title": c.title,
                     "level": str(c.level.name).lower() if c.level else "medium",
                     "kind": f"correlation:{c.type.name.lower()}",
                     "rules": [ref.reference for ref in c.rules or []],
                     "group_by": list(c.group_by or []), "timespan": c.timespan.spec,
                     "tags": [f"{t.namespace}.{t.name}" for t in c.tags], "alerts": True,
                     "path": rs.correlation_paths.get(id(c), "")})
    if as_json:
        common.print_json({"rules": rows, "unsupported": [u.to_dict() for u in rs.unsupported],
                           "disabled": [u.to_dict() for u in rs.disabled],
                           "errors": [e.to_dict() for e in rs.errors]})
        return
    t = Table(title=tr("rules.title", rules=len(rs.rules), correlations=len(rs.correlations),
                       unsupported=len(rs.unsupported), disabled=len(rs.disabled), errors=len(rs.errors)))
    for col in ("level", "kind", "title", "where", "id"):
        t.add_column(tr(f"rules.col.{col}"))
    for r in rows:
        ls = r.get("logsource")
        where = (" ".join(f"{k}={v}" for k, v in ls.items() if v) if ls
                 else ", ".join(r.get("rules", []))
                 + f" by {','.join(r.get('group_by', []))} in {r.get('timespan')}")
        t.add_row(_level(r["level"]), r["kind"], escape(r["title"]), escape(where), r["id"])
    common.print_table(t)


@rules_app.command("check")
def rules_check(
    paths: list[Path] = typer.Argument(None, help="rule files or directories (default: the built-in pack)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Validate rules offline: parse, compile, resolve correlations, run pySigma's validators
    (less the three that download ATT&CK data) and the built-in rule tests.

    Exit 2 when a rule has an error, a high-severity validator finding or a failing test. Rules
    whose logsource nocsoc does not ingest are listed as unsupported, not errors."""
    from nocsoc.collectors.logs.ruletest import TEST_PLACEHOLDERS, builtin_tests
    from nocsoc.detections.loader import validate

    builtin = not paths
    # a correlation in the files checked may name built-in rules, as under `nocsoc run`; the
    # built-in pack's tests are written against their own site networks, not the inventory's
    rs = _ruleset(paths or [], builtin=builtin, context=not builtin,
                  placeholders=TEST_PLACEHOLDERS if builtin else None)
    findings = validate(rs)
    tests = builtin_tests(rs) if builtin else []
    failed = [t for t in tests if not t.ok]
    missing = []
    if builtin:
        tested = {Path(t.path).name.rsplit(".", 2)[0] for t in tests}
        for r in rs.rules:
            if not ({r.id, r.name} & tested):
                missing.append(r.title)
        for c in rs.correlations:
            if not ({str(c.id), c.name} & tested):
                missing.append(c.title)
    high = [f for f in findings if f.message.startswith(("high", "critical"))]
    ok = not rs.errors and not failed and not missing and not high
    if as_json:
        common.print_json({"ok": ok, "files": rs.files, "rules": len(rs.rules),
                           "correlations": len(rs.correlations),
                           "unsupported": [u.to_dict() for u in rs.unsupported],
                           "errors": [e.to_dict() for e in rs.errors],
                           "validation": [f.to_dict() for f in findings],
                           "tests": [t.to_dict() for t in tests], "untested": missing})
    else:
        common.console.print(tr("rules.check.summary", files=rs.files, rules=len(rs.rules),
                                correlations=len(rs.correlations), unsupported=len(rs.unsupported),
                                errors=len(rs.errors)))
        for u in rs.unsupported:
            common.console.print(f"  [dim]{tr('rules.check.unsupported')}[/] {escape(u.path)}: "
                                 f"{escape(u.message)}", highlight=False)
        for e in rs.errors:
            common.console.print(f"  [red]{tr('rules.check.error')}[/] {escape(e.path)}: {escape(e.rule)}: "
                                 f"{escape(e.message)}", highlight=False)
        for f in findings:
            common.console.print(f"  [yellow]{tr('rules.check.validation')}[/] {escape(f.path)}: "
                                 f"{escape(f.rule)}: {escape(f.message)}", highlight=False)
        if tests:
            common.console.print(tr("rules.check.tests", passed=len(tests) - len(failed), total=len(tests)))
        for case in failed:
            expected = tr("rules.match") if case.expect_match else tr("rules.no_match")
            common.console.print(f"  [red]{tr('rules.fail')}[/] " + tr(
                "rules.check.failed", title=escape(case.title), path=escape(case.path), expected=expected,
                hits=case.hits, lines=case.lines))
        for m in missing:
            common.console.print(f"  [red]{tr('rules.check.untested')}[/] {escape(m)}")
    if not ok:
        raise typer.Exit(common.EXIT_USAGE)


@rules_app.command("test")
def rules_test(
    rule: str = typer.Argument(..., help="rule id, name or title"),
    logfile: Path = typer.Argument(..., help="log lines to run through the engine"),
    rules: list[Path] = typer.Option(None, "--rules", "-r", help="extra rule files or directories"),
    expect: str = typer.Option("match", "--expect", help="match | nomatch"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Run LOGFILE through the engine and report whether RULE fires (exit 1 when not as expected)."""
    from nocsoc.collectors.logs.ruletest import rule_test

    if not logfile.is_file():
        common.fail(f"{logfile}: no such file", common.EXIT_USAGE)
    if expect not in ("match", "nomatch"):
        common.fail("--expect must be match or nomatch", common.EXIT_USAGE)
    rs = _ruleset(rules)
    target = rs.by_id(rule)
    if target is None:
        common.fail(f"no rule {rule!r} (see `nocsoc rules list`)", common.EXIT_USAGE)
    try:
        res = rule_test(rs, target, logfile, expect == "match")
    except UnicodeDecodeError as exc:
        common.fail(f"{logfile}: not UTF-8 text (byte {exc.start})", common.EXIT_USAGE)
    if as_json:
        common.print_json(res.to_dict())
    else:
        key = "rules.test.rule" if res.kind == "rule" else "rules.test.correlation"
        mark = f"[green]{tr('rules.ok')}[/]" if res.ok else f"[red]{tr('rules.fail')}[/]"
        expected = tr(f"rules.expect.{expect}")
        common.console.print(f"{mark} " + tr(key, title=escape(res.title), hits=res.hits, lines=res.lines,
                                               expected=expected))
    if not res.ok:
        raise typer.Exit(common.EXIT_RUNTIME)


# --- alerts ------------------------------------------------------------------------------------

_DB = typer.Option(None, "--db", help="alert store (default: detections.alerts_db of nocsoc.yaml)")
_BY = typer.Option(None, "--by", help="who (default: $NOCSOC_USER or the login name)")


@alerts_app.command("list")
def alerts_list(
    state: str | None = typer.Option(None, "--state",
                                     help="new | acknowledged | closed | false_positive | open"),
    level: str | None = typer.Option(None, "--level", help=" | ".join(LEVELS)),
    since: str | None = typer.Option(None, "--since", help="30m, 24h, 7d or an ISO time"),
    rule: str | None = typer.Option(None, "--rule", help="rule id, name or title (or part of a title)"),
    host: str | None = typer.Option(None, "--host", help="host, or target address"),
    src: str | None = typer.Option(None, "--src", help="source address"),
    user: str | None = typer.Option(None, "--user", help="account"),
    text: str | None = typer.Option(None, "--text", "-q",
                                    help="words of the title, evidence, hosts and users (as the console)"),
    limit: int = typer.Option(200, "--limit", min=1),
    as_json: bool = typer.Option(False, "--json"),
    db: Path | None = _DB,
) -> None:
    """Alerts, most recent first (the console's queue filters)."""
    from nocsoc.detections.alerts import STATES
    from nocsoc.web.queue import QueueFilter, reader_for

    if state and state not in (*STATES, "open"):
        common.fail(f"--state {state!r}: one of {', '.join(STATES)}, open", common.EXIT_USAGE)
    if level and level not in LEVELS:
        common.fail(f"--level {level!r}: one of {', '.join(LEVELS)}", common.EXIT_USAGE)
    f = QueueFilter(state=state or "", level=level or "", rule=(rule or "").strip(),
                    host=(host or "").strip(), src=(src or "").strip(), user=(user or "").strip(),
                    q=(text or "").strip(), since=_parse_since(since) if since else None, per_page=limit)
    if f.rule:  # a rule named exactly (id, name or title): its id; else part of a title
        cfg, base = _config()
        known = _ruleset([resolve_path(base, r) for r in cfg.detections.rules],
                         cfg.detections.builtin_rules).by_id(f.rule)
        if known is not None:
            f.rule, f.rule_exact = str(known.id), True
    with _store(db) as st:
        alerts = reader_for(st, max_per_page=max(limit, 1)).page(f).alerts
    if as_json:
        common.print_json([a.to_dict() for a in alerts])
        return
    _alerts_table(alerts, tr("alerts.title", n=len(alerts)))


@alerts_app.command("show")
def alerts_show(alert_id: int = typer.Argument(...), as_json: bool = typer.Option(False, "--json"),
                db: Path | None = _DB) -> None:
    """One alert with its evidence and its audit trail."""
    from nocsoc.detections.alerts import TriageError

    with _store(db) as st:
        try:
            a = st.get(alert_id)
        except TriageError as exc:
            common.fail(str(exc), common.EXIT_USAGE)
        trail = st.audit(alert_id=alert_id)
    from nocsoc.detections.evidence import is_windows, windows_evidence

    evidence = [windows_evidence(s.get("fields") or {}) if is_windows(s.get("fields") or {}) else []
                for s in a.samples]
    if as_json:
        common.print_json({**a.to_dict(), "evidence": [dict(e) for e in evidence],
                           "audit": [e.to_dict() for e in trail]})
        return
    c = common.console
    c.print(f"[bold]#{a.id} {escape(a.rule_title)}[/] {_level(a.level)} {escape(f'[{_state(a.state)}]')}")
    fields = ("rule_id", "tactic", "kind", "group_key", "host", "src_ip", "dst_ip", "user", "count")
    labels = {k: tr(f"alerts.show.{k}") for k in (*fields, "tags", "first_seen")}
    width = max(10, *(len(v) for v in labels.values()))
    for k in fields:
        c.print(f"  {labels[k]:>{width}}: {escape(str(getattr(a, k)))}", highlight=False)
    c.print(f"  {labels['tags']:>{width}}: {escape(', '.join(a.tags))}", highlight=False)
    c.print(f"  {labels['first_seen']:>{width}}: {_ts(a.first_seen)}   "
            f"{tr('alerts.show.last_seen')}: {_ts(a.last_seen)}")
    c.print(f"  {tr('alerts.show.samples')}:")
    for s, ev in zip(a.samples, evidence, strict=True):
        if ev:  # Windows: the evidence fields, not the whole JSON record
            for label, value in ev:
                c.print(f"    {label:>19}: {escape(value)}", highlight=False, soft_wrap=True)
            c.print("")
            continue
        c.print(f"    {escape(str(s.get('raw', '')))}", highlight=False, soft_wrap=True)
    c.print(f"  {tr('alerts.show.audit')}:")
    for e in trail:
        c.print(f"    {_ts(e.at)} {escape(e.who)} {e.action} {e.from_state} -> {e.to_state}: "
                f"{escape(e.comment)}", highlight=False)


def _transition(alert_id: int, action: str, who: str | None, comment: str, db: Path | None,
                as_json: bool) -> None:
    from nocsoc.detections.alerts import TriageError

    with _store(db) as st:
        try:
            a = st.transition(alert_id, action, _who(who), comment)
        except TriageError as exc:
            common.fail(str(exc), common.EXIT_USAGE)
    _write_triage([a])
    if as_json:
        common.print_json(a.to_dict())
    else:
        common.console.print(tr("alerts.now", id=a.id, state=_state(a.state)))


@alerts_app.command("ack")
def alerts_ack(alert_ids: list[int] = typer.Argument(..., help="one or more alert ids"),
               comment: str = typer.Option("", "--comment", "-m"),
               by: str | None = _BY, db: Path | None = _DB,
               as_json: bool = typer.Option(False, "--json")) -> None:
    """new -> acknowledged (several ids: each one, the failures listed, exit 2 if any)."""
    if len(alert_ids) == 1:
        _transition(alert_ids[0], "ack", by, comment, db, as_json)
        return
    from nocsoc.detections.alerts import TriageError

    done, failed = [], []
    with _store(db) as st:
        for aid in alert_ids:
            try:
                done.append(st.transition(aid, "ack", _who(by), comment))
            except TriageError as exc:
                failed.append(str(exc))
    _write_triage(done)
    ids = [a.id for a in done]
    if as_json:
        common.print_json({"acknowledged": ids, "errors": failed})
    else:
        common.console.print(tr("alerts.acked", n=len(ids), ids=" ".join(map(str, ids)) or "-"))
        for f in failed:
            common.err_console.print(f"[red]{common.error_word()}[/] {escape(f)}", highlight=False)
    if failed:
        raise typer.Exit(common.EXIT_USAGE)


@alerts_app.command("assign")
def alerts_assign(alert_ids: list[int] = typer.Argument(..., help="one or more alert ids"),
                  to: str = typer.Option(..., "--to", help="who takes the alerts (\"\" to unassign)"),
                  by: str | None = _BY, db: Path | None = _DB) -> None:
    """Give alerts to an analyst (audited)."""
    from nocsoc.detections.alerts import TriageError

    with _store(db) as st:
        for aid in alert_ids:
            try:
                st.assign(aid, to, _who(by))
            except TriageError as exc:
                common.fail(str(exc), common.EXIT_USAGE)
    common.console.print(tr("alerts.assigned", n=len(alert_ids), to=escape(to or "-")))


@alerts_app.command("close")
def alerts_close(alert_id: int = typer.Argument(...),
                 reason: str = typer.Option(..., "--reason", help="why it is closed (kept in the audit)"),
                 false_positive: bool = typer.Option(False, "--false-positive",
                                                     help="close as false positive"),
                 by: str | None = _BY, db: Path | None = _DB,
                 as_json: bool = typer.Option(False, "--json")) -> None:
    """new|acknowledged -> closed (or false_positive)."""
    _transition(alert_id, "false_positive" if false_positive else "close", by, reason, db, as_json)


@alerts_app.command("reopen")
def alerts_reopen(alert_id: int = typer.Argument(...), comment: str = typer.Option("", "--comment", "-m"),
                  by: str | None = _BY, db: Path | None = _DB,
                  as_json: bool = typer.Option(False, "--json")) -> None:
    """closed|false_positive|acknowledged -> new."""
    _transition(alert_id, "reopen", by, comment, db, as_json)


@alerts_app.command("suppress")
def alerts_suppress(
    rule: str = typer.Argument(..., help="rule id, name or title (or * for every rule)"),
    where: list[str] = typer.Option(..., "--where",
                                    help="field=value; repeat to AND several (host, src_ip, dst_ip, "
                                         "user, or a field of the rule's events)"),
    duration: str = typer.Option(..., "--for", help="expiry: 30m, 12h, 7d (required, at most 90d)"),
    comment: str = typer.Option("", "--comment", "-m"),
    rules: list[Path] = typer.Option(None, "--rules", "-r", help="extra rule files or directories"),
    by: str | None = _BY, db: Path | None = _DB,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Keep known noise out: matching detections are counted but raise no alert until expiry.

    Validated as in the console: the rule must exist, every field must be one of its events',
    values are typed (addresses, ports), several --where are ANDed, an expiry is required."""
    from nocsoc.detections.alerts.validate import SuppressionInvalid, validate_suppression

    rs = _ruleset(rules)
    with _store(db) as st:
        try:
            v = validate_suppression(rs, rule, where, duration, st.list_alerts(limit=2000))
        except SuppressionInvalid as exc:
            for problem in exc.problems:
                common.err_console.print(f"[red]{common.error_word()}[/] {escape(problem)}", highlight=False)
            raise typer.Exit(common.EXIT_USAGE) from None
        s = st.suppress(v.rule_id, v.conditions[0][0], v.conditions[0][1], v.duration_s, _who(by), comment,
                        conditions=v.conditions)
    if as_json:
        common.print_json(s.to_dict())
    else:
        text = " and ".join(f"{f}={val}" for f, val in s.condition_list())
        common.console.print(tr("supp.created", id=s.id, title=escape(v.rule_title), rule=escape(v.rule_id),
                                where=escape(text), until=_ts(s.expires)), highlight=False)


@alerts_app.command("suppressions")
def alerts_suppressions(all_: bool = typer.Option(False, "--all", help="include expired and removed"),
                        as_json: bool = typer.Option(False, "--json"), db: Path | None = _DB) -> None:
    """Suppressions in force (or all, with --all), with their audit trail."""
    with _store(db) as st:
        supps = st.suppressions(include_inactive=all_)
        trails = {s.id: st.audit(suppression_id=s.id) for s in supps}
    if as_json:
        common.print_json([{**s.to_dict(), "audit": [e.to_dict() for e in trails[s.id]]} for s in supps])
        return
    t = Table(title=tr("supp.title", n=len(supps)))
    for col in ("id", "rule", "where", "expires", "by", "hits", "removed"):
        t.add_column(tr(f"supp.col.{col}"))
    for s in supps:
        t.add_row(str(s.id), escape(s.rule_id), escape(f"{s.field}={s.value}"), _ts(s.expires),
                  escape(s.created_by), str(s.hits), _ts(s.removed_at))
    common.print_table(t)


@alerts_app.command("unsuppress")
def alerts_unsuppress(suppression_id: int = typer.Argument(...),
                      comment: str = typer.Option("", "--comment", "-m"),
                      by: str | None = _BY, db: Path | None = _DB) -> None:
    """Remove a suppression before it expires (audited)."""
    from nocsoc.detections.alerts import TriageError

    with _store(db) as st:
        try:
            st.unsuppress(suppression_id, _who(by), comment)
        except TriageError as exc:
            common.fail(str(exc), common.EXIT_USAGE)
    common.console.print(tr("supp.removed", id=suppression_id))
