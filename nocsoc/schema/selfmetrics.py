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
        Field("padding", INT, "short", "datagrams with zero padding after the last set or message"),
        Field("trailing_data", INT, "short",
              "datagrams with non-zero bytes after the message (another message back to back: not read)"),
        Field("template_errors", INT, "short",
              "templates refused (the rest of the set and datagram kept; data held for it dropped)"),
        Field("template_lenient", INT, "short",
              "templates accepted with zero-length fields skipped or v9 variable-length fields"),
        Field("sampling_unsupported", INT, "short",
              "sampling options whose selector gives no packet rate (time- or hash-based selection)"),
        Field("if_fallback", INT, "short", "records whose interfaces came from IEs 252/253 (no 10/14)"),
        Field("enterprise_octets", INT, "short", "records whose bytes came from enterprise octet counters"),
        Field("volume_missing", INT, "short", "records with no byte or packet element (NAT/firewall events)"),
        Field("reverse_records", INT, "short", "reverse-direction records (RFC 5103, NSEL responder)"),
        Field("tunnel_records", INT, "short", "records reported by their inner header, the outer as tunnel"),
        Field("frame_sections", INT, "short", "records read from a header section (IE 315 / 313)"),
        Field("frame_errors", INT, "short", "records dropped: header section cut short or malformed"),
        Field("frame_not_ip", INT, "short", "records dropped: header section without an IP packet"),
        Field("vxlan_decapsulated", INT, "short", "records reported by the inner packet of VXLAN"),
        Field("drop_samples", INT, "short", "sFlow drop samples (format 5), kept as drop records"),
        Field("if_internal", INT, "short", "sFlow samples whose output is internal (0x3fffffff)"),
        Field("if_discarded", INT, "short", "sFlow samples whose packet was discarded (format 1)"),
        Field("if_multiple", INT, "short", "sFlow samples sent to several interfaces (format 2)"),
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
