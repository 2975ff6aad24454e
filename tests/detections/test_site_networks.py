"""The Remote Desktop rule's "outside the province's networks" is the union of the inventory's site
`networks:` (the `%site_networks%` placeholder, expanded when rules load). Without any, the rule
is disabled (one log line from the log pipeline, counted; listed by `rules list`): never run
against an empty list, which would call every address "outside"."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nocsoc.cli.app import app
from nocsoc.collectors.logs.config import LogsConfig
from nocsoc.collectors.logs.pipeline import LogPipeline
from nocsoc.collectors.logs.ruletest import parse_lines, run_engine
from nocsoc.detections.config import DetectionsConfig
from nocsoc.detections.loader import builtin_rules_dir, load_rules
from nocsoc.detections.placeholders import from_inventory
from nocsoc.inventory.store import load_inventory

RDP = "Remote Desktop Logon From Outside the Province's Networks"
RDP_ID = "bf06da3e-a4ef-40e2-a3bb-b4f01abbda60"
SAMPLES = builtin_rules_dir() / "tests"
SAMPLE = (SAMPLES / "nocsoc_win_rdp_logon_external.match.log").read_text().splitlines()[0]


def _rdp_from(ip: str) -> str:
    """The rule's own sample (NXLog JSON of a 4624 type 10) with another source address."""
    doc = json.loads(SAMPLE)
    doc["IpAddress"] = ip
    return json.dumps(doc)


INVENTORY = """\
version: 1
sites:
  - id: trung-tam
    name: Trung tâm dữ liệu tỉnh
    kind: province_dc
    networks: [10.20.0.0/16, 203.0.113.0/28, 2001:db8:20::/48]
  - id: xa-tan-loi
    name: Xã Tân Lợi
    kind: commune
    networks: [10.21.4.0/24]
  - id: phuong-1
    name: Phường 1
    kind: ward
"""


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    f = tmp_path / "inventory.yaml"
    f.write_text(INVENTORY, encoding="utf-8")
    return f


def _fired(rs: object, ips: list[str]) -> list[str]:
    from nocsoc.detections.loader import RuleSet

    assert isinstance(rs, RuleSet)
    _, dets = run_engine(rs, parse_lines([_rdp_from(ip) for ip in ips]))
    return sorted(str(d.samples[0].fields["IpAddress"]) for d in dets if d.rule_id == RDP_ID)


def test_outside_means_outside_every_site(inventory: Path) -> None:
    rs = load_rules([], include_builtin=True, placeholders=from_inventory(load_inventory(inventory)))
    assert rs.disabled == [] and rs.errors == []
    inside = ["10.20.7.9", "10.21.4.200", "203.0.113.14", "2001:db8:20:5::10", "127.0.0.1", "fe80::1"]
    outside = ["10.21.5.1", "203.0.113.16", "198.51.100.7", "2001:db8:21::1", "192.168.1.10"]
    # a commune's prefix counts as much as the data center's; private ranges no site lists do not
    assert _fired(rs, inside + outside) == sorted(outside)


def test_no_networks_disables_the_rule() -> None:
    rs = load_rules([], include_builtin=True, placeholders=from_inventory(None))
    assert [d.to_dict() for d in rs.disabled] == [{
        "path": str(builtin_rules_dir() / "windows_ad.yml"), "rule": RDP_ID, "title": RDP,
        "message": "disabled: it needs %site_networks% (the `networks:` prefixes of the inventory's sites) "
                   "and none is configured"}]
    assert rs.by_id(RDP_ID) is None and not rs.errors
    # every RDP logon, from anywhere: nothing fires, the rest of the pack still loads and runs
    assert _fired(rs, ["198.51.100.7", "10.20.7.9"]) == []
    assert len(rs.rules) == len(load_rules([], include_builtin=True,
                                           placeholders={"site_networks": ["10.0.0.0/8"]}).rules) - 1


def test_the_log_pipeline_says_and_counts_the_disabled_rule(tmp_path: Path, inventory: Path,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    det = DetectionsConfig(alerts_db=str(tmp_path / "alerts.db"))
    cfg = LogsConfig(syslog_udp=None, syslog_tcp=None)
    with caplog.at_level(logging.WARNING, logger="nocsoc.collectors.logs.pipeline"):
        without = LogPipeline(cfg, det, None, base_dir=tmp_path)
        without.prepare()  # start() loads the rules
    assert [r.getMessage() for r in caplog.records] == [
        f"rule {RDP!r} ({builtin_rules_dir() / 'windows_ad.yml'}) disabled: it needs %site_networks% "
        "(the `networks:` prefixes of the inventory's sites) and none is configured"]
    with_nets = LogPipeline(cfg, det, None, base_dir=tmp_path,
                            placeholders=from_inventory(load_inventory(inventory)))
    with_nets.prepare()
    try:
        assert (without.counters.get("rules_disabled"), without.status()["rules_disabled"]) == (1, 1)
        assert (with_nets.counters.get("rules_disabled"), with_nets.status()["rules_disabled"]) == (0, 0)
    finally:
        without.stop()
        with_nets.stop()


def _cli(cwd: Path, *args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(app, list(args), env={"NOCSOC_CONFIG": str(cwd / "nocsoc.yaml")})
    return res.exit_code, res.stdout, res.stderr


def test_detect_and_rules_list_read_the_inventory(tmp_path: Path, inventory: Path) -> None:
    log = tmp_path / "dc01.jsonl"
    log.write_text("\n".join(_rdp_from(ip) for ip in ("10.20.7.9", "198.51.100.7")) + "\n")
    (tmp_path / "nocsoc.yaml").write_text("inventory: inventory.yaml\n")
    code, out, err = _cli(tmp_path, "detect", str(log), "--json")
    assert code == 0, err
    assert [(a["rule_title"], a["src_ip"]) for a in json.loads(out)["alerts"]] == [(RDP, "198.51.100.7")]
    code, out, _ = _cli(tmp_path, "rules", "list", "--json")
    assert code == 0 and json.loads(out)["disabled"] == []
    # sites without networks: the rule is disabled, said once, and nothing fires
    bare = "\n".join(ln for ln in INVENTORY.splitlines() if "networks:" not in ln) + "\n"
    inventory.write_text(bare, encoding="utf-8")
    code, out, _ = _cli(tmp_path, "detect", str(log), "--json")
    assert code == 0 and json.loads(out)["alerts"] == []
    code, out, _ = _cli(tmp_path, "rules", "list", "--json")
    assert [d["rule"] for d in json.loads(out)["disabled"]] == [RDP_ID]
    # a broken inventory: one warning line naming file:line, hunting goes on without the rule
    inventory.write_text(INVENTORY.replace("10.21.4.0/24", "10.21.4.1/24"), encoding="utf-8")
    code, out, err = _cli(tmp_path, "detect", str(log), "--json")
    assert code == 0 and json.loads(out)["alerts"] == []
    assert (f"warning {inventory}:10: sites[1].networks[0]: network '10.21.4.1/24' has host bits set: did "
            "you mean 10.21.4.0/24?") in err.splitlines()


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("'%site_network%'", "unknown placeholder %site_network% (known: %site_networks%)"),
        ("'10.0.0.0/8 %site_networks%'", "a placeholder must be the whole value"),
    ],
)
def test_placeholder_mistakes_are_errors(tmp_path: Path, value: str, error: str) -> None:
    rule = tmp_path / "r.yml"
    rule.write_text(f"""\
title: RDP from outside
id: 5d7f7b0e-7b1e-4a52-9a55-0d3f2f3e4a10
status: test
logsource: {{product: windows, service: security}}
detection:
    sel: {{EventID: 4624}}
    ours:
        IpAddress|expand: {value}
    condition: sel and not ours
level: high
""")
    rs = load_rules([rule], placeholders={"site_networks": ["10.0.0.0/8"]})
    assert len(rs.errors) == 1 and rs.errors[0].path == str(rule)
    assert rs.errors[0].message.startswith(error)


def test_new_site_networks_on_reload_are_said(tmp_path: Path, inventory: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    det = DetectionsConfig(alerts_db=str(tmp_path / "alerts.db"))
    inv = load_inventory(inventory)
    p = LogPipeline(LogsConfig(syslog_udp=None, syslog_tcp=None), det, None, base_dir=tmp_path,
                    placeholders=from_inventory(inv))
    try:
        with caplog.at_level(logging.WARNING, logger="nocsoc.collectors.logs.pipeline"):
            p.reload(inv)  # the same networks: nothing to say
            assert caplog.records == []
            inv.sites[1].networks = ["10.21.5.0/24"]
            p.reload(inv)
        assert [r.getMessage() for r in caplog.records] == [
            "logs: the inventory's site networks changed; rules that use them (%site_networks%) keep "
            "the old ones until the logs worker restarts"]
    finally:
        p.stop()
