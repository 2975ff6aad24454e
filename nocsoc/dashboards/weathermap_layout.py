"""Where the weathermap's texts land, and choosing places where they do not collide.

The Network Weathermap plugin draws what its options say: a node is a box centred on its
`position` (label at `fontSizing.node` plus `padding`), a link is a straight line between the two
nodes' anchor points (the middle of the box side the anchor names), each half coloured by its
side, and each side's value label is centred `labelOffset` percent of the way from its anchor to
the link's middle. Nothing in the plugin moves a text out of the way, so the generator has to:
`place_labels` picks each side's `labelOffset` and `place_markers` picks where each router's small
optics node sits, both against the boxes already on the map. `layout` recomputes every box from
finished options alone, so the tests (and the preview) judge what the plugin would draw.

Text sizes are estimates (average glyph width of DejaVu Sans, Grafana's and Graphviz's fallback
font, times the character count), deliberately on the wide side. Hand-written: a dozen nodes and
two dozen labels need a greedy pass over a few candidate places, not a layout library.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from nocsoc.dashboards.weathermap_model import Anchor

CHAR_EM = 0.62  # average glyph advance of DejaVu Sans in ems, rounded up (digits are 0.636)
LINE_EM = 1.3
LABEL_TEXT = "888.88 Mb/s"  # the widest value label the plugin prints for bps (two decimals)
LABEL_PAD = (4.0, 2.0)
GAP = 8.0  # px kept free between any two boxes
LABEL_OFFSETS = (55, 45, 65, 35, 75, 25, 85, 15, 92)  # preferred first: near the middle of a side


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in the panel's viewbox (y grows down); `kind` and `owner` say whose."""

    x0: float
    y0: float
    x1: float
    y1: float
    kind: str = ""
    owner: str = ""

    @staticmethod
    def around(cx: float, cy: float, w: float, h: float, kind: str = "", owner: str = "") -> Box:
        return Box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, kind, owner)

    def overlaps(self, other: Box, gap: float = 0.0) -> bool:
        return (
            self.x0 < other.x1 + gap
            and other.x0 < self.x1 + gap
            and self.y0 < other.y1 + gap
            and other.y0 < self.y1 + gap
        )

    def crosses(self, a: tuple[float, float], b: tuple[float, float]) -> bool:
        """Whether segment a-b passes through the box (Liang-Barsky clipping)."""
        t0, t1 = 0.0, 1.0
        dx, dy = b[0] - a[0], b[1] - a[1]
        for p, q in (
            (-dx, a[0] - self.x0),
            (dx, self.x1 - a[0]),
            (-dy, a[1] - self.y0),
            (dy, self.y1 - a[1]),
        ):
            if p == 0:
                if q < 0:
                    return False
                continue
            r = q / p
            if p < 0:
                t0 = max(t0, r)
            else:
                t1 = min(t1, r)
            if t0 > t1:
                return False
        return True

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2)


def text_size(text: str, font: float, pad: tuple[float, float]) -> tuple[float, float]:
    return (len(text) * font * CHAR_EM + 2 * pad[0], font * LINE_EM + 2 * pad[1])


def node_box(node: dict[str, Any], font: float) -> Box:
    w, h = text_size(
        node.get("label") or "", font, (node["padding"]["horizontal"], node["padding"]["vertical"])
    )
    x, y = node["position"]
    return Box.around(x, y, w, h, "node", node["id"])


def anchor_point(box: Box, anchor: int) -> tuple[float, float]:
    cx, cy = box.centre
    return {
        Anchor.TOP: (cx, box.y0),
        Anchor.BOTTOM: (cx, box.y1),
        Anchor.LEFT: (box.x0, cy),
        Anchor.RIGHT: (box.x1, cy),
    }.get(Anchor(anchor), (cx, cy))


def label_box(
    start: tuple[float, float], end: tuple[float, float], offset_pct: float, font: float, owner: str
) -> Box:
    """The value label of one side: centred `offset_pct` % of the way from its anchor (start) to
    the link's middle (end)."""
    w, h = text_size(LABEL_TEXT, font, LABEL_PAD)
    t = offset_pct / 100
    return Box.around(
        start[0] + (end[0] - start[0]) * t, start[1] + (end[1] - start[1]) * t, w, h, "label", owner
    )


@dataclass(frozen=True)
class Layout:
    """Every box the plugin would draw, and each link's line (anchor to anchor)."""

    boxes: list[Box]
    lines: dict[str, tuple[tuple[float, float], tuple[float, float]]]

    def collisions(self, gap: float = 0.0) -> list[tuple[Box, Box]]:
        found = []
        for i, a in enumerate(self.boxes):
            for b in self.boxes[i + 1 :]:
                if a.overlaps(b, gap):
                    found.append((a, b))
        return found


def _link_ends(
    link: dict[str, Any], boxes: dict[str, Box]
) -> tuple[tuple[float, float], tuple[float, float]]:
    a, z = link["nodes"][0]["id"], link["nodes"][1]["id"]
    return (
        anchor_point(boxes[a], link["sides"]["A"]["anchor"]),
        anchor_point(boxes[z], link["sides"]["Z"]["anchor"]),
    )


def layout(options: dict[str, Any]) -> Layout:
    """The boxes of the finished options: nodes (routers and markers) and the two labels of each
    link, with the links' lines."""
    wm = options["weathermap"]
    fonts = wm["settings"]["fontSizing"]
    nodes = {n["id"]: node_box(n, fonts["node"]) for n in wm["nodes"]}
    boxes = list(nodes.values())
    lines = {}
    for link in wm["links"]:
        pa, pz = _link_ends(link, nodes)
        mid = ((pa[0] + pz[0]) / 2, (pa[1] + pz[1]) / 2)
        lines[link["id"]] = (pa, pz)
        for side, start in (("A", pa), ("Z", pz)):
            off = link["sides"][side]["labelOffset"]
            boxes.append(label_box(start, mid, off, fonts["link"], f"{link['id']}:{side}"))
    return Layout(boxes, lines)


def _score(
    box: Box, placed: Iterable[Box], lines: Iterable[tuple[tuple[float, float], tuple[float, float]]]
) -> tuple[int, int]:
    """(boxes it overlaps, lines it covers): lower is better, (0, 0) is clear."""
    return (sum(box.overlaps(p, GAP) for p in placed), sum(box.crosses(a, b) for a, b in lines))


def place_labels(options: dict[str, Any]) -> None:
    """Set each side's `labelOffset` to the first preferred place where its label clears every
    node and every label placed before it (and, if it can, other links' lines)."""
    wm = options["weathermap"]
    fonts = wm["settings"]["fontSizing"]
    nodes = {n["id"]: node_box(n, fonts["node"]) for n in wm["nodes"]}
    placed: list[Box] = list(nodes.values())
    lines = {link["id"]: _link_ends(link, nodes) for link in wm["links"]}
    for link in wm["links"]:
        pa, pz = lines[link["id"]]
        mid = ((pa[0] + pz[0]) / 2, (pa[1] + pz[1]) / 2)
        others = [seg for lid, seg in lines.items() if lid != link["id"]]
        for side, start in (("A", pa), ("Z", pz)):
            owner = f"{link['id']}:{side}"
            best = min(
                LABEL_OFFSETS,
                key=lambda off: (
                    *_score(label_box(start, mid, off, fonts["link"], owner), placed, others),
                    LABEL_OFFSETS.index(off),
                ),
            )
            link["sides"][side]["labelOffset"] = best
            placed.append(label_box(start, mid, best, fonts["link"], owner))


def marker_candidates(router: Box, w: float, h: float) -> list[tuple[float, float]]:
    """Centres for a w x h marker around a router box, just clear of it: the corners first
    (links leave a box from the middle of its sides), then above, below and the sides."""
    cx, cy = router.centre
    rw, rh = router.x1 - router.x0, router.y1 - router.y0
    right, left = router.x1 - w / 2 + w * 0.6, router.x0 + w / 2 - w * 0.6
    up, down = router.y0 - GAP - h / 2, router.y1 + GAP + h / 2
    return [
        (right, up),
        (left, up),
        (right, down),
        (left, down),
        (cx, up),
        (cx, down),
        (cx + rw / 2 + GAP + w / 2, cy),
        (cx - rw / 2 - GAP - w / 2, cy),
        (cx, cy - rh / 2 - 2 * GAP - 1.5 * h),
        (cx, cy + rh / 2 + 2 * GAP + 1.5 * h),
    ]


def place_markers(options: dict[str, Any], markers: Sequence[tuple[str, str]]) -> None:
    """Move each (marker id, router id) marker to the first candidate place beside its router
    that clears every box and line already on the map (labels included: place them first)."""
    wm = options["weathermap"]
    fonts = wm["settings"]["fontSizing"]
    by_id = {n["id"]: n for n in wm["nodes"]}
    current = layout(options)
    marker_ids = {m for m, _ in markers}
    placed = [b for b in current.boxes if b.owner not in marker_ids]
    lines = list(current.lines.values())
    for marker_id, router_id in markers:
        node = by_id[marker_id]
        size = node_box(node, fonts["node"])
        w, h = size.x1 - size.x0, size.y1 - size.y0
        router = next(b for b in placed if b.owner == router_id)
        candidates = marker_candidates(router, w, h)
        best = min(
            candidates,
            key=lambda c: (*_score(Box.around(c[0], c[1], w, h), placed, lines), candidates.index(c)),
        )
        node["position"] = [round(best[0], 1), round(best[1], 1)]
        placed.append(node_box(node, fonts["node"]))


def link_room(a: Box, b: Box, font: float) -> float:
    """How much farther apart two linked routers must be for both value labels to fit between
    them with a gap around each (0 when they fit)."""
    (ax, ay), (bx, by) = a.centre, b.centre
    dist = math.hypot(bx - ax, by - ay) or 1.0
    ux, uy = abs(bx - ax) / dist, abs(by - ay) / dist
    w, h = text_size(LABEL_TEXT, font, LABEL_PAD)
    label_along = w * ux + h * uy
    # the line leaves each box from the middle of the side facing the other node
    half_a = (a.x1 - a.x0) / 2 if ux >= uy else (a.y1 - a.y0) / 2
    half_b = (b.x1 - b.x0) / 2 if ux >= uy else (b.y1 - b.y0) / 2
    free = dist - half_a - half_b
    need = 2 * label_along + 3 * GAP
    return max(need - free, 0.0)
