"""Flow rollups written by the flow collector: one set of points per interval and exporter.

Top-N tables keep cardinality bounded: everything beyond N is summed into key `other`, so the
sum over a rollup's keys always equals the interval total.
"""

from nocsoc.schema.core import Field, FieldType, Measurement, Tag

F, INT = FieldType.FLOAT, FieldType.INT

EXPORTER_TAGS = (
    Tag("exporter", "exporter address"),
    Tag("device", "inventory device name of the exporter"),
    Tag("site", "inventory site id"),
)
VOLUME_FIELDS = (
    Field("bytes", INT, "decbytes", "bytes in the interval (scaled by sampling)"),
    Field("packets", INT, "short", "packets in the interval (scaled by sampling)"),
    Field("flows", INT, "short", "flow records in the interval"),
    Field("bps", F, "bps", "bytes*8 / interval"),
)

FLOW_TOTAL = Measurement(
    "flow_total",
    "Totals per interval and exporter, split by IP version and sampling state.",
    (*EXPORTER_TAGS, Tag("ip_version", "4 | 6"),
     Tag("sampled", "true: scaled by a known rate > 1 | false: known unsampled | unknown: no rate known, "
                    "not scaled")),
    VOLUME_FIELDS,
    area="flows",
)

FLOW_INTERFACE = Measurement(
    "flow_interface",
    "Volume per exporter interface and direction.",
    (*EXPORTER_TAGS, Tag("ifindex"), Tag("ifname", "ifName from the SNMP poller, else `ifIndex N`"),
     Tag("link", "inventory link of the interface"), Tag("direction", "in | out")),
    VOLUME_FIELDS,
    area="flows",
)

FLOW_TOP = Measurement(
    "flow_top",
    "Top-N per interval: kind src | dst | service | conversation; key beyond N is `other`.",
    (*EXPORTER_TAGS, Tag("kind", "src | dst | service | conversation"), Tag("key"),
     Tag("country"), Tag("asn")),
    (*VOLUME_FIELDS, Field("rank", INT, "none", "1 = largest; 0 for `other`")),
    area="flows",
)

SFLOW_INTERFACE = Measurement(
    "sflow_interface",
    "Interface counters from sFlow counter samples, raw as the agent sent them (counters, not rates).",
    (*EXPORTER_TAGS, Tag("ifindex"), Tag("ifname")),
    (
        Field("in_octets", INT, "decbytes"),
        Field("out_octets", INT, "decbytes"),
        Field("in_packets", INT, "short", "unicast + multicast + broadcast"),
        Field("out_packets", INT, "short", "unicast + multicast + broadcast"),
        Field("in_errors", INT, "short"),
        Field("out_errors", INT, "short"),
        Field("in_discards", INT, "short"),
        Field("out_discards", INT, "short"),
        Field("speed_bps", INT, "bps", "ifSpeed"),
        Field("oper_up", INT, "bool", "1 when ifStatus says operationally up"),
        Field("admin_up", INT, "bool", "1 when ifStatus says administratively up"),
    ),
    area="flows",
)

MEASUREMENTS = (FLOW_TOTAL, FLOW_INTERFACE, FLOW_TOP, SFLOW_INTERFACE)
