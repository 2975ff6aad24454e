"""Flow rollups written by the flow collector: one set of points per interval and exporter.

Top-N tables keep cardinality bounded: everything beyond N is summed into key `other`, so the
sum over a rollup's keys always equals the interval total.
"""

from nocsoc.schema.core import Field, FieldType, Measurement, Tag

F, I = FieldType.FLOAT, FieldType.INT

EXPORTER_TAGS = (
    Tag("exporter", "exporter address"),
    Tag("device", "inventory device name of the exporter"),
    Tag("site", "inventory site id"),
)
VOLUME_FIELDS = (
    Field("bytes", I, "decbytes", "bytes in the interval (scaled by sampling)"),
    Field("packets", I, "short", "packets in the interval (scaled by sampling)"),
    Field("flows", I, "short", "flow records in the interval"),
    Field("bps", F, "bps", "bytes*8 / interval"),
)

FLOW_TOTAL = Measurement(
    "flow_total",
    "Totals per interval and exporter, split by IP version.",
    (*EXPORTER_TAGS, Tag("ip_version", "4 | 6"), Tag("sampled", "true when scaled by a sampling rate")),
    VOLUME_FIELDS,
    area="flows",
)

FLOW_INTERFACE = Measurement(
    "flow_interface",
    "Volume per exporter interface and direction.",
    (*EXPORTER_TAGS, Tag("ifindex"), Tag("ifname"), Tag("direction", "in | out")),
    VOLUME_FIELDS,
    area="flows",
)

FLOW_TOP = Measurement(
    "flow_top",
    "Top-N per interval: kind src | dst | service | conversation; key beyond N is `other`.",
    (*EXPORTER_TAGS, Tag("kind", "src | dst | service | conversation"), Tag("key"),
     Tag("country"), Tag("asn")),
    (*VOLUME_FIELDS, Field("rank", I, "none", "1 = largest; 0 for `other`")),
    area="flows",
)

MEASUREMENTS = (FLOW_TOTAL, FLOW_INTERFACE, FLOW_TOP)
