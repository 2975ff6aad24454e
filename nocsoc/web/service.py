"""The console as a `nocsoc run` service (`web:` section) and for `nocsoc web`: uvicorn in a
thread of the worker, so it follows the component contract (start/stop/counters)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

from nocsoc.component import Counters
from nocsoc.context import Context
from nocsoc.inventory.model import Inventory
from nocsoc.web.config import WebConfig

log = logging.getLogger(__name__)


def split_bind(bind: str) -> tuple[str, int]:
    host, sep, port = bind.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"bind {bind!r}: use HOST:PORT, e.g. 127.0.0.1:8080")
    return host.strip("[]") or "127.0.0.1", int(port)


def console_deps(
    ctx: Context,
    inventory: Inventory,
    read_summary: Callable[..., Any] | None = None,
    web: WebConfig | None = None,
    sink: Any = None,
) -> Any:
    """ConsoleDeps from the runtime context: every path resolved the one way. `read_summary`
    (nocsoc.service.summary's) reads the SQLite sink for the IOC page."""
    from nocsoc.detections.alerts.factory import open_alert_store
    from nocsoc.detections.loader import load_rules
    from nocsoc.sinks.plugins.sqlite import SqliteSinkConfig
    from nocsoc.web.app import ConsoleDeps
    from nocsoc.web.enrich import GeoLookup
    from nocsoc.web.pivot import HistoryPivot

    cfg = ctx.config
    sqlite = next((s for s in cfg.sinks if isinstance(s, SqliteSinkConfig)), None)
    det = cfg.detections

    names = {d.address: d.name for d in inventory.devices}
    sink_db = ctx.path(sqlite.path) if sqlite else None

    def backbone(now: float) -> Any:
        if sink_db is None or read_summary is None:
            return None
        return read_summary(
            sink_db,
            None,
            since_ns=int((now - 900) * 1e9),
            names=names,
            optics_min_dbm=cfg.dashboards.optics_rx_min_dbm,  # the one threshold, as dashboards/top
        )

    @cache
    def ruleset() -> Any:
        from nocsoc.detections.placeholders import from_inventory

        return load_rules([ctx.path(p) for p in det.rules], include_builtin=det.builtin_rules,
                          placeholders=from_inventory(inventory))

    return ConsoleDeps(
        web=web or cfg.web,
        alerts_db=ctx.path(det.alerts_db),
        users_db=ctx.path(cfg.web.users_db),
        backbone=backbone if sink_db is not None and read_summary is not None else None,
        on_change=None if sink is None else triage_writer(sink),
        inventory=inventory,
        ruleset=ruleset,
        pivot=HistoryPivot.from_config(cfg, ctx.path),
        dedup_window_s=det.dedup_window_s,
        geo=GeoLookup(
            ctx.path(cfg.flows.geoip_country_db) if cfg.flows.geoip_country_db else None,
            ctx.path(cfg.flows.geoip_asn_db) if cfg.flows.geoip_asn_db else None,
        ),
        sink_db=sink_db,
        util_warn_pct=cfg.dashboards.link_utilization_warn_pct,
        util_alarm_pct=cfg.dashboards.link_utilization_pct,
        open_store=(lambda: open_alert_store(det, ctx)) if det.alerts_postgres is not None else None,
    )


def triage_writer(sink: Any) -> Callable[[Any], None]:
    """Write a triaged alert's `alert` point, so the sinks' dashboards see its new state."""
    import time

    from nocsoc.detections.alerts.points import alert_point

    def write(alert: Any) -> None:
        sink.write([alert_point(alert, 0, time.time_ns())])

    return write


class WebService:
    name = "web"

    def __init__(self, deps: Any, bind: str) -> None:
        self.deps = deps
        self.host, self.port = split_bind(bind)
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._counters: Counters | None = None

    def start(self) -> None:
        import uvicorn

        from nocsoc.web.app import create_app

        app = create_app(self.deps)
        self._counters = app.state.counters
        config = uvicorn.Config(
            app,
            host=self.host,
            port=self.port,
            log_config=None,
            access_log=False,
            lifespan="off",
            server_header=False,
        )
        self._server = uvicorn.Server(config)
        self._server.install_signal_handlers = lambda: None  # the worker owns the signals
        import socket

        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))  # here: a port in use fails start(), not a thread
        except OSError as exc:
            sock.close()
            raise OSError(
                exc.errno, f"cannot listen on {self.host}:{self.port} (web.bind): {exc.strerror}"
            ) from None
        self.port = sock.getsockname()[1]
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="web", daemon=True
        )
        self._thread.start()
        log.info("console: http://%s:%d/", self.host, self.port)

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)

    def counter_sets(self) -> Iterable[Counters]:
        return [self._counters] if self._counters is not None else []

    def status(self) -> dict[str, Any]:
        return {"url": f"http://{self.host}:{self.port}/"}

    @property
    def started(self) -> bool:
        return bool(self._server is not None and self._server.started)


def users_db_path(ctx: Context) -> Path:
    return ctx.path(ctx.config.web.users_db)
