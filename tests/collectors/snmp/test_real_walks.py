"""nocsoc against ~46 real devices: LibreNMS's recordings served by snmpsim, polled over UDP.

Every recording in ../shared/snmp-walks/snmprec is served by one snmpsim process (one data dir
and UDP port per device) and polled once by the SnmpPoller, all devices concurrently. What
nocsoc writes is compared, reading by reading, with what LibreNMS found on the same recording
(`expected/<stem>.json`, see walkcheck.py): ports, optics dBm (same interface, same direction,
within 0.5 dB), temperatures, processors and memory pools.

The coverage table in docs/snmp-coverage.md is generated from this comparison: the test fails
when it is stale; `NOCSOC_UPDATE_DOCS=1` rewrites it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest

from nocsoc.collectors.snmp.config import SnmpConfig
from nocsoc.collectors.snmp.poller import PollResult, SnmpPoller
from nocsoc.inventory.model import Inventory
from nocsoc.sinks.memory import MemorySink
from tests.collectors.snmp import walkcheck
from tests.servers.snmp import SnmpSim

pytestmark = pytest.mark.servers
DOC = walkcheck.ROOT / "docs" / "snmp-coverage.md"


def device_name(stem: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", stem)


@pytest.fixture(scope="module")
def polled(snmp_secrets: None) -> Iterator[tuple[dict[str, PollResult], MemorySink, list[str]]]:
    base = walkcheck.walks_dir() / "snmprec"
    if not base.is_dir():
        pytest.skip(
            f"{base} not found: the real-device walks live in ../shared/snmp-walks "
            "(set NOCSOC_SHARED_DIR to the shared folder)"
        )
    stems = walkcheck.stems()
    sim = SnmpSim({device_name(s): base / f"{s}.snmprec" for s in stems})
    try:
        inventory = Inventory.model_validate(
            {
                "version": 1,
                "sites": [{"id": "lab", "name": "lab"}],
                "snmp_profiles": [
                    {"name": "sim", "community": "env:NOCSOC_TEST_COMMUNITY", "timeout_s": 5.0, "retries": 1}
                ],
                "devices": [
                    {
                        "name": device_name(s),
                        "address": sim.addresses[device_name(s)],
                        "snmp_port": sim.ports[device_name(s)],
                        "profile": "sim",
                        "role": "core",
                        "site": "lab",
                    }
                    for s in stems
                ],
            }
        )
        sink = MemorySink()
        poller = SnmpPoller(SnmpConfig(interval_s=300), inventory, sink)
        results = {r.device: r for r in poller.run_once(samples=1)}
        yield results, sink, stems
    finally:
        sim.stop()


@pytest.fixture(scope="module")
def scores(polled: tuple[dict[str, PollResult], MemorySink, list[str]]) -> list[walkcheck.WalkScore]:
    _results, sink, stems = polled
    out = []
    for stem in stems:
        name = device_name(stem)
        points = [p for p in sink.points if p.tags.get("device") == name]
        out.append(walkcheck.score(stem, points))
    return out


def test_every_walk_is_polled_without_a_device_failure(
    polled: tuple[dict[str, PollResult], MemorySink, list[str]],
) -> None:
    results, sink, stems = polled
    assert len(results) == len(stems) >= 40
    failed = {n: r.error for n, r in results.items() if not r.ok}
    assert not failed
    # one snmp_poll point per device, reachable
    polls = [p for p in sink.of("snmp_poll")]
    assert sorted(p.tags["device"] for p in polls) == sorted(results)
    assert all(p.fields["reachable"] == 1 for p in polls)


def test_optics_found_with_value_and_interface(scores: list[walkcheck.WalkScore]) -> None:
    found = sum(s.scores["optics"].found for s in scores)
    valid = sum(s.scores["optics"].valid for s in scores)
    misses = [m for s in scores for m in s.scores["optics"].misses if "no reading" not in m]
    assert valid >= 150  # the recordings hold 179 dBm readings per LibreNMS, 23 of them no-reading markers
    assert found / valid >= 0.95, misses


@pytest.mark.parametrize("metric", ["temperature", "processor", "memory", "ports"])
def test_metric_right_on_most_walks(scores: list[walkcheck.WalkScore], metric: str) -> None:
    have = [s for s in scores if s.scores[metric].expected]
    wrong = {s.stem: s.scores[metric].misses[:5] for s in have if not s.scores[metric].right}
    assert len(have) >= 10
    assert (len(have) - len(wrong)) / len(have) >= 0.9, wrong


def test_coverage_doc_is_current(scores: list[walkcheck.WalkScore]) -> None:
    text = walkcheck.coverage_markdown(scores)
    if os.environ.get("NOCSOC_UPDATE_DOCS") == "1":
        DOC.write_text(text, encoding="utf-8")
    current = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    assert current == text, f"{DOC} is stale: run this test with NOCSOC_UPDATE_DOCS=1"


def test_profile_matched_on_every_walk(polled: tuple[dict[str, PollResult], MemorySink, list[str]]) -> None:
    """Every recording's device gets a vendor from its profile (the inventory gives none here)."""
    _results, sink, stems = polled
    vendors = {p.tags["device"]: p.tags.get("vendor") for p in sink.of("device")}
    assert {n for n, v in vendors.items() if not v} == set()
    assert len(vendors) == len(stems)
