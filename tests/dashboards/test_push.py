"""`push` against a loopback Grafana stand-in: order, methods, paths, bodies, auth, idempotence,
dry run, and clear errors when Grafana is down, unhealthy or refuses the token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from nocsoc.cli.app import app
from nocsoc.dashboards.base import FOLDERS
from nocsoc.dashboards.config import DashboardsConfig
from nocsoc.dashboards.push import PushError, connect, push
from nocsoc.dashboards.registry import DASHBOARDS
from tests.dashboards.fake_grafana import FakeGrafana
from tests.servers.base import free_port

TOKEN = "glsa_test_token_0123456789"
RULE_UIDS = [
    "nocsoc-link-down",
    "nocsoc-link-utilization",
    "nocsoc-optics-low",
    "nocsoc-device-unreachable",
    "nocsoc-soc-critical",
]


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    with FakeGrafana(TOKEN) as g:
        yield g


def _push(g: FakeGrafana, locale: str = "en", dry_run: bool = False, token: str = TOKEN) -> Any:
    api = connect(g.url, token)
    try:
        return push(api, g.url, DashboardsConfig(), locale, dry_run=dry_run)
    finally:
        api.client.s.close()


def test_first_push_creates_everything_in_dependency_order(
    grafana: FakeGrafana, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOCSOC_INFLUX_PASSWORD", "influx-pw")
    report = _push(grafana)
    st = grafana.state
    assert report.grafana_version == "12.3.0"
    assert [(r.method, r.path) for r in st.requests[:2]] == [
        ("GET", "/api/health"),
        ("GET", "/api/frontend/settings"),
    ]
    assert all(r.auth == f"Bearer {TOKEN}" for r in st.requests)
    writes = [(r.method, r.path) for r in st.writes()]
    assert writes == (
        [("POST", "/api/folders")] * 3
        + [("POST", "/api/datasources")]
        + [("POST", "/api/dashboards/db")] * 7
        + [("POST", "/api/v1/provisioning/alert-rules")] * 5
    )
    assert {f["uid"]: f["title"] for f in st.folders.values()} == {v: k for k, v in FOLDERS.items()}
    (ds_req,) = [r for r in st.writes() if r.path == "/api/datasources"]
    assert ds_req.body["type"] == "influxdb" and ds_req.body["uid"] == "nocsoc-influxdb"
    assert ds_req.body["jsonData"] == {"dbName": "nocsoc", "httpMode": "POST", "version": "InfluxQL"}
    assert ds_req.body["secureJsonData"] == {"password": "influx-pw"}  # from the env var, at create only
    dash_reqs = [r.body for r in st.writes() if r.path == "/api/dashboards/db"]
    assert [b["dashboard"]["uid"] for b in dash_reqs] == [s.uid for s in DASHBOARDS]
    assert all(b["overwrite"] is True and b["dashboard"]["id"] is None for b in dash_reqs)
    assert {b["dashboard"]["uid"]: b["folderUid"] for b in dash_reqs} == {
        s.uid: FOLDERS[s.folder] for s in DASHBOARDS
    }
    assert st.dashboards["nocsoc-ioc-overview"]["dashboard"]["title"] == "IOC overview"
    rule_reqs = [r.body for r in st.writes() if "alert-rules" in r.path]
    assert [b["uid"] for b in rule_reqs] == RULE_UIDS
    assert rule_reqs[-1]["folderUID"] == FOLDERS["SOC"] and rule_reqs[0]["folderUID"] == FOLDERS["Network"]
    assert (report.count("create"), report.count("update"), report.count("unchanged")) == (16, 0, 0)


def test_second_push_changes_nothing(grafana: FakeGrafana) -> None:
    _push(grafana)
    versions = {uid: d["dashboard"]["version"] for uid, d in grafana.state.dashboards.items()}
    grafana.state.requests.clear()
    report = _push(grafana)
    assert grafana.state.writes() == []
    assert {c.action for c in report.changes} == {"unchanged"} and len(report.changes) == 16
    assert {uid: d["dashboard"]["version"] for uid, d in grafana.state.dashboards.items()} == versions


def test_push_repairs_only_what_drifted(grafana: FakeGrafana) -> None:
    _push(grafana)
    st = grafana.state
    st.dashboards["nocsoc-flows"]["dashboard"]["panels"][1]["title"] = "edited in the UI"
    st.dashboards["nocsoc-soc-alerts"]["meta"]["folderUid"] = FOLDERS["IOC"]
    st.rules["nocsoc-optics-low"]["for"] = "1h"
    st.datasources["nocsoc-influxdb"]["url"] = "http://elsewhere:8086"
    st.folders["nocsoc-soc"]["title"] = "Security"
    st.requests.clear()
    report = _push(grafana)
    writes = [(r.method, r.path) for r in st.writes()]
    assert writes == [
        ("PUT", "/api/folders/nocsoc-soc"),
        ("PUT", "/api/datasources/uid/nocsoc-influxdb"),
        ("POST", "/api/dashboards/db"),
        ("POST", "/api/dashboards/db"),
        ("PUT", "/api/v1/provisioning/alert-rules/nocsoc-optics-low"),
    ]
    updates = {(c.kind, c.uid): c.detail for c in report.changes if c.action == "update"}
    assert updates == {
        ("folder", "nocsoc-soc"): "title was 'Security'",
        ("datasource", "nocsoc-influxdb"): "url",
        ("dashboard", "nocsoc-flows"): "content",
        ("dashboard", "nocsoc-soc-alerts"): "folder",
        ("alert_rule", "nocsoc-optics-low"): "for",
    }
    assert st.rules["nocsoc-optics-low"]["for"] == "5m"
    st.requests.clear()
    _push(grafana)
    assert st.writes() == []


def test_dry_run_reads_only_and_reports_what_would_change(grafana: FakeGrafana) -> None:
    report = _push(grafana, dry_run=True)
    assert grafana.state.writes() == []
    assert report.count("create") == 16
    _push(grafana)
    # another locale installs beside the first: its own folders, dashboards and rules (uids `-vi`)
    report = _push(grafana, locale="vi", dry_run=True)
    assert {(c.kind, c.action) for c in report.changes} == {
        ("folder", "create"),
        ("datasource", "unchanged"),
        ("dashboard", "create"),
        ("alert_rule", "create"),
    }
    assert {c.uid for c in report.changes if c.kind == "folder"} == {f"{u}-vi" for u in FOLDERS.values()}
    assert {c.title for c in report.changes if c.kind == "folder"} == {
        "Mạng",
        "An ninh mạng (SOC)",
        "Trung tâm điều hành (IOC)",
    }
    _push(grafana, locale="vi")
    assert grafana.state.dashboards["nocsoc-ioc-overview-vi"]["dashboard"]["title"] == "Tổng quan IOC"
    assert grafana.state.dashboards["nocsoc-ioc-overview"]["dashboard"]["title"] == "IOC overview"


def test_a_refused_object_is_named(grafana: FakeGrafana) -> None:
    _push(grafana)
    flows = grafana.state.dashboards["nocsoc-flows"]
    flows["meta"]["provisioned"] = True  # loaded from files: Grafana refuses API saves
    flows["dashboard"]["title"] = "changed"
    with pytest.raises(
        PushError, match=r"refused dashboard nocsoc-flows \(HTTP 400\).*Cannot save provisioned"
    ):
        _push(grafana)


def test_unreachable_grafana_is_a_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    api = connect(url, TOKEN, timeout=2)
    with pytest.raises(PushError, match=f"cannot reach Grafana at {url}"):
        push(api, url, DashboardsConfig())


def test_unhealthy_grafana_and_bad_token(grafana: FakeGrafana) -> None:
    with pytest.raises(PushError, match="refused the token"):
        _push(grafana, token="wrong")
    assert grafana.state.writes() == []
    grafana.state.database_ok = False
    with pytest.raises(PushError, match=f"Grafana at {grafana.url} is not healthy"):
        _push(grafana)
    assert [r.path for r in grafana.state.requests][-1] == "/api/health"


def test_cli_push_uses_the_token_env_and_never_prints_it(
    grafana: FakeGrafana, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.chdir(tmp_path)  # no nocsoc.yaml here: defaults
    monkeypatch.delenv("NOCSOC_CONFIG", raising=False)
    monkeypatch.setenv("MY_GRAFANA_TOKEN", TOKEN)
    runner = CliRunner()
    dry = runner.invoke(
        app,
        [
            "dashboards",
            "push",
            "--url",
            grafana.url,
            "--token-env",
            "MY_GRAFANA_TOKEN",
            "--dry-run",
            "--json",
        ],
    )
    assert dry.exit_code == 0, dry.output
    out = json.loads(dry.stdout)
    assert out["dry_run"] is True and {c["action"] for c in out["changes"]} == {"create"}
    assert grafana.state.writes() == []
    real = runner.invoke(
        app, ["dashboards", "push", "--url", grafana.url, "--token-env", "MY_GRAFANA_TOKEN", "--locale", "en"]
    )
    assert real.exit_code == 0, real.output
    assert "create 16, update 0, unchanged 0" in " ".join(real.output.split())
    assert TOKEN not in dry.output + real.output
    missing = runner.invoke(app, ["dashboards", "push", "--url", grafana.url, "--token-env", "NOPE_UNSET"])
    assert missing.exit_code == 2 and "NOPE_UNSET is not set" in missing.output
    bad = runner.invoke(app, ["dashboards", "push", "--url", f"http://127.0.0.1:{free_port()}"])
    assert bad.exit_code == 1 and "cannot reach Grafana" in bad.output
