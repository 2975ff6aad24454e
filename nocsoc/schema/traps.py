"""SNMP trap/inform events (v1, v2c, v3) as the trap receiver writes them, one point per trap.

Tags stay bounded (device, event kind, interface); the trap's own OID, its varbinds (JSON) and
the source address are fields, so an unknown trap from a vendor adds no series."""

from nocsoc.schema.core import Field, FieldType, Measurement, Tag
from nocsoc.schema.network import DEVICE_TAGS

F, INT, S = FieldType.FLOAT, FieldType.INT, FieldType.STRING

SNMP_TRAP = Measurement(
    "snmp_trap",
    "One received SNMP trap or inform, mapped through the trap catalogue (unknown traps kept "
    "with their varbinds).",
    (
        *DEVICE_TAGS,
        Tag("event", "link_down | link_up | cold_start | warm_start | auth_failure | a vendor "
            "event name from the trap catalogue | unknown"),
        Tag("kind", "what the trap is about: link | optics | power | fan | temperature | hardware | "
            "cpu | memory | config | auth | routing | ups | vpn | ha | security | system | other"),
        Tag("severity", "informational | low | medium | high | critical"),
        Tag("version", "1 | 2c | 3"),
        Tag("ifname", "the interface a link trap is about, when known"),
    ),
    (
        Field("count", INT, "short", "always 1: sum() counts traps"),
        Field("trap_oid", S, "", "snmpTrapOID.0 (v1 traps converted as RFC 3584 says)"),
        Field("trap_name", S, "", "MIB name of the trap when the catalogue knows it"),
        Field("source", S, "", "UDP source address of the trap"),
        Field("ifindex", INT, "none", "ifIndex a link trap carries"),
        Field("oper_status", INT, "none", "ifOperStatus a link trap carries"),
        Field("uptime_s", F, "s", "sysUpTime.0 of the sender at the trap"),
        Field("entity", S, "", "the component a vendor trap names (power supply, fan, sensor, board)"),
        Field("value", F, "none", "the reading a vendor trap carries (temperature, usage), as sent"),
        Field("varbinds", S, "", "every varbind as JSON [[oid, type, value], ...]"),
        Field("message", S, "", "human-readable summary"),
    ),
    area="network",
)

MEASUREMENTS = (SNMP_TRAP,)
