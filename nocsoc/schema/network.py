"""Network measurements written by the SNMP collector (IF-MIB, HOST-RESOURCES, UCD, ENTITY-SENSOR, UPS)."""

from nocsoc.schema.core import Field, FieldType, Measurement, Tag

F, INT, S = FieldType.FLOAT, FieldType.INT, FieldType.STRING

DEVICE_TAGS = (
    Tag("device", "inventory device name"),
    Tag("site", "inventory site id"),
    Tag("role", "core | distribution | access | firewall | server | ups"),
)

INTERFACE = Measurement(
    "interface",
    "Per-interface traffic, errors and status, from IF-MIB ifXTable/ifTable counter deltas.",
    (*DEVICE_TAGS, Tag("ifname", "ifName"), Tag("ifalias", "ifAlias"), Tag("link", "inventory link name")),
    (
        Field("in_bps", F, "bps", "inbound bits per second"),
        Field("out_bps", F, "bps", "outbound bits per second"),
        Field("in_pps", F, "pps", "inbound packets per second (unicast+multicast+broadcast)"),
        Field("out_pps", F, "pps", "outbound packets per second"),
        Field("in_util_pct", F, "percent", "inbound utilization of ifHighSpeed"),
        Field("out_util_pct", F, "percent", "outbound utilization of ifHighSpeed"),
        Field("in_errors_ps", F, "pps", "inbound packets in error per second"),
        Field("out_errors_ps", F, "pps", "outbound packets in error per second"),
        Field("in_discards_ps", F, "pps", "inbound packets discarded per second"),
        Field("out_discards_ps", F, "pps", "outbound packets discarded per second"),
        Field("in_octets", INT, "decbytes", "raw ifHCInOctets (or ifInOctets)"),
        Field("out_octets", INT, "decbytes", "raw ifHCOutOctets (or ifOutOctets)"),
        Field("speed_mbps", INT, "Mbits", "ifHighSpeed"),
        Field("oper_status", INT, "none", "ifOperStatus: 1 up, 2 down, ..."),
        Field("admin_status", INT, "none", "ifAdminStatus: 1 up, 2 down, 3 testing"),
    ),
    area="network",
)

INTERFACE_EVENT = Measurement(
    "interface_event",
    "An interface oper-status change (link up/down, flap).",
    (*DEVICE_TAGS, Tag("ifname"), Tag("event", "up | down")),
    (
        Field("oper_status", INT, "none", "new ifOperStatus"),
        Field("previous_status", INT, "none", "previous ifOperStatus"),
        Field("message", S, "", "human-readable description"),
    ),
    area="network",
)

DEVICE = Measurement(
    "device",
    "Device health: reachability, uptime, CPU, memory, load.",
    (*DEVICE_TAGS, Tag("vendor")),
    (
        Field("reachable", INT, "bool", "1 when the last poll answered"),
        Field("uptime_s", F, "s", "sysUpTime in seconds"),
        Field("cpu_pct", F, "percent",
              "mean of the processor loads (vendor table, hrProcessorLoad) or 100 - ssCpuIdle"),
        Field("mem_total_bytes", INT, "bytes"),
        Field("mem_used_bytes", INT, "bytes"),
        Field("mem_used_pct", F, "percent"),
        Field("load1", F, "short"),
        Field("load5", F, "short"),
        Field("load15", F, "short"),
    ),
    area="network",
)

DEVICE_EVENT = Measurement(
    "device_event",
    "Device-level events: device_reboot (sysUpTime went backwards), unreachable, recovered.",
    (*DEVICE_TAGS, Tag("event", "device_reboot | unreachable | recovered | poll_overrun")),
    (
        Field("uptime_s", F, "s", "sysUpTime at the event"),
        Field("message", S),
    ),
    area="network",
)

STORAGE = Measurement(
    "storage",
    "HOST-RESOURCES-MIB hrStorageTable entries (disks, RAM).",
    (*DEVICE_TAGS, Tag("storage", "hrStorageDescr"), Tag("kind", "hrStorageType short name")),
    (
        Field("size_bytes", INT, "bytes"),
        Field("used_bytes", INT, "bytes"),
        Field("used_pct", F, "percent"),
    ),
    area="network",
)

OPTICS = Measurement(
    "optics",
    "Transceiver (DOM) readings: ENTITY-SENSOR-MIB and the vendor tables of the device profiles.",
    (
        *DEVICE_TAGS,
        Tag("ifname", "interface the transceiver sits in, when known"),
        Tag("sensor"),
        Tag("lane", "lane of a multi-lane transceiver (QSFP), when the device reports lanes"),
    ),
    (
        Field("rx_dbm", F, "dBm", "receive power"),
        Field("tx_dbm", F, "dBm", "transmit power"),
        Field("bias_ma", F, "mA", "laser bias current"),
        Field("voltage_v", F, "volt", "module supply voltage"),
        Field("temperature_c", F, "celsius", "transceiver temperature"),
    ),
    area="network",
)

PROCESSOR = Measurement(
    "processor",
    "CPU load per processor, card or core (hrProcessorLoad or the vendor's CPU table).",
    (*DEVICE_TAGS, Tag("processor", "processor, card or core name")),
    (Field("load_pct", F, "percent", "utilisation"),),
    area="network",
)

MEMORY = Measurement(
    "memory",
    "Memory per pool (RAM without buffers and cache, or the vendor's memory table).",
    (*DEVICE_TAGS, Tag("pool", "memory pool, card or board name")),
    (
        Field("total_bytes", INT, "bytes"),
        Field("used_bytes", INT, "bytes"),
        Field("used_pct", F, "percent"),
    ),
    area="network",
)

SENSOR = Measurement(
    "sensor",
    "Other ENTITY-SENSOR-MIB sensors (chassis temperature, voltage, fans).",
    (*DEVICE_TAGS, Tag("sensor"), Tag("kind", "celsius | volts | amperes | watts | rpm | fan | psu | ...")),
    (
        Field("value", F, "none", "scaled sensor value (for kind fan/psu: the vendor's status code)"),
        Field("ok", INT, "bool", "1 when a fan/PSU status says normal, 0 when it says failed"),
    ),
    area="network",
)

UPS = Measurement(
    "ups",
    "UPS-MIB (RFC 1628) battery and output state.",
    DEVICE_TAGS,
    (
        Field("battery_status", INT, "none", "upsBatteryStatus: 1 unknown, 2 normal, 3 low, 4 depleted"),
        Field("battery_charge_pct", F, "percent", "upsEstimatedChargeRemaining"),
        Field("runtime_min", F, "m", "upsEstimatedMinutesRemaining"),
        Field("seconds_on_battery", F, "s", "upsSecondsOnBattery"),
        Field("on_battery", INT, "bool", "1 when upsSecondsOnBattery > 0"),
        Field("output_load_pct", F, "percent", "upsOutputPercentLoad (max over lines)"),
        Field("input_voltage", F, "volt"),
        Field("output_voltage", F, "volt"),
        Field("battery_temperature_c", F, "celsius"),
    ),
    area="network",
)

MEASUREMENTS = (
    INTERFACE, INTERFACE_EVENT, DEVICE, DEVICE_EVENT, STORAGE, OPTICS, PROCESSOR, MEMORY, SENSOR, UPS
)
