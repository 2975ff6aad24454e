"""The backbone weathermap: options generated from the inventory, checked against the Network
Weathermap plugin's option model (its src/types.ts, version 14), placed by site coordinates."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from nocsoc.dashboards.config import DashboardsConfig
from nocsoc.dashboards.registry import build_all
from nocsoc.dashboards.validate import panels_of
from nocsoc.dashboards.weathermap_model import PANEL_TYPE, model_problems
from nocsoc.inventory.model import Inventory
from nocsoc.inventory.sample import SAMPLE_INVENTORY
from nocsoc.inventory.store import InventoryStore


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return InventoryStore(SAMPLE_INVENTORY).load()


def _panel(locale: str, inventory: Inventory | None, cfg: DashboardsConfig | None = None) -> dict[str, Any]:
    (d,) = [d for s, d in build_all(locale, "ds", cfg, inventory) if s.slug == "weathermap"]
    (p,) = [p for p in panels_of(d) if p["type"] == PANEL_TYPE]
    return p


def test_options_match_the_plugin_model(inventory: Inventory) -> None:
    for loc in ("vi", "en"):
        assert model_problems(_panel(loc, inventory)["options"]) == []
        assert model_problems(_panel(loc, None)["options"]) == []  # no inventory: an empty map


def test_model_catches_what_the_plugin_would_not_draw(inventory: Inventory) -> None:
    opts = copy.deepcopy(_panel("en", inventory)["options"])
    wm = opts["weathermap"]
    wm["nodes"][0]["colour"] = wm["nodes"][0].pop("colors")  # a misspelled field
    wm["links"][0]["sides"]["A"]["bandwidth"] = "10G"  # a string where the plugin computes
    wm["links"][1]["sides"]["Z"]["anchor"] = 7  # no such anchor
    wm["links"][2]["nodes"][1] = dict(wm["links"][2]["nodes"][1], id="elsewhere")
    wm["scale"].reverse()
    problems = model_problems(opts)
    assert "weathermap.nodes.0.colors: Field required" in problems
    assert "weathermap.nodes.0.colour: Extra inputs are not permitted" in problems
    assert "weathermap.links.0.sides.A.bandwidth: Input should be a valid number" in problems
    assert any(
        p.startswith("weathermap.links.1.sides.Z.anchor: Input should be 0, 1, 2, 3 or 4") for p in problems
    )
    fixed = copy.deepcopy(_panel("en", inventory)["options"])
    moved = fixed["weathermap"]["links"][2]
    was, anchor = moved["nodes"][1]["id"], moved["sides"]["Z"]["anchor"]
    moved["nodes"][1]["id"] = "elsewhere"
    fixed["weathermap"]["scale"].reverse()
    marker = fixed["weathermap"]["nodes"][-1]  # an optics marker: no link attaches to it
    marker["anchors"]["3"]["numLinks"] = 1
    assert model_problems(fixed) == [
        f"link {moved['id']}: node elsewhere is not (or differs from) a node of the map",
        f"node {was}: anchor {anchor} counts 1 links, 0 attach there",  # the link left it
        f"node {marker['id']}: anchor 3 counts 1 links, 0 attach there",
        "scale percentages [80.0, 60.0, 0.0] must start at 0 and ascend",
    ]


def test_map_follows_the_inventory_and_the_thresholds(inventory: Inventory) -> None:
    cfg = DashboardsConfig(link_utilization_pct=90, link_utilization_warn_pct=70)
    p = _panel("vi", inventory, cfg)
    wm = p["options"]["weathermap"]
    routers = [n for n in wm["nodes"] if not n["id"].startswith("optics-")]
    markers = [n for n in wm["nodes"] if n["id"].startswith("optics-")]
    assert len(routers) == len(markers) == 12 and len(wm["links"]) == 12
    pos = {n["statusQuery"]: n["position"] for n in routers}
    # north is up, east is right: Bù Đốp is the northernmost site, Chơn Thành the southernmost,
    # Bù Đăng the easternmost, Lộc Ninh the westernmost
    assert min(pos, key=lambda d: pos[d][1]) == "budop-dist-01"
    assert max(pos, key=lambda d: pos[d][1]) == "chonthanh-dist-01"
    assert max(pos, key=lambda d: pos[d][0]) == "budang-dist-01"
    assert min(pos, key=lambda d: pos[d][0]) == "locninh-dist-01"
    labels = {n["statusQuery"]: n["label"] for n in routers}
    assert labels["bugiamap-dist-01"] == "Bù Gia Mập"
    assert labels["dongxoai-core-01"] == "Đồng Xoài · core-01"
    (ring,) = [link for link in wm["links"] if link["sides"]["A"]["query"].startswith("ring-core01-dongphu ")]
    assert ring["sides"]["A"]["query"] == "ring-core01-dongphu dongxoai-core-01 ra"
    assert ring["sides"]["Z"]["query"] == "ring-core01-dongphu dongphu-dist-01 ra"
    assert ring["sides"]["A"]["bandwidth"] == 10e9 and ring["units"] == "bps"
    assert [(s["percent"], s["color"]) for s in wm["scale"]] == [
        (0, "#37872D"),
        (70, "#FF9830"),
        (90, "#E02F44"),
    ]
    # the panel's series are named exactly as the options expect them
    assert [t["alias"] for t in p["targets"]] == [
        "$tag_link $tag_device ra",
        "$tag_device",
        "$tag_device quang",
    ]
    assert {m["statusQuery"] for m in markers} == {f"{d} quang" for d in pos}
    assert 'floor((min("rx_dbm") - (-20)) / 1000) + 1' in p["targets"][2]["query"]


def test_without_coordinates_the_ring_is_a_circle(inventory: Inventory) -> None:
    bare = inventory.model_copy(deep=True)
    for s in bare.sites:
        s.lat = s.lon = None
    wm = _panel("en", bare)["options"]["weathermap"]
    assert model_problems({"weathermap": wm}) == []
    xs = [n["position"][0] for n in wm["nodes"] if not n["id"].startswith("optics-")]
    assert min(xs) > 0 and max(xs) < 1200
