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
