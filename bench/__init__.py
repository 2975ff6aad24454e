"""nocsoc benchmarks: one `bench_<name>.py` per hot path, run by `python -m bench [NAME...]`.

Each module exposes `run()`, returning either a dict `{"title", "description", "rows": [...]}`
(optionally `"extra_tables": [[row, ...], ...]` and `"notes": [str, ...]`) or a plain list of
row dicts. Every figure that matters is a ratio against a reference measured in
the same run on the same machine, so results from different machines stay comparable. Results
are stored in `bench/results/<name>.json`; `docs/benchmarks.md` is regenerated from all of them.

Each module also has `QUICK`, a dict of its module-level size constants for `python -m bench
--quick` (CI runs it so no bench rots): every bench's code at sizes that take seconds. The
runner sets them for the run and fails when a name is not a constant of the module.
"""


def print_result(result: dict) -> None:
    """A bench module run as a script (`python -m bench.bench_x`): its rows, then its notes."""
    for r in result["rows"]:
        print(r)
    for note in result.get("notes", []):
        print("-", note)


class Skipped(Exception):
    """A bench that cannot run here (a binary or data missing): the reason is shown instead of
    figures; `--quick` under CI=true counts it as a failure (CI installs everything)."""
