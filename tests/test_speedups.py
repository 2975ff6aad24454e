"""The C accelerators are built (setup.py marks them optional so that nocsoc installs without a
compiler). Where one is missing, nocsoc runs its pure-Python path, which its own tests also run;
this test says so by skipping, and under CI=true, where gcc is installed, it fails instead: a
silent fallback there would hide a broken build behind slower, still-green tests."""

from __future__ import annotations

import importlib

import pytest

from tests.servers.base import in_ci

ACCELERATORS = {
    "nocsoc._lineproto": "line-protocol batch encoder (nocsoc/_lineproto.c)",
    "nocsoc.collectors.flows._flowfast": "flow receive, decode, rollup (collectors/flows/_flowfast.c)",
}


@pytest.mark.parametrize("module", sorted(ACCELERATORS))
def test_accelerator_is_built(module: str) -> None:
    try:
        importlib.import_module(module)
    except ImportError as exc:
        reason = (f"C accelerator {module} ({ACCELERATORS[module]}) is not built: {exc}; "
                  "`pip install -e .` builds it where gcc and the Python headers are present")
        if in_ci():
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)
