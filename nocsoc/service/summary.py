"""What the backbone looks like now, read back from what nocsoc stored: the demo's closing
report and the `nocsoc top` live view.

It reads the embedded SQLite sink (any process may read while `nocsoc run` writes) and the
alert store, so it shows what was really collected, not what the simulator meant to send.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Group
from rich.table import Table

from nocsoc.detections.alerts.store import AlertStore
from nocsoc.schema import DEVICE, DEVICE_EVENT, FLOW_TOP, INTERFACE, INTERFACE_EVENT, OPTICS
from nocsoc.sinks.sqlite import SqliteReader

LEVELS = ("critical", "high", "medium", "low", "informational")


@dataclass
class LinkLoad:
    device: str
    ifname: str
    link: str
    in_bps: float
    out_bps: float
    util_pct: float


@dataclass
class Talker:
    kind: str
    key: str
    bytes: int


@dataclass
class AlertLine:
    level: str
    rule_title: str
    alerts: int
    events: int
    sources: list[str]


@dataclass
class Summary:
    links: list[LinkLoad] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)
    reboots: list[str] = field(default_factory=list)
    link_events: list[str] = field(default_factory=list)
    weak_optics: list[str] = field(default_factory=list)
    talkers: list[Talker] = field(default_factory=list)
    alerts: list[AlertLine] = field(default_factory=list)
    alerts_by_level: dict[str, int] = field(default_factory=dict)
    points: int = 0


def read_summary(db_path: Path, alerts_db: Path | None, since_ns: int | None = None,
                 top: int = 10, names: Mapping[str, str] | None = None,
                 optics_min_dbm: float = -25.0) -> Summary:
    """Summarise the sqlite sink at `db_path` (and the alert store) since `since_ns`.

    `names` maps addresses to inventory device names, so a talker reads as a server's name."""
    s = Summary()
    if db_path.exists():
        reader = SqliteReader(db_path)
        s.points = sum(m.values for m in reader.summary())
        latest: dict[tuple[str, str], LinkLoad] = {}
        for row in reader.query(INTERFACE.name, [INTERFACE.f("in_bps"), INTERFACE.f("out_bps"),
                                                 INTERFACE.f("in_util_pct"), INTERFACE.f("out_util_pct")],
                                since_ns=since_ns):
            f = row.fields
            if "in_bps" not in f:
                continue  # the first poll of a counter has no rate yet
            key = (row.tags.get("device", ""), row.tags.get("ifname", ""))
            latest[key] = LinkLoad(key[0], key[1], row.tags.get("link", ""), float(f["in_bps"]),
                                   float(f.get("out_bps", 0.0)),
                                   max(float(f.get("in_util_pct", 0.0)), float(f.get("out_util_pct", 0.0))))
        backbone = [ll for ll in latest.values() if ll.link] or list(latest.values())
        s.links = sorted(backbone, key=lambda ll: -ll.util_pct)[:top]
        reach: dict[str, bool] = {}
        for row in reader.query(DEVICE.name, [DEVICE.f("reachable")], since_ns=since_ns):
            reach[row.tags.get("device", "")] = bool(row.fields.get("reachable", 1))
        s.unreachable = sorted(d for d, ok in reach.items() if not ok)
        for row in reader.query(DEVICE_EVENT.name, [DEVICE_EVENT.f("message")], since_ns=since_ns):
            if row.tags.get("event") == "device_reboot":
                s.reboots.append(row.tags.get("device", ""))
        for row in reader.query(INTERFACE_EVENT.name, [INTERFACE_EVENT.f("message")], since_ns=since_ns):
            s.link_events.append(f"{row.tags.get('device', '')} {row.tags.get('ifname', '')} "
                                 f"{row.tags.get('event', '')}")
        rx: dict[tuple[str, str], float] = {}
        for row in reader.query(OPTICS.name, [OPTICS.f("rx_dbm")], since_ns=since_ns):
            if "rx_dbm" in row.fields:
                rx[(row.tags.get("device", ""), row.tags.get("ifname", row.tags.get("sensor", "")))] = float(
                    row.fields["rx_dbm"])
        s.weak_optics = [f"{d} {i} ({v:.1f} dBm)" for (d, i), v in sorted(rx.items()) if v < optics_min_dbm]
        volume: Counter[tuple[str, str]] = Counter()
        for row in reader.query(FLOW_TOP.name, [FLOW_TOP.f("bytes")], since_ns=since_ns):
            talker = row.tags.get("key", "")
            if talker and talker != "other":
                volume[(row.tags.get("kind", ""), talker)] += int(row.fields.get("bytes", 0))
        for kind in ("dst", "src", "service"):
            ranked = sorted(((k, b) for (kd, k), b in volume.items() if kd == kind), key=lambda kb: -kb[1])
            s.talkers += [Talker(kind, f"{names[k]} ({k})" if names and k in names else k, b)
                          for k, b in ranked[:5]]
    if alerts_db is not None and alerts_db.exists():
        with AlertStore(alerts_db) as store:
            alerts = store.list_alerts(since=since_ns / 1e9 if since_ns else None, limit=100_000)
        grouped: dict[tuple[str, str], list] = defaultdict(list)
        for a in alerts:
            grouped[(a.level, a.rule_title)].append(a)
        s.alerts_by_level = dict(Counter(a.level for a in alerts))
        s.alerts = sorted(
            (AlertLine(level, title, len(items), sum(a.count for a in items),
                       sorted({a.src_ip or a.host for a in items if a.src_ip or a.host}))
             for (level, title), items in grouped.items()),
            key=lambda al: (LEVELS.index(al.level) if al.level in LEVELS else 9, -al.events),
        )
    return s


def _bps(v: float) -> str:
    for unit, scale in (("Gbit/s", 1e9), ("Mbit/s", 1e6), ("kbit/s", 1e3)):
        if v >= scale:
            return f"{v / scale:.2f} {unit}"
    return f"{v:.0f} bit/s"


def _bytes(v: float) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if v >= scale:
            return f"{v / scale:.1f} {unit}"
    return f"{v:.0f} B"


def render_summary(s: Summary) -> Group:
    """Rich tables a person would rather look at than read."""
    links = Table(title="Backbone links by utilization", title_justify="left")
    for col in ("device", "interface", "link", "in", "out", "util %"):
        links.add_column(col, justify="right" if col in ("in", "out", "util %") else "left")
    for ll in s.links:
        style = "red" if ll.util_pct >= 80 else "yellow" if ll.util_pct >= 50 else ""
        links.add_row(ll.device, ll.ifname, ll.link or "-", _bps(ll.in_bps), _bps(ll.out_bps),
                      f"{ll.util_pct:.1f}", style=style)
    health = Table(title="Devices and links", title_justify="left")
    health.add_column("what")
    health.add_column("devices / interfaces")
    health.add_row("unreachable", ", ".join(s.unreachable) or "none")
    health.add_row("rebooted", ", ".join(sorted(set(s.reboots))) or "none")
    flaps = ", ".join(s.link_events[:8]) + (" ..." if len(s.link_events) > 8 else "")
    health.add_row("link up/down events", flaps or "none")
    health.add_row("optics below threshold (rx)", ", ".join(s.weak_optics) or "none")
    talkers = Table(title="Top talkers (flows)", title_justify="left")
    for col in ("kind", "key", "bytes"):
        talkers.add_column(col, justify="right" if col == "bytes" else "left")
    for t in s.talkers:
        talkers.add_row(t.kind, t.key, _bytes(t.bytes))
    alerts = Table(title="Alerts by level: " + ", ".join(
        f"{lv} {s.alerts_by_level[lv]}" for lv in LEVELS if lv in s.alerts_by_level) or "Alerts",
        title_justify="left")
    for col in ("level", "rule", "alerts", "events", "sources"):
        alerts.add_column(col, justify="right" if col in ("alerts", "events") else "left")
    for a in s.alerts:
        style = {"critical": "bold red", "high": "red", "medium": "yellow"}.get(a.level, "")
        alerts.add_row(a.level, a.rule_title, str(a.alerts), str(a.events), ", ".join(a.sources[:3]),
                       style=style)
    return Group(links, health, talkers, alerts)


@dataclass
class AttackCheck:
    kind: str
    source: str
    target: str
    emitted: int
    rules: list[str]


def check_attacks(manifest: dict, alerts_db: Path, since: float | None = None) -> list[AttackCheck]:
    """Each attack the simulator injected, with the alerts nocsoc raised from its source address;
    with `since` (wall clock), only alerts created or updated since then: an alert store kept
    from earlier demo runs must not vouch for this run's detections."""
    by_source: dict[str, list[str]] = defaultdict(list)
    if alerts_db.exists():
        with AlertStore(alerts_db) as store:
            for a in store.list_alerts(limit=100_000):
                if a.src_ip and (since is None or a.updated_at >= since):
                    by_source[a.src_ip].append(a.rule_title)
    return [AttackCheck(a.get("kind", ""), a.get("source", ""), a.get("target", ""), int(a.get("emitted", 0)),
                        sorted(set(by_source.get(a.get("source", ""), []))))
            for a in manifest.get("attacks", [])]


def render_attack_checks(checks: list[AttackCheck]) -> Table:
    table = Table(title="Injected attacks and the alerts they raised", title_justify="left")
    for col in ("attack", "source", "target", "lines", "alerts raised"):
        table.add_column(col, justify="right" if col == "lines" else "left")
    for c in checks:
        table.add_row(c.kind, c.source, c.target, str(c.emitted),
                      "\n".join(c.rules) if c.rules else "[red]none[/]")
    return table
