"""Helpers for sink tests: fast retry settings and closing every sink a test makes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from nocsoc.sinks.batching import BatchSettings

T0 = 1_700_000_000_000_000_000  # fixed times (2023-11-14), one point per second of this


def fast_settings(spool_dir: Path | None, **overrides: Any) -> BatchSettings:
    """Short flush interval and backoffs, so outages and recoveries happen within a test."""
    values: dict[str, Any] = {"batch_size": 500, "flush_interval_s": 0.05, "max_retries": 2,
                              "retry_backoff_s": 0.02, "retry_backoff_max_s": 0.2,
                              "spool_dir": spool_dir, "spool_max_bytes": 64 * 1024 * 1024}
    values.update(overrides)
    return BatchSettings(**values)


@pytest.fixture
def closing() -> Iterator[Callable[[Any], Any]]:
    """`closing(sink)` returns the sink and closes it at the end of the test, whatever happens."""
    sinks: list[Any] = []

    def register(sink: Any) -> Any:
        sinks.append(sink)
        return sink

    yield register
    for sink in reversed(sinks):
        sink.close()
