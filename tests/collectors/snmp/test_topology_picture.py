"""The topology picture: link state read from the sqlite sink, LLDP marks, a layout where the
sites sit where they are and do not overlap, and the SVG Graphviz draws from it."""

from __future__ import annotations

import html
import json
import re
import shutil
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nocsoc import schema
from nocsoc.cli.app import app
from nocsoc.collectors.snmp import topology_picture as pic
from nocsoc.inventory.model import Endpoint, Inventory, Link
from nocsoc.inventory.sample import SAMPLE_INVENTORY
from nocsoc.inventory.store import InventoryStore
from nocsoc.sinks.factory import build_sink
from nocsoc.sinks.plugins.sqlite import SqliteSinkConfig

WORDS = {
    "up": "up",
    "down": "down",
    "no data": "no data",
    "confirmed": "confirmed",
    "missing": "missing",
    "unexpected": "unexpected",
}
needs_graphviz = pytest.mark.skipif(shutil.which("neato") is None, reason="Graphviz (neato) not installed")


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return InventoryStore(SAMPLE_INVENTORY).load()


def _link(name: str, a: str, ai: str, b: str, bi: str) -> Link:
    return Link(name=name, a=Endpoint(device=a, interface=ai), b=Endpoint(device=b, interface=bi))


def test_lldp_marks_confirmed_missing_unexpected_and_unjudged(inventory: Inventory) -> None:
    inv = inventory.model_copy(deep=True)
    inv.links = [
        _link("l1", "a", "p1", "b", "p1"),
        _link("l2", "b", "p2", "c", "p1"),
        _link("l3", "c", "p2", "d", "p1"),
    ]
    seen = [_link("b:p1--a:p1", "b", "p1", "a", "p1"), _link("a:p9--d:p9", "a", "p9", "d", "p9")]
    marks, unexpected = pic.lldp_marks(inv, seen, scanned=["a", "b", "c"])
    # l3 is not judged: d was not scanned (unreachable), so LLDP cannot say it is missing
    assert marks == {"l1": "confirmed", "l2": "missing"}
    assert [link.name for link in unexpected] == ["a:p9--d:p9"]


def test_link_state_from_the_sink(tmp_path: Path, inventory: Inventory) -> None:
    sink = build_sink(SqliteSinkConfig(path=str(tmp_path / "n.db")), tmp_path)
    t0 = 1_800_000_000_000_000_000

    def end(t: int, dev: str, ifname: str, util: float, oper: int) -> schema.Point:
        tags = {"device": dev, "site": "s", "role": "distribution", "ifname": ifname, "ifalias": ""}
        return schema.INTERFACE.point(t, tags, {"out_util_pct": util, "oper_status": oper})

    sink.write(
        [
            end(t0, "dongxoai-core-01", "xe-0/1/0", 10.0, 1),
            end(t0 + 60_000_000_000, "dongxoai-core-01", "xe-0/1/0", 31.0, 1),  # the latest counts
            end(t0 + 60_000_000_000, "dongphu-dist-01", "TenGigabitEthernet0/0/8", 11.0, 1),
            end(t0 + 60_000_000_000, "dongphu-dist-01", "TenGigabitEthernet0/0/9", 0.0, 2),
        ]
    )
    assert sink.flush(30)
    sink.close()
    states = pic.read_link_states(tmp_path / "n.db", inventory)
    ring1 = states["ring-core01-dongphu"]
    assert (ring1.a, ring1.b) == (pic.EndState(31.0, 1), pic.EndState(11.0, 1))
    assert ring1.state == "up" and ring1.peak_util == 31.0
    assert states["ring-dongphu-budang"].state == "down"  # one end down is the link down
    assert (
        states["ring-budang-phurieng"].state == "no data" and states["ring-budang-phurieng"].peak_util is None
    )
    assert pic.read_link_states(tmp_path / "absent.db", inventory)["ring-core01-dongphu"].state == "no data"


def _boxes(dot: str) -> dict[str, tuple[float, float, float, float]]:
    out = {}
    for m in re.finditer(
        r'"site:(\w+)" \[.*?pos="([-\d.]+),([-\d.]+)!", width=([\d.]+), height=([\d.]+)', dot
    ):
        out[m.group(1)] = (
            float(m.group(2)),
            float(m.group(3)),
            float(m.group(4)) * 72,
            float(m.group(5)) * 72,
        )
    return out


@needs_graphviz
def test_layout_keeps_the_map_and_separates_the_sites(inventory: Inventory) -> None:
    states = {"ring-thienhung-locninh": pic.LinkState(pic.EndState(85.0, 1), pic.EndState(11.0, 1))}
    dot = pic.picture_dot(inventory, states, pic.Thresholds(60, 80), WORDS, title="T")
    boxes = _boxes(dot)
    assert len(boxes) == 11
    names = list(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            (xa, ya, wa, ha), (xb, yb, wb, hb) = boxes[a], boxes[b]
            assert abs(xa - xb) >= (wa + wb) / 2 or abs(ya - yb) >= (ha + hb) / 2, (a, b)
    # north up (Graphviz y grows upwards), east right
    assert max(boxes, key=lambda s: boxes[s][1]) == "bugiamap"
    # the western column from north to south, as on the map (overlap removal may shift the
    # crowded south-east, where Đồng Phú sits close to the data center)
    west = ["locninh", "binhlong", "tankhai", "chonthanh"]
    assert sorted(west, key=lambda s: -boxes[s][1]) == west
    assert max(boxes, key=lambda s: boxes[s][0]) == "budang"
    assert '"site:bugiamap" [' in dot and 'label="Bù Gia Mập"' in dot
    assert dot.count("penwidth=5") == 12  # the 12 backbone links; the other 47 are thin
    assert dot.count('"label:ring-') == 11  # the 12th (core-01 to core-02) is written under Đồng Xoài
    assert "dc-core01-core02: ? / ? no data" in dot
    # an alarm-level direction colours the link red; its label names both directions by site
    ring = '  "thienhung-dist-01" -- "locninh-dist-01"'
    (edge,) = [line for line in dot.splitlines() if line.startswith(ring)]
    assert 'color="#d62728"' in edge
    assert "Thiện Hưng → 85%   Lộc Ninh → 11%" in dot


def _labels(dot: str) -> dict[str, pic.Rect]:
    """Each link label's box: its position in the DOT and its texts' estimated size."""
    out = {}
    for m in re.finditer(
        r'"label:([^"]+)" \[shape=plaintext, style="", pos="([-\d.]+),([-\d.]+)!", label=<(.*)>\];', dot
    ):
        texts = [html.unescape(t) for t in re.findall(r"<font[^>]*>(.*?)</font>", m.group(4))]
        out[m.group(1)] = ((float(m.group(2)), float(m.group(3))), pic.label_size(texts))
    return out


@needs_graphviz
def test_link_labels_cover_no_other_label_device_or_site_name(inventory: Inventory) -> None:
    """On the sample map, with the longest state words: no two link labels overlap, and none
    covers a device or a site's name (computed from the DOT's positions and the label sizes)."""
    states = {
        link.name: pic.LinkState(pic.EndState(100.0, 2), pic.EndState(100.0, 2)) for link in inventory.links
    }
    words = dict(WORDS, down="down · LLDP missing")
    dot = pic.picture_dot(inventory, states, pic.Thresholds(60, 80), words, title="T")
    labels = _labels(dot)
    assert len(labels) == 11
    names = sorted(labels)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not pic.overlaps(labels[a], labels[b]), (a, b)
    devices = {
        m.group(1): (float(m.group(2)), float(m.group(3)))
        for m in re.finditer(r'^  "([\w-]+)" \[shape=\w+, pos="([-\d.]+),([-\d.]+)!"', dot, re.M)
    }
    assert len(devices) == len(inventory.devices)
    for name, rect in labels.items():
        for dev, xy in devices.items():
            assert not pic.overlaps(rect, (xy, (pic.CELL_W - 12, 30.0))), (name, dev)
    boxes = _boxes(dot)
    heads = {
        m.group(1): m.group(2).split("\n")
        for m in re.finditer(r'"site:(\w+)" \[.*?label="([^"]*)"', dot, re.S)
    }
    assert heads["dongxoai"][0] == "Đồng Xoài" and len(heads["dongxoai"]) == 2  # + the cores' link
    for sid, (x, y, _w, h) in boxes.items():
        # the site's name (and the figures of a link inside it) at the top of its box
        n = len(heads[sid])
        title = ((x, y + h / 2 - 4 - 10 * n), (max(map(len, heads[sid])) * 15 * pic.CHAR_EM, 20.0 * n))
        for name, rect in labels.items():
            assert not pic.overlaps(rect, title), (name, sid)


@needs_graphviz
def test_topology_cli_draws_svg_in_the_readers_language(tmp_path: Path) -> None:
    shutil.copy(SAMPLE_INVENTORY, tmp_path / "inventory.yaml")
    (tmp_path / "nocsoc.yaml").write_text("inventory: inventory.yaml\nsinks:\n  - type: sqlite\n")
    run = CliRunner().invoke
    svg = run(app, ["-c", str(tmp_path / "nocsoc.yaml"), "--lang", "vi", "topology", "--format", "svg"])
    assert svg.exit_code == 0, svg.output
    assert svg.stdout.startswith("<?xml") and "<svg" in svg.stdout
    assert "Mạng trục: 12 tuyến, 11 địa điểm" in svg.stdout and "chưa có dữ liệu" in svg.stdout
    assert "ring&#45;thienhung&#45;locninh" in svg.stdout and "Bù Gia Mập" in svg.stdout
    png = run(
        app,
        ["-c", str(tmp_path / "nocsoc.yaml"), "topology", "--format", "png", "-o", str(tmp_path / "t.png")],
    )
    assert png.exit_code == 0 and (tmp_path / "t.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {tmp_path / 't.png'}" in " ".join(png.output.split())
    bad = run(app, ["-c", str(tmp_path / "nocsoc.yaml"), "topology", "--format", "png"])
    assert bad.exit_code == 2 and "needs --out" in bad.output


def test_topology_cli_reads_the_state_from_the_configured_sink(tmp_path: Path) -> None:
    shutil.copy(SAMPLE_INVENTORY, tmp_path / "inventory.yaml")
    (tmp_path / "nocsoc.yaml").write_text(
        "inventory: inventory.yaml\nsinks:\n  - type: sqlite\n    path: var/n.db\n"
    )
    sink = build_sink(SqliteSinkConfig(path=str(tmp_path / "var" / "n.db")), tmp_path)
    now = time.time_ns()
    tags = {"site": "s", "role": "core", "ifalias": ""}
    sink.write(
        [
            schema.INTERFACE.point(
                now - 10**9,
                {**tags, "device": "dongxoai-core-01", "ifname": "xe-0/1/0"},
                {"out_util_pct": 41.0, "oper_status": 1},
            ),
            schema.INTERFACE.point(
                now - 10**9,
                {**tags, "device": "dongphu-dist-01", "ifname": "TenGigabitEthernet0/0/8"},
                {"out_util_pct": 7.0, "oper_status": 1},
            ),
            # two hours old: not the link's state now
            schema.INTERFACE.point(
                now - 7200 * 10**9,
                {**tags, "device": "dongphu-dist-01", "ifname": "TenGigabitEthernet0/0/9"},
                {"out_util_pct": 99.0, "oper_status": 2},
            ),
        ]
    )
    assert sink.flush(30)
    sink.close()
    res = CliRunner().invoke(app, ["-c", str(tmp_path / "nocsoc.yaml"), "topology", "--format", "json"])
    assert res.exit_code == 0, res.output
    state = json.loads(res.stdout)["state"]
    assert state["ring-core01-dongphu"] == {"state": "up", "a_out_util_pct": 41.0, "b_out_util_pct": 7.0}
    assert state["ring-dongphu-budang"]["state"] == "no data"
