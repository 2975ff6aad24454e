"""The notifier as a `nocsoc run` service: new alerts from the alert store (the trap receiver's
as `trap`), and devices, links and optics going down (from the SQLite sink, when readers are
given) offered to the routes; the spool delivered."""

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
from nocsoc.notify.netevents import NetEvent, NetEventReader
from nocsoc.notify.notifier import Notification, Notifier, alert_notification

log = logging.getLogger(__name__)


def _attack_key(a: Any) -> tuple[str, str]:
    """Source and target of an alert as the console groups incidents (nocsoc.web.queue)."""
    return (a.src_ip or a.host, a.dst_ip or a.host)


class NotifyService:
    name = "notify"

    def __init__(
        self,
        ctx: Context,
        inventory: Inventory,
        unreachable: Callable[[float], list[str]] | None = None,
        network: NetEventReader | None = None,
    ) -> None:
        """`unreachable(now)`: devices down now; `network`: link and optics events (both read
        from the SQLite sink, None without one)."""
        cfg = ctx.config
        self.ctx = ctx
        self.notifier = Notifier(cfg.notify, ctx.path(cfg.notify.spool_dir), channel_resolver(ctx), ctx.clock)
        self.alerts_db = ctx.path(cfg.detections.alerts_db)
        self._shared: Any = None  # the PostgreSQL store (detections.alerts_postgres), kept open
        self._store_error = ""  # the last reason the store could not be read ("" = it could)
        self.mark = ctx.state_dir / "notify-mark.json"
        self.sites = {d.name: d.site for d in inventory.devices} | {
            d.address: d.site for d in inventory.devices
        }
        self.levels = {
            d.name: "high" if d.role.value in ("core", "datacenter") else "medium" for d in inventory.devices
        }
        self.links = {
            (end.device, end.interface): lk.name for lk in inventory.links for end in (lk.a, lk.b)
        }
        rank = ("medium", "high")
        self.link_levels = {  # a link matters as much as the more important of its two ends
            lk.name: max((self.levels.get(e.device, "medium") for e in (lk.a, lk.b)), key=rank.index)
            for lk in inventory.links
        }
        self.unreachable = unreachable
        self.network = network
        self.base_url = f"http://{cfg.web.bind}" if cfg.web.enabled else ""
        self._down: set[str] = set()
        self._marks: dict[str, int] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _saved(self) -> dict[str, int]:
        """What earlier passes got to: {"alert_id": newest alert id, "events_ns": newest
        interface event}; {} before the first pass ever."""
        if self._marks is None:
            try:
                raw = json.loads(self.mark.read_text())
                self._marks = {k: int(v) for k, v in raw.items() if k in ("alert_id", "events_ns")}
            except (OSError, ValueError, AttributeError):
                self._marks = {}
        return self._marks

    def _save(self, **marks: int) -> None:
        saved = self._saved()
        if any(saved.get(k) != v for k, v in marks.items()):
            saved.update(marks)
            # the state dir: made by the SQLite store, not there yet with a PostgreSQL one
            self.mark.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.mark, json.dumps(saved))

    def _last_id(self) -> int | None:
        return self._saved().get("alert_id")

    def poll(self) -> None:
        """Offer what is new, then deliver what is due (one pass; the thread loops it)."""
        self._alerts_pass()
        now = self.ctx.clock()
        if self.unreachable is not None:
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
                        device=dev,
                    )
                )
            self._down = down
        if self.network is not None:
            if "events_ns" in self._saved() and self.network.mark_ns == 0:
                self.network.start_at(self._saved()["events_ns"])  # after a restart: from there
            for ev in self.network.poll(now):
                self.notifier.submit(self._net_notification(ev))
            if self.network.mark_ns:
                self._save(events_ns=self.network.mark_ns)
        self.notifier.deliver_due()
        self.notifier.counters.set("pending", self.notifier.pending())

    def _alerts_pass(self) -> None:
        """Offer the new alerts. A store that cannot be read (a PostgreSQL server down or
        refusing, a bad password reference) is one warning line while it lasts and a counter;
        the rest of the pass goes on, and the alerts are offered when it can be read again
        (the mark is only moved past what was read)."""
        import sqlite3

        import psycopg

        from nocsoc.errors import SecretError

        store = None
        try:
            store = self._alert_store()
            if store is not None:
                self._alerts(store)
            if self._store_error:
                log.info("notify: alert store readable again")
                self._store_error = ""
        except (OSError, sqlite3.Error, psycopg.Error, SecretError) as exc:
            self.notifier.counters.add("store_errors")
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            if reason != self._store_error:
                log.warning("notify: alert store %s: %s (new alerts wait until it can be read)",
                            self._store_name(), reason)
                self._store_error = reason
            if store is not None and store is self._shared:
                self._shared = None  # a new connection next pass
        finally:
            if store is not None and store is not self._shared:
                store.close()

    def _store_name(self) -> str:
        pg = self.ctx.config.detections.alerts_postgres
        return f"detections.alerts_postgres {pg.dsn}" if pg is not None else str(self.alerts_db)

    def _alert_store(self) -> Any:
        """The configured alert store, or None while there is none yet (no SQLite file: nothing
        has been detected). The SQLite file is opened for one pass; the PostgreSQL store is
        kept open (opening it creates its schema under the writers' lock)."""
        from nocsoc.detections.alerts import AlertStore
        from nocsoc.detections.alerts.factory import open_alert_store

        det = self.ctx.config.detections
        if det.alerts_postgres is not None:
            if self._shared is None:
                self._shared = open_alert_store(det, self.ctx)
            return self._shared
        return AlertStore(self.alerts_db) if self.alerts_db.exists() else None

    def _alerts(self, store: Any) -> None:
        last = self._last_id()
        alerts = store.list_alerts(limit=10_000)
        newest = max((a.id for a in alerts), default=0)
        if last is None:  # first start: what was there before is not news
            last = newest
        window = self.ctx.config.web.incident_window_s
        for a in sorted((a for a in alerts if a.id > last), key=lambda a: a.id):
            site = self.sites.get(a.host) or self.sites.get(a.dst_ip, "")
            if a.kind == "trap":  # the trap receiver's: a network event, no attack
                self.notifier.submit(self._trap_notification(a, site))
                continue
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
                        device=a.host,
                    )
                )
        self._save(alert_id=max(newest, last))

    def _link(self, device: str, ifname: str) -> tuple[str, str]:
        """(title, dedup key) of an interface: by its inventory link when it is on one, so both
        ends of a link, and the poller and a linkDown trap, make one notification."""
        link = self.links.get((device, ifname), "")
        title = f"{link} ({device} {ifname})" if link else f"{device} {ifname}"
        return title, f"link_down:{link}" if link else f"link_down:{device}:{ifname}"

    def _net_notification(self, ev: NetEvent) -> Notification:
        site = self.sites.get(ev.device, "")
        details = {"host": ev.device, "interface": ev.ifname, "site": site}
        if ev.kind == "link_down":
            title, key = self._link(ev.device, ev.ifname)
            details = {**details, "link_name": self.links.get((ev.device, ev.ifname), ""),
                       "message": ev.message}
            link = self.links.get((ev.device, ev.ifname), "")
            level = self.link_levels.get(link) or self.levels.get(ev.device, "medium")
            return Notification("link_down", level, title, key, ev.at, site=site, details=details,
                                device=ev.device)
        assert self.network is not None and ev.value is not None
        level = "medium" if self.levels.get(ev.device) == "high" else "low"
        details |= {"rx_dbm": f"{ev.value:.2f} dBm", "threshold": f"{self.network.optics_min_dbm:g} dBm"}
        return Notification("optics_low", level, f"{ev.device} {ev.ifname}",
                            f"optics_low:{ev.device}:{ev.ifname}", ev.at, site=site, details=details,
                            device=ev.device)

    def _trap_notification(self, a: Any, site: str) -> Notification:
        fields = a.samples[0].get("fields", {}) if a.samples else {}
        ifname = str(fields.get("ifname") or "")
        key = f"trap:{a.rule_id}:{a.group_key}"
        if a.rule_id == "snmp-trap-link-down" and ifname:
            key = self._link(a.host, ifname)[1]
        entry = trap_titles(self.ctx).get(str(fields.get("trap_oid") or ""))
        return Notification(
            "trap",
            a.level,
            f"{a.rule_title}: {a.host}" + (f" {ifname}" if ifname else ""),
            key,
            a.last_seen,
            rule=a.rule_id,
            site=site,
            details={"host": a.host, "interface": ifname, "link_name": self.links.get((a.host, ifname), ""),
                     "site": site, "source_addr": str(fields.get("source") or "")},
            url=f"{self.base_url.rstrip('/')}/alerts/{a.id}" if self.base_url else "",
            device=a.host,
            titles={} if entry is None else {
                loc: f"{t}: {a.host}" + (f" {ifname}" if ifname else "") for loc, t in entry.items()
            },
        )

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
        if self._shared is not None:
            self._shared.close()
            self._shared = None

    def counter_sets(self) -> Iterable[Counters]:
        return [self.notifier.counters]


def channel_resolver(ctx: Context) -> Callable[[str, str], str]:
    """A route target -> its URL: references resolved (and masked in logs), URLs as written
    (the config refuses one with a password in it)."""

    def resolve(entry: str, what: str) -> str:
        return ctx.secret(entry, what) if entry.startswith(("env:", "file:")) else entry

    return resolve


_TRAP_TITLES: dict[Path, dict[str, dict[str, str]]] = {}


def trap_titles(ctx: Context) -> dict[str, dict[str, str]]:
    """{locale: title} of each trap the catalogue knows, by its OID (snmpTrapOID.0, which the
    trap alert's evidence carries); the alert itself keeps the English title."""
    from nocsoc.collectors.snmp.profiles import load_catalog, user_dir
    from nocsoc.collectors.traps.catalog import TrapCatalog

    got = _TRAP_TITLES.get(ctx.base_dir)
    if got is None:
        try:  # as the trap receiver reads it: built-in, the device profiles' traps, traps.catalog
            profiles = load_catalog(user_dir(ctx.config.snmp.profiles_dir, ctx.base_dir))
            cat = TrapCatalog.load([ctx.path(c) for c in ctx.config.traps.catalog], profiles=profiles)
        except Exception as exc:  # the trap receiver reports a bad catalogue; titles stay English
            log.warning("notify: trap catalogue: %s (English titles)", exc)
            cat = TrapCatalog.load()
        got = {e.oid: {"en": e.title.en, "vi": e.title.vi} for e in cat.entries()}
        _TRAP_TITLES[ctx.base_dir] = got
    return got


def network_reader(ctx: Context) -> NetEventReader | None:
    """Link and optics events from the SQLite sink (see nocsoc.notify.netevents), or None
    without a SQLite sink."""
    from nocsoc.sinks.plugins.sqlite import SqliteSinkConfig

    sqlite = next((s for s in ctx.config.sinks if isinstance(s, SqliteSinkConfig)), None)
    if sqlite is None:
        return None
    return NetEventReader(ctx.path(sqlite.path), ctx.config.dashboards.optics_rx_min_dbm)


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
