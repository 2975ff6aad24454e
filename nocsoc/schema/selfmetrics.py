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
        Field("reachable", INT, "bool", "1 when the device answered this cycle"),
        Field("duration_s", F, "s", "wall time of the poll cycle for this device"),
        Field("polls", INT, "short", "poll cycles of this device"),
        Field("varbinds", INT, "short", "values received"),
        Field("requests", INT, "short", "SNMP requests sent"),
        Field("timeouts", INT, "short", "requests that timed out"),
        Field("errors", INT, "short", "polls that failed on an error"),
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

SNMP_POLLER = Measurement(
    "snmp_poller",
    "The SNMP poller as a whole: cycles, outcomes and what happened to counter readings.",
    (),
    (
        Field("cycles", INT, "short", "device poll cycles run"),
        Field("polls_ok", INT, "short", "device polls that answered"),
        Field("polls_failed", INT, "short", "device polls that failed (timeout, error, auth)"),
        Field("varbinds", INT, "short", "values received"),
        Field("requests", INT, "short", "SNMP requests sent"),
        Field("timeouts", INT, "short", "device polls that timed out"),
        Field("errors", INT, "short", "device polls that failed on an SNMP or decode error"),
        Field("auth_errors", INT, "short", "device polls refused for credentials (v3 USM reports)"),
        Field("config_errors", INT, "short",
              "devices not polled because their configuration is unusable (secret unresolvable)"),
        Field("overruns", INT, "short", "device polls that overran their interval"),
        Field("reboots", INT, "short", "device reboots seen (sysUpTime went back)"),
        Field("points", INT, "short", "points written"),
        Field("counter_wraps", INT, "short", "32-bit counters that wrapped between two polls"),
        Field("counter_resets", INT, "short", "counters that went back (reboot, clear counters)"),
        Field("implausible_rates", INT, "short", "rates above the interface speed, dropped"),
        Field("devices", INT, "short", "devices scheduled (gauge)"),
    ),
    area="self",
)

SNMP_SHARD = Measurement(
    "snmp_shard",
    "A sharded SNMP poller's part in the shared inventory: membership, assignment and leases.",
    (Tag("poller", "this poller's name in the membership"),),
    (
        Field("members", INT, "short", "live pollers seen in the members bucket (gauge)"),
        Field("assigned_devices", INT, "short", "devices this poller owns now by rendezvous hashing (gauge)"),
        Field("heartbeats", INT, "short", "heartbeats written to the members bucket"),
        Field("heartbeat_failures", INT, "short",
              "heartbeats or membership reads that failed (bus unreachable, no JetStream leader)"),
        Field("membership_changes", INT, "short", "times the set of live pollers changed"),
        Field("takeovers", INT, "short", "devices this poller took over from a poller that left or died"),
        Field("leases_won", INT, "short", "device cycles this poller leased, then polled"),
        Field("leases_lost", INT, "short",
              "device cycles another poller had leased already (not polled here: never twice)"),
        Field("lease_errors", INT, "short",
              "device cycles not polled because the leases bucket did not answer in time"),
        Field("catchup_polls", INT, "short",
              "device cycles polled late, right after a takeover, instead of skipped"),
        Field("id_conflicts", INT, "short",
              "heartbeats that found this poller's key written by another process (two pollers "
              "configured with one poller_id)"),
    ),
    area="self",
)

FLOW_PIPELINE = Measurement(
    "flow_pipeline",
    "The flow collector's sockets and rollups (per-exporter counters are in flow_collector).",
    (),
    (
        Field("kernel_drops", INT, "short", "socket receive-queue drops (SO_MEMINFO or SO_RXQ_OVFL)"),
        Field("app_drops", INT, "short", "datagrams dropped by a full application queue"),
        Field("points", INT, "short", "rollup points written"),
        Field("late_records", INT, "short", "records older than the open rollup interval, dropped"),
    ),
    area="self",
)

FLOW_COLLECTOR = Measurement(
    "flow_collector",
    "Flow receiver/decoder counters per exporter and protocol version.",
    (Tag("exporter"), Tag("version", "5 | 9 | 10 | sflow")),
    (
        Field("datagrams", INT, "short", "datagrams received"),
        Field("records", INT, "short", "flow records decoded"),
        Field("decode_errors", INT, "short", "datagrams or sets that could not be decoded"),
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
    ),
    area="self",
)

LOG_COLLECTOR = Measurement(
    "log_collector",
    "Log ingestion and detection engine counters.",
    (Tag("component", "syslog_udp | syslog_tcp | file | engine | rules"),),
    (
        Field("received", INT, "short", "lines or messages received"),
        Field("parsed", INT, "short", "events a format parser recognised"),
        Field("unparsed", INT, "short", "events kept raw (no parser recognised them)"),
        Field("dropped", INT, "short", "messages dropped (full queue, lost before storage)"),
        Field("errors", INT, "short", "read, decode or engine errors"),
        Field("deferred", INT, "short", "file lines left to re-read because the queue was full"),
        Field("matches", INT, "short", "rule matches"),
        Field("alerts", INT, "short", "alerts created"),
        Field("suppressed", INT, "short", "matches hidden by a suppression"),
        Field("incidents", INT, "short", "correlations raised"),
        Field("store_errors", INT, "short", "alert store writes that failed (retried)"),
        Field("store_dropped", INT, "short", "detections dropped after the store kept failing"),
        Field("rotations", INT, "short", "tailed files rotated"),
        Field("truncations", INT, "short", "tailed files truncated"),
        Field("connections", INT, "short", "TCP connections accepted"),
        Field("refused", INT, "short", "TCP connections refused (too many)"),
        Field("oversized", INT, "short", "messages longer than max_message, cut"),
        Field("events_per_s", F, "short", "events processed per second (gauge)"),
        Field("correlation_groups", INT, "short", "correlation groups (windows) held in memory (gauge)"),
        Field("correlation_evicted", INT, "short",
              "correlation groups evicted at detections.max_groups (oldest first)"),
        Field("correlation_missing", INT, "short",
              "events a correlation left out: a group-by field missing or empty"),
        Field("correlation_past_window", INT, "short",
              "events older than their group's window, counted in a past window of their own"),
        Field("correlation_too_old", INT, "short",
              "events older than every window their correlation group keeps (not counted)"),
        Field("reorder_held", INT, "short", "correlation events held for event-time reordering (gauge)"),
        Field("reorder_overflow", INT, "short",
              "correlation events released early: the reorder buffer was full"),
        Field("reorder_late", INT, "short",
              "correlation events that arrived after newer ones were released (beyond the reorder window)"),
        Field("rules_disabled", INT, "short",
              "rules not loaded: a placeholder they need (site networks) has no value (gauge)"),
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
        Field("connections", INT, "short", "TCP connections accepted"),
        Field("refused", INT, "short", "connections refused over the limit"),
        Field("batches", INT, "short", "Winlogbeat batches received"),
        Field("acked", INT, "short", "Winlogbeat batches acknowledged after storage"),
        Field("backpressure_waits", INT, "short", "Winlogbeat batches that waited for queue room"),
        Field("ack_timeouts", INT, "short", "Winlogbeat batches not acknowledged in time (resent)"),
        Field("protocol_errors", INT, "short", "connections closed on a Lumberjack protocol error"),
        Field("tls_errors", INT, "short",
              "Winlogbeat connections whose TLS handshake failed (wrong or no client certificate, "
              "plain TCP)"),
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
        Field("written", INT, "short", "points delivered"),
        Field("batches", INT, "short", "batches delivered"),
        Field("retries", INT, "short", "write attempts retried"),
        Field("rejected", INT, "short", "points dropped after a 4xx split"),
        Field("spooled", INT, "short", "points written to the disk spool"),
        Field("replayed", INT, "short", "spooled points delivered later"),
        Field("spool_dropped", INT, "short", "oldest spooled points dropped when the spool is full"),
        Field("spool_bytes", INT, "bytes", "size of the spool on disk (gauge)"),
        Field("queue", INT, "short", "points waiting in memory"),
        Field("errors", INT, "short", "writes a sink raised on (a fanout's child)"),
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
        Field("entity_unresolved", INT, "short",
              "component traps whose entPhysicalIndex the SNMP poller has not named (shown as 'entity N')"),
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

HISTORY = Measurement(
    "history",
    "The history store's writers: flow aggregates per minute and the log archive (nocsoc.history).",
    (Tag("dataset", "flows | logs"),),
    (
        Field("received", INT, "short", "flow records or log lines the writer took or dropped"),
        Field("dropped", INT, "short", "records or lines dropped: the writer's queue or buffer was full"),
        Field("rejected", INT, "short", "records or lines refused as unusable (named in the log)"),
        Field("written", INT, "short", "records or lines written to the store"),
        Field("rows", INT, "short", "rows written (flow aggregates, or log lines)"),
        Field("files", INT, "short", "files written"),
        Field("errors", INT, "short", "writes or upkeep that failed (disk full, server down)"),
        Field("compactions", INT, "short", "hours merged into one sorted file"),
        Field("expired", INT, "short", "hours deleted by the retention"),
        Field("evicted", INT, "short", "hours deleted to keep within the disk budget"),
        Field("disk_bytes", INT, "bytes", "size of the dataset on disk (gauge)"),
        Field("queue", INT, "short", "items waiting for the writer (gauge)"),
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

WEB = Measurement(
    "web",
    "The SOC console and its API: requests, logins, refusals and triage done through it.",
    (),
    (
        Field("requests", INT, "short", "HTTP requests answered"),
        Field("api_requests", INT, "short", "requests under /api/v1"),
        Field("logins", INT, "short", "successful logins"),
        Field("login_failures", INT, "short", "logins refused for a wrong name or password"),
        Field("lockouts", INT, "short", "accounts locked after too many failed logins"),
        Field("denied", INT, "short", "requests refused: no session or token, role or scope too low"),
        Field("csrf_refused", INT, "short", "state changes refused for a missing or wrong CSRF token"),
        Field("rate_limited", INT, "short", "requests refused by a login or token rate limit"),
        Field("triage_actions", INT, "short", "alert state changes, assignments and comments made"),
        Field("errors", INT, "short", "requests that failed on a server error"),
        Field("ioc_cached", INT, "short",
              "IOC page and /api/v1/kpi answers served from the refresh interval's figures"),
    ),
    area="self",
)

NOTIFY = Measurement(
    "notify",
    "Notifications: what the routes accepted, held, delivered and retried.",
    (),
    (
        Field("submitted", INT, "short", "events offered to the routes"),
        Field("spooled", INT, "short", "messages written to the spool (one per route target)"),
        Field("sent", INT, "short", "messages a channel accepted"),
        Field("failed", INT, "short", "delivery attempts that failed (retried later)"),
        Field("retried", INT, "short", "messages put back in the spool after a failure"),
        Field("deduplicated", INT, "short", "events a route had sent already within dedup_s"),
        Field("rate_limited", INT, "short", "events dropped over a route's max_per_hour"),
        Field("held_quiet", INT, "short", "messages held until a route's quiet hours end"),
        Field("expired", INT, "short", "messages dropped undelivered after max_age_s"),
        Field("pending", INT, "short", "messages waiting in the spool (gauge)"),
        Field("store_errors", INT, "short",
              "passes that could not read the alert store (e.g. its PostgreSQL server down): "
              "its new alerts are offered on the next pass that can"),
    ),
    area="self",
)

BUS_PUBLISH = Measurement(
    "bus_publish",
    "Receivers on the bus (`nocsoc run --role receiver`): raw records published, buffered, lost.",
    (Tag("kind"),),
    (
        Field("records", INT, "short", "raw records (datagrams, lines) handed to the bus publisher"),
        Field("messages", INT, "short", "bus messages (batches of records) the bus acknowledged"),
        Field("bytes", INT, "bytes", "payload bytes the bus acknowledged"),
        Field("publish_errors", INT, "short",
              "publishes that failed (bus unreachable, timeout): their batches went to the disk buffer"),
        Field("refused", INT, "short",
              "publishes the stream refused at its limit (discard: new): their batches went to the disk "
              "buffer"),
        Field("buffered", INT, "short", "batches written to the disk buffer"),
        Field("replayed", INT, "short", "batches replayed from the disk buffer to the bus"),
        Field("buffer_dropped", INT, "short",
              "records lost because the disk buffer was full (bus.buffer_max_bytes)"),
        Field("buffer_bytes", INT, "bytes", "bytes waiting in the disk buffer (gauge)"),
        Field("dropped", INT, "short", "records dropped because the in-memory batch queue was full"),
    ),
    area="self",
)

BUS_CONSUME = Measurement(
    "bus_consume",
    "Decoders and detectors on the bus: what they read, skipped as already counted, and lost.",
    (Tag("kind"),),
    (
        Field("messages", INT, "short", "bus messages processed"),
        Field("records", INT, "short", "raw records processed"),
        Field("duplicates", INT, "short",
              "messages skipped on redelivery: already counted by a committed rollup or store write"),
        Field("poison", INT, "short",
              "messages that could not be decoded or processed: acknowledged and sent to the dead-letter "
              "subject"),
        Field("stream_gaps", INT, "short",
              "messages the stream dropped at its limit (discard: old) before they were read: LOST"),
        Field("resyncs", INT, "short", "consumer restarts after an out-of-order delivery"),
        Field("commits", INT, "short", "commits: results written, progress recorded, messages acknowledged"),
        Field("commit_errors", INT, "short", "commits that failed (retried)"),
        Field("partitions", INT, "short", "partitions this process owns (gauge)"),
        Field("acquired", INT, "short", "partitions taken over (start, a peer left or died)"),
        Field("released", INT, "short", "partitions handed to another process (a peer joined)"),
        Field("lost_leases", INT, "short", "partitions lost because another process took the lease"),
    ),
    area="self",
)

MEASUREMENTS = (SNMP_POLL, SNMP_POLLER, FLOW_PIPELINE, FLOW_COLLECTOR, LOG_COLLECTOR, WINDOWS_INPUT, SINK,
                TRAP_RECEIVER, ICMP_PROBE, HISTORY, WEB, NOTIFY,
                SNMP_SHARD, BUS_PUBLISH, BUS_CONSUME)
