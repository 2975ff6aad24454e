"""`nocsoc dashboards`: build the Grafana provisioning tree, push it to Grafana, list, check queries."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.table import Table

from nocsoc.cli import common
from nocsoc.cli.lang import add_columns, t
from nocsoc.cli.options import JsonOut
from nocsoc.dashboards.config import DashboardsConfig
from nocsoc.errors import NocsocError
from nocsoc.inventory.model import Inventory

app = typer.Typer(help="Grafana dashboards, datasource and alert rules as code.", no_args_is_help=True)

LOCALE_HELP = "language of titles and panel text: vi (Vietnamese) or en"


def _config() -> tuple[DashboardsConfig, Path | None]:
    """The `dashboards:` section of nocsoc.yaml when there is one, else the defaults."""
    config, path = common.load_config_or_defaults()
    return config.dashboards, path


def _inventory() -> Inventory | None:
    """The inventory nocsoc.yaml names, when both exist: it names sites, exporters and the
    backbone links (one alert rule each). Without it the dashboards are generic; a broken
    inventory exits 2 with file:line rather than silently building generic dashboards."""
    from nocsoc.config import inventory_path
    from nocsoc.inventory.store import load_inventory

    config, path = common.load_config_or_defaults()
    if path is None or not inventory_path(config, path).exists():
        return None
    with common.user_errors():
        return load_inventory(inventory_path(config, path))
    raise AssertionError("unreachable")


def _locale(value: str | None, cfg: DashboardsConfig) -> str:
    loc = value or cfg.locale
    if loc not in ("vi", "en"):
        common.fail(f"--locale must be vi or en, not {loc!r}", common.EXIT_USAGE)
    return loc


@app.command("build")
def build_cmd(
    out: Path | None = typer.Option(
        None, "--out", "-o", help="output directory (default: dashboards.out_dir)"
    ),
    locale: str | None = typer.Option(None, "--locale", help=LOCALE_HELP),
    dashboards_path: str = typer.Option(
        "/var/lib/grafana/dashboards/nocsoc", help="where Grafana sees <out>/dashboards (provider path)"
    ),
    jsonschema_dir: Path | None = typer.Option(
        None, "--jsonschema", help="also validate against Grafana's JSON Schemas in this directory "
        "(grafana-foundation-sdk's jsonschema/ folder)"),
    json_out: JsonOut = False,
) -> None:
    """Write provisioning/{datasources,dashboards,alerting}/*.yaml and dashboards/<Folder>/*.json."""
    from nocsoc.dashboards import alerting
    from nocsoc.dashboards.lint import lint_dashboards
    from nocsoc.dashboards.provisioning import build_tree
    from nocsoc.dashboards.registry import build_all
    from nocsoc.dashboards.validate import check_alert_rules, check_dashboards, schema_errors

    if out is not None:
        common.output_dir_or_fail(out, "--out")
    cfg, cfg_path = _config()
    loc = _locale(locale, cfg)
    inventory = _inventory()
    dashboards = [d for _, d in build_all(loc, cfg.datasource_uid, cfg, inventory)]
    problems = check_dashboards(dashboards) + lint_dashboards(dashboards, loc)
    problems += check_alert_rules(alerting.rules(cfg, loc, inventory))
    if jsonschema_dir is not None:
        if not (jsonschema_dir / "dashboard.jsonschema.json").is_file():
            common.fail(f"--jsonschema {jsonschema_dir}: no dashboard.jsonschema.json there",
                        common.EXIT_USAGE)
        try:
            problems += [p for d in dashboards for p in schema_errors(d, jsonschema_dir)]
        except (ValueError, OSError) as exc:  # json.JSONDecodeError is a ValueError
            common.fail(f"--jsonschema {jsonschema_dir}: cannot read Grafana's JSON Schemas: {exc}",
                        common.EXIT_USAGE)
    if problems:
        common.fail("generated dashboards failed validation:\n" + "\n".join(map(str, problems)))
    if out is None:
        base = cfg_path.parent if cfg_path else Path.cwd()
        out = common.output_dir_or_fail(base / cfg.out_dir, "dashboards.out_dir")
    report = build_tree(out, cfg, loc, dashboards_path, inventory)
    if json_out:
        common.print_json({"out_dir": str(out), "locale": loc, "written": [str(p) for p in report.written],
                           "unchanged": [str(p) for p in report.unchanged], "dashboards": report.dashboards})
        return
    table = Table(title=t("dash.build.title", out=str(out), locale=loc))
    for col in ("folder", "uid", "title", "panels"):
        table.add_column(t(f"dash.col.{col}"))
    for d in report.dashboards:
        table.add_row(d["folder"], d["uid"], d["title"], str(d["panels"]))
    common.console.print(table)
    written, unchanged = len(report.written), len(report.unchanged)
    common.console.print(t("dash.build.written", written=written, unchanged=unchanged))


@app.command("push")
def push_cmd(
    url: str = typer.Option(..., "--url", help="Grafana base URL, e.g. http://127.0.0.1:3000"),
    token_env: str | None = typer.Option(
        None, "--token-env", help="environment variable holding a Grafana service-account token "
        "(default: dashboards.grafana_token reference, else GRAFANA_TOKEN if set)"),
    locale: str | None = typer.Option(None, "--locale", help=LOCALE_HELP),
    dry_run: bool = typer.Option(False, "--dry-run", help="show what would change, change nothing"),
    json_out: JsonOut = False,
) -> None:
    """Push folders, the datasource, dashboards (by uid) and alert rules; unchanged objects are left alone."""
    from nocsoc.dashboards.push import connect, push

    common.url_or_fail(url, "--url")
    cfg, cfg_path = _config()
    loc = _locale(locale, cfg)
    token = _token(token_env, cfg, cfg_path)
    api = connect(url, token)
    try:
        report = push(api, url, cfg, loc, dry_run=dry_run, inventory=_inventory())
    except NocsocError as exc:
        common.fail(str(exc), getattr(exc, "exit_code", common.EXIT_RUNTIME))
    finally:
        api.client.s.close()
    if json_out:
        common.print_json({"url": url, "grafana_version": report.grafana_version, "dry_run": dry_run,
                           "changes": [vars(c) for c in report.changes]})
        return
    title = t("dash.push.title", version=report.grafana_version, url=url)
    table = Table(title=title + (t("dash.push.dry_run") if dry_run else ""))
    for col in ("kind", "uid", "title", "action", "detail"):
        table.add_column(t(f"dash.col.{col}"))
    colour = {"create": "green", "update": "yellow", "unchanged": "dim"}
    for c in report.changes:
        action = t(f"dash.push.{'would_' if dry_run and c.action != 'unchanged' else ''}{c.action}")
        table.add_row(c.kind, c.uid, c.title, f"[{colour[c.action]}]{action}[/]", c.detail)
    common.console.print(table)
    common.console.print(t("dash.push.counts_dry" if dry_run else "dash.push.counts",
                           create=report.count("create"), update=report.count("update"),
                           unchanged=report.count("unchanged")))


def _token(token_env: str | None, cfg: DashboardsConfig, cfg_path: Path | None) -> str | None:
    """The token from --token-env, the config's secret reference, or GRAFANA_TOKEN; never printed."""
    if token_env:
        value = os.environ.get(token_env)
        if not value:
            common.fail(f"--token-env {token_env}: environment variable {token_env} is not set or empty",
                        common.EXIT_USAGE)
        return value
    if cfg.grafana_token:
        from nocsoc.secrets import resolve_secret

        try:
            return resolve_secret(cfg.grafana_token, cfg_path.parent if cfg_path else None,
                                  what="dashboards.grafana_token")
        except NocsocError as exc:
            common.fail(str(exc), common.EXIT_USAGE)
    return os.environ.get("GRAFANA_TOKEN") or None


@app.command("list")
def list_cmd(
    locale: str | None = typer.Option(None, "--locale", help=LOCALE_HELP),
    json_out: JsonOut = False,
) -> None:
    """The dashboards and alert rules nocsoc generates."""
    from nocsoc.dashboards import alerting
    from nocsoc.dashboards.base import FOLDERS, folder_title, folder_uid
    from nocsoc.dashboards.registry import build_all

    cfg, _ = _config()
    loc = _locale(locale, cfg)
    inventory = _inventory()
    rows = [{"kind": "dashboard", "uid": d["uid"], "folder": folder_title(spec.folder, loc),
             "title": d["title"], "panels": sum(1 for p in d["panels"] if p.get("type") != "row")}
            for spec, d in build_all(loc, cfg.datasource_uid, cfg, inventory)]
    folder_of = {folder_uid(f, loc): folder_title(f, loc) for f in FOLDERS}
    rows += [{"kind": "alert_rule", "uid": r["uid"], "folder": folder_of[r["folderUID"]], "title": r["title"],
              "panels": 0} for r in alerting.rules(cfg, loc, inventory)]
    if json_out:
        common.print_json(rows)
        return
    table = Table()
    for col in ("kind", "uid", "folder", "title", "panels"):
        table.add_column(t(f"dash.col.{col}"))
    for r in rows:
        table.add_row(r["kind"], r["uid"], r["folder"], r["title"], str(r["panels"] or ""))
    common.console.print(table)


@app.command("check")
def check_cmd(
    influx_url: str = typer.Option(..., "--influx-url", help="InfluxDB 1.x URL, e.g. http://127.0.0.1:8086"),
    database: str | None = typer.Option(None, "--db", help="database (default: dashboards.influx_database)"),
    range_s: int = typer.Option(3600, "--range", min=1, help="time range in seconds, ending now"),
    json_out: JsonOut = False,
) -> None:
    """Run every panel and alert query, as Grafana sends it, on InfluxDB (exit 1: one failed or was empty)."""
    from nocsoc.dashboards.proof import prove_all

    common.url_or_fail(influx_url, "--influx-url")
    cfg, _ = _config()
    results = prove_all(influx_url, database or cfg.influx_database, cfg, "en", range_s)
    bad = [r for r in results if not r.ok]
    if json_out:
        common.print_json([{"query": str(r.ref), "rows": r.rows, "series": len(r.series), "error": r.error,
                            "influxql": r.influxql} for r in results])
    else:
        table = Table(title=t("dash.check.title", n=len(results), url=influx_url))
        add_columns(table, "dash.check.col", ("query", "series", "rows", "result"))
        for r in results:
            failure = r.error or t("dash.check.no_data")
            verdict = f"[green]{t('dash.check.ok')}[/]" if r.ok else f"[red]{failure}[/]"
            table.add_row(str(r.ref), str(len(r.series)), str(r.rows), verdict)
        common.console.print(table)
    if bad:
        raise typer.Exit(common.EXIT_RUNTIME)


def register(parent: typer.Typer) -> None:
    """Add `nocsoc dashboards ...` to the nocsoc app."""
    parent.add_typer(app, name="dashboards")
