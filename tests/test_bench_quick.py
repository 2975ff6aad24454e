"""`python -m bench --quick` covers every bench: each declares QUICK sizes naming its own constants,
each smaller than the full size (CI runs the benches themselves; this keeps a new bench or a
renamed constant from slipping out of that run)."""

from __future__ import annotations

import importlib
import sys
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
        if isinstance(full, list | tuple):  # a subset of what the full bench runs (devices, cases)
            assert len(quick) < len(full) and set(quick) <= set(full), f"{name}.QUICK[{key!r}]"
            continue
        assert quick < full or full == 0, f"{name}.QUICK[{key!r}] = {quick} is not below {full}"


def test_quick_sizes_refuse_an_unknown_constant() -> None:
    fake = types.ModuleType("bench.bench_fake")
    fake.QUICK = {"ROWS": 1}  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="names no constant ROWS"):
        quick_sizes(fake)


def test_quick_sizes_refuse_a_bench_without_them() -> None:
    with pytest.raises(RuntimeError, match="has no QUICK sizes"):
        quick_sizes(types.ModuleType("bench.bench_fake"))


def _fake_benches(monkeypatch: pytest.MonkeyPatch, outcomes: dict[str, str]) -> None:
    """bench.bench_<name> modules whose run() returns rows, raises, or skips."""
    from bench import Skipped

    for name, outcome in outcomes.items():
        module = types.ModuleType(f"bench.bench_{name}")
        module.SIZE = 1000  # type: ignore[attr-defined]
        module.QUICK = {"SIZE": 10}  # type: ignore[attr-defined]

        def run(outcome: str = outcome, module: types.ModuleType = module) -> list[dict[str, int]]:
            if outcome == "fails":
                raise RuntimeError("broken bench")
            if outcome == "skips":
                raise Skipped("server missing")
            return [{"size": module.SIZE}]  # type: ignore[attr-defined]

        module.run = run  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, f"bench.bench_{name}", module)


def test_quick_runs_at_the_quick_sizes_and_fails_on_a_failing_bench(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from bench import __main__ as runner

    _fake_benches(monkeypatch, {"fake_ok": "ok", "fake_broken": "fails"})
    assert runner.quick(["fake_ok"]) == 0
    assert runner.run_one("fake_ok", quick=True)["rows"] == [{"size": 10}]
    assert runner.run_one("fake_ok")["rows"] == [{"size": 1000}]  # the full size is back
    assert runner.quick(["fake_ok", "fake_broken"]) == 1


def test_quick_counts_a_skip_as_a_failure_only_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench import __main__ as runner

    _fake_benches(monkeypatch, {"fake_skips": "skips"})
    monkeypatch.setenv("CI", "false")
    assert runner.quick(["fake_skips"]) == 0
    monkeypatch.setenv("CI", "true")
    assert runner.quick(["fake_skips"]) == 1
