"""SOC measurements: alerts raised by the detection engine, for dashboards that count them."""

from nocsoc.schema.core import Field, FieldType, Measurement, Tag

INT, STR = FieldType.INT, FieldType.STRING

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
        Tag("alert", "alert store id: one series per alert, so last() gives its latest state"),
    ),
    (
        Field("count", INT, "short", "events added to the alert by this write (0 for a triage change)"),
        Field("alert_id", STR, "", "alert store id"),
        Field("src_ip", STR),
        Field("user", STR),
        Field("title", STR),
        Field("open", INT, "bool", "1 while the alert is new or acknowledged, after this write"),
        Field("events", INT, "short", "events of the alert so far"),
        Field("status", STR, "", "the alert's state after this write (the state tag as a field, for last())"),
    ),
    area="soc",
)

LOG_EVENT = Measurement(
    "log_event",
    "Log events ingested per interval, by source and parser (volume, not content).",
    (Tag("source", "syslog_udp | syslog_tcp | file | json"), Tag("parser"), Tag("host")),
    (Field("events", INT, "short"), Field("unparsed", INT, "short")),
    area="soc",
)

MEASUREMENTS = (ALERT, LOG_EVENT)
