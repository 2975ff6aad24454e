"""The `alert` point: written when an alert is raised or grows (the log pipeline) and when its
triage state changes (the CLI, the console), so the sinks' dashboards see the latest state of
each alert (one series per alert id) and count open alerts, not events."""

from __future__ import annotations

from nocsoc.detections.alerts.store import OPEN_STATES, Alert
from nocsoc.schema import ALERT, Point


def alert_point(a: Alert, added: int, time_ns: int) -> Point:
    """`added`: events this write adds to the alert (0 for a triage change)."""
    return ALERT.point(
        time_ns,
        {"rule_id": a.rule_id, "rule_title": a.rule_title, "level": a.level, "tactic": a.tactic,
         "host": a.host, "state": a.state, "alert": str(a.id)},
        {"count": added, "alert_id": str(a.id), "src_ip": a.src_ip or None, "user": a.user or None,
         "title": a.rule_title, "open": int(a.state in OPEN_STATES), "events": a.count, "status": a.state},
    )
