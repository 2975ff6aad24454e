"""`python -m bench --quick` covers every bench: each declares QUICK sizes naming its own constants,
each smaller than the full size (CI runs the benches themselves; this keeps a new bench or a
renamed constant from slipping out of that run)."""

from __future__ import annotations

import importlib
import types

import pytest

from bench.__main__ import discover, quick_sizes

BENCHES = discover()


def test_every_bench_is_discovered() -> None:
    assert set(BENCHES) >= {"detections", "flows", "lineproto", "simulate", "snmp"}


@pytest.mark.parametrize("name", BENCHES)
def test_quick_sizes_name_smaller_constants(name: str) -> None:
    module = importlib.import_module(f"bench.bench_{name}")
    sizes = quick_sizes(module)
    for key, quick in sizes.items():
        full = getattr(module, key)
        assert type(quick) is type(full), f"{name}.{key}: {quick!r} vs {full!r}"
        if key.endswith("INTERVAL") or key == "INTERVAL":
            continue  # shorter is quicker but not required: a poll interval must fit the cycle
        assert quick < full or full == 0, f"{name}.QUICK[{key!r}] = {quick} is not below {full}"


def test_quick_sizes_refuse_an_unknown_constant() -> None:
    fake = types.ModuleType("bench.bench_fake")
    fake.QUICK = {"ROWS": 1}  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="names no constant ROWS"):
        quick_sizes(fake)


def test_quick_sizes_refuse_a_bench_without_them() -> None:
    with pytest.raises(RuntimeError, match="has no QUICK sizes"):
        quick_sizes(types.ModuleType("bench.bench_fake"))
