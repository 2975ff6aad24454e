"""Every flow test runs twice: on the C accelerator (`_flowfast`) and on the pure-Python/numpy
path that replaces it where it is not built. Both must pass the same assertions (exact totals,
nfdump's ground truth, the fuzz test), so neither path can drift or rot."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nocsoc.collectors.flows import speedups
from tests.servers.base import in_ci

BUILT = speedups.ext


@pytest.fixture(autouse=True, params=["c", "numpy"])
def flow_path(request: pytest.FixtureRequest) -> Iterator[str]:
    """Which implementation this test runs on ("c" or "numpy"), set for the whole test."""
    if request.param == "c" and BUILT is None:
        reason = "nocsoc.collectors.flows._flowfast is not built (`pip install -e .` builds it)"
        if in_ci():
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)
    speedups.ext = BUILT if request.param == "c" else None
    try:
        yield request.param
    finally:
        speedups.ext = BUILT
