"""`nocsoc inventory ...` and `nocsoc init`: thin wrappers over nocsoc.inventory.

Every command reads the inventory named by nocsoc.yaml. Edits go through
`InventoryStore.edit()` (file lock + atomic write), so concurrent CLI runs never lose a change.
Listings print a table, or JSON with `--json`; JSON carries secret references (`env:NAME`),
never a resolved secret.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from rich import box
from rich.markup import escape
from rich.table import Table

from nocsoc.cli import common
from nocsoc.cli.lang import t
from nocsoc.cli.options import JsonOut
from nocsoc.errors import InventoryError, Problem
from nocsoc.fileio import atomic_write
from nocsoc.inventory.model import Device, Inventory, Link, Role
from nocsoc.inventory.store import InventoryStore, secret_problems

inventory_app = typer.Typer(
    help="The device inventory: sites, devices, SNMP profiles and links (one YAML file).",
    no_args_is_help=True,
)

# Device fields `update --set` may change, and the option name each has in `add`.
SETTABLE = {
    "name": "NAME",
    "address": "--address",
    "role": "--role",
    "site": "--site",
    "profile": "--profile",
    "vendor": "--vendor",
    "model": "--model",
    "tags": "--tag",
    "flow_exporter": "--flow-exporter",
    "flow_sampling_rate": "--flow-sampling-rate",
    "syslog_source": "--syslog-source",
    "poll_interval_s": "--poll-interval",
    "snmp_port": "--snmp-port",
}


def register(app: typer.Typer) -> None:
    """Add `nocsoc inventory ...` and the top-level `nocsoc init`."""
    app.add_typer(inventory_app, name="inventory")
    app.command("init")(init_command)


# --- helpers ---------------------------------------------------------------------------------


def _store() -> InventoryStore:
    from nocsoc.config import inventory_path

    config, path = common.load_config_or_fail()
    return InventoryStore(inventory_path(config, path))


def _load(store: InventoryStore) -> Inventory:
    with common.user_errors():
        return store.load()
    raise AssertionError("unreachable")


def _not_found(kind: str, name: str, known: list[str]) -> InventoryError:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return InventoryError(f"no {kind} named {name!r}{hint}")


def _find_device(inv: Inventory, name: str) -> Device:
    try:
        return inv.device(name)
    except KeyError:
        raise _not_found("device", name, [d.name for d in inv.devices]) from None


def _device_from(data: dict[str, Any], labels: dict[str, str]) -> Device:
    """Validate a device built from options; problems name the option (`--address: ...`)."""
    try:
        return Device.model_validate(data)
    except ValidationError as exc:
        problems = []
        for e in exc.errors(include_url=False):
            field = str(e["loc"][0]) if e["loc"] else ""
            msg = str(e["msg"]).removeprefix("Value error, ")
            problems.append(Problem(msg, key=labels.get(field, field) or None))
        raise InventoryError(problems=problems) from None


def _links_of(inv: Inventory, name: str) -> list[Link]:
    return [lk for lk in inv.links if name in (lk.a.device, lk.b.device)]


def _tags(values: list[str]) -> list[str]:
    """`--tag a --tag b,c` -> [a, b, c] (order kept, duplicates dropped)."""
    out: list[str] = []
    for v in values:
        for part in v.split(","):
            tag = part.strip()
            if tag and tag not in out:
                out.append(tag)
    return out


def _device_json(d: Device) -> dict[str, Any]:
    return d.model_dump(mode="json")


# --- list / show ---------------------------------------------------------------------------


@inventory_app.command("list")
def list_command(
    site: str | None = typer.Option(None, "--site", help="only devices of this site id"),
    role: Role | None = typer.Option(None, "--role", help="only devices with this role"),
    tag: list[str] = typer.Option([], "--tag", help="only devices with this tag (repeat: all must match)"),
    as_json: JsonOut = False,
) -> None:
    """List devices, in inventory order."""
    inv = _load(_store())
    if site is not None and site not in {s.id for s in inv.sites}:
        common.fail_with(_not_found("site", site, [s.id for s in inv.sites]))
    wanted = _tags(tag)
    devices = [
        d
        for d in inv.devices
        if (site is None or d.site == site)
        and (role is None or d.role == role)
        and all(tag in d.tags for tag in wanted)
    ]
    if as_json:
        common.print_json([_device_json(d) for d in devices])
        return
    title = t("inv.list.title", shown=len(devices), total=len(inv.devices))
    table = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left")
    rows = [
        (d.name, d.address, d.role.value, d.site, f"{d.vendor} {d.model}".strip(), d.profile,
         ",".join(d.tags))
        for d in devices
    ]
    # Name, address, role and site are never cut; on a narrow terminal the model is cut short.
    for i, col in enumerate(t(f"inv.col.{c}") for c in ("name", "address", "role", "site")):
        table.add_column(col, no_wrap=True, min_width=max([len(col)] + [len(r[i]) for r in rows]))
    table.add_column(t("inv.col.model"), no_wrap=True, overflow="ellipsis", min_width=8)
    table.add_column(t("inv.col.profile"), no_wrap=True, overflow="ellipsis", min_width=7)
    table.add_column(t("inv.col.tags"), overflow="fold", min_width=4)
    for r in rows:
        table.add_row(*(escape(x) for x in r))
    common.print_table(table)


@inventory_app.command("show")
def show_command(
    name: str = typer.Argument(..., help="device name"),
    as_json: JsonOut = False,
) -> None:
    """One device with its site, SNMP profile (secret references only) and links."""
    config, _, inv = common.load_config_and_inventory()
    with common.user_errors():
        d = _find_device(inv, name)
    site = next((s for s in inv.sites if s.id == d.site), None)
    profile = next((p for p in inv.snmp_profiles if p.name == d.profile), None)
    links = _links_of(inv, d.name)
    effective = {
        "poll_interval_s": d.poll_interval_s if d.poll_interval_s is not None else config.snmp.interval_s,
        "snmp_port": d.snmp_port if d.snmp_port is not None else (profile.port if profile else None),
    }
    if as_json:
        common.print_json(
            {
                "device": _device_json(d),
                "site": site.model_dump(mode="json") if site else None,
                "profile": profile.model_dump(mode="json") if profile else None,
                "effective": effective,
                "links": [lk.model_dump(mode="json") for lk in links],
            }
        )
        return
    info = Table(box=None, show_header=False, pad_edge=False)
    info.add_column(style="bold")
    info.add_column()
    rows: list[tuple[str, str]] = [
        ("name", d.name),
        ("address", d.address),
        ("role", d.role.value),
        ("site", f"{d.site} ({site.name})" if site else d.site),
        ("model", f"{d.vendor} {d.model}".strip()),
        ("tags", ", ".join(d.tags)),
    ]
    if profile is not None:
        port = effective["snmp_port"]
        if profile.version == "2c":
            snmp = t("inv.show.snmp_v2c", profile=profile.name, community=profile.community, port=port)
        else:
            snmp = t("inv.show.snmp_v3", profile=profile.name, user=profile.user, port=port,
                     auth=profile.auth_protocol or t("inv.none"), priv=profile.priv_protocol or t("inv.none"))
        rows.append(("snmp", snmp))
    rows.append(("poll_interval", f"{effective['poll_interval_s']:g} s"))
    if d.flow_exporter:
        rows.append(("flow_exporter", d.flow_exporter))
    if d.syslog_source:
        rows.append(("syslog_source", d.syslog_source))
    for k, v in rows:
        info.add_row(t(f"inv.show.{k}"), escape(v))
    common.print_table(info)
    if links:
        lt = Table(box=box.SIMPLE_HEAD, title=t("inv.show.links", n=len(links)), title_justify="left")
        for col in ("link", "interface", "peer", "peer_interface", "speed"):
            lt.add_column(t(f"inv.col.{col}"), overflow="fold")
        for lk in links:
            mine, peer = (lk.a, lk.b) if lk.a.device == d.name else (lk.b, lk.a)
            speed = _speed(lk.speed_mbps)
            lt.add_row(*(escape(x) for x in (lk.name, mine.interface, peer.device, peer.interface, speed)))
        common.print_table(lt)


def _say(text: str) -> None:
    """One line of output (markup allowed; callers escape user data), never wrapped."""
    common.console.print(text, highlight=False, soft_wrap=True)


def _speed(mbps: int | None) -> str:
    if mbps is None:
        return ""
    return f"{mbps // 1000}G" if mbps >= 1000 and mbps % 1000 == 0 else f"{mbps}M"


# --- add / update / remove -------------------------------------------------------------------


@inventory_app.command("add")
def add_command(
    name: str = typer.Argument(..., help="device name (letters, digits, . _ -)"),
    address: str = typer.Option(..., "--address", help="management IP address"),
    role: Role = typer.Option(..., "--role"),
    site: str = typer.Option(..., "--site", help="site id"),
    profile: str = typer.Option(..., "--profile", help="SNMP profile name"),
    vendor: str = typer.Option("", "--vendor"),
    model: str = typer.Option("", "--model"),
    tag: list[str] = typer.Option([], "--tag", help="tag (repeat, or a,b,c)"),
    flow_exporter: str | None = typer.Option(None, "--flow-exporter", help="address its NetFlow comes from"),
    flow_sampling_rate: int | None = typer.Option(None, "--flow-sampling-rate"),
    syslog_source: str | None = typer.Option(None, "--syslog-source", help="address its syslog comes from"),
    poll_interval: float | None = typer.Option(
        None, "--poll-interval", help="seconds; overrides snmp.interval_s"
    ),
    snmp_port: int | None = typer.Option(None, "--snmp-port", help="overrides the profile's port"),
) -> None:
    """Add a device. Its site and profile must exist; its name and address must be new."""
    store = _store()
    data: dict[str, Any] = {
        "name": name, "address": address, "role": role, "site": site, "profile": profile,
        "vendor": vendor, "model": model, "tags": _tags(tag), "flow_exporter": flow_exporter,
        "flow_sampling_rate": flow_sampling_rate, "syslog_source": syslog_source,
        "poll_interval_s": poll_interval, "snmp_port": snmp_port,
    }
    with common.user_errors():
        device = _device_from(data, SETTABLE)
        with store.edit() as inv:
            if any(d.name == name for d in inv.devices):
                raise InventoryError(
                    f"device {name!r} already exists; change it with `nocsoc inventory update`"
                )
            inv.devices.append(device)
    d = device
    _say(t("inv.added", name=escape(d.name), address=d.address, role=d.role.value, site=escape(d.site)))


def _parse_set(values: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep:
            raise InventoryError(f"expected key=value, got {item!r}", key="--set")
        if key not in SETTABLE:
            close = difflib.get_close_matches(key, list(SETTABLE), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InventoryError(f"unknown key {key!r}{hint}; settable: {', '.join(SETTABLE)}", key="--set")
        value = value.strip()
        if key == "tags":
            out[key] = _tags([value])
        elif value == "" and key in ("vendor", "model"):
            out[key] = ""
        elif value == "":
            out[key] = None  # unset an optional field (a required one then fails validation)
        else:
            out[key] = value
    return out


@inventory_app.command("update")
def update_command(
    name: str = typer.Argument(..., help="device name"),
    sets: list[str] = typer.Option(
        ..., "--set", help="key=value (repeat). tags=a,b replaces the tags; key= unsets an optional field"
    ),
) -> None:
    """Change fields of a device. Renaming it (name=NEW) also renames it in its links."""
    store = _store()
    with common.user_errors():
        changes = _parse_set(sets)
        labels = {k: f"--set {k}" for k in SETTABLE}
        with store.edit() as inv:
            old = _find_device(inv, name)
            new = _device_from({**old.model_dump(), **changes}, labels)
            if new.name != old.name and any(d.name == new.name for d in inv.devices):
                raise InventoryError(f"device {new.name!r} already exists", key="--set name")
            idx = inv.devices.index(old)
            inv.devices[idx] = new
            if new.name != old.name:
                for lk in inv.links:
                    for end in (lk.a, lk.b):
                        if end.device == old.name:
                            end.device = new.name
            before, after = old.model_dump(mode="json"), new.model_dump(mode="json")
    diff = [f"{k}: {before[k]} -> {after[k]}" for k in after if before[k] != after[k]]
    summary = "; ".join(diff) if diff else t("inv.no_change")
    _say(t("inv.updated", name=escape(name), summary=escape(summary)))


@inventory_app.command("remove")
def remove_command(
    name: str = typer.Argument(..., help="device name"),
    yes: bool = typer.Option(False, "--yes", "-y", help="do not ask"),
) -> None:
    """Remove a device and the links to it (asks first, unless --yes)."""
    store = _store()
    inv = _load(store)
    with common.user_errors():
        _find_device(inv, name)
    links = _links_of(inv, name)
    if not yes:
        question = t("inv.confirm_remove", name=name)
        if links:
            question = t("inv.confirm_remove_links", name=name, n=len(links),
                         links=", ".join(lk.name for lk in links))
        # Asked before taking the lock: a person thinking must not block other editors.
        if not typer.confirm(question, default=False):
            common.fail(t("inv.not_removed"), common.EXIT_RUNTIME)
    with common.user_errors(), store.edit() as inv:
        device = _find_device(inv, name)
        removed = _links_of(inv, name)
        inv.devices.remove(device)
        inv.links = [lk for lk in inv.links if lk not in removed]
    if removed:
        _say(t("inv.removed_links", name=escape(name), n=len(removed),
               links=escape(", ".join(lk.name for lk in removed))))
    else:
        _say(t("inv.removed", name=escape(name)))


# --- import / export / validate ----------------------------------------------------------------


@inventory_app.command("import")
def import_command(
    file: Path = typer.Argument(..., help="CSV (devices) or YAML (any section) file"),
    dry_run: bool = typer.Option(False, "--dry-run", help="print what would change, write nothing"),
    fmt: str | None = typer.Option(None, "--format", help="csv or yaml (default: from the file suffix)"),
    as_json: bool = typer.Option(False, "--json", help="the changes as JSON"),
) -> None:
    """Add or replace items from a file: all rows valid, or nothing is written.

    CSV: one device per row; header name,address,role,site,profile and optionally vendor, model,
    tags (separated by ;), flow_exporter, flow_sampling_rate, syslog_source, poll_interval_s,
    snmp_port (the layout `export --format csv` writes). YAML: the inventory file's layout (any of
    sites, snmp_profiles, devices, links) or a bare list of devices.
    """
    from nocsoc.inventory.importexport import ImportPlan, plan_import, read_import

    store = _store()
    plan: ImportPlan
    with common.user_errors():
        src = read_import(file, fmt)
        if dry_run:
            loaded = store.read()
            if loaded.schema_problems:
                raise InventoryError(problems=loaded.schema_problems)
            plan = plan_import(loaded.inventory, src)
        else:
            with store.edit() as inv:
                plan = plan_import(inv, src)
                inv.sites, inv.snmp_profiles = plan.after.sites, plan.after.snmp_profiles
                inv.devices, inv.links = plan.after.devices, plan.after.links
    if as_json:
        common.print_json(
            {
                "dry_run": dry_run,
                "added": plan.added,
                "updated": plan.updated,
                "unchanged": plan.unchanged,
                "changes": [c.to_json() for c in plan.changes],
            }
        )
        return
    for c in plan.changes:
        kind = t(f"inv.kind.{c.section}")
        if c.action == "add":
            _say(f"[green]+[/] {kind} {escape(c.name)}")
        else:
            fields = "; ".join(f"{k}: {o} -> {n}" for k, (o, n) in c.fields.items())
            _say(f"[yellow]~[/] {kind} {escape(c.name)}: {escape(fields)}")
    _say(t("inv.import_dry" if dry_run else "inv.imported", file=file.name, added=plan.added,
           updated=plan.updated, unchanged=plan.unchanged))


@inventory_app.command("export")
def export_command(
    fmt: str = typer.Option("yaml", "--format", "-f", help="yaml, csv (devices) or json"),
    output: Path | None = typer.Option(None, "--output", "-o", help="file to write (default: stdout)"),
) -> None:
    """Write the inventory as YAML, CSV or JSON (secret references, never secrets)."""
    from nocsoc.inventory.importexport import export_inventory

    if fmt not in ("yaml", "csv", "json"):
        common.fail(f"--format: unknown format {fmt!r}; use yaml, csv or json", common.EXIT_USAGE)
    if output is not None:
        common.output_file_or_fail(output, "--output")
    inv = _load(_store())
    text = export_inventory(inv, fmt)  # type: ignore[arg-type]  # checked just above
    if output is None:
        typer.echo(text, nl=False)
    else:
        atomic_write(output, text)
        common.err_console.print(t("inv.wrote", path=escape(str(output))))


@inventory_app.command("validate")
def validate_command(
    secrets: bool = typer.Option(
        False, "--secrets", help="also resolve every secret reference (values are never printed)"
    ),
    as_json: bool = typer.Option(False, "--json", help="the problems as JSON"),
) -> None:
    """Check the inventory: every problem with file:line; exit 2 if there is any."""
    store = _store()
    with common.user_errors():
        loaded = store.read()
    problems = loaded.problems
    if secrets:
        problems = problems + secret_problems(loaded, common.config_path().resolve().parent)
    inv = loaded.inventory
    counts = {"sites": len(inv.sites), "snmp_profiles": len(inv.snmp_profiles),
              "devices": len(inv.devices), "links": len(inv.links)}
    if as_json:
        common.print_json(
            {
                "file": str(store.path),
                "ok": not problems,
                "counts": counts,
                "problems": [
                    {"file": str(p.file) if p.file else None, "line": p.line, "key": p.key,
                     "message": p.message}
                    for p in problems
                ],
            }
        )
    else:
        for p in problems:
            _say(escape(p.render()))
        if problems:
            count = t("inv.problems", path=escape(str(store.path)), n=len(problems))
            common.err_console.print(f"[bold red]{common.error_word()}[/] {count}", highlight=False,
                                     soft_wrap=True)
        else:
            _say(t("inv.valid", path=escape(str(store.path)), devices=counts["devices"],
                   sites=counts["sites"], profiles=counts["snmp_profiles"], links=counts["links"]))
    if problems:
        raise typer.Exit(common.EXIT_USAGE)


# --- init ------------------------------------------------------------------------------------------


def init_command(
    directory: Path = typer.Argument(Path("."), help="where to write nocsoc.yaml and inventory.yaml"),
    force: bool = typer.Option(False, "--force", help="overwrite existing files"),
) -> None:
    """Write a commented starter nocsoc.yaml and the sample inventory (the former Bình Phước
    backbone, now in Đồng Nai)."""
    from nocsoc.inventory.sample import init_project

    if not directory.is_file():  # a file is refused by init_project, naming it
        common.output_dir_or_fail(directory, "DIRECTORY")
    with common.user_errors():
        written = init_project(directory, force=force)
    for p in written:
        _say(t("inv.wrote", path=escape(str(p))))
    cfg = written[0]
    hint = "" if directory == Path(".") else f"--config {cfg} "
    _say(t("inv.next", command=f"nocsoc {escape(hint)}inventory list"))
