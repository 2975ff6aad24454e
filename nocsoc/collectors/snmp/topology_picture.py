"""The backbone as a picture a person can read: sites where they are, the ring on top.

`dot` draws the inventory as a ranked hierarchy (a 15,000-px staircase for a ring of eleven
sites). Here Graphviz only removes overlaps and draws: sites are placed at their coordinates
(`lat`/`lon`, else on a circle in ring order), each site is a box labelled with its display name
holding its devices in a small grid (routers first), and `neato` moves overlapping boxes apart
(`overlap=prism`, which keeps the map's shape) before everything is drawn with fixed positions
(`neato -n2`). Backbone links (both ends core or distribution) are thick and labelled with their
name, the utilization of each direction and their state from the sink; other links are thin and
unlabelled. With an LLDP scan, each link also says whether LLDP confirms it, misses it, or found
a link the inventory lacks (drawn dashed).
"""

from __future__ import annotations

import html
import math
import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from nocsoc.inventory.model import Inventory, Link
from nocsoc.schema import INTERFACE
from nocsoc.sinks.sqlite import SqliteReader

BACKBONE_ROLES = frozenset({"core", "distribution"})
ROLE_ORDER = ("core", "distribution", "firewall", "access", "server", "ups")
SHAPES = {  # Graphviz node shape by device role (also the plain DOT of topology.graph_dot)
    "core": "doubleoctagon",
    "distribution": "octagon",
    "access": "box",
    "firewall": "hexagon",
    "server": "component",
    "ups": "cylinder",
}
PT_PER_DEGREE = 1100.0  # map scale before overlap removal
CELL_W, CELL_H, PAD = 150.0, 46.0, 22.0  # a device's cell in a site box, points
COLUMNS = 3
Lldp = Literal["confirmed", "missing", "unexpected"]
FORMATS = ("svg", "png")
STROKES = {"solid": "━━━", "dashed": "╍╍╍", "dotted": "┈┈┈"}


class PictureError(RuntimeError):
    """Graphviz missing or failing: one line naming the command."""


@dataclass(frozen=True)
class EndState:
    out_util_pct: float | None
    oper_status: int | None


@dataclass(frozen=True)
class LinkState:
    """The last polled state of both ends of a link (None: nothing polled yet)."""

    a: EndState | None
    b: EndState | None

    @property
    def state(self) -> Literal["up", "down", "no data"]:
        opers = [e.oper_status for e in (self.a, self.b) if e is not None and e.oper_status is not None]
        if not opers:
            return "no data"
        return "up" if all(o == 1 for o in opers) else "down"

    @property
    def peak_util(self) -> float | None:
        utils = [e.out_util_pct for e in (self.a, self.b) if e is not None and e.out_util_pct is not None]
        return max(utils) if utils else None


@dataclass(frozen=True)
class Thresholds:
    warn_pct: float
    alarm_pct: float


def read_link_states(
    db_path: Path, inventory: Inventory, since_ns: int | None = None
) -> dict[str, LinkState]:
    """Per inventory link, the latest out-utilization and ifOperStatus of each end in the sqlite
    sink (what `nocsoc run` stored), by the interface points' `device` and `ifname` tags."""
    latest: dict[tuple[str, str], dict[str, float]] = {}
    if db_path.exists():
        fields = [INTERFACE.f("out_util_pct"), INTERFACE.f("oper_status")]
        for row in SqliteReader(db_path).query(INTERFACE.name, fields, since_ns=since_ns):
            key = (row.tags.get("device", ""), row.tags.get("ifname", ""))
            latest.setdefault(key, {}).update({k: float(v) for k, v in row.fields.items()})

    def end(device: str, ifname: str) -> EndState | None:
        got = latest.get((device, ifname))
        if got is None:
            return None
        oper = got.get("oper_status")
        return EndState(got.get("out_util_pct"), int(oper) if oper is not None else None)

    return {
        link.name: LinkState(end(link.a.device, link.a.interface), end(link.b.device, link.b.interface))
        for link in inventory.links
    }


def _ends(link: Link) -> frozenset[tuple[str, str]]:
    return frozenset({(link.a.device, link.a.interface), (link.b.device, link.b.interface)})


def lldp_marks(
    inventory: Inventory, found: Iterable[Link], scanned: Iterable[str]
) -> tuple[dict[str, Lldp], list[Link]]:
    """Each inventory link as LLDP sees it now: confirmed (both ends agree), missing (both ends
    were scanned and neither reports it), or not judged (an end was not scanned); and the links
    LLDP reports that the inventory lacks (unexpected)."""
    found = list(found)
    seen = {_ends(link) for link in found}
    ok = set(scanned)
    marks: dict[str, Lldp] = {}
    for link in inventory.links:
        if _ends(link) in seen:
            marks[link.name] = "confirmed"
        elif link.a.device in ok and link.b.device in ok:
            marks[link.name] = "missing"
    known = {_ends(link) for link in inventory.links}
    return marks, [link for link in found if _ends(link) not in known]


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _site_centres(
    inventory: Inventory, sizes: Mapping[str, tuple[float, float]]
) -> dict[str, tuple[float, float]]:
    """Site centres in points: geography, then overlaps of the site boxes removed by neato."""
    sites = [s for s in inventory.sites if s.id in sizes]
    if sites and all(s.lat is not None and s.lon is not None for s in sites):
        lat0 = math.radians(sum(s.lat or 0.0 for s in sites) / len(sites))
        geo = {
            s.id: ((s.lon or 0.0) * math.cos(lat0) * PT_PER_DEGREE, (s.lat or 0.0) * PT_PER_DEGREE)
            for s in sites
        }
    else:
        radius = 90.0 * max(len(sizes), 3)
        geo = {
            sid: (
                radius * math.cos(2 * math.pi * i / len(sizes)),
                radius * math.sin(2 * math.pi * i / len(sizes)),
            )
            for i, sid in enumerate(sizes)
        }
    # overlap_scaling=0: prism only moves what overlaps (its default first blows the map up 4x)
    lines = [
        "graph sites {",
        '  graph [overlap=prism, overlap_scaling=0, sep="+20"];',
        "  node [shape=box, fixedsize=true];",
    ]
    for sid, (x, y) in geo.items():
        w, h = sizes[sid]
        lines.append(f'  {_q(sid)} [pos="{x:.1f},{y:.1f}", width={w / 72:.3f}, height={h / 72:.3f}];')
    lines.append("}")
    plain = _graphviz(["neato", "-n", "-Tplain"], "\n".join(lines).encode()).decode()
    out: dict[str, tuple[float, float]] = {}
    for line in plain.splitlines():
        parts = _split_plain(line)
        if parts and parts[0] == "node":
            out[parts[1]] = (float(parts[2]) * 72, float(parts[3]) * 72)
    return out


def _split_plain(line: str) -> list[str]:
    """A line of Graphviz's plain format: words, quoted names kept whole."""
    return [
        m.group(1) if m.group(1) is not None else m.group(2)
        for m in re.finditer(r'"((?:\\.|[^"])*)"|(\S+)', line)
    ]


def _graphviz(cmd: list[str], data: bytes) -> bytes:
    try:
        done = subprocess.run(cmd, input=data, capture_output=True, timeout=60, check=False)
    except FileNotFoundError:
        raise PictureError(f"{cmd[0]} not found: install Graphviz (Debian: apt install graphviz)") from None
    if done.returncode != 0:
        raise PictureError(f"{' '.join(cmd)} failed: {done.stderr.decode(errors='replace').strip()[:300]}")
    return done.stdout


def _html(lines: list[str], colour: str = "#1b1b1b") -> str:
    """An HTML-like Graphviz label on a white ground, so a label stays legible over the lines."""
    rows = "".join(f'<tr><td><font color="{colour}">{html.escape(t)}</font></td></tr>' for t in lines)
    return (
        f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="1" bgcolor="white">{rows}</table>>'
    )


def _exit_t(
    p: tuple[float, float], q: tuple[float, float], centre: tuple[float, float], size: tuple[float, float]
) -> float:
    """How far along p->q (0..1) the segment leaves the box it starts in."""
    t = 1.0
    for axis in (0, 1):
        d = q[axis] - p[axis]
        if d:
            edge = centre[axis] + (size[axis] / 2 if d > 0 else -size[axis] / 2)
            t = min(t, max((edge - p[axis]) / d, 0.0))
    return t


LABEL_FONT, LABEL_LINE, CHAR_EM = 11.0, 15.0, 0.62  # a text node's font, line height, glyph width
Rect = tuple[tuple[float, float], tuple[float, float]]  # centre, (width, height)


def label_size(lines: list[str]) -> tuple[float, float]:
    """A link label's box in points, estimated on the wide side (DejaVu Sans' average glyph
    advance), so that two labels judged apart are apart on the picture."""
    return (max(len(t) for t in lines) * LABEL_FONT * CHAR_EM + 8, len(lines) * LABEL_LINE + 6)


def overlaps(a: Rect, b: Rect, gap: float = 0.0) -> bool:
    (ax, ay), (aw, ah) = a
    (bx, by), (bw, bh) = b
    return abs(ax - bx) < (aw + bw) / 2 + gap and abs(ay - by) < (ah + bh) / 2 + gap


def _area(a: Rect, b: Rect) -> float:
    (ax, ay), (aw, ah) = a
    (bx, by), (bw, bh) = b
    w = min(ax + aw / 2, bx + bw / 2) - max(ax - aw / 2, bx - bw / 2)
    h = min(ay + ah / 2, by + bh / 2) - max(ay - ah / 2, by - bh / 2)
    return max(w, 0.0) * max(h, 0.0)


def _label_point(
    a: tuple[float, float],
    b: tuple[float, float],
    t0: float,
    t1: float,
    boxes: list[Rect],
    size: tuple[float, float] = (0.0, 0.0),
    placed: list[Rect] | None = None,
    solid: list[Rect] | None = None,
) -> tuple[float, float]:
    """Where a link's label goes, on its line or just beside it (either side, along the normal):
    never over a label placed before, then never over a device or a site's name (`solid`), then
    over as little of a site box as can be (a line may cross a third site, and the stretch between
    two boxes is often shorter than the label), then nearest the middle of [t0, t1] and on the
    line. Deterministic; the chosen box is added to `placed`."""
    placed = placed if placed is not None else []
    solid = solid or []
    mid = (t0 + t1) / 2 if t0 < t1 else 0.5
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = math.hypot(dx, dy) or 1.0
    nx, ny = -dy / length, dx / length
    # how far along the normal a label box must move to clear its own line
    beside = abs(nx) * size[0] / 2 + abs(ny) * size[1] / 2 + 6
    best: tuple[tuple[float, ...], tuple[float, float]] | None = None
    for k, off in enumerate((0.0, beside, -beside)):
        for i in range(41):
            t = i / 40
            x, y = a[0] + dx * t + nx * off, a[1] + dy * t + ny * off
            box = ((x, y), size)
            score = (
                float(sum(overlaps(box, o, 6) for o in placed)),
                float(sum(overlaps(box, o, 4) for o in solid)),
                round(sum(_area(box, o) for o in boxes) / 100),
                float(k > 0),
                abs(t - mid),
            )
            if best is None or score < best[0]:
                best = (score, (x, y))
    assert best is not None
    placed.append((best[1], size))
    return best[1]


def _text_node(name: str, x: float, y: float, label: str) -> str:
    """A text drawn over the lines at a fixed place (node, not edge label: those go under them)."""
    return f'  {_q(name)} [shape=plaintext, style="", pos="{x:.1f},{y:.1f}!", label={label}];'


def _colour(util: float | None, state: str, t: Thresholds) -> str:
    if state == "down":
        return "#d62728"
    if util is None:
        return "#9e9e9e"
    return "#d62728" if util >= t.alarm_pct else "#ff8c00" if util >= t.warn_pct else "#2ca02c"


def _pct(v: float | None) -> str:
    return "?" if v is None else f"{v:.0f}%"


def picture_dot(
    inventory: Inventory,
    states: Mapping[str, LinkState],
    thresholds: Thresholds,
    words: Mapping[str, str],
    lldp: Mapping[str, Lldp] | None = None,
    unexpected: Iterable[Link] = (),
    title: str = "",
    legend: Iterable[tuple[str, str, str]] = (),
) -> str:
    """DOT with every position fixed (for `neato -n2`): site boxes, devices, links.

    `words` holds the few texts the picture prints (state and LLDP words) in the reader's language."""
    roles = {d.name: d.role.value for d in inventory.devices}
    by_site: dict[str, list[str]] = {}
    for d in sorted(inventory.devices, key=lambda d: (ROLE_ORDER.index(d.role.value), d.name)):
        by_site.setdefault(d.site, []).append(d.name)
    sizes: dict[str, tuple[float, float]] = {}
    for sid, devs in by_site.items():
        cols = min(COLUMNS, len(devs))
        rows = math.ceil(len(devs) / COLUMNS)
        sizes[sid] = (cols * CELL_W + 2 * PAD, rows * CELL_H + 2 * PAD + 24)
    names = {s.id: s.name for s in inventory.sites}
    site_of = {d.name: d.site for d in inventory.devices}
    lldp = lldp or {}
    # a backbone link inside one site (the data center's two cores) is too short to label:
    # its figures go under the site's name instead
    inside: dict[str, list[str]] = {}
    for link in inventory.links:
        a, b = link.a.device, link.b.device
        if site_of.get(a) == site_of.get(b) and {roles.get(a), roles.get(b)} <= BACKBONE_ROLES:
            st = states.get(link.name)
            a_out = st.a.out_util_pct if st and st.a else None
            b_out = st.b.out_util_pct if st and st.b else None
            state = words[st.state if st else "no data"]
            inside.setdefault(site_of[a], []).append(f"{link.name}: {_pct(a_out)} / {_pct(b_out)} {state}")
    for sid, extra in inside.items():
        w, h = sizes[sid]
        sizes[sid] = (w, h + 16 * len(extra))
    centres = _site_centres(inventory, sizes)
    lines = [
        "graph backbone {",
        f'  graph [splines=false, outputorder=edgesfirst, pad="0.4", bgcolor=white, label={_q(title)}, '
        'labelloc=t, fontsize=22, fontname="DejaVu Sans"];',
        '  node [fontname="DejaVu Sans", fontsize=11, style=filled, fillcolor=white];',
        '  edge [fontname="DejaVu Sans", fontsize=12];',
    ]
    pos: dict[str, tuple[float, float]] = {}
    placed: list[Rect] = []  # the link labels placed so far
    for sid, devs in by_site.items():
        cx, cy = centres[sid]
        w, h = sizes[sid]
        lines.append(
            f'  {_q("site:" + sid)} [shape=box, style="rounded,dashed", fillcolor="#f4f6fb", '
            'color="#7a869a", '
            f'pos="{cx:.1f},{cy:.1f}!", width={w / 72:.3f}, height={h / 72:.3f}, fixedsize=true, '
            f"label={_q(chr(10).join([names.get(sid, sid), *inside.get(sid, [])]))}, labelloc=t, "
            'fontsize=15, fontcolor="#24324a"];'
        )
        cols = min(COLUMNS, len(devs))
        for i, dev in enumerate(devs):
            r, c = divmod(i, COLUMNS)
            in_row = min(cols, len(devs) - r * COLUMNS)
            x = cx + (c - (in_row - 1) / 2) * CELL_W
            y = cy + h / 2 - PAD - 30 - 16 * len(inside.get(sid, [])) - r * CELL_H - CELL_H / 2 + 10
            pos[dev] = (x, y)
            backbone = roles[dev] in BACKBONE_ROLES
            lines.append(
                f'  {_q(dev)} [shape={SHAPES.get(roles[dev], "box")}, pos="{x:.1f},{y:.1f}!", '
                f"label={_q(dev)}, fontsize={12 if backbone else 10}, "
                f"penwidth={2 if backbone else 1}, fillcolor={_q('#e8f0ff' if backbone else 'white')}];"
            )

    # what a link label must never cover: the devices, and each site's name at the top of its box
    solid: list[Rect] = [(p, (CELL_W - 12, 30.0)) for p in pos.values()]
    for sid in by_site:
        (cx, cy), (w, h) = centres[sid], sizes[sid]
        head = [names.get(sid, sid), *inside.get(sid, [])]
        tw = max(len(t) for t in head) * 15 * CHAR_EM + 8
        solid.append(((cx, cy + h / 2 - 4 - 10 * len(head)), (tw, 20.0 * len(head))))

    def _end_name(dev: str) -> str:
        """A link end as a person says it: its site's name, the device where a site has several."""
        routers = [x for x in by_site.get(site_of[dev], []) if roles[x] in BACKBONE_ROLES]
        return dev if len(routers) > 1 else names.get(site_of[dev], dev)

    for link in inventory.links:
        a, b = link.a.device, link.b.device
        if a not in pos or b not in pos:
            continue
        st = states.get(link.name)
        state = st.state if st else "no data"
        mark = lldp.get(link.name)
        if roles.get(a) in BACKBONE_ROLES and roles.get(b) in BACKBONE_ROLES:
            a_out = st.a.out_util_pct if st and st.a else None
            b_out = st.b.out_util_pct if st and st.b else None
            peak = st.peak_util if st else None
            na, nb = _end_name(a), _end_name(b)
            status = words[state] + (f" · LLDP {words[mark]}" if mark else "")
            style = "dotted" if mark == "missing" else "dashed" if state == "down" else "solid"
            lines.append(
                f"  {_q(a)} -- {_q(b)} [penwidth=5, style={style}, "
                f"color={_q(_colour(peak, state, thresholds))}];"
            )
            if site_of[a] != site_of[b]:
                # the label sits halfway along the stretch of line between the two site boxes,
                # as a text node drawn over the lines (an edge label would sit under them)
                sa, sb = site_of[a], site_of[b]
                t0 = _exit_t(pos[a], pos[b], centres[sa], sizes[sa])
                t1 = 1 - _exit_t(pos[b], pos[a], centres[sb], sizes[sb])
                texts = [link.name, f"{na} → {_pct(a_out)}   {nb} → {_pct(b_out)}", status]
                site_boxes = [(centres[k], sizes[k]) for k in sizes]
                x, y = _label_point(pos[a], pos[b], t0, t1, site_boxes, label_size(texts), placed, solid)
                label = _html(texts)
                lines.append(_text_node("label:" + link.name, x, y, label))
        else:
            colour = "#d62728" if state == "down" else "#b0b7c3"
            style = "dotted" if mark == "missing" else "solid"
            lines.append(f"  {_q(a)} -- {_q(b)} [penwidth=1, color={_q(colour)}, style={style}];")
    for link in unexpected:
        a, b = link.a.device, link.b.device
        if a in pos and b in pos:
            lines.append(f'  {_q(a)} -- {_q(b)} [penwidth=3, color="#8e44ad", style=dashed];')
            x, y = (pos[a][0] + pos[b][0]) / 2, (pos[a][1] + pos[b][1]) / 2
            label = _html([link.name, "LLDP " + words["unexpected"]], "#8e44ad")
            lines.append(_text_node("label:" + link.name, x, y, label))
    legend = list(legend)
    if legend:
        # bottom left, below and left of every site box
        x0 = min(c[0] - sizes[k][0] / 2 for k, c in centres.items())
        y0 = min(c[1] - sizes[k][1] / 2 for k, c in centres.items())
        legend_rows = "".join(
            f'<tr><td><font color="{colour}">{STROKES[style]}'
            f'</font></td><td align="left">{html.escape(text)}</td></tr>'
            for colour, style, text in legend
        )
        frame = 'border="1" color="#7a869a" cellborder="0" cellspacing="2" bgcolor="white"'
        box = f"<<table {frame}>{legend_rows}</table>>"
        box_y = y0 - 20 - 9 * len(legend)
        lines.append(_text_node("legend", x0 + 150, box_y, box))
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(dot: str, fmt: str) -> bytes:
    """The picture in `fmt` (svg or png): positions are fixed, neato only draws."""
    if fmt not in FORMATS:
        raise PictureError(f"format {fmt!r}: choose one of {', '.join(FORMATS)}")
    args = ["neato", "-n2", f"-T{fmt}"] + (["-Gdpi=110"] if fmt == "png" else [])
    return _graphviz(args, dot.encode())
