"""ICMP echo reachability per inventory device: one point per device per probe round."""

from nocsoc.schema.core import Field, FieldType, Measurement
from nocsoc.schema.network import DEVICE_TAGS

F, INT = FieldType.FLOAT, FieldType.INT

PING = Measurement(
    "ping",
    "ICMP echo round trips to each inventory device (icmplib): rtt min/avg/max, jitter and loss.",
    DEVICE_TAGS,
    (
        Field("reachable", INT, "bool", "1 when at least one echo reply came back"),
        Field("sent", INT, "short", "echo requests sent this round"),
        Field("received", INT, "short", "echo replies received this round"),
        Field("loss_pct", F, "percent", "packets lost, percent of sent"),
        Field("rtt_min_ms", F, "ms", "fastest round trip"),
        Field("rtt_avg_ms", F, "ms", "mean round trip"),
        Field("rtt_max_ms", F, "ms", "slowest round trip"),
        Field("jitter_ms", F, "ms", "mean difference between consecutive round trips"),
    ),
    area="network",
)

MEASUREMENTS = (PING,)
