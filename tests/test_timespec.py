"""timespec: the times the CLI's --since/--until and the console's filters accept, against known
epochs (GNU `date -u -d ... +%s`)."""

from __future__ import annotations

import pytest

from nocsoc.timespec import duration_seconds, parse_time

NOW = 1_764_000_000.0  # 2025-11-24T16:00:00Z


@pytest.mark.parametrize(("text", "seconds"), [
    ("45s", 45.0), ("30m", 1800.0), ("24h", 86400.0), ("7d", 604800.0), ("2w", 1209600.0),
    (" 1.5h ", 5400.0), ("0m", 0.0),
    ("", None), ("h", None), ("10", None), ("-5m", None), ("5 minutes", None), ("5y", None),
])
def test_durations(text: str, seconds: float | None) -> None:
    assert duration_seconds(text) == seconds


@pytest.mark.parametrize(("text", "epoch", "want"), [
    ("30m", False, NOW - 1800),
    ("2025-11-24T16:00:00Z", False, 1764000000.0),
    ("2025-11-24 16:00:00", False, 1764000000.0),  # no zone: UTC
    ("2025-11-24T23:00:00+07:00", False, 1764000000.0),
    (" 2025-11-24T16:00:00.5Z ", False, 1764000000.5),
    ("2025-11-24", False, 1763942400.0),
    ("1764000000", True, 1764000000.0),
    ("1764000000.25", True, 1764000000.25),
    ("30m", True, NOW - 1800),  # a duration wins over a number
])
def test_times(text: str, epoch: bool, want: float) -> None:
    assert parse_time(text, NOW, epoch=epoch) == want


@pytest.mark.parametrize(("text", "epoch"), [
    ("1764000000", False),  # epoch seconds only where asked for
    ("nan", True), ("inf", True), ("-inf", True),  # numbers, but no time
    ("yesterday", True), ("", True), ("2025-13-01", False), ("25/11/2025", False),
])
def test_not_a_time(text: str, epoch: bool) -> None:
    with pytest.raises(ValueError):
        parse_time(text, NOW, epoch=epoch)
