"""`nocsoc profiles list | show NAME | test WALK`: the SNMP device profiles, for users writing their own.

Thin: the profiles are nocsoc.collectors.snmp.profiles (shipped YAML plus `snmp.profiles_dir`
of nocsoc.yaml); `test` polls a recorded walk (snmpsim .snmprec) with the poller's own code.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.table import Table

from nocsoc.cli import common
from nocsoc.cli.lang import t as tr
from nocsoc.cli.options import JsonOut

if TYPE_CHECKING:
    from nocsoc.collectors.snmp.profiles import Catalog

group = typer.Typer(
    help="SNMP device profiles: vendor tables as data (list, show, test on a walk).", no_args_is_help=True
)


def _user_dir() -> Path | None:
    from nocsoc.collectors.snmp.profiles import user_dir

    config, path = common.load_config_or_defaults()
    return user_dir(config.snmp.profiles_dir, path.parent if path is not None else None)


def _catalog() -> tuple[Catalog, Path | None]:
    from nocsoc.collectors.snmp import profiles

    udir = _user_dir()
    with common.user_errors():
        return profiles.load_catalog(udir), udir


@group.command("list")
def list_(as_json: JsonOut = False) -> None:
    """Every profile: what it matches and what it polls."""
    catalog, udir = _catalog()
    rows: list[dict[str, Any]] = []
    for p in sorted(catalog.profiles.values(), key=lambda p: p.name):
        rows.append(
            {
                "name": p.name,
                "vendor": p.vendor,
                "os": p.os,
                "role": p.role.value if p.role else "",
                "match": [r.sys_object_id + (f" ~ /{r.sys_descr}/" if r.sys_descr else "") for r in p.match],
                "tables": [t.kind for t in catalog.tables_of(p)],
                "traps": len(p.traps),
                "source": "user" if udir is not None and Path(p.source).parent == udir else "shipped",
            }
        )
    if as_json:
        common.print_json(rows)
        return
    table = Table(title=tr("prof.title", n=len(rows)), title_justify="left")
    for col in ("name", "vendor", "os", "role", "match", "tables", "traps", "source"):
        table.add_column(tr(f"prof.col.{col}"), overflow="fold")
    for r in rows:
        kinds = Counter(r["tables"])
        table.add_row(
            r["name"],
            r["vendor"],
            r["os"],
            r["role"],
            escape("\n".join(r["match"])),
            ", ".join(f"{k}×{n}" if n > 1 else k for k, n in sorted(kinds.items())),
            str(r["traps"]),
            tr(f"prof.source.{r['source']}"),
        )
    common.print_table(table)


@group.command("show")
def show(
    name: str = typer.Argument(..., help="profile name (see `nocsoc profiles list`)"),
    as_json: JsonOut = False,
) -> None:
    """One profile: its MIBs, match rules, every table column (OID, unit) and its traps."""
    catalog, _udir = _catalog()
    if name not in catalog.profiles:
        common.fail(f"no profile {name!r} (known: {', '.join(sorted(catalog.profiles))})", common.EXIT_USAGE)
    p = catalog.profiles[name]
    if as_json:
        common.print_json({**p.model_dump(mode="json"), "source": p.source})
        return
    common.console.print(
        f"[bold]{escape(p.name)}[/]: {escape(p.vendor)} {escape(p.os)}, "
        + tr("prof.show.role", role=p.role.value if p.role else "-", source=escape(p.source)),
        highlight=False,
    )
    common.console.print(tr("prof.show.mibs", mibs=escape(", ".join(p.mibs))), highlight=False)
    for r in p.match:
        common.console.print(
            tr("prof.show.match", oid=r.sys_object_id)
            + (f", sysDescr ~ {escape(r.sys_descr)}" if r.sys_descr else ""),
            highlight=False,
        )
    if p.include:
        common.console.print(tr("prof.show.include", profiles=", ".join(p.include)), highlight=False)
    table = Table(title=tr("prof.tables"), title_justify="left")
    for col in ("table", "kind", "index", "field", "lane", "oid", "unit"):
        table.add_column(tr(f"prof.tcol.{col}"), overflow="fold")
    for t in catalog.tables_of(p):
        if t.kind == "entity-sensor":
            table.add_row(
                escape(t.name),
                t.kind,
                "entity",
                "(type, scale, precision, value, status)",
                "",
                t.oid or "",
                "",
            )
        for f, lane, spec in t.specs():
            table.add_row(escape(t.name), t.kind, t.index, f, lane, spec.oid, escape(spec.unit))
    common.print_table(table)
    if p.traps:
        traps = Table(title=f"traps ({len(p.traps)})", title_justify="left")
        for col in ("OID", "name", "MIB", "event", "kind", "severity", "alert", "varbinds"):
            traps.add_column(col, overflow="fold")
        for e in p.traps:
            roles = ", ".join(f"{r}={v.oid}" + ("[index]" if v.part == "index" else "")
                              for r, v in e.varbinds.items())
            traps.add_row(e.oid, escape(e.name), escape(e.mib), e.event, e.kind, e.severity,
                          "yes" if e.alert else "no", roles)
        common.print_table(traps)


@group.command("test")
def test(
    walk: Path = typer.Argument(..., help="a recorded walk in snmpsim's .snmprec format (OID|tag|value)"),
    profile: str | None = typer.Option(
        None, "--profile", "-p", help="use this profile instead of the matched one"
    ),
    as_json: JsonOut = False,
) -> None:
    """Poll a recorded walk offline with the profiles: which one matches and what it reads."""
    from nocsoc.collectors.snmp.offline import poll_walk

    udir = _user_dir()
    if not walk.exists():
        common.fail(f"{walk}: no such file", common.EXIT_USAGE)
    if walk.is_dir():
        common.fail(f"{walk}: is a directory, expected a .snmprec file", common.EXIT_USAGE)
    with common.user_errors():
        try:
            out = poll_walk(walk, profile, udir)
        except (OSError, UnicodeDecodeError) as exc:
            common.fail(f"{walk}: cannot read: {exc}", common.EXIT_USAGE)
    if not out.walk.oids:
        common.fail(f"{walk}: not a recorded walk: no OID|tag|value line "
                    f"({out.walk.bad_lines} unreadable lines)", common.EXIT_USAGE)
    matched = out.poller.matched
    by = Counter(p.measurement for p in out.points)
    optics = [p for p in out.points if p.measurement == "optics"]
    summary: dict[str, Any] = {
        "walk": str(walk),
        "varbinds": len(out.walk.oids),
        "bad_lines": out.walk.bad_lines,
        "sys_object_id": out.poller.system.object_id,
        "profile": matched.profile.name if matched else None,
        "vendor": matched.profile.vendor if matched else None,
        "role": matched.profile.role.value if matched and matched.profile.role else None,
        "interfaces": out.result.interfaces,
        "points": dict(sorted(by.items())),
        "device": next((p.fields for p in out.points if p.measurement == "device"), {}),
        "optics": [
            {
                "ifname": p.tags.get("ifname"),
                "sensor": p.tags.get("sensor"),
                "lane": p.tags.get("lane"),
                **p.fields,
            }
            for p in optics
        ],
        "processors": {
            p.tags["processor"]: p.fields["load_pct"] for p in out.points if p.measurement == "processor"
        },
        "memory": {p.tags["pool"]: p.fields["used_pct"] for p in out.points if p.measurement == "memory"},
        "problems": {
            k: v
            for k, v in out.poller.counters.snapshot().items()
            if k in ("bad_rows", "unsafe_values") and v
        },
    }
    if as_json:
        common.print_json(summary)
        return
    common.console.print(
        tr("prof.test.walk", walk=escape(str(walk)), varbinds=summary["varbinds"],
           oid=summary["sys_object_id"]) + "\n"
        + tr("prof.test.profile", profile=f"[bold]{escape(str(summary['profile']))}[/]",
             vendor=summary["vendor"], role=summary["role"]) + "\n"
        + tr("prof.test.points", interfaces=summary["interfaces"],
             points=", ".join(f"{k} {v}" for k, v in summary["points"].items())),
        highlight=False,
    )
    dev = summary["device"]
    common.console.print(
        tr("prof.test.device") + " "
        + ", ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in dev.items()),
        highlight=False,
    )
    if optics:
        table = Table(title=tr("prof.test.optics"), title_justify="left")
        for col in ("interface", "sensor", "lane", "rx", "tx", "bias", "voltage", "temperature"):
            table.add_column(tr(f"prof.ocol.{col}"), overflow="fold")
        for o in summary["optics"]:
            table.add_row(
                *(escape(str(o.get(k) or "")) for k in ("ifname", "sensor", "lane")),
                *(
                    f"{o[k]:.2f}" if k in o else ""
                    for k in ("rx_dbm", "tx_dbm", "bias_ma", "voltage_v", "temperature_c")
                ),
            )
        common.print_table(table)
    if summary["problems"]:
        common.console.print(f"[yellow]{tr('prof.test.problems', problems=summary['problems'])}[/]",
                             highlight=False)


def register(app: typer.Typer) -> None:
    """Add `nocsoc profiles` to the nocsoc app."""
    app.add_typer(group, name="profiles")
