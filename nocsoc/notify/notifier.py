"""Routing, dedup, rate limits, quiet hours and the spool; delivery through apprise.

Every message a route accepts is first written to the spool (one JSON file per message and
route, atomically) and only removed once apprise reports it delivered, so nothing is lost while
a channel is down or nocsoc restarts; a failed delivery is retried with a doubling delay. Dedup
and rate limits are per route and in memory (a restart may resend one message per key, never
lose one). Channel URLs may hold passwords: they are resolved from references at send time and
never logged (a channel is named by its scheme and host only).
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import yaml

from nocsoc.component import Counters
from nocsoc.fileio import atomic_write
from nocsoc.notify.config import NotifyConfig, Route
from nocsoc.schema.selfmetrics import NOTIFY

log = logging.getLogger(__name__)
I18N = Path(__file__).parent / "i18n"
MAX_BACKOFF_S = 3600.0


@cache
def catalog(locale: str) -> dict[str, str]:
    return {str(k): str(v) for k, v in yaml.safe_load((I18N / f"{locale}.yaml").read_text("utf-8")).items()}


@dataclass
class Notification:
    """One thing that happened, as routes see it."""

    kind: str
    level: str
    title: str
    key: str  # what dedup compares: the same key again is the same event
    at: float
    rule: str = ""
    site: str = ""
    details: dict[str, str] = field(default_factory=dict)  # label key (catalogue) -> value
    url: str = ""
    device: str = ""  # the inventory device it is about (routes may match on it)
    titles: dict[str, str] = field(default_factory=dict)  # locale -> title, where it has one

    def text(self, locale: str, tz: ZoneInfo) -> tuple[str, str]:
        t = catalog(locale)
        title = t[self.kind].format(level=self.level.upper(), title=self.titles.get(locale, self.title))
        when = datetime.fromtimestamp(self.at, tz).strftime("%Y-%m-%d %H:%M:%S %Z")
        lines = [f"{t['time']}: {when}"]
        lines += [f"{t.get(k, k)}: {v}" for k, v in self.details.items() if v]
        if self.url:
            lines.append(f"{t['link']}: {self.url}")
        return title, "\n".join(lines)


def channel_name(url: str) -> str:
    """A channel as logs may name it: scheme and host, never credentials or tokens."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{':' + str(parts.port) if parts.port else ''}"


def matches(route: Route, n: Notification) -> bool:
    m = route.match
    return (
        (not m.kind or n.kind in m.kind)
        and (not m.level or n.level in m.level)
        and (not m.rule or n.rule in m.rule)
        and (not m.site or n.site in m.site)
        and (not m.device or n.device in m.device)
    )


def quiet_until(route: Route, n: Notification, now: float, tz: ZoneInfo) -> float | None:
    """When the route's quiet hours end, if `now` is in them and the level does not pass."""
    if route.quiet_hours is None or n.level in route.quiet_pass:
        return None
    start_s, end_s = route.quiet_hours.split("-")
    local = datetime.fromtimestamp(now, tz)
    minute = local.hour * 60 + local.minute
    a = int(start_s[:2]) * 60 + int(start_s[3:])
    b = int(end_s[:2]) * 60 + int(end_s[3:])
    inside = a <= minute < b if a < b else (minute >= a or minute < b)
    if not inside:
        return None
    wait_min = (b - minute) % (24 * 60)
    return now + wait_min * 60 - local.second


class Notifier:
    def __init__(
        self,
        config: NotifyConfig,
        spool_dir: Path,
        resolve: Callable[[str, str], str],
        clock: Callable[[], float] = time.time,
        deliver: Callable[[str, str, str, float], bool] | None = None,
    ) -> None:
        """`resolve(ref, what)`: a channel entry -> its URL (secret references resolved)."""
        self.config = config
        self.routes = {r.name: r for r in config.routes}
        self.spool = spool_dir
        self._spool_ready = False  # created (0700) by open_spool(): start(), or the first message
        self.resolve = resolve
        self.clock = clock
        self.tz = ZoneInfo(config.timezone)
        self._deliver = deliver or apprise_deliver
        self._last: dict[tuple[str, str], float] = {}
        self._sent: dict[str, deque[float]] = {}
        self.counters = Counters(NOTIFY)

    # --- accepting -----------------------------------------------------------------------------

    def submit(self, n: Notification) -> list[str]:
        """Spool `n` for every route it matches and may go to; the routes' names."""
        self.counters.add("submitted")
        now = self.clock()
        out = []
        for route in self.routes.values():
            if not matches(route, n):
                continue
            last = self._last.get((route.name, n.key))
            if last is not None and now - last < route.dedup_s:
                self.counters.add("deduplicated")
                continue
            window = self._sent.setdefault(route.name, deque())
            while window and window[0] <= now - 3600:
                window.popleft()
            if len(window) >= route.max_per_hour:
                self.counters.add("rate_limited")
                log.warning(
                    "notify: route %s over %d messages/hour: %s dropped",
                    route.name,
                    route.max_per_hour,
                    n.key,
                )
                continue
            window.append(now)
            self._last[(route.name, n.key)] = now
            held = quiet_until(route, n, now, self.tz)
            if held is not None:
                self.counters.add("held_quiet")
            self._spool(route, n, held or now)
            out.append(route.name)
        return out

    def open_spool(self) -> None:
        """Create the spool directory, readable by its owner only (messages carry alert
        details). Not done when built: construction does no I/O (issue #12)."""
        if not self._spool_ready:
            self.spool.mkdir(parents=True, exist_ok=True)
            os.chmod(self.spool, 0o700)
            self._spool_ready = True

    def _spool(self, route: Route, n: Notification, due: float) -> None:
        self.open_spool()
        for i in range(len(route.to)):
            msg = {
                "route": route.name,
                "target": i,
                "due": due,
                "attempts": 0,
                "created": self.clock(),
                "notification": asdict(n),
            }
            name = f"{int(due * 1000):015d}-{uuid.uuid4().hex}.json"
            atomic_write(self.spool / name, json.dumps(msg, ensure_ascii=False))
            self.counters.add("spooled")

    # --- delivering ----------------------------------------------------------------------------

    def pending(self) -> int:
        return sum(1 for _ in self.spool.glob("*.json"))

    def deliver_due(self) -> int:
        """Try every spooled message that is due; the number delivered."""
        now = self.clock()
        done = 0
        for path in sorted(self.spool.glob("*.json")):
            try:
                msg = json.loads(path.read_text("utf-8"))
            except (OSError, ValueError) as exc:
                log.warning("notify: %s: unreadable spool file (%s), removed", path.name, exc)
                self.counters.add("failed")
                path.unlink(missing_ok=True)
                continue
            if msg["due"] > now:
                continue
            route = self.routes.get(msg["route"])
            if route is None or msg["target"] >= len(route.to):
                path.unlink(missing_ok=True)  # the route was removed from the config
                continue
            if now - msg["created"] > self.config.max_age_s:
                log.warning(
                    "notify: route %s: message older than %.0f s dropped", route.name, self.config.max_age_s
                )
                self.counters.add("expired")
                path.unlink(missing_ok=True)
                continue
            n = Notification(**msg["notification"])
            title, body = n.text(route.locale, self.tz)
            if self.send(route, msg["target"], title, body, n.level):
                path.unlink(missing_ok=True)
                done += 1
                continue
            msg["attempts"] += 1
            msg["due"] = now + min(self.config.retry_s * 2 ** (msg["attempts"] - 1), MAX_BACKOFF_S)
            atomic_write(path, json.dumps(msg, ensure_ascii=False))
            self.counters.add("retried")
        return done

    def send(self, route: Route, target: int, title: str, body: str, level: str) -> bool:
        ref = route.to[target]
        try:
            url = self.resolve(ref, f"notify route {route.name} target {target + 1}")
        except Exception as exc:  # SecretError names the reference, never a value
            log.warning("notify: route %s: %s", route.name, exc)
            self.counters.add("failed")
            return False
        ok = False
        try:
            ok = self._deliver(url, title, body, self.config.timeout_s)
        except Exception as exc:  # a plugin's bug must not stop the notifier
            log.warning("notify: route %s via %s: %s", route.name, channel_name(url), type(exc).__name__)
        if ok:
            self.counters.add("sent")
        else:
            self.counters.add("failed")
            log.warning("notify: route %s via %s: not delivered, will retry", route.name, channel_name(url))
        return ok


def apprise_deliver(url: str, title: str, body: str, timeout_s: float) -> bool:
    import apprise

    ap = apprise.Apprise()
    if not ap.add(url):
        log.warning("notify: %s: apprise does not understand this URL", channel_name(url))
        return False
    for server in ap:
        for attr in ("socket_connect_timeout", "socket_read_timeout", "timeout"):
            if hasattr(server, attr):
                setattr(server, attr, timeout_s)
    return bool(ap.notify(body=body, title=title))


def alert_notification(a: Any, site: str, base_url: str = "") -> Notification:
    """A stored alert (nocsoc.detections.alerts.Alert) as a notification."""
    return Notification(
        kind="alert",
        level=a.level,
        title=a.rule_title,
        key=f"alert:{a.rule_id}:{a.group_key}",
        at=a.last_seen,
        rule=a.rule_id,
        site=site,
        details={
            "host": a.host,
            "source": a.src_ip,
            "target": a.dst_ip,
            "user": a.user,
            "count": str(a.count),
            "site": site,
        },
        url=f"{base_url.rstrip('/')}/alerts/{a.id}" if base_url else "",
        device=a.host,
    )


def test_notification(route: str, now: float) -> Notification:
    return Notification(kind="test", level="informational", title=route, key=f"test:{route}:{now}", at=now)


__all__ = ["Notification", "Notifier", "alert_notification", "channel_name", "matches", "quiet_until"]
