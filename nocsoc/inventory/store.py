"""The inventory file: read with file:line errors, written atomically under a lock.

Reading validates each site, profile, device and link on its own, so one broken item does not
hide the problems of the others: `read_inventory` returns every problem at once, with file:line.

Writing (`InventoryStore.edit`) holds an exclusive lock (filelock, a `.NAME.lock` file beside
the inventory) across read-modify-write, then writes a temp file in the same directory, fsyncs
it, renames it over the inventory and fsyncs the directory. Readers never see half a file, and
two CLI processes editing at once both get their change in: the second waits for the first and
edits its result.

The file is rewritten in a stable layout (fixed key order, defaults left out) so diffs stay
small. PyYAML keeps no comments: the comment block at the top of the file survives an edit,
comments further down do not.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from pydantic import BaseModel, ValidationError

from nocsoc.errors import InventoryError, NocsocError, Problem
from nocsoc.fileio import atomic_write
from nocsoc.inventory.model import Device, Inventory, Link, Site, SnmpProfile
from nocsoc.inventory.validate import Finding, check_inventory
from nocsoc.yamlio import (
    FlowList,
    FlowMap,
    YamlDoc,
    YamlPath,
    dump_yaml,
    key_label,
    load_yaml,
    validation_problems,
)

SECTIONS: dict[str, type[BaseModel]] = {
    "sites": Site,
    "snmp_profiles": SnmpProfile,
    "devices": Device,
    "links": Link,
}
_NAME_KEY = {"sites": "id", "snmp_profiles": "name", "devices": "name", "links": "name"}
_SINGULAR = {"sites": "site", "snmp_profiles": "profile", "devices": "device", "links": "link"}

# Written even when equal to the default: a reader should see them without knowing the defaults.
_ALWAYS_WRITTEN: dict[type[BaseModel], tuple[str, ...]] = {
    Site: ("kind",),
    SnmpProfile: ("version", "port"),
}
LOCK_TIMEOUT_S = 60.0


class InventoryLockedError(InventoryError):
    """Another process held the inventory lock for longer than the timeout."""

    exit_code = 1


@dataclass
class LoadedInventory:
    """An inventory as read from a file: the valid items, where each came from, and the problems."""

    inventory: Inventory
    doc: YamlDoc
    # model list index -> index in the file's list (differs once an invalid item was left out)
    positions: dict[str, list[int]] = field(default_factory=dict)
    schema_problems: list[Problem] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        return sorted(
            self.schema_problems + [self.locate(f) for f in self.findings],
            key=lambda p: (p.line or 0),
        )

    def file_path(self, path: YamlPath) -> YamlPath:
        """Translate a path into the model to the same item's path in the file."""
        if len(path) >= 2 and isinstance(path[1], int) and str(path[0]) in self.positions:
            return (path[0], self.positions[str(path[0])][path[1]], *path[2:])
        return path

    def locate(self, finding: Finding) -> Problem:
        message = finding.message
        if finding.related is not None:
            line = self.doc.line_of(self.file_path(finding.related))
            if line is not None:
                message += f" (first on line {line})"
        return self.doc.problem(self.file_path(finding.path), message)


def read_inventory(path: Path) -> LoadedInventory:
    """Read an inventory, collecting every problem instead of stopping at the first.

    Raises `InventoryError` only when nothing sensible can be read (missing file, YAML syntax,
    top level not a mapping); otherwise problems are in the result.
    """
    doc = load_yaml(path, InventoryError, what="inventory file")
    return _from_doc(doc)


def _from_doc(doc: YamlDoc) -> LoadedInventory:
    data = {} if doc.data is None else doc.data
    if not isinstance(data, dict):
        raise InventoryError(
            "expected a mapping with version, sites, snmp_profiles, devices, links",
            file=doc.file,
            line=doc.line_of(()),
        )
    problems: list[Problem] = []
    allowed = ("version", *SECTIONS)
    for key in data:
        if key not in allowed:
            problems.append(doc.problem((key,), f"unknown key; allowed: {', '.join(allowed)}"))
    if data.get("version", 1) != 1:
        problems.append(
            doc.problem(("version",), f"unsupported inventory version {data['version']!r}; expected 1")
        )

    sections: dict[str, list[Any]] = {}
    positions: dict[str, list[int]] = {}
    invalid_names: set[str] = set()
    for section, model in SECTIONS.items():
        items = data.get(section) or []
        sections[section], positions[section] = [], []
        if not isinstance(items, list):
            problems.append(doc.problem((section,), f"expected a list of {section}"))
            continue
        for i, raw in enumerate(items):
            try:
                sections[section].append(model.model_validate(raw))
                positions[section].append(i)
            except ValidationError as exc:
                problems += validation_problems(exc, doc, model, base=(section, i))
                if isinstance(raw, dict) and isinstance(raw.get(_NAME_KEY[section]), str):
                    invalid_names.add(raw[_NAME_KEY[section]])

    inventory = Inventory.model_construct(
        version=1,
        sites=sections["sites"],
        snmp_profiles=sections["snmp_profiles"],
        devices=sections["devices"],
        links=sections["links"],
    )
    loaded = LoadedInventory(inventory, doc, positions, problems)
    loaded.findings = check_inventory(inventory, skip=frozenset(invalid_names))
    return loaded


def secret_problems(loaded: LoadedInventory, base_dir: Path,
                    profiles: set[str] | None = None) -> list[Problem]:
    """Resolve every SNMP secret reference (of `profiles`, else of all), relative `file:` paths
    from `base_dir` as the runtime does; each failure where the reference is written. The
    values are dropped at once."""
    from nocsoc.secrets import resolve_secret

    out: list[Problem] = []
    for i, p in enumerate(loaded.inventory.snmp_profiles):
        if profiles is not None and p.name not in profiles:
            continue
        for key in ("community", "auth_password", "priv_password"):
            ref = getattr(p, key)
            if not ref:
                continue
            try:
                resolve_secret(ref, base_dir=base_dir, what=key)
            except NocsocError as exc:
                file_path = loaded.file_path(("snmp_profiles", i, key))
                out.append(loaded.doc.problem(file_path, exc.first.render()))
    return out


def load_inventory(path: Path) -> Inventory:
    """The inventory at `path`, fully valid, or `InventoryError` listing every problem (file:line)."""
    loaded = read_inventory(path)
    if loaded.problems:
        raise InventoryError(problems=loaded.problems)
    return loaded.inventory


# --- writing -------------------------------------------------------------------------------------


def inventory_to_data(inv: Inventory) -> dict[str, Any]:
    """The inventory as plain data in the stable on-disk layout (defaults left out)."""

    def item(obj: BaseModel) -> dict[str, Any]:
        data = obj.model_dump(mode="json", exclude_defaults=True)
        full = obj.model_dump(mode="json")
        keep = _ALWAYS_WRITTEN.get(type(obj), ())
        return {k: (data[k] if k in data else full[k]) for k in full if k in data or k in keep}

    links = []
    for lk in inv.links:
        d = item(lk)
        d["a"], d["b"] = FlowMap(d["a"]), FlowMap(d["b"])
        links.append(d)
    return {
        "version": inv.version,
        "sites": [{k: FlowList(v) if k == "networks" else v for k, v in item(s).items()} for s in inv.sites],
        "snmp_profiles": [item(p) for p in inv.snmp_profiles],
        "devices": [{k: FlowList(v) if k == "tags" else v for k, v in item(d).items()} for d in inv.devices],
        "links": links,
    }


# Comments the writer generates, so they survive every CLI edit (PyYAML drops those it reads).
SECTION_COMMENTS = {
    "sites": "Sites: devices refer to a site by its `id` (ASCII); `name` is what dashboards show.",
    "snmp_profiles": "SNMP credential profiles. Secrets are references (env:NAME, or file:PATH of mode "
    "0600), never literals.",
    "devices": "Devices, grouped by site. flow_exporter / syslog_source: the address their NetFlow and "
    "syslog come from.",
    "links": "Links between device interfaces (names as the device reports them in ifName).",
}


def dump_inventory(inv: Inventory, header: str | None = None) -> str:
    """Stable YAML text of an inventory: sections separated by a blank line, each with a short
    comment, devices headed by a `# <site name> (<id>)` comment wherever the site changes."""
    data = inventory_to_data(inv)
    site_names = {s.id: s.name for s in inv.sites}
    parts = [dump_yaml({"version": data["version"]})]
    for section in SECTIONS:
        items = data[section]
        if not items:
            parts.append(f"{section}: []\n")
            continue
        lines = [f"# {SECTION_COMMENTS[section]}\n", f"{section}:\n"]
        previous_site = None
        for obj, item in zip(getattr(inv, section), items, strict=True):
            if section == "devices" and obj.site != previous_site:
                name = site_names.get(obj.site)
                lines.append(f"  # {name} ({obj.site})\n" if name else f"  # {obj.site}\n")
                previous_site = obj.site
            # one item at a time so comments can go between items; indented as under the key
            lines.append(textwrap.indent(dump_yaml([item]), "  "))
        parts.append("".join(lines))
    body = "\n".join(parts)
    if header:
        return header.rstrip("\n") + "\n\n" + body
    return body


def leading_comments(text: str) -> str:
    """The comment block at the top of a YAML text (kept across CLI edits)."""
    out: list[str] = []
    for line in text.splitlines(keepends=True):
        if line.startswith("#") or (out and not line.strip()):
            out.append(line)
        else:
            break
    while out and not out[-1].strip():
        out.pop()
    return "".join(out)


def unlocated(inv: Inventory, finding: Finding) -> Problem:
    """A finding about an in-memory inventory (after an edit): named by item, not by line."""
    path = finding.path
    key: str
    if len(path) >= 2 and isinstance(path[1], int):
        section = str(path[0])
        items: list[Any] = getattr(inv, section)
        name = getattr(items[path[1]], _NAME_KEY[section], path[1])
        key = f"{_SINGULAR[section]} {name}" + (f": {key_label(path[2:])}" if len(path) > 2 else "")
    else:
        key = key_label(path)
    return Problem(finding.message, key=key)


class InventoryStore:
    """One inventory file. `load()` reads it; `edit()` changes it safely against other processes."""

    def __init__(self, path: Path, lock_timeout_s: float = LOCK_TIMEOUT_S) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(f".{self.path.name}.lock")
        self.lock_timeout_s = lock_timeout_s

    def load(self) -> Inventory:
        return load_inventory(self.path)

    def read(self) -> LoadedInventory:
        return read_inventory(self.path)

    @contextmanager
    def lock(self) -> Iterator[None]:
        lock = FileLock(str(self.lock_path), timeout=self.lock_timeout_s)
        try:
            lock.acquire()
        except Timeout:
            raise InventoryLockedError(
                f"inventory is locked by another process for more than {self.lock_timeout_s:g} s "
                f"(lock file {self.lock_path}); try again",
                file=self.path,
            ) from None
        try:
            yield
        finally:
            lock.release()

    @contextmanager
    def edit(self, create: bool = False) -> Iterator[Inventory]:
        """Yield the inventory under the lock; on a normal exit validate and write it atomically.

        The file must be readable item by item (otherwise rewriting it would drop the broken
        items). Cross-reference problems already in the file are tolerated; an edit that adds a
        new one is refused with `InventoryError` and nothing is written.
        """
        with self.lock():
            if create and not self.path.exists():
                original_text = ""
                loaded = _from_doc(YamlDoc(self.path, None, {(): 1}))
            else:
                original_text = self.path.read_text(encoding="utf-8") if self.path.exists() else ""
                loaded = read_inventory(self.path)
            if loaded.schema_problems:
                raise InventoryError(
                    problems=[
                        Problem("fix these problems first (`nocsoc inventory validate`)", file=self.path),
                        *loaded.schema_problems,
                    ]
                )
            before = loaded.inventory
            working = before.model_copy(deep=True)
            yield working
            self._commit(before, working, loaded.findings, original_text)

    def _commit(self, before: Inventory, after: Inventory, old: list[Finding], original_text: str) -> None:
        try:
            after = Inventory.model_validate(after.model_dump())
        except ValidationError as exc:
            raise InventoryError(
                problems=[Problem(str(e["msg"]).removeprefix("Value error, "), key=key_label(e["loc"]))
                          for e in exc.errors(include_url=False)]
            ) from None
        known = {f.message for f in old}
        new = [f for f in check_inventory(after) if f.message not in known]
        if new:
            raise InventoryError(problems=[unlocated(after, f) for f in new])
        if after == before and self.path.exists():
            return
        atomic_write(self.path, dump_inventory(after, leading_comments(original_text) or None))
