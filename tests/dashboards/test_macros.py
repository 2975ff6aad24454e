"""Grafana's macro and variable substitution, as the InfluxDB datasource performs it."""

from __future__ import annotations

import pytest

from nocsoc.dashboards.macros import (
    ALL,
    TimeRange,
    Variable,
    format_interval,
    format_variable,
    render_query,
    round_interval,
    variables_used,
)

HOUR = TimeRange(1_700_000_000_000, 1_700_003_600_000, "now-1h", "now")


@pytest.mark.parametrize(
    ("ms", "rounded", "text"),
    [
        (3_600, 5_000, "5s"),
        (36_000, 30_000, "30s"),
        (60_000, 60_000, "1m"),
        (400, 500, "500ms"),
        (86_400_000 // 100, 900_000, "15m"),
        (7 * 86_400_000 // 1000, 600_000, "10m"),
    ],
)
def test_interval_rounding_matches_grafana(ms: int, rounded: int, text: str) -> None:
    assert round_interval(ms) == rounded
    assert format_interval(rounded) == text


def test_time_filter_backend_and_browser_forms() -> None:
    q = 'SELECT mean("x") FROM "m" WHERE $timeFilter GROUP BY time($__interval)'
    assert render_query(q, HOUR, max_data_points=120) == (
        'SELECT mean("x") FROM "m" WHERE time >= 1700000000000ms and time <= 1700003600000ms '
        "GROUP BY time(30s)"
    )
    assert render_query(q, HOUR, max_data_points=120, style="browser") == (
        'SELECT mean("x") FROM "m" WHERE time >= now() - 1h and time <= now() GROUP BY time(30s)'
    )
    absolute = TimeRange(1000, 3_601_000)
    assert "time >= 1000ms and time <= 3601000ms" in render_query(q, absolute, style="browser")


def test_interval_ms_is_not_eaten_by_interval() -> None:
    q = 'SELECT sum("bytes") * 8000 / $__interval_ms FROM "m" WHERE $timeFilter GROUP BY time($__interval)'
    out = render_query(q, HOUR, max_data_points=120)
    assert "* 8000 / 30000 FROM" in out and "time(30s)" in out


def test_variables_single_multi_all_and_escaping() -> None:
    one = Variable("device", ["fw.dx-01"])
    many = Variable("device", ["core-dx-01", "fw.dx-01"])
    all_custom = Variable("device", ALL)
    all_joined = Variable("device", ALL, all_value=None, options=["a", "b.c"])
    plain = Variable("device", "core-dx-01", multi=False, include_all=False)
    assert format_variable(one) == r"fw\.dx-01"
    assert format_variable(many) == r"(core-dx-01|fw\.dx-01)"
    assert format_variable(all_custom) == ".*"
    assert format_variable(all_joined) == r"(a|b\.c)"
    assert format_variable(plain) == "core-dx-01"
    q = '"device" =~ /^$device$/ AND "site" =~ /^${site}$/ AND "x" =~ /^[[site]]$/ AND "y" = \'$other\''
    out = render_query(q, HOUR, {"device": many, "site": Variable("site", ["đồng/xoài"])})
    assert out == (
        r'"device" =~ /^(core-dx-01|fw\.dx-01)$/ AND "site" =~ /^đồng\/xoài$/ '
        r"AND \"x\" =~ /^đồng\/xoài$/ AND \"y\" = '$other'".replace('\\"', '"')
    )


def test_variables_used_ignores_builtins() -> None:
    q = "SELECT sum(x) * 8 / $__interval_ms WHERE $timeFilter AND a =~ /^$device$/ AND b = '${site:regex}'"
    assert variables_used(q) == {"device", "site"}
