"""Compare what nocsoc polled from a recorded device with what LibreNMS found on the same recording.

The recordings and LibreNMS's values live in ../shared/snmp-walks (GPL data, never copied here;
see its README). For each walk this module reads `expected/<stem>.json` and matches, reading by
reading, LibreNMS's ports, optics (dBm sensors), temperatures, processors and memory pools with
the points nocsoc wrote:

- ports: LibreNMS's port rows (ifName, else ifDescr) against the ifname of nocsoc's interface points;
- optics: each dBm sensor against an optics point on the same interface, same direction (rx/tx),
  value within 0.5 dB. The interface LibreNMS meant is its `entPhysicalIndex` when measured on
  `ports`, else the ifIndex in the sensor's index, else the port ENTITY-MIB ties its entity to, else
  an ifName in its description; a device without IF-MIB has no interface to check (value and
  direction only);
- temperatures, processors, memory pools: as multisets of values (within 0.5 C, 1 %, 1 %): nocsoc
  names these sensors by their MIB labels, LibreNMS by its own, so names cannot be compared.

A walk's metric is "right" when at least 90% of LibreNMS's readings are matched.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from nocsoc.collectors.snmp.mibs.sensors import _port_of
from nocsoc.collectors.snmp.walkfile import WalkFile
from nocsoc.schema import Point

ROOT = Path(__file__).resolve().parents[3]


def shared_dir() -> Path:
    return Path(os.environ.get("NOCSOC_SHARED_DIR", ROOT.parent / "shared"))


def walks_dir() -> Path:
    return shared_dir() / "snmp-walks"


def stems() -> list[str]:
    return sorted(p.stem for p in (walks_dir() / "snmprec").glob("*.snmprec"))


METRICS = ("ports", "optics", "temperature", "processor", "memory")
RIGHT = 0.9


@dataclass
class Score:
    found: int = 0
    expected: int = 0
    misses: list[str] = field(default_factory=list)
    markers: int = 0  # expected readings LibreNMS took from a "no reading" marker (optics), not found

    @property
    def valid(self) -> int:
        return self.expected - self.markers

    @property
    def ratio(self) -> float:
        return self.found / self.valid if self.valid else 1.0

    @property
    def right(self) -> bool:
        return self.valid == 0 or self.ratio >= RIGHT


@dataclass
class WalkScore:
    stem: str
    vendor: str
    scores: dict[str, Score]


def _rows(data: dict, module: str, table: str) -> list[dict]:
    mod = data.get(module) or {}
    for phase in ("poller", "discovery"):
        part = mod.get(phase)
        if isinstance(part, dict) and isinstance(part.get(table), list):
            return list(part[table])
    return []


def _ports(data: dict) -> dict[int, str]:
    out = {}
    for row in _rows(data, "ports", "ports"):
        name = row.get("ifName") or row.get("ifDescr")
        if row.get("ifIndex") is not None and name:
            out[int(row["ifIndex"])] = str(name)
    return out


def _alias_ports(walk: WalkFile) -> dict[int, int]:
    """entPhysicalIndex -> ifIndex, up the containment tree, from the recording's ENTITY-MIB."""
    alias: dict[int, int] = {}
    for index, value in walk.column((1, 3, 6, 1, 2, 1, 47, 1, 3, 2, 1, 2)).items():
        if isinstance(value, str) and value.startswith("1.3.6.1.2.1.2.2.1.1."):
            alias.setdefault(index[0], int(value.rsplit(".", 1)[1]))
    parent = {
        i[0]: v for i, v in walk.column((1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 4)).items() if isinstance(v, int)
    }
    out: dict[int, int] = {}
    for ent in set(parent) | set(alias):
        node: int | None = ent
        for _ in range(8):
            if node is None or node == 0:
                break
            if node in alias:
                out[ent] = alias[node]
                break
            node = parent.get(node)
    return out


_RX = re.compile(r"(?<![a-z])(rx|receive[rd]?)(?![a-z])", re.I)


def no_reading(sensor: dict, walk: WalkFile) -> str | None:
    """Why a LibreNMS dBm value is no reading at all, judged on the recorded raw value, else None:
    a power of 0 W or less has no dBm (LibreNMS writes its -60 dBm floor; IOS-XR's -32768 is its
    "no value"), and HUAWEI-ENTITY-EXTENT-MIB's optical columns read -1 for a module without
    diagnostics (LibreNMS shows -0.01 dBm; the same module reads temperature -255)."""
    oid = str(sensor.get("sensor_oid") or "").lstrip(".")
    if not oid:
        return None
    raw = walk.get(tuple(int(x) for x in oid.split(".")))
    if not isinstance(raw, int):
        return None
    if sensor.get("user_func") == "mw_to_dbm" and raw <= 0:
        return f"raw power {raw} <= 0 W"
    if oid.startswith("1.3.6.1.4.1.2011.5.25.31.1.1.3.1.") and raw == -1:
        return "raw -1: module without diagnostics"
    return None


def expected_optics(data: dict, walk: WalkFile) -> list[tuple[str | None, str, float, str, str | None]]:
    """(interface name or None, rx|tx, dBm, description, no-reading reason) of each LibreNMS dBm sensor."""
    ports = _ports(data)
    alias = _alias_ports(walk)
    out = []
    for s in _rows(data, "sensors", "sensors"):
        if s.get("sensor_class") != "dbm" or s.get("sensor_current") is None:
            continue
        descr = str(s.get("sensor_descr") or "")
        direction = "rx" if _RX.search(descr) or _RX.search(str(s.get("sensor_index"))) else "tx"
        port: str | None = None
        ent = s.get("entPhysicalIndex")
        tail = re.search(r"(\d+)$", str(s.get("sensor_index") or ""))
        if ent is not None and s.get("entPhysicalIndex_measured") == "ports" and int(ent) in ports:
            port = ports[int(ent)]
        elif tail and int(tail.group(1)) in ports:
            port = ports[int(tail.group(1))]
        elif ent is not None and int(ent) in alias and alias[int(ent)] in ports:
            port = ports[alias[int(ent)]]
        elif ports:
            port = _port_of(descr, ports.values()) or None
        out.append((port, direction, float(s["sensor_current"]), descr, no_reading(s, walk)))
    return out


def _take(values: list[float], want: float, tol: float) -> bool:
    best = None
    for i, v in enumerate(values):
        if abs(v - want) <= tol and (best is None or abs(v - want) < abs(values[best] - want)):
            best = i
    if best is None:
        return False
    values.pop(best)
    return True


def _multiset(expected: Iterable[float], got: list[float], tol: float, what: str) -> Score:
    sc = Score()
    pool = list(got)
    for v in expected:
        sc.expected += 1
        if _take(pool, v, tol):
            sc.found += 1
        else:
            sc.misses.append(f"{what} {v:g}")
    return sc


def score(stem: str, points: list[Point]) -> WalkScore:
    """Every metric of one walk: LibreNMS's readings found in `points`."""
    base = walks_dir()
    data = json.loads((base / "expected" / f"{stem}.json").read_text())
    walk = WalkFile.load(base / "snmprec" / f"{stem}.snmprec")
    by = {
        m: [p for p in points if p.measurement == m]
        for m in ("interface", "optics", "sensor", "processor", "memory", "ups")
    }
    scores: dict[str, Score] = {}

    names = {str(p.tags.get("ifname", "")) for p in by["interface"]}
    sc = Score()
    for ifindex, name in sorted(_ports(data).items()):
        sc.expected += 1
        if name in names or any(n.startswith(name + " #") for n in names):
            sc.found += 1
        else:
            sc.misses.append(f"port {ifindex} {name!r}")
    scores["ports"] = sc

    sc = Score()
    optics: dict[tuple[str | None, str], list[float]] = {}
    for p in by["optics"]:
        for d in ("rx", "tx"):
            v = p.fields.get(f"{d}_dbm")
            if isinstance(v, float):
                optics.setdefault((p.tags.get("ifname"), d), []).append(v)
                optics.setdefault((None, d), []).append(v)
    for port, direction, value, descr, marker in expected_optics(data, walk):
        sc.expected += 1
        if _take(optics.get((port, direction), []), value, 0.5):
            sc.found += 1
        elif marker:
            sc.markers += 1
            sc.misses.append(
                f"optics {direction} {value:g} dBm on {port or '-'} ({descr}): no reading, {marker}"
            )
        else:
            sc.misses.append(f"optics {direction} {value:g} dBm on {port or '-'} ({descr})")
    scores["optics"] = sc

    temps = [float(p.fields["value"]) for p in by["sensor"] if p.tags.get("kind") == "celsius"]
    temps += [float(p.fields["temperature_c"]) for p in by["optics"] if "temperature_c" in p.fields]
    temps += [
        float(p.fields["battery_temperature_c"]) for p in by["ups"] if "battery_temperature_c" in p.fields
    ]
    scores["temperature"] = _multiset(
        (
            float(s["sensor_current"])
            for s in _rows(data, "sensors", "sensors")
            if s.get("sensor_class") == "temperature" and s.get("sensor_current") is not None
        ),
        temps,
        0.5,
        "temperature",
    )
    scores["processor"] = _multiset(
        (
            float(p["processor_usage"])
            for p in _rows(data, "processors", "processors")
            if p.get("processor_usage") is not None
        ),
        [float(p.fields["load_pct"]) for p in by["processor"]],
        1.0,
        "cpu",
    )
    scores["memory"] = _multiset(
        (
            float(m["mempool_perc"])
            for m in _rows(data, "mempools", "mempools")
            if m.get("mempool_class") == "system" and m.get("mempool_perc") is not None
        ),
        [float(p.fields["used_pct"]) for p in by["memory"]],
        1.0,
        "memory %",
    )
    return WalkScore(stem, vendor_of(stem), scores)


def vendor_of(stem: str) -> str:
    for line in (walks_dir() / "index.tsv").read_text().splitlines()[1:]:
        cols = line.split("\t")
        if cols and cols[0] == stem:
            return cols[1]
    return "?"


def coverage_markdown(results: list[WalkScore]) -> str:
    """The vendor x metric table (found/expected) and the per-walk detail, for docs/snmp-coverage.md."""
    lines = [
        "# SNMP coverage on real devices",
        "",
        "Generated by `tests/collectors/snmp/test_real_walks.py` (do not edit): each recording in",
        "`../shared/snmp-walks/` served by snmpsim, polled by nocsoc, and compared with what LibreNMS",
        "found on the same recording (found/expected readings; see `tests/collectors/snmp/walkcheck.py`",
        "for how readings are matched). Optics: same interface, same direction, within 0.5 dB.",
        "",
        "| vendor | walks | " + " | ".join(METRICS) + " |",
        "| --- | --- | " + " | ".join("---" for _ in METRICS) + " |",
    ]
    vendors: dict[str, list[WalkScore]] = {}
    for r in results:
        vendors.setdefault(r.vendor, []).append(r)
    total = {m: [0, 0] for m in METRICS}
    for vendor, rs in sorted(vendors.items()):
        cells = []
        for m in METRICS:
            f = sum(r.scores[m].found for r in rs)
            e = sum(r.scores[m].expected for r in rs)
            total[m][0] += f
            total[m][1] += e
            cells.append(f"{f}/{e}" if e else "-")
        lines.append(f"| {vendor} | {len(rs)} | " + " | ".join(cells) + " |")
    lines.append(
        f"| **all** | {len(results)} | "
        + " | ".join(f"**{f}/{e}**" if e else "-" for f, e in total.values())
        + " |"
    )
    markers = sum(r.scores["optics"].markers for r in results)
    lines += [
        "",
        f"Optics: {total['optics'][0]}/{total['optics'][1]} of LibreNMS's dBm readings; {markers} of them "
        'are LibreNMS\'s value for a "no reading" marker in the recording (a power of 0 W or less, shown as '
        "-60 dBm; HUAWEI-ENTITY-EXTENT-MIB's -1 for a module without diagnostics, shown as -0.01 dBm), for "
        f"which nocsoc writes no dBm: {total['optics'][0]}/{total['optics'][1] - markers} of the real "
        "readings.",
    ]
    lines += [
        "",
        "Walks whose metric is right (>= 90% of LibreNMS's readings matched), of the walks that have it:",
        "",
    ]
    for m in METRICS:
        have = [r for r in results if r.scores[m].expected]
        right = [r for r in have if r.scores[m].right]
        lines.append(f"- {m}: {len(right)}/{len(have)}")
    lines += [
        "",
        "## Per walk",
        "",
        "| walk | " + " | ".join(METRICS) + " |",
        "| --- | " + " | ".join("---" for _ in METRICS) + " |",
    ]
    for r in sorted(results, key=lambda r: r.stem):
        lines.append(
            f"| {r.stem} | "
            + " | ".join(
                (f"{r.scores[m].found}/{r.scores[m].expected}" + ("" if r.scores[m].right else " ✗"))
                if r.scores[m].expected
                else "-"
                for m in METRICS
            )
            + " |"
        )
    return "\n".join(lines) + "\n"
