"""How many generated cases a test makes. The sanitized run of the C paths (tests/test_speedups.py)
sets NOCSOC_TEST_SANITIZED: under ASan every line costs ~5x, and memory errors show on the first
cases that reach a branch, so it runs a quarter of the big generated sets (the plain run, all)."""

from __future__ import annotations

import os

SANITIZED = bool(os.environ.get("NOCSOC_TEST_SANITIZED"))


def cases(n: int) -> int:
    """`n`, or a quarter of it (at least 1) in the sanitized run."""
    return max(1, n // 4) if SANITIZED else n
