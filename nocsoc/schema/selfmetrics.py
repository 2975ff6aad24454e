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

WINDOWS_INPUT = Measurement(
    "windows_input",
    "Live Windows event inputs (Winlogbeat, NXLog): per receiver (sender `all`) and per sender.",
    (Tag("input", "winlogbeat | nxlog_tcp | nxlog_udp"), Tag("sender", "address, or `all`")),
    (
        Field("received", INT, "short", "documents received"),
        Field("dropped", INT, "short", "NXLog documents dropped by a full queue"),
        Field("errors", INT, "short", "socket errors"),
        Field("connections", INT, "short"),
        Field("refused", INT, "short", "connections refused over the limit"),
        Field("batches", INT, "short", "Winlogbeat batches received"),
        Field("acked", INT, "short", "Winlogbeat batches acknowledged after storage"),
        Field("backpressure_waits", INT, "short", "Winlogbeat batches that waited for queue room"),
        Field("ack_timeouts", INT, "short", "Winlogbeat batches not acknowledged in time (resent)"),
        Field("protocol_errors", INT, "short", "connections closed on a Lumberjack protocol error"),
        Field("oversized", INT, "short", "documents over logs.max_message, skipped"),
        Field("events", INT, "short", "Windows events parsed"),
        Field("not_events", INT, "short", "documents that are no Windows event (or no JSON)"),
        Field("unknown_channel", INT, "short", "events of channels no rule logsource maps"),
        Field("unknown_event_id", INT, "short", "Sysmon events of an EventID without a category"),
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

MEASUREMENTS = (SNMP_POLL, FLOW_COLLECTOR, LOG_COLLECTOR, WINDOWS_INPUT, SINK)
