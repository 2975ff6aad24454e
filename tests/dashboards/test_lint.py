"""The dashboard lint over the generated JSON of both languages: units from the schema, localized
headers and legends, value mappings for coded values, one threshold source, distinct uids; and
each check shown to catch the fault it exists for."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from nocsoc.dashboards import alerting
from nocsoc.dashboards.base import backbone_links
from nocsoc.dashboards.config import DashboardsConfig
from nocsoc.dashboards.lint import Column, lint_dashboard, lint_dashboards, locale_problems, query_columns
from nocsoc.dashboards.registry import build_all
from nocsoc.dashboards.validate import check_alert_rules, check_dashboards, panels_of
from nocsoc.inventory.model import Inventory
from nocsoc.inventory.sample import SAMPLE_INVENTORY
from nocsoc.inventory.store import InventoryStore

DS = "nocsoc-influxdb"


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return InventoryStore(SAMPLE_INVENTORY).load()


@pytest.fixture(scope="module")
def built(inventory: Inventory) -> dict[str, list[dict[str, Any]]]:
    return {loc: [d for _, d in build_all(loc, DS, DashboardsConfig(), inventory)] for loc in ("vi", "en")}


def _panel(built: dict[str, list[dict[str, Any]]], loc: str, uid: str, title: str) -> dict[str, Any]:
    (d,) = [d for d in built[loc] if d["uid"].startswith(uid)]
    return next(p for p in panels_of(d) if p["title"] == title)


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_lint_passes_on_both_languages_with_and_without_inventory(
    built: dict[str, list[dict[str, Any]]], locale: str
) -> None:
    assert lint_dashboards(built[locale], locale) == []
    assert check_dashboards(built[locale]) == []
    bare = [d for _, d in build_all(locale, DS)]
    assert lint_dashboards(bare, locale) == []


def test_query_columns_follow_units_through_aggregates_and_subqueries() -> None:
    assert query_columns(
        'SELECT percentile("in_bps", 95) AS "p", max("in_util_pct") AS "u" FROM "interface" '
        'WHERE $timeFilter GROUP BY "link", "device"'
    ) == [Column("p", "bps"), Column("u", "percent"), Column("link", None), Column("device", None)]
    assert query_columns(
        'SELECT sum("up") AS "up" FROM (SELECT last("reachable") AS "up" FROM "device" GROUP BY "device")'
    ) == [Column("up", "short")]  # a sum of 0/1 is a count, not a boolean
    assert query_columns(
        'SELECT sum("bytes") * 8000 / $__interval_ms AS "bps" FROM "flow_total" GROUP BY time($__interval)'
    ) == [Column("bps", "bps")]
    assert query_columns(
        'SELECT top("b", "key", 3) AS "b" FROM (SELECT sum("bytes") AS "b" FROM "flow_top" GROUP BY "key")'
    )[1] == Column("key", None)


def test_lint_catches_a_deliberately_wrong_unit(built: dict[str, list[dict[str, Any]]]) -> None:
    """The bug the issue found: utilization columns declared bps in the p95 table."""
    d = copy.deepcopy(next(x for x in built["vi"] if x["uid"].startswith("nocsoc-backbone-links")))
    p95 = next(p for p in panels_of(d) if p["type"] == "table")
    for o in p95["fieldConfig"]["overrides"]:
        if o["matcher"]["options"] == "in_util_max":
            for prop in o["properties"]:
                if prop["id"] == "unit":
                    prop["value"] = "bps"
    util = next(p for p in panels_of(d) if p["title"] == "Mức sử dụng")
    util["fieldConfig"]["defaults"]["unit"] = "bps"
    errors = next(p for p in panels_of(d) if p["title"] == "Lỗi và gói bị loại bỏ")
    del errors["fieldConfig"]["defaults"]["unit"]
    problems = [str(p) for p in lint_dashboard(d, "vi")]
    assert problems == [
        "nocsoc-backbone-links-vi / Mức sử dụng / A / in: unit is 'bps', its schema field's is 'percent'",
        "nocsoc-backbone-links-vi / Mức sử dụng / B / out: unit is 'bps', its schema field's is 'percent'",
        "nocsoc-backbone-links-vi / Phân vị 95 và mức sử dụng cao nhất / in_util_max: "
        "column unit is 'bps', its schema field's is 'percent'",
        *[
            f"nocsoc-backbone-links-vi / Lỗi và gói bị loại bỏ / {ref} / {col}: "
            "unit is None, its schema field's is 'pps'"
            for ref, col in zip(
                "ABCD", ("in_errors", "out_errors", "in_discards", "out_discards"), strict=True
            )
        ],
    ]


def test_lint_catches_raw_headers_raw_legends_and_raw_codes(built: dict[str, list[dict[str, Any]]]) -> None:
    d = copy.deepcopy(next(x for x in built["vi"] if x["uid"].startswith("nocsoc-device-detail")))
    table = next(p for p in panels_of(d) if p["type"] == "table")
    table["fieldConfig"]["overrides"] = [
        o
        for o in table["fieldConfig"]["overrides"]
        if o["matcher"]["options"] not in ("speed_mbps", "oper", "Time")
    ]
    bps = next(p for p in panels_of(d) if p["title"] == "Thông lượng cổng")
    bps["targets"][0]["alias"] = "$tag_device $tag_ifname $col"
    bps["targets"][1]["alias"] = "$tag_device $tag_ifname out"  # English in the Vietnamese build
    problems = [str(p).split(" / ", 1)[1] for p in lint_dashboard(d, "vi")]
    assert problems == [
        "Thông lượng cổng / A: legend '$tag_device $tag_ifname $col' shows query aliases ($col / $m), "
        "not words",
        "Thông lượng cổng / A: legend text '$col' is not a vi catalogue text",
        "Thông lượng cổng / B: legend text 'out' is not a vi catalogue text",
        "Danh sách cổng / oper: table header 'oper' is not a vi catalogue text",
        "Danh sách cổng / oper: column unit is None, its schema field's is 'none'",
        "Danh sách cổng / oper: coded values (unit 'none') shown as raw numbers: add value mappings",
        "Danh sách cổng / speed_mbps: table header 'speed_mbps' is not a vi catalogue text",
        "Danh sách cổng / speed_mbps: column unit is None, its schema field's is 'Mbits'",
        "Danh sách cổng / Time: the Time column is neither hidden nor given a header",
    ]


def test_languages_install_side_by_side(built: dict[str, list[dict[str, Any]]]) -> None:
    assert locale_problems(built) == []
    clash = {"vi": built["vi"], "en": [dict(built["en"][0], uid=built["vi"][0]["uid"])]}
    assert [str(p) for p in locale_problems(clash)] == [
        "nocsoc-ioc-overview-vi: uid used by both the vi and the en build"
    ]
    vi_rules = {r["uid"] for r in alerting.rules(DashboardsConfig(), "vi")}
    en_rules = {r["uid"] for r in alerting.rules(DashboardsConfig(), "en")}
    assert vi_rules.isdisjoint(en_rules) and len(vi_rules) == len(en_rules) == 5


def test_thresholds_come_from_the_config(inventory: Inventory) -> None:
    cfg = DashboardsConfig(
        link_utilization_pct=90, link_utilization_warn_pct=75, optics_rx_min_dbm=-18.5, usage_crit_pct=95
    )
    built = {"en": [d for _, d in build_all("en", DS, cfg, inventory)]}

    def steps(uid: str, title: str) -> list[Any]:
        p = _panel(built, "en", uid, title)
        return [s["value"] for s in p["fieldConfig"]["defaults"]["thresholds"]["steps"]]

    assert steps("nocsoc-backbone-links", "Utilization") == [None, 75, 90]
    assert steps("nocsoc-backbone-links", "Optical power (rx/tx)") == [None, -18.5]
    assert steps("nocsoc-ioc-overview", "Busiest link") == [None, 75, 90]
    assert steps("nocsoc-device-detail", "CPU") == [None, 70, 95]
    rules = {r["uid"]: r for r in alerting.rules(cfg, "en", inventory)}
    assert rules["nocsoc-optics-low"]["data"][2]["model"]["conditions"][0]["evaluator"]["params"] == [-18.5]
    assert rules["nocsoc-optics-low"]["annotations"]["summary"].endswith("below the -18.5 dBm threshold.")
    assert rules["nocsoc-link-utilization"]["data"][-1]["model"]["expression"] == "$C > 90 || $D > 90"
    assert "above the 90% threshold" in rules["nocsoc-link-utilization"]["annotations"]["summary"]
    with pytest.raises(ValueError, match="link_utilization_warn_pct must be below"):
        DashboardsConfig(link_utilization_pct=50)


def test_one_link_down_rule_per_backbone_link(inventory: Inventory) -> None:
    ring = backbone_links(inventory)
    assert len(ring) == 12 and "ring-core01-dongphu" in ring and "dc-core01-core02" in ring
    assert len(inventory.links) == 59  # the other 47 are access uplinks, server NICs and UPS
    rules = alerting.rules(DashboardsConfig(), "vi", inventory)
    assert check_alert_rules(rules) == []
    down = [r for r in rules if r["uid"].startswith("nocsoc-link-down")]
    assert len(down) == 12 and all(len(r["uid"]) <= 40 for r in down)
    (one,) = [r for r in down if r["title"].endswith(": ring-budang-phurieng")]
    assert one["title"] == "Tuyến trục mất kết nối: ring-budang-phurieng"
    assert "\"link\" = 'ring-budang-phurieng'" in one["data"][0]["model"]["query"]
    assert "{{ $values.B.Value }}" in one["annotations"]["summary"]


def test_inventory_names_sites_exporters_and_backbone_links(built: dict[str, list[dict[str, Any]]]) -> None:
    bl = next(d for d in built["vi"] if d["uid"] == "nocsoc-backbone-links-vi")
    variables = {v["name"]: v for v in bl["templating"]["list"]}
    assert variables["link"]["regex"].startswith("/^(ring-core01-dongphu|ring-dongphu-budang|")
    assert "binhlong-dist01-acc01" not in variables["link"]["regex"]
    assert variables["link_device"]["hide"] == 2 and variables["link_ifname"]["hide"] == 2
    optics = _panel(built, "vi", "nocsoc-backbone-links", "Công suất quang (thu/phát)")
    assert '"device" =~ /^$link_device$/ AND "ifname" =~ /^$link_ifname$/' in optics["targets"][0]["query"]
    dd = next(d for d in built["vi"] if d["uid"] == "nocsoc-device-detail-vi")
    site = next(v for v in dd["templating"]["list"] if v["name"] == "site")
    assert site["type"] == "custom" and "Bù Gia Mập : bugiamap" in site["query"]
    up = _panel(built, "vi", "nocsoc-ioc-overview", "Thiết bị hoạt động theo địa điểm")
    renames = {o["matcher"]["options"]: o["properties"][0]["value"] for o in up["fieldConfig"]["overrides"]}
    assert renames["bugiamap"] == "Bù Gia Mập"
    fl = next(d for d in built["en"] if d["uid"] == "nocsoc-flows")
    exporter = next(v for v in fl["templating"]["list"] if v["name"] == "exporter")
    assert exporter["type"] == "custom" and "dongxoai-core-01 : 127.10.0.1" in exporter["query"]
    status = _panel(built, "en", "nocsoc-backbone-links", "Link status")
    texts = {k: v["text"] for k, v in status["fieldConfig"]["defaults"]["mappings"][0]["options"].items()}
    assert texts["1"] == "Up" and texts["2"] == "Down"
