"""nocsoc benchmarks: one `bench_<name>.py` per hot path, run by `python -m bench [NAME...]`.

Each module exposes `run()`, returning either a dict `{"title", "description", "rows": [...]}`
(optionally `"extra_tables": [[row, ...], ...]` and `"notes": [str, ...]`) or a plain list of
row dicts. Every figure that matters is a ratio against a reference measured in
the same run on the same machine, so results from different machines stay comparable. Results
are stored in `bench/results/<name>.json`; `docs/benchmarks.md` is regenerated from all of them.
"""
