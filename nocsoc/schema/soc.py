"""SOC measurements: alerts raised by the detection engine, for dashboards that count them."""

from nocsoc.schema.core import Field, FieldType, Measurement, Tag

I, S = FieldType.INT, FieldType.STRING

ALERT = Measurement(
    "alert",
    "An alert raised or incremented (deduplicated) by the detection engine.",
    (
        Tag("rule_id"),
        Tag("rule_title"),
        Tag("level", "informational | low | medium | high | critical"),
        Tag("tactic", "first ATT&CK tactic of the rule"),
        Tag("host", "host the evidence came from"),
        Tag("state", "new | acknowledged | closed | false_positive"),
    ),
    (
        Field("count", I, "short", "events added to the alert by this write"),
        Field("alert_id", S, "", "alert store id"),
        Field("src_ip", S),
        Field("user", S),
        Field("title", S),
    ),
    area="soc",
)

LOG_EVENT = Measurement(
    "log_event",
    "Log events ingested per interval, by source and parser (volume, not content).",
    (Tag("source", "syslog_udp | syslog_tcp | file | json"), Tag("parser"), Tag("host")),
    (Field("events", I, "short"), Field("unparsed", I, "short")),
    area="soc",
)

MEASUREMENTS = (ALERT, LOG_EVENT)
