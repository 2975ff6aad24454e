"""The option model of Grafana's Network Weathermap panel (`knightss27-weathermap-panel`).

The plugin ships no JSON Schema; its options are the TypeScript interfaces of its `src/types.ts`
(model version 14, `CURRENT_VERSION` in `src/utils.ts`; field meanings in its
`website/docs/reference.md`). These pydantic models restate them, field for field, with
`extra="forbid"`, so a generated panel that names a field the plugin does not know, leaves out one
it reads, or gives a wrong type fails the tests instead of drawing an empty map. Beyond the
types, `model_problems` checks what the plugin assumes but does not type: node ids unique, each
link's nodes being nodes of the map (the plugin matches them by id), scale percentages ascending.
"""

from __future__ import annotations

import json
from enum import IntEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

PANEL_TYPE = "knightss27-weathermap-panel"
MODEL_VERSION = 14


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Anchor(IntEnum):
    CENTER = 0
    TOP = 1
    BOTTOM = 2
    LEFT = 3
    RIGHT = 4


class AreaSize(_M):
    width: float
    height: float


class Position(_M):
    x: float
    y: float


class NodeAnchor(_M):
    numLinks: int
    numFilledLinks: int


class Padding(_M):
    horizontal: float
    vertical: float


class Icon(_M):
    src: str
    name: str
    size: AreaSize
    padding: Padding
    drawInside: bool


class NodeColors(_M):
    font: str
    background: str
    border: str
    statusDown: str


class Node(_M):
    id: str
    position: tuple[float, float]
    label: str | None = None
    dashboardLink: str | None = None
    anchors: dict[str, NodeAnchor]  # keys "0".."4": Anchor values (JSON object keys are strings)
    useConstantSpacing: bool
    compactVerticalLinks: bool
    padding: Padding
    colors: NodeColors
    nodeIcon: Icon | None
    isConnection: bool
    statusQuery: str | None = None


class LinkSide(_M):
    bandwidth: float
    bandwidthQuery: str | None
    query: str | None
    labelOffset: float
    anchor: Anchor
    dashboardLink: str


class LinkSides(_M):
    A: LinkSide
    Z: LinkSide


class ArrowOptions(_M):
    width: float
    height: float
    offset: float


class Link(_M):
    id: str
    nodes: tuple[Node, Node]
    sides: LinkSides
    units: str | None
    arrows: ArrowOptions
    stroke: float
    showThroughputPercentage: bool


class LinkSpacing(_M):
    horizontal: float
    vertical: float


class LinkStroke(_M):
    color: str


class LinkLabel(_M):
    background: str
    border: str
    font: str


class LinkSettings(_M):
    spacing: LinkSpacing
    stroke: LinkStroke
    label: LinkLabel
    showAllWithPercentage: bool
    defaultUnits: str | None = None


class FontSizing(_M):
    node: float
    link: float


class Grid(_M):
    enabled: bool
    size: float
    guidesEnabled: bool


class BGImage(_M):
    url: str
    fit: str


class PanelOptions(_M):
    backgroundColor: str
    backgroundImage: BGImage | None = None
    panelSize: AreaSize
    zoomScale: float
    offset: Position
    showTimestamp: bool
    grid: Grid


class TooltipOptions(_M):
    fontSize: float
    textColor: str
    backgroundColor: str
    inboundColor: str
    outboundColor: str
    scaleToBandwidth: bool


class ScaleFontSizing(_M):
    title: float
    threshold: float


class TrafficPanelSettings(_M):
    position: Position
    size: AreaSize
    title: str
    fontSizing: ScaleFontSizing


class WeathermapSettings(_M):
    link: LinkSettings
    fontSizing: FontSizing
    panel: PanelOptions
    tooltip: TooltipOptions
    scale: TrafficPanelSettings


class Threshold(_M):
    percent: float
    color: str


class Weathermap(_M):
    version: int
    id: str
    nodes: list[Node]
    links: list[Link]
    scale: list[Threshold]
    settings: WeathermapSettings


class SimpleOptions(_M):
    weathermap: Weathermap


def model_problems(options: dict[str, Any]) -> list[str]:
    """Every way `options` (a panel's `options`) departs from the plugin's model, one line each."""
    try:  # as JSON (what Grafana stores): strict types, arrays for the plugin's tuples
        opts = SimpleOptions.model_validate_json(json.dumps(options))
    except ValidationError as exc:
        return [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
    wm = opts.weathermap
    problems: list[str] = []
    if wm.version != MODEL_VERSION:
        problems.append(f"version {wm.version}: this model describes version {MODEL_VERSION}")
    ids = [n.id for n in wm.nodes]
    if len(ids) != len(set(ids)):
        problems.append("node ids are not unique")
    by_id = {n.id: n for n in wm.nodes}
    for link in wm.links:
        for n in link.nodes:
            if by_id.get(n.id) != n:
                problems.append(f"link {link.id}: node {n.id} is not (or differs from) a node of the map")
        for side in (link.sides.A, link.sides.Z):
            if not 0 <= side.labelOffset <= 100:
                problems.append(f"link {link.id}: labelOffset {side.labelOffset} is not a percentage")
    # the plugin spaces links on a node side by the stored count (it does not recount)
    used: dict[tuple[str, str], int] = {}
    for link in wm.links:
        for n, side in ((link.nodes[0], link.sides.A), (link.nodes[1], link.sides.Z)):
            key = (n.id, str(side.anchor.value))
            used[key] = used.get(key, 0) + 1
    for n in wm.nodes:
        if sorted(n.anchors) != [str(a.value) for a in Anchor]:
            problems.append(f"node {n.id}: anchors must be keyed 0..4")
            continue
        for k, anchor in n.anchors.items():
            attached = used.get((n.id, k), 0)
            if anchor.numLinks != attached:
                counted = anchor.numLinks
                problems.append(f"node {n.id}: anchor {k} counts {counted} links, {attached} attach there")
    percents = [t.percent for t in wm.scale]
    if percents != sorted(percents) or (percents and percents[0] != 0):
        problems.append(f"scale percentages {percents} must start at 0 and ascend")
    return problems
