"""The backbone weathermap: options generated from the inventory, checked against the Network
Weathermap plugin's option model (its src/types.ts, version 14), placed by site coordinates."""

from __future__ import annotations

import copy
from pathlib import Path
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
    # north is up, east is right: Bù Gia Mập (on the border) is the northernmost site, Bù Đăng the
    # easternmost, and the western column runs north to south as on the map
    assert min(pos, key=lambda d: pos[d][1]) == "bugiamap-dist-01"
    assert max(pos, key=lambda d: pos[d][0]) == "budang-dist-01"
    west = ["locninh-dist-01", "binhlong-dist-01", "tankhai-dist-01", "chonthanh-dist-01"]
    assert sorted(west, key=lambda d: pos[d][1]) == west
    # sites a few km apart are spread until no two routers crowd each other
    names = sorted(pos)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert abs(pos[a][0] - pos[b][0]) >= 209 or abs(pos[a][1] - pos[b][1]) >= 99, (a, b)
    size = wm["settings"]["panel"]["panelSize"]
    assert all(0 < x < size["width"] and 0 < y < size["height"] for x, y in pos.values())
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


def test_preview_reads_the_series_the_options_expect(inventory: Inventory, tmp_path: Path) -> None:
    """The sink's series, named as Grafana names the panel's results, are exactly what the
    options look up: a link side with data is coloured by its own direction, one without is grey."""
    from nocsoc import schema
    from nocsoc.dashboards import weathermap_preview as wp
    from nocsoc.sinks.factory import build_sink
    from nocsoc.sinks.plugins.sqlite import SqliteSinkConfig

    sink = build_sink(SqliteSinkConfig(path=str(tmp_path / "n.db")), tmp_path)
    t = 1_800_000_000_000_000_000
    ends = (("dongxoai-core-01", "xe-0/1/0", 8.5e9), ("dongphu-dist-01", "TenGigabitEthernet0/0/8", 1e9))
    points = []
    for dev, ifname, bps in ends:
        tags = {
            "device": dev,
            "site": "s",
            "role": "core",
            "ifname": ifname,
            "ifalias": "",
            "link": "ring-core01-dongphu",
        }
        points.append(schema.INTERFACE.point(t, tags, {"out_bps": bps}))
        points.append(schema.DEVICE.point(t, {"device": dev, "site": "s", "role": "core"}, {"reachable": 1}))
    optic = {"device": "dongphu-dist-01", "site": "s", "role": "distribution", "ifname": "x", "sensor": "x"}
    points.append(schema.OPTICS.point(t, optic, {"rx_dbm": -27.5}))
    points.append(schema.OPTICS.point(t, dict(optic, device="dongxoai-core-01"), {"rx_dbm": -3.0}))
    sink.write(points)
    assert sink.flush(30)
    sink.close()
    series = wp.sink_series(tmp_path / "n.db", "out", "optics", -20.0)
    assert series == {
        "ring-core01-dongphu dongxoai-core-01 out": 8.5e9,
        "ring-core01-dongphu dongphu-dist-01 out": 1e9,
        "dongxoai-core-01": 1.0,
        "dongphu-dist-01": 1.0,
        "dongphu-dist-01 optics": 0.0,  # below -20 dBm: the marker turns red
        "dongxoai-core-01 optics": 1.0,
    }
    opts = _panel("en", inventory)["options"]
    wanted = {s["query"] for link in opts["weathermap"]["links"] for s in link["sides"].values()}
    wanted |= {n["statusQuery"] for n in opts["weathermap"]["nodes"]}
    assert set(series) <= wanted  # every series the sink yields is one the options name
    dot = wp.preview_dot(opts, series, "T")
    # 85 % from the core end: red; 10 % from the Đồng Phú end: green; a link with no data: grey
    core = next(n["id"] for n in opts["weathermap"]["nodes"] if n["statusQuery"] == "dongxoai-core-01")
    assert f'"{core}@0A" -- mid0 [color="#E02F44"' in dot
    assert '-- mid0 [color="#37872D"' in dot and '-- mid1 [color="#9e9e9e"' in dot


def test_no_two_texts_overlap_on_the_sample_map(inventory: Inventory) -> None:
    """Every box the plugin draws (routers, optics markers, both value labels of each link),
    computed from the generated options: none overlaps another, each marker sits right beside
    its own router, and no link is drawn through a router it does not end at."""
    from nocsoc.dashboards.weathermap_layout import layout

    for loc in ("vi", "en"):
        opts = _panel(loc, inventory)["options"]
        geo = layout(opts)
        kinds = [b.kind for b in geo.boxes]
        assert kinds.count("node") == 24 and kinds.count("label") == 24
        assert geo.collisions(gap=2.0) == []
        wm = opts["weathermap"]
        box = {b.owner: b for b in geo.boxes}
        for n in wm["nodes"]:
            if n["id"].startswith("optics-"):
                (router,) = [r for r in wm["nodes"] if r["statusQuery"] == n["statusQuery"].rsplit(" ", 1)[0]]
                m, r = box[n["id"]], box[router["id"]]
                assert max(m.x0 - r.x1, r.x0 - m.x1, m.y0 - r.y1, r.y0 - m.y1) <= 40, (loc, n["statusQuery"])
        for link in wm["links"]:
            ends = {link["nodes"][0]["id"], link["nodes"][1]["id"]}
            a, z = geo.lines[link["id"]]
            crossed = [
                b.owner for b in geo.boxes if b.kind == "node" and b.owner not in ends and b.crosses(a, z)
            ]
            assert crossed == [], (loc, link["sides"]["A"]["query"])
        size = wm["settings"]["panel"]["panelSize"]
        assert all(
            b.x0 >= 0 and b.x1 <= size["width"] and b.y0 >= 0 and b.y1 <= size["height"] for b in geo.boxes
        )


def test_the_overlap_check_sees_a_marker_on_its_router(inventory: Inventory) -> None:
    from nocsoc.dashboards.weathermap_layout import layout

    opts = copy.deepcopy(_panel("en", inventory)["options"])
    nodes = opts["weathermap"]["nodes"]
    marker = next(n for n in nodes if n["statusQuery"] == "tankhai-dist-01 optics")
    router = next(n for n in nodes if n["statusQuery"] == "tankhai-dist-01")
    marker["position"] = list(router["position"])  # where the old layout's offsets nearly put it
    pairs = {(a.owner, b.owner) for a, b in layout(opts).collisions()}
    assert (router["id"], marker["id"]) in pairs or (marker["id"], router["id"]) in pairs
