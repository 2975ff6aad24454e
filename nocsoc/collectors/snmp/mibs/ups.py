"""UPS-MIB (RFC 1628): battery status, charge, runtime, on-battery, load and voltages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nocsoc.collectors.snmp import areas
from nocsoc.collectors.snmp import oids as O
from nocsoc.collectors.snmp.mibs import FixedArea, num
from nocsoc.collectors.snmp.session import Column, Value
from nocsoc.schema import UPS, Point

SCALARS = O.UPS_SCALARS
COLUMNS = (O.UPS_INPUT_VOLTAGE, O.UPS_OUTPUT_VOLTAGE, O.UPS_OUTPUT_PERCENT_LOAD)
OUTPUT_SOURCE_BATTERY = 5  # upsOutputSource battery(5)


def points(
    tags: Mapping[str, str], scalars: Mapping[str, Value], tables: Mapping[str, Column], time_ns: int
) -> list[Point]:
    """One UPS point, or none when the device has no UPS-MIB."""
    status = num(scalars.get(O.UPS_BATTERY_STATUS))
    if status is None:
        return []
    on_batt_s = num(scalars.get(O.UPS_SECONDS_ON_BATTERY))
    source = num(scalars.get(O.UPS_OUTPUT_SOURCE))
    loads = [v for v in tables.get(O.UPS_OUTPUT_PERCENT_LOAD, {}).values() if isinstance(v, int)]
    vin = [v for v in tables.get(O.UPS_INPUT_VOLTAGE, {}).values() if isinstance(v, int)]
    vout = [v for v in tables.get(O.UPS_OUTPUT_VOLTAGE, {}).values() if isinstance(v, int)]
    fields: dict[str, object] = {
        "battery_status": status,
        "battery_charge_pct": num(scalars.get(O.UPS_CHARGE_REMAINING)),
        "runtime_min": num(scalars.get(O.UPS_MINUTES_REMAINING)),
        "seconds_on_battery": on_batt_s,
        "on_battery": int(bool(on_batt_s) or source == OUTPUT_SOURCE_BATTERY),
        "output_load_pct": max(loads) if loads else None,
        # Voltages are RMS volts per line; the first line stands for a single-phase UPS.
        "input_voltage": vin[0] if vin else None,
        "output_voltage": vout[0] if vout else None,
        "battery_temperature_c": num(scalars.get(O.UPS_BATTERY_TEMPERATURE)),
    }
    return [UPS.point(time_ns, tags, fields)]


class UpsArea(FixedArea):
    """UPS-MIB (RFC 1628): battery, runtime, load, voltages."""

    name = "ups"
    order = 50
    description = "UPS-MIB (RFC 1628): ups"
    scalar_oids = SCALARS
    column_oids = COLUMNS

    def build(self, ctx: areas.Context, state: Any, fetched: areas.Fetched) -> areas.Output:
        return areas.Output(points(ctx.tags, fetched.scalars, fetched.tables, ctx.time_ns))


areas.register(UpsArea())
