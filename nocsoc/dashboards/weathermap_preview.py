"""A picture of the weathermap panel's generated options, drawn with Graphviz (docs, review).

Not a Grafana screenshot: it draws the same options (node positions, link sides, scale) the
Network Weathermap plugin gets, with the values the panel's three queries would return, read from
the sqlite sink under the same series names (`<link> <device> <out>`, `<device>`,
`<device> <optics>`). So it also shows whether the names the options expect are the names the
data carries: a side with no series is drawn grey, as the plugin would.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

from nocsoc.dashboards.weathermap_layout import layout
from nocsoc.schema import DEVICE, INTERFACE, OPTICS
from nocsoc.sinks.sqlite import SqliteReader

GREY = "#9e9e9e"


def sink_series(db: Path, out_word: str, optics_word: str, optics_min_dbm: float) -> dict[str, float]:
    """The latest value of each series the weathermap panel queries, named as Grafana names them."""
    series: dict[str, float] = {}
    if not db.exists():
        return series
    reader = SqliteReader(db)
    for row in reader.query(INTERFACE.name, [INTERFACE.f("out_bps")]):
        if row.tags.get("link") and "out_bps" in row.fields:
            series[f"{row.tags['link']} {row.tags.get('device', '')} {out_word}"] = float(
                row.fields["out_bps"]
            )
    for row in reader.query(DEVICE.name, [DEVICE.f("reachable")]):
        series[row.tags.get("device", "")] = float(row.fields.get("reachable", 0))
    lowest: dict[str, float] = {}
    for row in reader.query(OPTICS.name, [OPTICS.f("rx_dbm")]):
        if "rx_dbm" in row.fields:
            dev = row.tags.get("device", "")  # the panel's min(rx_dbm) over the range, per device
            lowest[dev] = min(lowest.get(dev, math.inf), float(row.fields["rx_dbm"]))
    for dev, rx in lowest.items():
        series[f"{dev} {optics_word}"] = float(math.floor((rx - optics_min_dbm) / 1000) + 1)
    return series


def _scale_colour(scale: list[dict[str, Any]], value: float | None, bandwidth: float) -> str:
    if value is None or not bandwidth:
        return GREY
    pct = round(value / bandwidth * 100)
    colour = GREY
    for step in scale:  # the plugin: the last threshold at or below the percentage
        if step["percent"] <= pct:
            colour = step["color"]
    return colour


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _rate(v: float | None) -> str:
    if v is None:
        return "n/a"
    for unit, scale in (("Gb/s", 1e9), ("Mb/s", 1e6), ("kb/s", 1e3)):
        if v >= scale:
            return f"{v / scale:.2f} {unit}"
    return f"{v:.0f} b/s"


def preview_dot(options: dict[str, Any], series: dict[str, float], title: str) -> str:
    """DOT with the plugin's node positions, node and label boxes as `weathermap_layout` computes
    them, links from anchor to anchor (y flipped: SVG grows down, Graphviz up)."""
    wm = options["weathermap"]
    height = wm["settings"]["panel"]["panelSize"]["height"]
    bg = wm["settings"]["panel"]["backgroundColor"]
    lines = [
        "graph weathermap {",
        f'  graph [splines=false, bgcolor={_q(bg)}, pad="0.3", label={_q(title)}, labelloc=t, fontsize=20, '
        'fontcolor="#F9FAFB", fontname="DejaVu Sans"];',
        '  node [fontname="DejaVu Sans", shape=box, style="rounded,filled", fontsize=12];',
    ]
    geo = layout(options)  # the boxes the plugin draws: nodes at their size, labels where placed
    box = {b.owner: b for b in geo.boxes}
    for n in wm["nodes"]:
        x, y = n["position"]
        b = box[n["id"]]
        status = n.get("statusQuery")
        down = status is not None and not series.get(status)
        border = n["colors"]["statusDown"] if down else n["colors"]["border"]
        lines.append(
            f'  {_q(n["id"])} [pos="{x:.1f},{height - y:.1f}!", label={_q(n["label"])}, fixedsize=true, '
            f"width={(b.x1 - b.x0) / 72:.3f}, height={(b.y1 - b.y0) / 72:.3f}, "
            f"fillcolor={_q(n['colors']['background'])}, fontcolor={_q(n['colors']['font'])}, "
            f"color={_q(border)}, penwidth={3 if down else 1}];"
        )
    for i, link in enumerate(wm["links"]):
        (xa, ya), (xz, yz) = geo.lines[link["id"]]  # anchor to anchor, as the plugin draws it
        mid = f"mid{i}"
        mx, my = (xa + xz) / 2, height - (ya + yz) / 2
        lines.append(f'  {mid} [pos="{mx:.1f},{my:.1f}!", shape=point, width=0.01, label=""];')
        for side, (x, y) in (("A", (xa, ya)), ("Z", (xz, yz))):
            s = link["sides"][side]
            value = series.get(s["query"]) if s["query"] else None
            colour = _scale_colour(wm["scale"], value, s["bandwidth"])
            end = f"{link['nodes'][0 if side == 'A' else 1]['id']}@{i}{side}"
            lines.append(f'  {_q(end)} [pos="{x:.1f},{height - y:.1f}!", shape=point, width=0.01, label=""];')
            lines.append(f"  {_q(end)} -- {mid} [color={_q(colour)}, penwidth={link['stroke'] / 1.6:.1f}];")
            lb = box[f"{link['id']}:{side}"]
            (lx, ly), label = lb.centre, html.escape(_rate(value))
            lines.append(
                f'  "lbl{i}{side}" [pos="{lx:.1f},{height - ly:.1f}!", shape=box, style="filled", '
                'fillcolor="#111827", color="#374151", fontcolor="#F9FAFB", fontsize=9, fixedsize=true, '
                f"width={(lb.x1 - lb.x0) / 72:.3f}, height={(lb.y1 - lb.y0) / 72:.3f}, label={_q(label)}];"
            )
    # the colour scale, top left
    rows = "".join(
        f'<tr><td bgcolor="{s["color"]}" width="22"> </td><td align="left"><font color="#F9FAFB">'
        f"{s['percent']:g}%</font></td></tr>"
        for s in wm["scale"]
    )
    scale_title = html.escape(wm["settings"]["scale"]["title"])
    head = f'<tr><td colspan="2"><font color="#F9FAFB">{scale_title}</font></td></tr>'
    table = f'<<table border="0" cellspacing="2">{head}{rows}</table>>'
    lines.append(f'  scale [pos="60,{height - 60}!", shape=plaintext, style="", label={table}];')
    lines.append("}")
    return "\n".join(lines) + "\n"
