"""One place that opens the configured alert store: the SQLite file, or PostgreSQL when
`detections.alerts_postgres` is set (several detectors sharing one queue)."""

from __future__ import annotations

from nocsoc.detections.alerts.store import AlertStore
from nocsoc.detections.config import DetectionsConfig
from nocsoc.paths import Resolver


def open_alert_store(config: DetectionsConfig, resolver: Resolver) -> AlertStore:
    """The store `config` names. Raises SecretError for an unresolvable password reference,
    OSError / sqlite3.Error / psycopg.Error when the store cannot be opened."""
    pg = config.alerts_postgres
    if pg is None:
        return AlertStore(resolver.path(config.alerts_db), config.dedup_window_s)
    from nocsoc.detections.alerts.postgres import PostgresAlertStore

    password = resolver.secret(pg.password, "detections.alerts_postgres.password") if pg.password else None
    return PostgresAlertStore(pg.dsn, config.dedup_window_s, password=password, owner=pg.owner,
                              connect_timeout_s=pg.connect_timeout_s)
