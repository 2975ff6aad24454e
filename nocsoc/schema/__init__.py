"""Every measurement nocsoc writes: name, tags, fields, types, units. The single source of names.

Collectors make points with `Measurement.point()`; dashboards build queries from the same
objects; tests check both against `REGISTRY`.
"""

from nocsoc.schema import flows, icmp, network, selfmetrics, soc, traps
from nocsoc.schema.core import Field, FieldType, FieldValue, Measurement, Point, SchemaError, Tag
from nocsoc.schema.flows import FLOW_INTERFACE, FLOW_TOP, FLOW_TOTAL
from nocsoc.schema.icmp import PING
from nocsoc.schema.network import (
    DEVICE,
    DEVICE_EVENT,
    INTERFACE,
    INTERFACE_EVENT,
    MEMORY,
    OPTICS,
    PROCESSOR,
    SENSOR,
    STORAGE,
    UPS,
)
from nocsoc.schema.selfmetrics import (
    FLOW_COLLECTOR,
    FLOW_PIPELINE,
    HISTORY,
    ICMP_PROBE,
    LOG_COLLECTOR,
    SINK,
    SNMP_POLL,
    SNMP_POLLER,
    SNMP_SHARD,
    TRAP_RECEIVER,
)
from nocsoc.schema.soc import ALERT, LOG_EVENT
from nocsoc.schema.traps import SNMP_TRAP

REGISTRY: dict[str, Measurement] = {
    m.name: m
    for module in (network, flows, soc, selfmetrics, traps, icmp)
    for m in module.MEASUREMENTS
}


def get(name: str) -> Measurement:
    """The measurement called `name`, or SchemaError naming it."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise SchemaError(f"no measurement {name!r} in the schema") from None


__all__ = [
    "ALERT",
    "DEVICE",
    "DEVICE_EVENT",
    "FLOW_COLLECTOR",
    "FLOW_INTERFACE",
    "FLOW_PIPELINE",
    "FLOW_TOP",
    "FLOW_TOTAL",
    "HISTORY",
    "ICMP_PROBE",
    "INTERFACE",
    "INTERFACE_EVENT",
    "LOG_COLLECTOR",
    "LOG_EVENT",
    "MEMORY",
    "OPTICS",
    "PING",
    "PROCESSOR",
    "REGISTRY",
    "SENSOR",
    "SINK",
    "SNMP_POLL",
    "SNMP_POLLER",
    "SNMP_SHARD",
    "SNMP_TRAP",
    "STORAGE",
    "TRAP_RECEIVER",
    "UPS",
    "Field",
    "FieldType",
    "FieldValue",
    "Measurement",
    "Point",
    "SchemaError",
    "Tag",
    "get",
]
