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

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from nocsoc.dashboards.config import DashboardsConfig
from nocsoc.detections.alerts.store import AlertStore
from nocsoc.messages import text
from nocsoc.schema import DEVICE, DEVICE_EVENT, FLOW_TOP, INTERFACE, INTERFACE_EVENT, OPTICS
from nocsoc.sinks.sqlite import SqliteReader

LEVELS = ("critical", "high", "medium", "low", "informational")
DEFAULTS = DashboardsConfig()  # the thresholds' defaults; callers pass nocsoc.yaml's


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
    recovered: list[str] = field(default_factory=list)  # unreachable in the window, answering now
    reboots: list[str] = field(default_factory=list)
    link_events: list[str] = field(default_factory=list)
    weak_optics: list[str] = field(default_factory=list)
    talkers: list[Talker] = field(default_factory=list)
    alerts: list[AlertLine] = field(default_factory=list)
    alerts_by_level: dict[str, int] = field(default_factory=dict)
    points: int = 0
    # what the window holds at all: an empty list means "none" only when its source reported
    devices_polled: int = 0  # devices with a `reachable` value in the window
    flow_rows: int = 0  # flow_top rows in the window
    alerts_store: bool = False  # the alert store exists


def read_summary(db_path: Path, alerts_db: Path | None, since_ns: int | None = None,
                 top: int = 10, names: Mapping[str, str] | None = None,
                 optics_min_dbm: float = DEFAULTS.optics_rx_min_dbm) -> Summary:
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
        s.devices_polled = len(reach)
        went_down: set[str] = set()
        for row in reader.query(DEVICE_EVENT.name, [DEVICE_EVENT.f("message")], since_ns=since_ns):
            if row.tags.get("event") == "device_reboot":
                s.reboots.append(row.tags.get("device", ""))
            elif row.tags.get("event") == "unreachable":
                went_down.add(row.tags.get("device", ""))
        # not a false all-clear either: a device that was unreachable (e.g. polled before its
        # agent answered at start-up) and answers now is shown as such, not as never down
        s.recovered = sorted(d for d in went_down if reach.get(d))
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
            s.flow_rows += 1
            talker = row.tags.get("key", "")
            if talker and talker != "other":
                volume[(row.tags.get("kind", ""), talker)] += int(row.fields.get("bytes", 0))
        for kind in ("dst", "src", "service"):
            ranked = sorted(((k, b) for (kd, k), b in volume.items() if kd == kind), key=lambda kb: -kb[1])
            s.talkers += [Talker(kind, f"{names[k]} ({k})" if names and k in names else k, b)
                          for k, b in ranked[:5]]
    if alerts_db is not None and alerts_db.exists():
        s.alerts_store = True
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


def _bps_short(v: float) -> str:
    """Bits per second in at most 7 characters (80-column layout): 3.13G, 929.7M, 12.0k."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if v >= scale:
            return f"{v / scale:.3g}{unit}" if v / scale < 100 else f"{v / scale:.0f}{unit}"
    return f"{v:.0f}"


def _bytes(v: float) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if v >= scale:
            return f"{v / scale:.1f} {unit}"
    return f"{v:.0f} B"


def render_summary(
    s: Summary,
    lang: str = "en",
    compact: bool = False,
    warn_pct: float = DEFAULTS.link_utilization_warn_pct,
    alarm_pct: float = DEFAULTS.link_utilization_pct,
    optics_min_dbm: float = DEFAULTS.optics_rx_min_dbm,
    width: int = 80,
) -> Group:
    """Rich tables a person would rather look at than read, in `lang`.

    An empty list reads "none" only when its source reported in the window; with nothing polled,
    no flow rollups or no alert store it reads "no data", never a false all-clear. `compact`
    fits 80x24: fewer columns and rows, borderless tables, full device and link names."""

    def t(key: str, **values: object) -> str:
        return text(lang, key, **values)

    box_style = box.SIMPLE_HEAD if compact else box.HEAVY_HEAD
    n_links, n_talkers, n_alerts = (5, 3, 3) if compact else (len(s.links), len(s.talkers), len(s.alerts))
    edge = not compact  # compact: no blank border rows (every line counts on 24)
    rate = _bps_short if compact else _bps
    links = Table(title=t("top.links.title"), title_justify="left", box=box_style, pad_edge=edge,
                  show_edge=edge)
    cols: tuple[str, ...] = ("link", "device", "in", "out", "util")
    if not compact:
        cols = ("device", "interface", "link", "in", "out", "util")
    for col in cols:
        header = t(f"top.col.{col}")
        links.add_column(header, justify="right" if col in ("in", "out", "util") else "left", no_wrap=True,
                         min_width=len(header))
    for ll in s.links[:n_links]:
        style = "red" if ll.util_pct >= alarm_pct else "yellow" if ll.util_pct >= warn_pct else ""
        cells = {"device": ll.device, "interface": ll.ifname, "link": ll.link or "-", "in": rate(ll.in_bps),
                 "out": rate(ll.out_bps), "util": f"{ll.util_pct:.1f}"}
        links.add_row(*(cells[c] for c in cols), style=style)
    links_view: Table | Text = links
    if not s.links:  # the reason once, on its own line (a table cell would cut it)
        title = t("top.links.title") + "\n"
        links_view = Text.assemble((title, "italic"), (t("top.no_data.polls"), "yellow"))
    polled = s.devices_polled > 0

    def listed(items: list[str], limit: int = 8) -> str:
        if not polled:
            return f"[yellow]{t('top.no_data' if compact else 'top.no_data.polls')}[/]"
        if not items:
            return t("top.none")
        if compact:  # one line: the count, then whole names while they fit
            return _fit(items, width - label_width - 4)
        return ", ".join(items[:limit]) + (" ..." if len(items) > limit else "")

    labels = [t("top.health.unreachable"), t("top.health.recovered"), t("top.health.rebooted"),
              t("top.health.link_events"), t("top.health.optics", dbm=f"{optics_min_dbm:g}")]
    label_width = max(map(len, labels))
    health = Table(title=t("top.health.title"), title_justify="left", box=box_style, pad_edge=edge,
                   show_edge=edge, show_header=not compact)
    health.add_column(t("top.col.what"), no_wrap=True, min_width=label_width)
    health.add_column(t("top.col.which"), overflow="fold", no_wrap=compact)
    unreachable = listed(s.unreachable)
    if polled and s.unreachable:
        unreachable = f"[red]{unreachable}[/]"
    health.add_row(t("top.health.unreachable"), unreachable)
    health.add_row(t("top.health.recovered"), listed(s.recovered))
    health.add_row(t("top.health.rebooted"), listed(sorted(set(s.reboots))))
    health.add_row(t("top.health.link_events"), listed(s.link_events, 3 if compact else 8))
    health.add_row(t("top.health.optics", dbm=f"{optics_min_dbm:g}"), listed(s.weak_optics))
    talkers = Table(title=t("top.talkers.title"), title_justify="left", box=box_style, pad_edge=edge,
                    show_edge=edge)
    for col in ("kind", "key", "bytes"):
        talkers.add_column(t(f"top.col.{col}"), justify="right" if col == "bytes" else "left",
                           overflow="fold")
    shown = [tk for tk in s.talkers if not compact or tk.kind == "dst"][:n_talkers]
    for tk in shown:
        talkers.add_row(t(f"top.kind.{tk.kind}"), tk.key, _bytes(tk.bytes))
    if not s.flow_rows:  # (compact: the half-width table says it short)
        talkers.add_row("", f"[yellow]{t('top.no_data' if compact else 'top.no_data.flows')}[/]", "")
    levels = ", ".join(f"{lv} {s.alerts_by_level[lv]}" for lv in LEVELS if lv in s.alerts_by_level)
    alerts = Table(title=t("top.alerts.title", levels=levels) if levels else t("top.alerts.title_empty"),
                   title_justify="left", box=box_style, pad_edge=edge, show_edge=edge)
    acols = ("level", "rule", "events") if compact else ("level", "rule", "alerts", "events", "sources")
    for col in acols:
        alerts.add_column(t(f"top.col.{col}"), justify="right" if col in ("alerts", "events") else "left",
                          overflow="fold")
    for a in s.alerts[:n_alerts]:
        style = {"critical": "bold red", "high": "red", "medium": "yellow"}.get(a.level, "")
        cells = {"level": a.level, "rule": a.rule_title, "alerts": str(a.alerts), "events": str(a.events),
                 "sources": ", ".join(a.sources[:3])}
        alerts.add_row(*(cells[c] for c in acols), style=style)
    if not s.alerts_store:
        alerts.add_row("", f"[yellow]{t('top.no_data.alerts')}[/]", *[""] * (len(acols) - 2))
    elif not s.alerts:
        alerts.add_row("", t("top.none"), *[""] * (len(acols) - 2))
    if compact:  # talkers and alerts side by side, half the width each
        pair = Table.grid(expand=True, padding=(0, 1))
        pair.add_column(ratio=1)
        pair.add_column(ratio=1)
        pair.add_row(talkers, alerts)
        return Group(links_view, health, pair)
    return Group(links_view, health, talkers, alerts)


def _fit(items: list[str], budget: int) -> str:
    """`N: a, b, ...`: the count, then whole names (never cut) while they fit in `budget`."""
    out = f"{len(items)}: "
    for i, item in enumerate(items):
        more = f" +{len(items) - i}"
        piece = item if i == 0 else ", " + item
        if len(out) + len(piece) + (len(more) if i < len(items) - 1 else 0) > budget and i > 0:
            return out + more
        out += piece
    return out


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


def render_attack_checks(checks: list[AttackCheck], lang: str = "en") -> Table:
    table = Table(title=text(lang, "attacks.title"), title_justify="left")
    for col in ("attack", "source", "target", "lines", "alerts"):
        table.add_column(text(lang, f"attacks.col.{col}"), justify="right" if col == "lines" else "left")
    for c in checks:
        table.add_row(c.kind, c.source, c.target, str(c.emitted),
                      "\n".join(c.rules) if c.rules else f"[red]{text(lang, 'attacks.none')}[/]")
    return table
