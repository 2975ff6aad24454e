"""Alerts: the durable store analysts triage (dedup, states with an audit trail, suppressions)."""

from nocsoc.detections.alerts.store import (
    STATES,
    Alert,
    AlertStore,
    AuditEntry,
    IngestResult,
    Suppression,
    TriageError,
    parse_duration,
)

__all__ = ["STATES", "Alert", "AlertStore", "AuditEntry", "IngestResult", "Suppression", "TriageError",
           "parse_duration"]
