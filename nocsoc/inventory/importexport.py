"""Bulk import (CSV or YAML) and export (YAML, CSV, JSON) of the inventory.

Import is all or nothing: every row is checked first (each on its own with the model, then all
together against the inventory for duplicates and unknown sites/profiles), every invalid row is
reported at once with its row number, and nothing is written unless all rows are valid. Rows
are upserts keyed by name (site id for sites): a new name is added, a known one replaced.

CSV carries devices only (one row per device, the columns of `DEVICE_COLUMNS`, tags separated
by `;`); YAML may carry any section, in the inventory file's own layout, or a bare list of
devices. Exported CSV imports back unchanged.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from nocsoc.errors import InventoryError, Problem
from nocsoc.inventory.model import Device, Inventory
from nocsoc.inventory.store import SECTIONS, dump_inventory, unlocated
from nocsoc.inventory.validate import check_inventory
from nocsoc.yamlio import YamlDoc, YamlPath, key_label, load_yaml, validation_problems

DEVICE_COLUMNS = (
    "name", "address", "role", "site", "profile", "vendor", "model", "tags",
    "flow_exporter", "flow_sampling_rate", "syslog_source", "poll_interval_s", "snmp_port",
)
REQUIRED_COLUMNS = ("name", "address", "role", "site", "profile")
TAG_SEPARATOR = ";"
_KEY = {"sites": "id", "snmp_profiles": "name", "devices": "name", "links": "name"}
_SINGULAR = {"sites": "site", "snmp_profiles": "profile", "devices": "device", "links": "link"}

ExportFormat = Literal["yaml", "csv", "json"]


@dataclass
class Row:
    """One valid item read from an import file, with where it came from."""

    section: str
    item: BaseModel
    file: Path
    line: int | None
    label: str  # `row 4` (CSV) or `devices[3]` (YAML)
    doc: YamlDoc | None = None  # YAML: where each field of the item is, and the item's index there
    index: int = 0

    def locate(self, rest: YamlPath) -> tuple[int | None, str]:
        """Line and key label of a field of this item."""
        label = key_label(rest)
        if self.doc is None:  # CSV: the row's line; the key names row and column
            return self.line, f"{self.label}, {label}" if label else self.label
        path = (self.section, self.index, *rest)
        return self.doc.line_of(path), key_label(path)

    @property
    def name(self) -> str:
        return str(getattr(self.item, _KEY[self.section]))


@dataclass
class ImportSource:
    file: Path
    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Change:
    action: Literal["add", "update"]
    section: str
    name: str
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field -> (old, new)

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "kind": _SINGULAR[self.section],
            "name": self.name,
            "fields": {k: {"old": o, "new": n} for k, (o, n) in self.fields.items()},
        }


@dataclass
class ImportPlan:
    before: Inventory
    after: Inventory
    changes: list[Change]
    unchanged: int

    @property
    def added(self) -> int:
        return sum(c.action == "add" for c in self.changes)

    @property
    def updated(self) -> int:
        return sum(c.action == "update" for c in self.changes)


# --- reading import files ----------------------------------------------------------------------


def read_import(path: Path, fmt: str | None = None) -> ImportSource:
    """Parse and model-check an import file (format from `fmt`, else from its suffix)."""
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt == "csv":
        return _read_csv(path)
    if fmt in ("yaml", "yml"):
        return _read_yaml(path)
    raise InventoryError(
        f"unknown import format {fmt!r}: use a .csv, .yaml or .yml file or --format", file=path
    )


def _read_csv(path: Path) -> ImportSource:
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: spreadsheets often write a BOM
    except FileNotFoundError:
        raise InventoryError("import file not found", file=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InventoryError(f"cannot read import file: {exc}", file=path) from None
    src = ImportSource(path)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        raise InventoryError(
            "empty CSV file: expected a header row with " + ", ".join(DEVICE_COLUMNS), file=path
        )
    reader.fieldnames = header
    unknown = [h for h in header if h not in DEVICE_COLUMNS]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if unknown or missing:
        if unknown:
            src.problems.append(Problem(f"unknown column(s) {', '.join(unknown)}; allowed: "
                                        f"{', '.join(DEVICE_COLUMNS)}", path, 1, "header"))
        if missing:
            src.problems.append(Problem(f"missing column(s) {', '.join(missing)}", path, 1, "header"))
        return src
    start = 2
    for record in reader:
        line = start
        start = reader.line_num + 1
        if None in record:  # more cells than header columns
            src.problems.append(Problem(f"{len(header) + len(record[None])} cells, header has {len(header)}",
                                        path, line, f"row {line}"))
            continue
        if all(not (v or "").strip() for v in record.values()):
            continue  # blank line
        data: dict[str, Any] = {}
        for col, value in record.items():
            value = (value or "").strip()
            if col == "tags":
                data["tags"] = [t.strip() for t in value.split(TAG_SEPARATOR) if t.strip()]
            elif value:
                data[col] = value
        try:
            device = Device.model_validate(data)
        except ValidationError as exc:
            doc = YamlDoc(path, data, {(): line})
            for p in validation_problems(exc, doc, Device):
                key = f"row {line}, {p.key}" if p.key else f"row {line}"
                src.problems.append(Problem(p.message, path, line, key))
            continue
        src.rows.append(Row("devices", device, path, line, f"row {line}"))
    return src


def _read_yaml(path: Path) -> ImportSource:
    doc = load_yaml(path, InventoryError, what="import file")
    data: Any = doc.data
    src = ImportSource(path)
    if data is None:
        return src
    if isinstance(data, list):  # a bare list of devices
        data = {"devices": data}
        doc = YamlDoc(doc.file, data, {("devices", *k): v for k, v in doc.lines.items()})
    if not isinstance(data, dict):
        raise InventoryError("expected a mapping of sections or a list of devices", file=path, line=1)
    for key in data:
        if key != "version" and key not in SECTIONS:
            src.problems.append(doc.problem((key,), f"unknown key; allowed: version, {', '.join(SECTIONS)}"))
    for section, model in SECTIONS.items():
        items = data.get(section) or []
        if not isinstance(items, list):
            src.problems.append(doc.problem((section,), f"expected a list of {section}"))
            continue
        for i, raw in enumerate(items):
            try:
                item = model.model_validate(raw)
            except ValidationError as exc:
                src.problems += validation_problems(exc, doc, model, base=(section, i))
                continue
            line = doc.line_of((section, i))
            src.rows.append(Row(section, item, path, line, key_label((section, i)), doc, i))
    return src


# --- planning and applying -----------------------------------------------------------------------


def plan_import(current: Inventory, src: ImportSource) -> ImportPlan:
    """Merge `src` into a copy of `current`; raise `InventoryError` listing every bad row.

    Problems that were already in the inventory before the import are not blamed on it.
    """
    problems = list(src.problems)
    after = current.model_copy(deep=True)
    origin: dict[tuple[str, int], Row] = {}
    seen: dict[tuple[str, str], Row] = {}
    changes: list[Change] = []
    unchanged = 0
    for row in src.rows:
        if (row.section, row.name) in seen:
            first = seen[(row.section, row.name)]
            problems.append(Problem(f"{_SINGULAR[row.section]} {row.name!r} appears twice in this import "
                                    f"(first at {first.label})", row.file, row.line, row.label))
            continue
        seen[(row.section, row.name)] = row
        items: list[Any] = getattr(after, row.section)
        index = next((i for i, it in enumerate(items) if getattr(it, _KEY[row.section]) == row.name), None)
        if index is None:
            items.append(row.item)
            origin[(row.section, len(items) - 1)] = row
            changes.append(Change("add", row.section, row.name))
            continue
        old = items[index].model_dump(mode="json")
        new = row.item.model_dump(mode="json")
        diff = {k: (old.get(k), new.get(k)) for k in new if old.get(k) != new.get(k)}
        items[index] = row.item
        origin[(row.section, index)] = row
        if diff:
            changes.append(Change("update", row.section, row.name, diff))
        else:
            unchanged += 1

    known = {f.message for f in check_inventory(current)}
    for finding in check_inventory(after):
        if finding.message in known:
            continue
        path = finding.path
        found = origin.get((str(path[0]), path[1])) if len(path) > 1 and isinstance(path[1], int) else None
        if found is not None:
            line, key = found.locate(path[2:])
            problems.append(Problem(finding.message, found.file, line, key))
        else:
            problems.append(unlocated(after, finding))
    if problems:
        problems.sort(key=lambda p: (str(p.file), p.line or 0))
        raise InventoryError(problems=[
            Problem(f"{len(problems)} problem(s); nothing imported", src.file),
            *problems,
        ])
    return ImportPlan(current, Inventory.model_validate(after.model_dump()), changes, unchanged)


# --- export --------------------------------------------------------------------------------------


def device_row(d: Device) -> dict[str, str]:
    data = d.model_dump(mode="json")
    row = {}
    for col in DEVICE_COLUMNS:
        value = data.get(col)
        if col == "tags":
            row[col] = TAG_SEPARATOR.join(value or [])
        elif value is None:
            row[col] = ""
        elif isinstance(value, float) and value.is_integer():
            row[col] = str(int(value))
        else:
            row[col] = str(value)
    return row


def export_inventory(inv: Inventory, fmt: ExportFormat) -> str:
    """The inventory as text: `yaml` (the file layout), `json` (the model) or `csv` (devices)."""
    if fmt == "yaml":
        return dump_inventory(inv)
    if fmt == "json":
        return json.dumps(inv.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        out = io.StringIO(newline="")
        writer = csv.DictWriter(out, fieldnames=list(DEVICE_COLUMNS), lineterminator="\n")
        writer.writeheader()
        for d in inv.devices:
            writer.writerow(device_row(d))
        return out.getvalue()
    raise InventoryError(f"unknown export format {fmt!r}; use yaml, csv or json")
