"""nocsoc's own health: counters of everything that moves, per component.

Components keep `Counters` (see nocsoc.component) and write them here; the per-component
fields are declared so the collector-health dashboard can name them.
"""

from nocsoc.schema.core import Field, FieldType, Measurement, Tag

F, I = FieldType.FLOAT, FieldType.INT

SNMP_POLL = Measurement(
    "snmp_poll",
    "Per-device poll health (the per-target timing Telegraf users asked for in #12530).",
    (Tag("device"), Tag("site"), Tag("role")),
    (
        Field("reachable", I, "bool"),
        Field("duration_s", F, "s", "wall time of the poll cycle for this device"),
        Field("varbinds", I, "short"),
        Field("requests", I, "short"),
        Field("timeouts", I, "short"),
        Field("errors", I, "short"),
        Field("overruns", I, "short", "cycles that overran the interval"),
    ),
    area="self",
)

FLOW_COLLECTOR = Measurement(
    "flow_collector",
    "Flow receiver/decoder counters per exporter and protocol version.",
    (Tag("exporter"), Tag("version", "5 | 9 | 10 | sflow")),
    (
        Field("datagrams", I, "short"),
        Field("records", I, "short"),
        Field("decode_errors", I, "short"),
        Field("sequence_lost", I, "short", "records/packets missing by sequence number"),
        Field("template_missing", I, "short", "data sets held or dropped for lack of template"),
        Field("unsampled", I, "short", "records with no known sampling rate"),
        Field("kernel_drops", I, "short", "socket receive-queue drops (SO_RXQ_OVFL)"),
        Field("app_drops", I, "short", "datagrams dropped by a full application queue"),
    ),
    area="self",
)

LOG_COLLECTOR = Measurement(
    "log_collector",
    "Log ingestion and detection engine counters.",
    (Tag("component", "syslog_udp | syslog_tcp | file | engine"),),
    (
        Field("received", I, "short"),
        Field("parsed", I, "short"),
        Field("unparsed", I, "short"),
        Field("dropped", I, "short"),
        Field("matches", I, "short"),
        Field("alerts", I, "short"),
        Field("suppressed", I, "short"),
        Field("events_per_s", F, "short"),
    ),
    area="self",
)

SINK = Measurement(
    "sink",
    "Sink counters: points written, retried, spooled, dropped.",
    (Tag("sink"),),
    (
        Field("written", I, "short"),
        Field("batches", I, "short"),
        Field("retries", I, "short"),
        Field("rejected", I, "short", "points dropped after a 4xx split"),
        Field("spooled", I, "short"),
        Field("replayed", I, "short"),
        Field("spool_dropped", I, "short", "oldest spooled points dropped when the spool is full"),
        Field("spool_bytes", I, "bytes"),
        Field("queue", I, "short", "points waiting in memory"),
    ),
    area="self",
)

MEASUREMENTS = (SNMP_POLL, FLOW_COLLECTOR, LOG_COLLECTOR, SINK)
