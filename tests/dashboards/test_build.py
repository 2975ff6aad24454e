"""Generated dashboards, alert rules and provisioning: Grafana's JSON Schemas, nocsoc's own checks
(each shown to catch the fault it exists for), both locales, and the files `build` writes."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from nocsoc import schema
from nocsoc.dashboards import alerting
from nocsoc.dashboards.base import localized_uid
from nocsoc.dashboards.config import DashboardsConfig
from nocsoc.dashboards.i18n import TranslationError, Translator, catalog
from nocsoc.dashboards.influxql import select, subquery, tag_values
from nocsoc.dashboards.provisioning import build_tree
from nocsoc.dashboards.registry import DASHBOARDS, build_all
from nocsoc.dashboards.validate import (
    check_alert_rules,
    check_dashboards,
    panels_of,
    query_name_problems,
    schema_errors,
)

DS = "nocsoc-influxdb"
VI_LETTERS = re.compile(r"[ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ]", re.I)


@pytest.fixture(scope="module")
def built() -> dict[str, list[dict[str, Any]]]:
    return {loc: [d for _, d in build_all(loc, DS)] for loc in ("vi", "en")}


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_every_dashboard_matches_grafana_json_schemas(
    built: dict[str, list[dict[str, Any]]], locale: str, shared_dir: Path
) -> None:
    schema_dir = shared_dir / "grafana-jsonschema"
    dashboards = built[locale]
    assert [d["uid"] for d in dashboards] == [localized_uid(s.uid, locale) for s in DASHBOARDS]
    problems = [p for d in dashboards for p in schema_errors(d, schema_dir)]
    assert problems == []
    types = {p["type"] for d in dashboards for p in panels_of(d)}
    # every panel type used was validated against its own schema file (not silently skipped)
    # (the weathermap plugin has no JSON Schema: its options are checked against its own model)
    assert types == {
        "row",
        "stat",
        "bargauge",
        "timeseries",
        "piechart",
        "table",
        "state-timeline",
        "knightss27-weathermap-panel",
    }
    assert all(d["schemaVersion"] == 42 for d in dashboards)


def test_schema_validation_catches_a_bad_panel(
    built: dict[str, list[dict[str, Any]]], shared_dir: Path
) -> None:
    d = copy.deepcopy(built["en"][0])
    stat = next(p for p in d["panels"] if p["type"] == "stat")
    stat["options"]["graphMode"] = "sparkles"
    d["graphTooltip"] = "crosshair"
    errors = [str(p) for p in schema_errors(d, shared_dir / "grafana-jsonschema")]
    assert any("graphMode" in e and "sparkles" in e for e in errors), errors
    assert any("graphTooltip" in e for e in errors), errors


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_nocsoc_checks_pass_on_generated_dashboards_and_rules(
    built: dict[str, list[dict[str, Any]]], locale: str
) -> None:
    assert check_dashboards(built[locale]) == []
    assert check_alert_rules(alerting.rules(DashboardsConfig(), locale)) == []


def test_every_panel_has_targets_on_the_nocsoc_datasource(built: dict[str, list[dict[str, Any]]]) -> None:
    for d in built["en"]:
        for p in panels_of(d):
            if p["type"] == "row":
                continue
            assert p["targets"], f"{d['uid']} / {p['title']} has no query"
            assert p["datasource"] == {"type": "influxdb", "uid": DS}
            for t in p["targets"]:
                assert t["datasource"] == {"type": "influxdb", "uid": DS}
                assert t["rawQuery"] is True and t["resultFormat"] in ("time_series", "table")


def _first(d: dict[str, Any], ptype: str) -> dict[str, Any]:
    return next(p for p in panels_of(d) if p["type"] == ptype)


def test_checks_catch_overlap_duplicates_undefined_variables_and_unknown_names(
    built: dict[str, list[dict[str, Any]]],
) -> None:
    d = copy.deepcopy(next(x for x in built["en"] if x["uid"] == "nocsoc-device-detail"))
    ts = [p for p in panels_of(d) if p["type"] == "timeseries"]
    ts[1]["gridPos"] = dict(ts[0]["gridPos"], x=ts[0]["gridPos"]["x"] + 1)  # overlap by 1 column
    ts[2]["id"] = ts[3]["id"]  # duplicate panel id
    poll = next(p for p in panels_of(d) if len(p.get("targets", [])) == 2)
    poll["targets"][1]["refId"] = "A"  # duplicate refId
    ts[3]["targets"][0]["query"] += ' AND "device" =~ /^$router$/'  # undefined variable
    assert '"in_bps"' in ts[2]["targets"][0]["query"]
    ts[2]["targets"][0]["query"] = ts[2]["targets"][0]["query"].replace('"in_bps"', '"in_bytes"')
    stat = _first(d, "stat")
    stat["targets"][0]["query"] = stat["targets"][0]["query"].replace('FROM "device"', 'FROM "devices"')
    problems = "\n".join(map(str, check_dashboards([d, d])))
    assert "dashboard uid used twice" in problems
    assert "overlaps panel" in problems
    assert f"panel id {ts[3]['id']} also used" in problems
    assert "refId A used twice" in problems
    assert "undefined variable $router" in problems
    assert "field or tag 'in_bytes' is not in measurement(s) interface" in problems
    assert "measurement 'devices' is not in the schema" in problems


def test_query_name_check_understands_subqueries_strings_and_regexes() -> None:
    ok = (
        'SELECT top("b", "key", 3) AS "b" FROM (SELECT sum("bytes") AS "b" FROM "flow_top" '
        'WHERE $timeFilter AND "kind" = \'a"b\' AND "key" =~ /x"y/ GROUP BY "key")'
    )
    assert query_name_problems(ok)[0] == []
    bad = 'SELECT top("c", "key", 3) FROM (SELECT sum("bytes") AS "b" FROM "flow_top" GROUP BY "key")'
    assert query_name_problems(bad)[0] == [
        "field or tag 'c' is not in measurement(s) (subquery) of the schema"
    ]
    assert query_name_problems("SELECT x FROM device")[0][0].startswith("measurement 'device' is not quoted")
    assert query_name_problems('SHOW TAG VALUES FROM "interface" WITH KEY = "lnk"')[0] == [
        "tag 'lnk' is not in measurement(s) interface of the schema"
    ]


def test_alert_rule_check_catches_bad_condition_and_names() -> None:
    rules = alerting.rules(DashboardsConfig(), "en")
    broken = copy.deepcopy(rules[0])
    broken["condition"] = "Z"
    broken["data"][0]["model"]["query"] = broken["data"][0]["model"]["query"].replace(
        "oper_status", "status_x"
    )
    problems = [str(p) for p in check_alert_rules([*rules, broken])]
    assert "nocsoc-link-down: alert rule uid used twice" in problems
    assert "nocsoc-link-down: condition 'Z' is not one of ['A', 'B', 'C']" in problems
    assert any("'status_x' is not in measurement(s) interface" in p for p in problems)


def test_builder_refuses_names_the_schema_lacks() -> None:
    with pytest.raises(schema.SchemaError, match="no field 'in_bytes'"):
        select(schema.INTERFACE).agg("mean", "in_bytes")
    with pytest.raises(schema.SchemaError, match="no tag 'router'"):
        select(schema.INTERFACE).match_var("router", "device")
    with pytest.raises(ValueError, match="subquery has no column 'x'"):
        subquery(select(schema.DEVICE).agg("last", "reachable", "up")).agg("sum", "x")
    assert tag_values(schema.DEVICE, "device", {"site": "site"}) == (
        'SHOW TAG VALUES FROM "device" WITH KEY = "device" WHERE "site" =~ /^$site$/'
    )


def test_locales_have_the_same_keys_and_vietnamese_is_vietnamese(
    built: dict[str, list[dict[str, Any]]],
) -> None:
    assert catalog("vi").keys() == catalog("en").keys()
    vi, en = built["vi"], built["en"]
    titles = {d["uid"]: d["title"] for d in vi}
    assert titles["nocsoc-ioc-overview-vi"] == "Tổng quan IOC"
    assert titles["nocsoc-soc-alerts-vi"] == "Cảnh báo SOC"
    assert titles["nocsoc-flows-vi"] == "Luồng lưu lượng"
    for dv, de in zip(vi, en, strict=True):
        pv = [p["title"] for p in panels_of(dv)]
        pe = [p["title"] for p in panels_of(de)]
        assert len(pv) == len(pe)
        translated = [a for a, b in zip(pv, pe, strict=True) if a != b]
        # only brand names (CPU, IPv4 / IPv6) may stay the same
        assert len(translated) >= len(pv) - 2, (dv["uid"], set(pv) & set(pe))
        assert sum(bool(VI_LETTERS.search(t)) for t in pv) >= len(pv) - 2
    with pytest.raises(TranslationError, match="no text for key 'nope'"):
        Translator("vi")("nope")
    with pytest.raises(TranslationError, match="unknown locale 'fr'"):
        Translator("fr")


def test_build_writes_the_provisioning_tree(tmp_path: Path) -> None:
    cfg = DashboardsConfig(influx_url="http://influxdb:8086", influx_database="noc")
    report = build_tree(tmp_path, cfg, "vi", dashboards_path="/dash")
    files = sorted(str(p.relative_to(tmp_path)) for p in report.written)
    ioc, net, soc = "Trung tâm điều hành (IOC)", "Mạng", "An ninh mạng (SOC)"
    assert files == sorted(
        [
            "provisioning/datasources/nocsoc.yaml",
            "provisioning/dashboards/nocsoc.yaml",
            "provisioning/alerting/nocsoc.yaml",
            f"dashboards/{ioc}/ioc-overview-vi.json",
            f"dashboards/{ioc}/collector-health-vi.json",
            f"dashboards/{net}/backbone-links-vi.json",
            f"dashboards/{net}/weathermap-vi.json",
            f"dashboards/{net}/device-detail-vi.json",
            f"dashboards/{net}/flows-vi.json",
            f"dashboards/{soc}/soc-alerts-vi.json",
        ]
    )
    ds = yaml.safe_load((tmp_path / "provisioning/datasources/nocsoc.yaml").read_text())
    assert ds["apiVersion"] == 1
    (d,) = ds["datasources"]
    assert d == {
        "name": "nocsoc InfluxDB",
        "type": "influxdb",
        "uid": DS,
        "access": "proxy",
        "url": "http://influxdb:8086",
        "user": "${NOCSOC_INFLUX_USER}",
        "isDefault": False,
        "editable": False,
        "jsonData": {"dbName": "noc", "httpMode": "POST", "version": "InfluxQL"},
        "secureJsonData": {"password": "${NOCSOC_INFLUX_PASSWORD}"},
    }
    prov = yaml.safe_load((tmp_path / "provisioning/dashboards/nocsoc.yaml").read_text())
    assert prov["providers"][0]["type"] == "file"
    assert prov["providers"][0]["options"] == {"path": "/dash", "foldersFromFilesStructure": True}
    board = json.loads((tmp_path / f"dashboards/{ioc}/ioc-overview-vi.json").read_text(encoding="utf-8"))
    assert board["uid"] == "nocsoc-ioc-overview-vi" and board["title"] == "Tổng quan IOC"  # bare JSON, UTF-8
    al = yaml.safe_load((tmp_path / "provisioning/alerting/nocsoc.yaml").read_text())
    assert al["contactPoints"][0]["receivers"][0]["settings"] == {"url": "${NOCSOC_ALERT_WEBHOOK_URL}"}
    assert al["policies"][0]["receiver"] == al["contactPoints"][0]["name"]
    groups = {g["name"]: g for g in al["groups"]}
    assert {g["folder"] for g in al["groups"]} == {net, soc}
    uids = [r["uid"] for g in al["groups"] for r in g["rules"]]
    assert uids == [
        "nocsoc-link-down-vi",
        "nocsoc-link-utilization-vi",
        "nocsoc-optics-low-vi",
        "nocsoc-device-unreachable-vi",
        "nocsoc-soc-critical-vi",
    ]
    util = groups["nocsoc-network"]["rules"][1]
    assert util["for"] == "15m"
    assert util["data"][-1]["model"] == {
        "refId": "E",
        "datasource": {"type": "__expr__", "uid": "__expr__"},
        "type": "math",
        "expression": "$C > 80 || $D > 80",
    }
    optics = groups["nocsoc-network"]["rules"][2]
    assert optics["data"][2]["model"]["conditions"][0]["evaluator"] == {"type": "lt", "params": [-20.0]}
    assert optics["annotations"]["summary"] == (
        "Công suất thu tại {{ .Labels.device }} {{ .Labels.ifname }} là {{ humanize $values.B.Value }} dBm, "
        "dưới ngưỡng -20 dBm."
    )
    # Grafana expands $NAME in labels: none may carry a `$`
    assert not any("$" in v for g in al["groups"] for r in g["rules"] for v in r["labels"].values())
    # a rebuild changes nothing
    again = build_tree(tmp_path, cfg, "vi", dashboards_path="/dash")
    assert again.written == [] and len(again.unchanged) == 10


def test_build_holds_no_literal_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOCSOC_INFLUX_PASSWORD", "s3cret-influx")
    monkeypatch.setenv("NOCSOC_ALERT_WEBHOOK_URL", "https://hooks.example/s3cret")
    build_tree(tmp_path, DashboardsConfig(), "en")
    for f in tmp_path.rglob("*"):
        if f.is_file():
            assert "s3cret" not in f.read_text(encoding="utf-8"), f


def test_config_refuses_a_literal_grafana_token() -> None:
    with pytest.raises(ValueError, match="must be a secret reference"):
        DashboardsConfig(grafana_token="glsa_abcdef")
    assert DashboardsConfig(grafana_token="env:GRAFANA_TOKEN").grafana_token == "env:GRAFANA_TOKEN"


def test_devices_down_shows_zero_when_nothing_is_down() -> None:
    """count() over no down device returns no series in InfluxQL: the stat shows 0, not 'No data'."""
    (ioc,) = [data for spec, data in build_all("en", "nocsoc-influxdb") if spec.uid == "nocsoc-ioc-overview"]
    (down,) = [p for p in ioc["panels"] if p.get("title") == "Devices down"]
    assert down["fieldConfig"]["defaults"]["noValue"] == "0"
