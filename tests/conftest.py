"""Test-wide fixtures. Real-server fixtures live in tests/servers/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# ../shared beside the project (CI's clone); NOCSOC_SHARED_DIR where it sits elsewhere (worktrees)
SHARED = Path(os.environ.get("NOCSOC_SHARED_DIR") or ROOT.parent / "shared")

pytest_plugins: list[str] = []
for _mod in ("influx", "snmp", "flows"):
    if (Path(__file__).parent / "servers" / f"{_mod}.py").exists():
        pytest_plugins.append(f"tests.servers.{_mod}")


@pytest.fixture
def shared_dir() -> Path:
    """../shared (SigmaHQ rules, Grafana JSON Schemas); skip with the reason where absent."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} not present (shared material sits beside the project)")
    return SHARED


def _listed(name: str) -> frozenset[str]:
    text = (Path(__file__).parent / name).read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


_CPU_ONLY = _listed("cpu_only.txt")
_WAIT_LANE = _listed("wait_lane.txt")
_ALONE = _listed("alone.txt")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests of tests/cpu_only.txt's files `cpu_only`: `make test` runs them on both
    cores at once (pytest-xdist). Every other test goes to one of two lanes (xdist groups, run
    with `--dist loadgroup`, one worker each): the files of tests/wait_lane.txt, which mostly
    wait on their servers, and the rest one at a time beside them; last, the files of
    tests/alone.txt (marked `alone`) with nothing beside them (the suite must fit CI's 30
    minutes)."""
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        if path in _CPU_ONLY:
            item.add_marker(pytest.mark.cpu_only)
        elif path in _ALONE:
            item.add_marker(pytest.mark.alone)
        else:
            item.add_marker(pytest.mark.xdist_group("wait" if path in _WAIT_LANE else "main"))
