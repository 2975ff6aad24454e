"""The notifier as a `nocsoc run` service: new alerts from the alert store (and devices going
down, from the SQLite sink when a reader is given) offered to the routes; the spool delivered."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from nocsoc.component import Counters
from nocsoc.context import Context
from nocsoc.fileio import atomic_write
from nocsoc.inventory.model import Inventory
from nocsoc.notify.notifier import Notification, Notifier, alert_notification

log = logging.getLogger(__name__)


def _attack_key(a: Any) -> tuple[str, str]:
    """Source and target of an alert as the console groups incidents (nocsoc.web.queue)."""
    return (a.src_ip or a.host, a.dst_ip or a.host)


class NotifyService:
    name = "notify"

    def __init__(
        self, ctx: Context, inventory: Inventory, unreachable: Callable[[float], list[str]] | None = None
    ) -> None:
        cfg = ctx.config
        self.ctx = ctx
        self.notifier = Notifier(cfg.notify, ctx.path(cfg.notify.spool_dir), channel_resolver(ctx), ctx.clock)
        self.alerts_db = ctx.path(cfg.detections.alerts_db)
        self.mark = ctx.state_dir / "notify-mark.json"
        self.sites = {d.name: d.site for d in inventory.devices} | {
            d.address: d.site for d in inventory.devices
        }
        self.levels = {
            d.name: "high" if d.role.value in ("core", "datacenter") else "medium" for d in inventory.devices
        }
        self.unreachable = unreachable
        self.base_url = f"http://{cfg.web.bind}" if cfg.web.enabled else ""
        self._down: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _last_id(self) -> int | None:
        try:
            return int(json.loads(self.mark.read_text())["alert_id"])
        except (OSError, ValueError, KeyError):
            return None

    def poll(self) -> None:
        """Offer what is new, then deliver what is due (one pass; the thread loops it)."""
        from nocsoc.detections.alerts import AlertStore

        if self.alerts_db.exists():
            with AlertStore(self.alerts_db) as store:
                last = self._last_id()
                alerts = store.list_alerts(limit=10_000)
                newest = max((a.id for a in alerts), default=0)
                if last is None:  # first start: what was there before is not news
                    last = newest
                window = self.ctx.config.web.incident_window_s
                for a in sorted((a for a in alerts if a.id > last), key=lambda a: a.id):
                    site = self.sites.get(a.host) or self.sites.get(a.dst_ip, "")
                    note = alert_notification(a, site, self.base_url)
                    self.notifier.submit(note)
                    key = _attack_key(a)
                    if not any(
                        o.id < a.id and _attack_key(o) == key and o.last_seen >= a.first_seen - window
                        for o in alerts
                    ):  # the first alert of an attack opens an incident
                        self.notifier.submit(
                            Notification(
                                "incident",
                                a.level,
                                f"{key[0]} -> {key[1]}",
                                f"incident:{key[0]}:{key[1]}:{a.id}",
                                a.last_seen,
                                rule=a.rule_id,
                                site=site,
                                details={**note.details},
                                url=note.url,
                            )
                        )
                if newest != self._last_id():
                    atomic_write(self.mark, json.dumps({"alert_id": max(newest, last)}))
        if self.unreachable is not None:
            now = self.ctx.clock()
            down = set(self.unreachable(now))
            for dev in sorted(down - self._down):
                self.notifier.submit(
                    Notification(
                        "device_down",
                        self.levels.get(dev, "medium"),
                        dev,
                        f"device_down:{dev}",
                        now,
                        site=self.sites.get(dev, ""),
                        details={"host": dev, "site": self.sites.get(dev, "")},
                    )
                )
            self._down = down
        self.notifier.deliver_due()
        self.notifier.counters.set("pending", self.notifier.pending())

    def _run(self) -> None:
        while not self._stop.wait(self.ctx.config.notify.poll_s):
            try:
                self.poll()
            except Exception:  # keep notifying: the next pass may work
                log.exception("notify: pass failed")

    def start(self) -> None:
        self.notifier.open_spool()
        self._thread = threading.Thread(target=self._run, name="notify", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def counter_sets(self) -> Iterable[Counters]:
        return [self.notifier.counters]


def channel_resolver(ctx: Context) -> Callable[[str, str], str]:
    """A route target -> its URL: references resolved (and masked in logs), URLs as written
    (the config refuses one with a password in it)."""

    def resolve(entry: str, what: str) -> str:
        return ctx.secret(entry, what) if entry.startswith(("env:", "file:")) else entry

    return resolve


def unreachable_reader(ctx: Context, read_summary: Callable[..., Any]) -> Callable[[float], list[str]] | None:
    """Devices the SQLite sink says are down (last 15 minutes), or None without a SQLite sink."""
    from nocsoc.sinks.plugins.sqlite import SqliteSinkConfig

    sqlite = next((s for s in ctx.config.sinks if isinstance(s, SqliteSinkConfig)), None)
    if sqlite is None:
        return None
    db: Path = ctx.path(sqlite.path)

    def down(now: float) -> list[str]:
        return list(read_summary(db, None, since_ns=int((now - 900) * 1e9)).unreachable)

    return down
