"""DevicePoller against a scripted agent: reboots, missing tables, NoSuchInstance gaps, events.

The network path is tested against real agents elsewhere; here the values are scripted so each
rule (a reboot gives no rate and an event, a table the device lacks is skipped quietly) is
checked against exact numbers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from nocsoc.collectors.snmp import oids as O
from nocsoc.collectors.snmp.config import SnmpConfig
from nocsoc.collectors.snmp.poller import DevicePoller, PollResult
from nocsoc.collectors.snmp.session import Column, Index, RowTime, SessionStats, Value
from nocsoc.inventory.model import Device, Role, SnmpProfile
from nocsoc.schema import Point


class ScriptedSession:
    """Answers GET/GETBULK from dicts; OIDs it lacks are absent (as noSuchObject would be)."""

    def __init__(self, scalars: dict[str, Value], tables: dict[str, Column], t: float) -> None:
        self.scalars, self.tables, self.t = scalars, tables, t
        self.stats = SessionStats()
        self.asked: list[str] = []

    async def get(self, oids: Sequence[str]) -> dict[str, Value]:
        self.stats.requests += 1
        return {o: self.scalars[o] for o in oids if o in self.scalars}

    async def bulk_columns(
        self,
        columns: Sequence[str],
        max_repetitions: int | None = None,
        times: dict[str, dict[Index, RowTime]] | None = None,
        clock: bool = False,
    ) -> dict[str, Column]:
        self.asked += list(columns)
        out = {c: dict(self.tables.get(c, {})) for c in columns}
        for c in columns:
            if times is not None and c in times:
                times[c].update(dict.fromkeys(out[c], (self.t, None)))
        return out


def device_poller() -> DevicePoller:
    device = Device(name="r1", address="127.0.0.1", role=Role.CORE, site="dx", profile="p")
    profile = SnmpProfile(name="p", community="env:X")
    return DevicePoller(device, profile, SnmpConfig(), {"Te1": "ring-1"})


def cycle(
    poller: DevicePoller,
    uptime: int,
    octets: int,
    t: float,
    oper: int = 1,
    extra: dict[str, Column] | None = None,
) -> tuple[PollResult, list[Point], ScriptedSession]:
    tables: dict[str, Column] = {
        O.IF_HC_IN_OCTETS: {(1,): octets},
        O.IF_HC_OUT_OCTETS: {(1,): octets // 2},
        O.IF_NAME: {(1,): b"Te1"},
        O.IF_HIGH_SPEED: {(1,): 1000},
        O.IF_OPER_STATUS: {(1,): oper},
        O.IF_ADMIN_STATUS: {(1,): 1},
        # ifInErrors has a NoSuchInstance gap for this row (left out of the column): no field, no error.
        **(extra or {}),
    }
    session = ScriptedSession({O.SYS_UPTIME: uptime, O.SYS_NAME: b"r1"}, tables, t)
    result = poller._result()
    points: list[Any] = asyncio.run(poller._collect(session, result, rates=True))  # type: ignore[arg-type]
    return result, points, session


def of(points: list[Point], measurement: str) -> list[Point]:
    return [p for p in points if p.measurement == measurement]


def test_rates_then_reboot_gives_event_and_no_rate_then_rates_again() -> None:
    p = device_poller()
    _, pts, _ = cycle(p, uptime=100_000, octets=1_000_000, t=1000.0)
    assert "in_bps" not in of(pts, "interface")[0].fields  # first reading: no rate yet
    _, pts, _ = cycle(p, uptime=106_000, octets=1_000_000 + 125_000 * 60, t=1060.0)
    iface = of(pts, "interface")[0]
    assert iface.fields["in_bps"] == 1_000_000.0  # 125 kB/s = 1 Mb/s
    assert iface.fields["in_util_pct"] == 0.1
    assert iface.tags["link"] == "ring-1"
    assert not of(pts, "device_event")

    result, pts, _ = cycle(p, uptime=500, octets=20_000, t=1120.0)  # rebooted: counters restarted
    assert result.rebooted
    (event,) = of(pts, "device_event")
    assert event.tags["event"] == "device_reboot" and event.fields["uptime_s"] == 5.0
    assert "in_bps" not in of(pts, "interface")[0].fields  # never a spike

    _, pts, _ = cycle(p, uptime=6_500, octets=20_000 + 250_000 * 60, t=1180.0)
    assert of(pts, "interface")[0].fields["in_bps"] == 2_000_000.0


def test_missing_tables_are_skipped_quietly_and_not_asked_every_cycle() -> None:
    p = device_poller()
    result, pts, session = cycle(p, uptime=1, octets=1, t=1.0)
    assert result.interfaces == 1
    assert {pt.measurement for pt in pts} == {"device", "interface"}  # no ups/optics/storage, no error
    assert O.UPS_OUTPUT_PERCENT_LOAD in session.asked
    _, _, session = cycle(p, uptime=2, octets=2, t=2.0)
    assert O.UPS_OUTPUT_PERCENT_LOAD not in session.asked  # absent last cycle: not asked again
    assert O.IF_HC_IN_OCTETS in session.asked


def test_noSuchInstance_gap_leaves_the_field_out() -> None:
    p = device_poller()
    extra: dict[str, Column] = {O.IF_IN_ERRORS: {(1,): 5}, O.IF_OUT_ERRORS: {}}
    cycle(p, uptime=1, octets=1, t=1.0, extra=extra)
    _, pts, _ = cycle(p, uptime=101, octets=1, t=2.0, extra={O.IF_IN_ERRORS: {(1,): 15}, O.IF_OUT_ERRORS: {}})
    fields = of(pts, "interface")[0].fields
    assert fields["in_errors_ps"] == 10.0
    assert "out_errors_ps" not in fields


def test_oper_status_change_is_an_event() -> None:
    p = device_poller()
    cycle(p, uptime=1, octets=1, t=1.0, oper=1)
    _, pts, _ = cycle(p, uptime=2, octets=2, t=2.0, oper=2)
    (ev,) = of(pts, "interface_event")
    assert ev.tags == {"device": "r1", "site": "dx", "role": "core", "ifname": "Te1", "event": "down"}
    assert ev.fields["previous_status"] == 1 and ev.fields["oper_status"] == 2
