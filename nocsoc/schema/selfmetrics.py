"""nocsoc's own health: counters of everything that moves, per component.

Components keep `Counters` (see nocsoc.component) and write them here; the per-component
fields are declared so the collector-health dashboard can name them.
"""

from nocsoc.schema.core import Field, FieldType, Measurement, Tag

F, INT = FieldType.FLOAT, FieldType.INT

SNMP_POLL = Measurement(
    "snmp_poll",
    "Per-device poll health (the per-target timing Telegraf users asked for in #12530).",
    (Tag("device"), Tag("site"), Tag("role")),
    (
        Field("reachable", INT, "bool"),
        Field("duration_s", F, "s", "wall time of the poll cycle for this device"),
        Field("varbinds", INT, "short"),
        Field("requests", INT, "short"),
        Field("timeouts", INT, "short"),
        Field("errors", INT, "short"),
        Field("overruns", INT, "short", "cycles that overran the interval"),
        Field("bad_rows", INT, "short",
              "table rows skipped or renamed (unreadable, duplicate ifName, an area's error)"),
        Field("unsafe_values", INT, "short",
              "tag/string values made safe for line protocol (newline, trailing backslash)"),
        Field("bad_replies", INT, "short",
              "replies that were not valid SNMP (garbage, truncated, unknown types)"),
    ),
    area="self",
)

FLOW_COLLECTOR = Measurement(
    "flow_collector",
    "Flow receiver/decoder counters per exporter and protocol version.",
    (Tag("exporter"), Tag("version", "5 | 9 | 10 | sflow")),
    (
        Field("datagrams", INT, "short"),
        Field("records", INT, "short"),
        Field("decode_errors", INT, "short"),
        Field("sequence_lost", INT, "short", "records/packets missing by sequence number"),
        Field("template_missing", INT, "short", "data sets held or dropped for lack of template"),
        Field("unsampled", INT, "short", "records with no known sampling rate"),
        Field("kernel_drops", INT, "short", "socket receive-queue drops (SO_MEMINFO or SO_RXQ_OVFL)"),
        Field("app_drops", INT, "short", "datagrams dropped by a full application queue"),
    ),
    area="self",
)

LOG_COLLECTOR = Measurement(
    "log_collector",
    "Log ingestion and detection engine counters.",
    (Tag("component", "syslog_udp | syslog_tcp | file | engine"),),
    (
        Field("received", INT, "short"),
        Field("parsed", INT, "short"),
        Field("unparsed", INT, "short"),
        Field("dropped", INT, "short"),
        Field("matches", INT, "short"),
        Field("alerts", INT, "short"),
        Field("suppressed", INT, "short"),
        Field("events_per_s", F, "short"),
    ),
    area="self",
)

SINK = Measurement(
    "sink",
    "Sink counters: points written, retried, spooled, dropped (each worker has its own sinks).",
    (Tag("sink"), Tag("worker", "the `nocsoc run` worker (snmp | flows | logs | main)")),
    (
        Field("written", INT, "short"),
        Field("batches", INT, "short"),
        Field("retries", INT, "short"),
        Field("rejected", INT, "short", "points dropped after a 4xx split"),
        Field("spooled", INT, "short"),
        Field("replayed", INT, "short"),
        Field("spool_dropped", INT, "short", "oldest spooled points dropped when the spool is full"),
        Field("spool_bytes", INT, "bytes"),
        Field("queue", INT, "short", "points waiting in memory"),
    ),
    area="self",
)

MEASUREMENTS = (SNMP_POLL, FLOW_COLLECTOR, LOG_COLLECTOR, SINK)
