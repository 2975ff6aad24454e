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

TRAP_RECEIVER = Measurement(
    "trap_receiver",
    "SNMP trap receiver counters: what arrived, what was refused and why (all sources together).",
    (),
    (
        Field("received", INT, "short", "datagrams read from the socket"),
        Field("traps", INT, "short", "traps and informs decoded and accepted"),
        Field("informs", INT, "short", "informs acknowledged (a subset of traps)"),
        Field("unknown_traps", INT, "short", "accepted traps the catalogue has no entry for"),
        Field("alerts", INT, "short", "alerts raised or incremented in the alert store"),
        Field("interface_updates", INT, "short", "interface oper-status points written from link traps"),
        Field("ifname_unresolved", INT, "short", "link traps whose ifIndex had no known name"),
        Field("unknown_source", INT, "short", "datagrams from addresses not in the inventory"),
        Field("bad_community", INT, "short", "v1/v2c traps with a community not configured"),
        Field("unknown_user", INT, "short", "v3 traps from a user (or engine id) not configured"),
        Field("wrong_digest", INT, "short", "v3 traps failing authentication"),
        Field("decrypt_errors", INT, "short", "v3 traps failing decryption"),
        Field("not_in_time_window", INT, "short", "v3 traps outside the USM time window"),
        Field("unknown_engine_id", INT, "short", "v3 traps with a missing or malformed engine id"),
        Field("unsupported_sec_level", INT, "short", "v3 traps at a security level the user lacks"),
        Field("malformed", INT, "short", "datagrams that are not a decodable SNMP message"),
        Field("refused_other", INT, "short", "messages dropped for another reason (wrong PDU type)"),
        Field("queue_dropped", INT, "short", "datagrams dropped because the decoder queue was full"),
        Field("store_errors", INT, "short", "alert store writes that failed"),
    ),
    area="self",
)

ICMP_PROBE = Measurement(
    "icmp_probe",
    "ICMP reachability prober counters.",
    (),
    (
        Field("rounds", INT, "short", "probe rounds over the inventory"),
        Field("probes", INT, "short", "device probes done"),
        Field("reachable", INT, "short", "probes with at least one reply"),
        Field("unreachable", INT, "short", "probes with no reply"),
        Field("errors", INT, "short", "probes that failed to run (bad address, socket error)"),
        Field("overruns", INT, "short", "rounds that took longer than the interval"),
    ),
    area="self",
)

MEASUREMENTS = (SNMP_POLL, FLOW_COLLECTOR, LOG_COLLECTOR, SINK, TRAP_RECEIVER, ICMP_PROBE)
