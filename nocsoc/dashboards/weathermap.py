"""Backbone weathermap: the ring on a map, with Grafana's Network Weathermap panel plugin.

Generated from the inventory: one node per backbone router, placed at its site's coordinates
(`lat`/`lon`; routers of one site side by side), one link per backbone link. Each half of a link
is coloured by the utilization of its own direction: side A shows the traffic the A end sends
(its `out_bps`), side Z what the Z end sends, against the link speed, on a scale whose steps are
the config's utilization thresholds. A node is outlined red when its router stops answering SNMP;
a small "optics" node beside each router turns red when the router's lowest receive power is
below `dashboards.optics_rx_min_dbm`.

Geography first, then legibility: routers closer than a router box (with room for its marker)
are pushed apart, linked routers too close for their two value labels are pushed apart along the
link, and then `weathermap_layout` chooses each label's offset along its link and each marker's
place beside its router so that no two texts overlap (the plugin itself never moves a text).

The plugin matches a link side or node to a query result by the series' display name, so every
target has an alias and the option strings are those aliases with the tags filled in.
Sites without coordinates (or no inventory at all) fall back to a circle in ring order.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import Any

from grafana_foundation_sdk.builders import dashboard as dash_b

from nocsoc import schema
from nocsoc.dashboards.base import BuildContext, DashboardSpec, backbone_links
from nocsoc.dashboards.influxql import Select, q, select
from nocsoc.dashboards.macros import regex_escape
from nocsoc.dashboards.weathermap_layout import (
    GAP,
    Box,
    layout,
    link_room,
    node_box,
    place_labels,
    place_markers,
)
from nocsoc.dashboards.weathermap_model import MODEL_VERSION, PANEL_TYPE, Anchor
from nocsoc.inventory.model import Inventory, Link

IFACE, D, OPT = schema.INTERFACE, schema.DEVICE, schema.OPTICS
BACKBONE_ROLES = "^(core|distribution)$"
VIEW_W, VIEW_H, MARGIN = 1200, 900, 90
SAME_SITE_GAP = 320  # px between routers of one site (room for the link's two labels)
MIN_DX, MIN_DY = 210, 100  # a router with its optics marker needs this much room
NODE_FONT, LINK_FONT = 12, 9
NODE_PAD = {"horizontal": 10, "vertical": 4}
SCALE_AREA = Box(0, 0, 150, 230, "scale")  # the colour scale's corner: position 10,10, 30x180 + texts
COLOURS = {"ok": "#37872D", "warn": "#FF9830", "alarm": "#E02F44", "idle": "#8AB8FF"}


def _id(kind: str, name: str) -> str:
    """Stable ids (the plugin keys nodes by id): the same inventory gives the same JSON."""
    return f"{kind}-" + hashlib.sha1(name.encode()).hexdigest()[:12]


def _node(node_id: str, label: str, xy: tuple[float, float], status_query: str, font: str) -> dict[str, Any]:
    return {
        "id": node_id,
        "position": [round(xy[0], 1), round(xy[1], 1)],
        "label": label,
        "dashboardLink": "",
        "anchors": {str(a.value): {"numLinks": 0, "numFilledLinks": 0} for a in Anchor},
        "useConstantSpacing": False,
        "compactVerticalLinks": False,
        "padding": dict(NODE_PAD),
        "colors": {
            "font": font,
            "background": "#1F2937",
            "border": "#6B7280",
            "statusDown": COLOURS["alarm"],
        },
        "nodeIcon": None,
        "isConnection": False,
        "statusQuery": status_query,
    }


def positions(
    inventory: Inventory,
    devices: list[str],
    links: Sequence[tuple[str, str]] = (),
    labels: dict[str, str] | None = None,
) -> dict[str, tuple[float, float]]:
    """Viewbox positions of the backbone routers: sites by coordinates (equirectangular, scaled
    to fit), routers of one site spread horizontally; without coordinates, a circle. Then spread
    (see `_spread`) so that boxes, markers and the links' labels have room."""
    site_of = {d.name: d.site for d in inventory.devices}
    sites = {s.id: s for s in inventory.sites}
    by_site: dict[str, list[str]] = {}
    for dev in devices:
        by_site.setdefault(site_of[dev], []).append(dev)
    located = {sid: sites[sid] for sid in by_site if sid in sites and sites[sid].lat is not None}
    centre: dict[str, tuple[float, float]] = {}
    if located and len(located) == len(by_site):
        lat0 = sum(s.lat or 0.0 for s in located.values()) / len(located)
        xs = {sid: (s.lon or 0.0) * math.cos(math.radians(lat0)) for sid, s in located.items()}
        ys = {sid: -(s.lat or 0.0) for sid, s in located.items()}
        span_x = (max(xs.values()) - min(xs.values())) or 1.0
        span_y = (max(ys.values()) - min(ys.values())) or 1.0
        scale = min((VIEW_W - 2 * MARGIN) / span_x, (VIEW_H - 2 * MARGIN) / span_y)
        for sid in located:
            centre[sid] = (
                MARGIN + (xs[sid] - min(xs.values())) * scale,
                MARGIN + (ys[sid] - min(ys.values())) * scale,
            )
    else:
        order = list(by_site)
        for i, sid in enumerate(order):
            angle = 2 * math.pi * i / max(len(order), 1) - math.pi / 2
            centre[sid] = (
                VIEW_W / 2 + 0.38 * VIEW_W * math.cos(angle),
                VIEW_H / 2 + 0.4 * VIEW_H * math.sin(angle),
            )
    out: dict[str, tuple[float, float]] = {}
    for sid, devs in by_site.items():
        cx, cy = centre[sid]
        for i, dev in enumerate(sorted(devs)):
            out[dev] = (cx + (i - (len(devs) - 1) / 2) * SAME_SITE_GAP, cy)
    labels = labels or {}
    sizes = {}
    for dev in out:
        box = node_box(
            {"label": labels.get(dev, dev), "padding": NODE_PAD, "position": (0, 0), "id": dev}, NODE_FONT
        )
        sizes[dev] = (box.x1 - box.x0, box.y1 - box.y0)
    return _spread(out, list(links), sizes)


def _spread(
    pos: dict[str, tuple[float, float]],
    links: list[tuple[str, str]],
    sizes: dict[str, tuple[float, float]],
    rounds: int = 300,
) -> dict[str, tuple[float, float]]:
    """Push apart routers closer than MIN_DX x MIN_DY (sites a few km apart on a province map
    overlap at panel scale), each pair along the axis where it overlaps less, so the map keeps
    its shape; and linked routers too close for the link's two value labels, along the link.
    Deterministic: same input, same map. Hand-written: a dozen nodes, no layout library needed
    at dashboard build time."""
    xy = {k: [v[0], v[1]] for k, v in pos.items()}
    names = sorted(xy)
    pairs = sorted({tuple(sorted(p)) for p in links if p[0] in xy and p[1] in xy and p[0] != p[1]})
    for _ in range(rounds):
        moved = False
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                dx, dy = xy[b][0] - xy[a][0], xy[b][1] - xy[a][1]
                ox, oy = MIN_DX - abs(dx), MIN_DY - abs(dy)
                if ox <= 0 or oy <= 0:
                    continue
                moved = True
                axis, need, sign = (0, ox, dx) if ox / MIN_DX < oy / MIN_DY else (1, oy, dy)
                step = (need / 2 + 0.5) * (1 if sign >= 0 else -1)
                xy[a][axis] -= step
                xy[b][axis] += step
        for a, b in pairs:
            box_a = Box.around(xy[a][0], xy[a][1], *sizes[a])
            box_b = Box.around(xy[b][0], xy[b][1], *sizes[b])
            short = link_room(box_a, box_b, LINK_FONT)
            if short <= 0:
                continue
            moved = True
            dx, dy = xy[b][0] - xy[a][0], xy[b][1] - xy[a][1]
            dist = math.hypot(dx, dy) or 1.0
            step = short / 2 + 0.5
            xy[a][0] -= dx / dist * step
            xy[a][1] -= dy / dist * step
            xy[b][0] += dx / dist * step
            xy[b][1] += dy / dist * step
        for a, b in pairs:  # a link drawn through a third router's box: move the router off it
            for c in names:
                if c in (a, b):
                    continue
                w, h = sizes[c]
                if not Box.around(xy[c][0], xy[c][1], w + 2 * GAP, h + 2 * GAP).crosses(
                    (xy[a][0], xy[a][1]), (xy[b][0], xy[b][1])
                ):
                    continue
                moved = True
                dx, dy = xy[b][0] - xy[a][0], xy[b][1] - xy[a][1]
                length = math.hypot(dx, dy) or 1.0
                nx, ny = -dy / length, dx / length
                side = (xy[c][0] - xy[a][0]) * nx + (xy[c][1] - xy[a][1]) * ny
                sign = 1.0 if side >= 0 else -1.0
                need = abs(nx) * w / 2 + abs(ny) * h / 2 + GAP - abs(side) + 0.5
                xy[c][0] += sign * nx * need
                xy[c][1] += sign * ny * need
        if not moved:
            break
    return {k: (v[0], v[1]) for k, v in xy.items()}


def _fit(options: dict[str, Any]) -> None:
    """Shift every node so the drawing starts a margin from the top left and clears the colour
    scale's corner, and size the viewbox to the drawing (the plugin scales it to the panel)."""
    wm = options["weathermap"]
    boxes = layout(options).boxes
    if not boxes:
        wm["settings"]["panel"]["panelSize"] = {"width": VIEW_W, "height": VIEW_H}
        return
    dx = MARGIN / 2 - min(b.x0 for b in boxes)
    dy = MARGIN / 2 - min(b.y0 for b in boxes)
    shifted = [Box(b.x0 + dx, b.y0 + dy, b.x1 + dx, b.y1 + dy) for b in boxes]
    if any(b.overlaps(SCALE_AREA) for b in shifted):
        dx += SCALE_AREA.x1 - min(b.x0 for b in shifted if b.overlaps(SCALE_AREA)) + 10
    for n in wm["nodes"]:
        n["position"] = [round(n["position"][0] + dx, 1), round(n["position"][1] + dy, 1)]
    width = max(b.x1 for b in boxes) + dx + MARGIN / 2
    height = max(b.y1 for b in boxes) + dy + MARGIN / 2
    wm["settings"]["panel"]["panelSize"] = {"width": round(width), "height": round(height)}


def _anchors(a: tuple[float, float], b: tuple[float, float]) -> tuple[Anchor, Anchor]:
    """Leave each node on the side facing the other one."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    if abs(dx) >= abs(dy):
        return (Anchor.RIGHT, Anchor.LEFT) if dx > 0 else (Anchor.LEFT, Anchor.RIGHT)
    return (Anchor.BOTTOM, Anchor.TOP) if dy > 0 else (Anchor.TOP, Anchor.BOTTOM)


def build_options(ctx: BuildContext, legend_out: str, legend_optics: str) -> dict[str, Any]:
    """The panel's `options` (the plugin's `SimpleOptions`)."""
    inv, tr, cfg = ctx.inventory, ctx.tr, ctx.cfg
    links: list[Link] = []
    if inv is not None:
        names = set(backbone_links(inv))
        links = [link for link in inv.links if link.name in names]
    devices = sorted({e.device for link in links for e in (link.a, link.b)})
    site_names = ctx.site_names()
    site_of = {d.name: d.site for d in inv.devices} if inv is not None else {}
    per_site: dict[str, int] = {}
    for dev in devices:
        per_site[site_of[dev]] = per_site.get(site_of[dev], 0) + 1
    labels: dict[str, str] = {}
    for dev in devices:
        site = site_names.get(site_of[dev], site_of[dev])
        labels[dev] = (
            site
            if per_site[site_of[dev]] == 1
            else f"{site} · {dev.rsplit('-', 2)[-2]}-{dev.rsplit('-', 1)[-1]}"
        )
    ends = [(link.a.device, link.b.device) for link in links]
    pos = positions(inv, devices, ends, labels) if inv is not None and devices else {}
    nodes: dict[str, dict[str, Any]] = {}
    markers: list[dict[str, Any]] = []
    for dev in devices:
        nodes[dev] = _node(_id("node", dev), labels[dev], pos[dev], dev, "#F3F4F6")
        # placed beside its router once the labels are (place_markers)
        markers.append(
            _node(_id("optics", dev), legend_optics, pos[dev], f"{dev} {legend_optics}", "#9CA3AF")
        )
    wm_links: list[dict[str, Any]] = []
    for link in links:
        a, z = nodes[link.a.device], nodes[link.b.device]
        anchor_a, anchor_z = _anchors(pos[link.a.device], pos[link.b.device])
        a["anchors"][str(anchor_a.value)]["numLinks"] += 1
        z["anchors"][str(anchor_z.value)]["numLinks"] += 1
        bandwidth = float((link.speed_mbps or 0) * 1_000_000)

        def side(dev: str, anchor: Anchor, bw: float = bandwidth, name: str = link.name) -> dict[str, Any]:
            return {
                "bandwidth": bw,
                "bandwidthQuery": None,
                "query": f"{name} {dev} {legend_out}",
                "labelOffset": 55,
                "anchor": int(anchor),
                "dashboardLink": "",
            }

        wm_links.append(
            {
                "id": _id("link", link.name),
                "nodes": [a, z],
                "sides": {"A": side(link.a.device, anchor_a), "Z": side(link.b.device, anchor_z)},
                "units": "bps",
                "arrows": {"width": 8, "height": 10, "offset": 2},
                "stroke": 8,
                "showThroughputPercentage": False,
            }
        )
    all_nodes = [*nodes.values(), *markers]
    options: dict[str, Any] = {
        "weathermap": {
            "version": MODEL_VERSION,
            "id": ctx.uid("nocsoc-weathermap"),
            "nodes": all_nodes,
            "links": wm_links,
            "scale": [
                {"percent": 0, "color": COLOURS["ok"]},
                {"percent": cfg.link_utilization_warn_pct, "color": COLOURS["warn"]},
                {"percent": cfg.link_utilization_pct, "color": COLOURS["alarm"]},
            ],
            "settings": {
                "link": {
                    "spacing": {"horizontal": 10, "vertical": 5},
                    "stroke": {"color": COLOURS["idle"]},
                    "label": {"background": "#111827", "border": "#374151", "font": "#F9FAFB"},
                    "showAllWithPercentage": False,
                    "defaultUnits": "bps",
                },
                "fontSizing": {"node": NODE_FONT, "link": LINK_FONT},
                "panel": {
                    "backgroundColor": "#0B0F19",
                    "panelSize": {"width": VIEW_W, "height": VIEW_H},  # set by _fit
                    "zoomScale": 0,
                    "offset": {"x": 0, "y": 0},
                    "showTimestamp": True,
                    "grid": {"enabled": False, "size": 10, "guidesEnabled": False},
                },
                "tooltip": {
                    "fontSize": 11,
                    "textColor": "#F9FAFB",
                    "backgroundColor": "#111827",
                    "inboundColor": "#00cf00",
                    "outboundColor": "#fade2a",
                    "scaleToBandwidth": True,
                },
                "scale": {
                    "position": {"x": 10, "y": 10},
                    "size": {"width": 30, "height": 180},
                    "title": tr("weathermap.scale"),
                    "fontSizing": {"title": 14, "threshold": 11},
                },
            },
        }
    }

    place_labels(options)
    place_markers(options, [(m["id"], nodes[dev]["id"]) for dev, m in zip(devices, markers, strict=True)])
    _fit(options)
    # links embed copies of their nodes (as the plugin's editor stores them): copy once final
    for link_json in wm_links:
        link_ends: list[dict[str, Any]] = link_json["nodes"]
        link_json["nodes"] = [
            dict(n, anchors={k: dict(v) for k, v in n["anchors"].items()}) for n in link_ends
        ]
    return options


def link_filter(ctx: BuildContext) -> str:
    names = backbone_links(ctx.inventory)
    return "^(" + "|".join(regex_escape(n) for n in names) + ")$" if names else ".+"


def make(ctx: BuildContext) -> dash_b.Dashboard:
    p = ctx.panels()
    d = ctx.dashboard(
        "nocsoc-weathermap", "weathermap", ["network", "backbone"], refresh="30s", time_from="now-1h"
    )
    out, optics = p.legend("out"), p.legend("optics")
    traffic: Select = (
        select(IFACE)
        .agg("mean", IFACE.f("out_bps"), "out")
        .regex(IFACE.t("link"), link_filter(ctx))
        .by_time(fill="none")
        .by(IFACE.t("link"), IFACE.t("device"))
    )
    reachable = (
        select(D).agg("last", D.f("reachable"), "up").regex(D.t("role"), BACKBONE_ROLES).by(D.t("device"))
    )
    # 1 while the lowest receive power is at or above the threshold, 0 below it (the plugin's
    # node status: 0 or null is down); readings lie within 1000 dB of the threshold
    thr = ctx.cfg.optics_rx_min_dbm
    optics_ok = (
        select(OPT)
        .expr(f"floor((min({q(OPT.f('rx_dbm'))}) - ({thr:g})) / 1000) + 1", "optics_ok")
        .regex(OPT.t("role"), BACKBONE_ROLES)
        .by(OPT.t("device"))
    )
    d.with_panel(
        p.plugin(
            PANEL_TYPE,
            "weathermap.map",
            [traffic, reachable, optics_ok],
            build_options(ctx, out, optics),
            aliases=[f"$tag_link $tag_device {out}", "$tag_device", f"$tag_device {optics}"],
            h=24,
        )
    )
    return d


SPEC = DashboardSpec(uid="nocsoc-weathermap", folder="Network", slug="weathermap", make=make)
