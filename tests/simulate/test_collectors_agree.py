"""nocsoc's own collectors read the simulator's output the way the ground truth says.

Skipped while those collectors are absent (they are built alongside the simulator); once present,
this is the cheapest end-to-end check: flows decoded and scaled by the announced sampling rate
equal the manifest, and every injected attack line parses into a known event type.
"""

from __future__ import annotations

from collections import Counter

import pytest

from nocsoc.simulate.scenario import Scenario, SimulateConfig
from nocsoc.simulate.syslog import Line
from tests.simulate.conftest import small_inventory


def _rendered(ticks: int = 7) -> tuple[Scenario, list[tuple[str, bytes]], list[Line]]:
    sc = Scenario(
        small_inventory(16100),
        SimulateConfig(seed=8, speed=600, anchor=1_790_000_000.0, snmp=False, flows_to=None, syslog_to=None),
    )
    flows: list[tuple[str, bytes]] = []
    lines: list[Line] = []
    for k in range(ticks):
        f, ln = sc.render_tick(k)
        flows += f
        lines += ln
    return sc, flows, lines


def test_flow_collector_decodes_and_scales_to_the_manifest(community_env: str) -> None:
    decoder_mod = pytest.importorskip("nocsoc.collectors.flows.decoder")
    sc, flows, _ = _rendered()
    batches = decoder_mod.NetflowDecoder().decode([(pkt, src, 1_790_000_010.0) for src, pkt in flows])
    m = sc.manifest()["flows"]["exporters"]
    assert sum(len(b.bytes) for b in batches) == sum(e["records"] for e in m)
    assert sum(int(b.bytes.sum()) for b in batches) == sum(e["bytes_scaled"] for e in m)
    assert {int(r) for b in batches for r in b.rate} == {100}  # learnt from the options template


def test_log_parsers_understand_every_attack_line(community_env: str) -> None:
    parsers = pytest.importorskip("nocsoc.collectors.logs.parsers")
    sc, _, lines = _rendered()
    lp = parsers.LineParser()
    kinds: Counter[tuple[str, str]] = Counter()
    tag_kind = {a["id"]: a["kind"] for a in sc.manifest()["attacks"]}
    for ln in lines:
        if ln.tag:
            ev = lp.parse_syslog(ln.text, sender=sc.syslog_source(ln.device))
            kinds[(tag_kind[ln.tag], str(ev.parser))] += 1
    assert kinds == {
        ("ssh_brute_force", "sshd"): 30,
        ("ssh_login_after_brute_force", "sshd"): 1,
        ("web_sqli", "web"): 10,
        ("web_traversal", "web"): 8,
        ("port_scan", "netfilter"): 50,
        ("router_login_failed", "cisco"): 8,
    }
