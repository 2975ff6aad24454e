"""The C accelerators: built, and clean under AddressSanitizer and UBSan.

setup.py marks them optional so that nocsoc installs without a compiler. Where one is missing,
nocsoc runs its pure-Python path, which its own tests also run; `test_accelerator_is_built` says
so by skipping, and under CI=true, where gcc is installed, it fails instead: a silent fallback
there would hide a broken build behind slower, still-green tests.

The flow extension reads datagrams from anyone on the network: an out-of-bounds read there would
crash the collector, or worse. `test_c_paths_clean_under_sanitizers` builds both extensions with
-fsanitize=address,undefined into a copy of the package and runs their tests (the decoders'
fuzz test among them) in it, so any invalid access or undefined behaviour fails the suite.
"""

from __future__ import annotations

import ast
import importlib
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import SHARED
from tests.servers.base import in_ci

ROOT = Path(__file__).resolve().parent.parent
ACCELERATORS = {
    "nocsoc._lineproto": ("line-protocol batch encoder", "nocsoc/_lineproto.c"),
    "nocsoc.collectors.flows._flowfast": ("flow receive, decode, rollup",
                                          "nocsoc/collectors/flows/_flowfast.c"),
    "nocsoc.collectors.logs._logfast": ("log key=value splitter", "nocsoc/collectors/logs/_logfast.c"),
    "nocsoc.collectors.windows._winfast": ("EVTX record mapping", "nocsoc/collectors/windows/_winfast.c"),
    "nocsoc.collectors.windows._evtxfast": ("EVTX chunk decoder", "nocsoc/collectors/windows/_evtxfast.c"),
    "nocsoc.detections._gatefast": ("rule engine's gates and correlation groups",
                                    "nocsoc/detections/_gatefast.c"),
}


def _setup_sources() -> dict[str, list[str]]:
    """Each extension's C files as setup.py lists them (module -> sources): the sanitized build
    compiles exactly what the real one does, so a C file added to an extension needs no edit here."""
    sources = {}
    for node in ast.walk(ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Extension":
            sources[ast.literal_eval(node.args[0])] = list(ast.literal_eval(node.args[1]))
    return sources


def test_every_extension_of_setup_py_is_checked() -> None:
    sources = _setup_sources()
    assert sorted(sources) == sorted(ACCELERATORS)
    assert {m: s[0] for m, s in sources.items()} == {m: src for m, (_w, src) in ACCELERATORS.items()}


# the tests that drive the C code hardest: hostile datagrams, random points, both paths compared
SANITIZED_TESTS = ["tests/collectors/flows/test_fuzz.py", "tests/collectors/flows/test_flowfast.py",
                   "tests/collectors/flows/test_decoder.py", "tests/collectors/flows/test_receiver.py",
                   "tests/collectors/flows/test_rollup.py", "tests/test_lineproto.py",
                   "tests/collectors/logs/test_logfast.py", "tests/collectors/logs/test_logfast_lines.py",
                   "tests/collectors/logs/test_logfast_cisco.py", "tests/collectors/logs/test_logfast_fw.py",
                   "tests/collectors/logs/test_logfast_asa.py", "tests/collectors/logs/test_rxprog.py",
                   "tests/collectors/logs/test_reader_fortigate.py",
                   "tests/collectors/logs/test_logfast_reader.py",
                   "tests/collectors/logs/test_paloalto_cef_span.py",
                   "tests/collectors/logs/test_fg_cp_cef_span.py",
                   "tests/collectors/logs/test_lx_twin.py",
                   "tests/collectors/windows/test_winfast.py",
                   "tests/collectors/windows/test_record_fields.py",
                   "tests/collectors/windows/test_evtxfast.py",
                   "tests/collectors/windows/test_evtxevents.py",
                   "tests/collectors/windows/test_lazyfields.py",
                   "tests/detections/test_gatefast.py",
                   "tests/detections/test_correlation_compact_groups.py"]


# CPU seconds of each file under ASan (measured; a file not listed counts 5): the halves are
# balanced on them, heaviest first, so neither run waits on the other
SANITIZED_COST = {
    "tests/test_lineproto.py": 40, "tests/collectors/logs/test_logfast_reader.py": 35,
    "tests/collectors/logs/test_logfast_fw.py": 30, "tests/collectors/windows/test_evtxevents.py": 28,
    "tests/collectors/flows/test_fuzz.py": 22, "tests/collectors/logs/test_logfast_lines.py": 16,
    "tests/collectors/logs/test_logfast_cisco.py": 12, "tests/collectors/windows/test_evtxfast.py": 12,
}


def _halves(files: list[str]) -> list[list[str]]:
    halves: list[list[str]] = [[], []]
    load = [0, 0]
    for f in sorted(files, key=lambda f: -SANITIZED_COST.get(f, 5)):
        i = load.index(min(load))
        halves[i].append(f)
        load[i] += SANITIZED_COST.get(f, 5)
    return halves


def _skip_or_fail(reason: str) -> None:
    if in_ci():
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


@pytest.mark.parametrize("module", sorted(ACCELERATORS))
def test_accelerator_is_built(module: str) -> None:
    try:
        importlib.import_module(module)
    except ImportError as exc:
        what, source = ACCELERATORS[module]
        _skip_or_fail(f"C accelerator {module} ({what}, {source}) is not built: {exc}; "
                      "`pip install -e .` builds it where gcc and the Python headers are present")


def _runtime(name: str) -> str | None:
    """Path of a sanitizer runtime gcc links against, or None."""
    if shutil.which("gcc") is None:
        return None
    out = subprocess.run(["gcc", f"-print-file-name={name}"], capture_output=True, text=True, check=False)
    path = out.stdout.strip()
    return path if os.path.isabs(path) and os.path.exists(path) else None


@pytest.mark.timeout(900)  # the inner run's own budget: every sanitized test, slow under ASan
def test_c_paths_clean_under_sanitizers(tmp_path: Path) -> None:
    asan, ubsan = _runtime("libasan.so"), _runtime("libubsan.so")
    if asan is None or ubsan is None:
        _skip_or_fail("gcc with libasan and libubsan is needed to check the C accelerators (package gcc)")
    assert asan is not None and ubsan is not None
    skip = shutil.ignore_patterns("*.so", "__pycache__")
    shutil.copytree(ROOT / "nocsoc", tmp_path / "nocsoc", ignore=skip)
    shutil.copytree(ROOT / "tests", tmp_path / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    # the EVTX decoder's test builds its record sets with the bench's re-packer and benign day
    shutil.copytree(ROOT / "bench", tmp_path / "bench",
                    ignore=shutil.ignore_patterns("__pycache__", "results"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)  # the same pytest settings (timeouts, markers)
    include = sysconfig.get_paths()["include"]
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    setup_sources = _setup_sources()
    for module, (_what, source) in ACCELERATORS.items():
        target = tmp_path / source.replace(".c", suffix)
        build = subprocess.run(
            ["gcc", "-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined",
             "-fno-sanitize-recover=undefined", "-std=c11", "-shared", "-fPIC", f"-I{include}",
             *(str(tmp_path / s) for s in setup_sources[module]),
             "-o", str(target)],
            capture_output=True, text=True, check=False)
        assert build.returncode == 0, f"{source}: {build.stderr}"
    # the copy sits elsewhere: its tests find the shared samples where this run's do
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "NOCSOC_SHARED_DIR": str(SHARED),
           "LD_PRELOAD": f"{asan}:{ubsan}", "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1",
           "UBSAN_OPTIONS": "print_stacktrace=1", "NOCSOC_TEST_SANITIZED": "1"}  # tests/scale.py
    check = subprocess.run(
        [sys.executable, "-c", "import importlib;"
         f"[print(importlib.import_module(m).__file__) for m in {list(ACCELERATORS)!r}]"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr
    built = [str(tmp_path / source.replace(".c", suffix)) for _what, source in ACCELERATORS.values()]
    assert check.stdout.split() == built  # the sanitized builds, not the installed ones
    # (-k: the flow tests' "numpy" runs set the extension aside, so they run no sanitized code,
    # nor do the line-protocol tests' "python" runs; the Windows rules' detections compare the
    # engine, which is Python, at ~11 s under ASan)
    # Two halves at once (the suite's 2 cores; the outer run waits), balanced by cost.
    halves = _halves(SANITIZED_TESTS)
    runs = [subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
         "-k", "not numpy and not the_same_detections_with_all_windows_rules"
               " and not (test_lineproto and python)", *half],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for half in halves]
    for proc in runs:
        out, _ = proc.communicate(timeout=900)
        assert proc.returncode == 0, out[-6000:]
        assert " passed" in out and "skipped" not in out.splitlines()[-1]
