"""`nocsoc dashboards build | list | check` through the real CLI."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from nocsoc.cli.app import app
from nocsoc.lineproto import encode_many
from tests.dashboards import backbone_data as bb

runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NOCSOC_CONFIG", raising=False)


def test_build_writes_the_tree_and_reports_it(tmp_path: Path) -> None:
    out = tmp_path / "grafana"
    res = runner.invoke(app, ["dashboards", "build", "--out", str(out), "--locale", "en", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["locale"] == "en" and len(report["written"]) == 10 and report["unchanged"] == []
    assert {d["uid"]: d["folder"] for d in report["dashboards"]}["nocsoc-soc-alerts"] == "SOC"
    assert json.loads((out / "dashboards/SOC/soc-alerts.json").read_text())["title"] == "SOC alerts"
    again = runner.invoke(app, ["dashboards", "build", "--out", str(out), "--locale", "en"])
    assert again.exit_code == 0 and "0 file(s) written, 10 unchanged" in again.output


def test_build_follows_nocsoc_yaml_and_rejects_a_bad_locale(tmp_path: Path) -> None:
    (tmp_path / "nocsoc.yaml").write_text(
        "dashboards:\n  locale: vi\n  out_dir: gf\n  influx_database: tinh\n"
    )
    res = runner.invoke(app, ["dashboards", "build"])
    assert res.exit_code == 0, res.output
    board = json.loads(
        (tmp_path / "gf/dashboards/Trung tâm điều hành (IOC)/ioc-overview-vi.json").read_text(
            encoding="utf-8"
        )
    )
    assert board["title"] == "Tổng quan IOC"
    assert "dbName: tinh" in (tmp_path / "gf/provisioning/datasources/nocsoc.yaml").read_text()
    bad = runner.invoke(app, ["dashboards", "build", "--locale", "fr"])
    assert bad.exit_code == 2 and "--locale must be vi or en" in bad.output
    (tmp_path / "nocsoc.yaml").write_text("dashboards:\n  locale: de\n")
    broken = runner.invoke(app, ["dashboards", "build"])
    assert broken.exit_code == 2 and "nocsoc.yaml" in broken.output


def test_build_can_check_grafana_json_schemas(tmp_path: Path, shared_dir: Path) -> None:
    res = runner.invoke(
        app,
        [
            "dashboards",
            "build",
            "--out",
            str(tmp_path / "g"),
            "--jsonschema",
            str(shared_dir / "grafana-jsonschema"),
        ],
    )
    assert res.exit_code == 0, res.output
    bad = runner.invoke(
        app, ["dashboards", "build", "--out", str(tmp_path / "g"), "--jsonschema", str(tmp_path)]
    )
    assert bad.exit_code == 2 and "no dashboard.jsonschema.json there" in bad.output


def test_list_json() -> None:
    res = runner.invoke(app, ["dashboards", "list", "--json", "--locale", "en"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert [r["uid"] for r in rows if r["kind"] == "dashboard"] == [
        "nocsoc-ioc-overview",
        "nocsoc-backbone-links",
        "nocsoc-weathermap",
        "nocsoc-device-detail",
        "nocsoc-flows",
        "nocsoc-soc-alerts",
        "nocsoc-collector-health",
    ]
    assert {r["uid"]: r["folder"] for r in rows if r["kind"] == "alert_rule"} == {
        "nocsoc-link-down": "Network",
        "nocsoc-link-utilization": "Network",
        "nocsoc-optics-low": "Network",
        "nocsoc-device-unreachable": "Network",
        "nocsoc-soc-critical": "SOC",
    }


@pytest.mark.servers
def test_check_proves_queries_on_influxdb_and_fails_on_an_empty_one(influxd: Any, influx_db: str) -> None:
    empty = runner.invoke(
        app, ["dashboards", "check", "--influx-url", influxd.url, "--db", influx_db, "--json"]
    )
    assert empty.exit_code == 1
    assert all(r["rows"] == 0 and not r["error"] for r in json.loads(empty.stdout))
    influxd.write(influx_db, "\n".join(encode_many(bb.make(time.time_ns() - 30_000_000_000).points)))
    full = runner.invoke(
        app, ["dashboards", "check", "--influx-url", influxd.url, "--db", influx_db, "--json"]
    )
    assert full.exit_code == 0, full.output
    results = json.loads(full.stdout)
    assert len(results) == 87 and all(r["rows"] > 0 for r in results)
