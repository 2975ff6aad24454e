"""Counter deltas and rates: wraps, resets, reboots, Counter64 above 2^32."""

from __future__ import annotations

import pytest

from nocsoc.collectors.snmp.rates import WRAP32, WRAP64, CounterTracker, counter_delta, uptime_rebooted


def test_counter_delta_increase_and_32_bit_wrap() -> None:
    assert counter_delta(100, 250, 32) == 150
    assert counter_delta(WRAP32 - 10, 5, 32) == 15  # wrapped once


def test_counter64_above_2_32_is_not_truncated() -> None:
    prev, cur = 930_157_647_946, 930_157_647_946 + 18_134_063 * 60
    assert counter_delta(prev, cur, 64) == 18_134_063 * 60


def test_counter64_going_back_is_a_reset_not_a_wrap() -> None:
    # LibreNMS #1128: treating this as a wrap gives a ~2^64 spike.
    assert counter_delta(5_000_000_000, 1_000, 64) is None


def test_counter64_wrap_near_the_top() -> None:
    assert counter_delta(WRAP64 - 100, 50, 64) == 150


def test_tracker_rate_first_reading_then_rate() -> None:
    t = CounterTracker()
    assert t.rate("x", 1_000, 10.0) is None
    assert t.rate("x", 3_000, 12.0) == 1000.0
    assert t.stats.first == 1 and t.stats.rates == 1


def test_tracker_32_bit_wrap_rate() -> None:
    t = CounterTracker()
    t.rate("x", WRAP32 - 1_000, 0.0, bits=32)
    assert t.rate("x", 1_000, 2.0, bits=32) == 1000.0
    assert t.stats.wraps == 1


def test_tracker_implausible_32_bit_wrap_is_dropped() -> None:
    t = CounterTracker()
    t.rate("x", 3_000_000_000, 0.0, bits=32)
    # Down to 10: as a wrap that is ~1.3 GB in 1 s on a line that carries 12.5 MB/s: a reset.
    assert t.rate("x", 10, 1.0, bits=32, max_rate=12_500_000) is None
    assert t.stats.implausible == 1 and t.stats.wraps == 0


def test_tracker_forget_after_reboot() -> None:
    t = CounterTracker()
    t.rate("x", 5_000, 0.0)
    t.forget()
    assert t.rate("x", 10, 1.0) is None
    assert t.rate("x", 110, 2.0) == 100.0


def test_zero_elapsed_gives_no_rate() -> None:
    t = CounterTracker()
    t.rate("x", 1, 5.0)
    assert t.rate("x", 2, 5.0) is None


@pytest.mark.parametrize(
    ("prev", "cur", "elapsed", "rebooted"),
    [
        (100_000, 106_000, 60, False),  # normal
        (100_000, 100_000, 60, False),  # static agent (recordings): not a reboot
        (100_000, 500, 60, True),  # went back: reboot
        (WRAP32 - 3_000, 3_000, 60, False),  # TimeTicks wrap after 497 days: 6000 ticks in 60 s
        (WRAP32 - 3_000, 900_000, 60, True),  # near the top but far more than elapsed: reboot
    ],
)
def test_uptime_rebooted(prev: int, cur: int, elapsed: float, rebooted: bool) -> None:
    assert uptime_rebooted(prev, cur, elapsed) is rebooted
