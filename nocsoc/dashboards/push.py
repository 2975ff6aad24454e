"""Push folders, the datasource, dashboards and alert rules to a running Grafana (grafana-client).

Idempotent by comparison, not by blind overwrite: each object is read first (by uid) and written
only when what nocsoc would send differs from what Grafana holds, so a second push changes
nothing (and Grafana's dashboard version history does not grow on every run). `dry_run` reads
only. The datasource password is write-only in Grafana and never read back, so it is sent when
the datasource is created (from the env var named in the config) and not compared afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

import niquests
from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException, GrafanaUnauthorizedError

from nocsoc.dashboards import alerting
from nocsoc.dashboards.base import FOLDERS, DashboardSpec, folder_title, folder_uid
from nocsoc.dashboards.config import DashboardsConfig
from nocsoc.dashboards.registry import build_all
from nocsoc.errors import NocsocError
from nocsoc.inventory.model import Inventory
from nocsoc.logsetup import register_secret

Action = Literal["create", "update", "unchanged"]
DASHBOARD_VOLATILE = ("id", "version")
DATASOURCE_KEYS = ("name", "type", "access", "url", "user", "isDefault", "jsonData")


class PushError(NocsocError):
    """Grafana unreachable, unhealthy, refusing the token, or rejecting an object."""

    exit_code = 1


@dataclass
class Change:
    kind: str  # folder | datasource | dashboard | alert_rule
    uid: str
    title: str
    action: Action
    detail: str = ""


@dataclass
class PushReport:
    url: str
    grafana_version: str = ""
    dry_run: bool = False
    changes: list[Change] = field(default_factory=list)
    current: str = ""  # the object being read or written, for error messages

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action == action)


def _get(fn: Callable[[], Any]) -> Any | None:
    """The object, or None when Grafana says 404."""
    try:
        return fn()
    except GrafanaClientError as exc:
        if exc.status_code == 404:
            return None
        raise


def _differs(want: dict[str, Any], have: dict[str, Any], keys: tuple[str, ...]) -> list[str]:
    return [k for k in keys if want.get(k) != have.get(k)]


def connect(url: str, token: str | None, timeout: float = 10.0) -> GrafanaApi:
    return GrafanaApi.from_url(url, credential=token, timeout=timeout)


def health_check(api: GrafanaApi, url: str) -> str:
    """Grafana's version, or PushError saying plainly why Grafana cannot be used.

    Two reads: `/api/health` (unauthenticated: is Grafana up and its database ok?) and
    grafana-client's `health.check()` (`/api/frontend/settings`, authenticated: is the token
    accepted? which version?), so "down", "unhealthy" and "bad token" are told apart.
    """
    try:
        info = api.client.GET("/health")
        if not isinstance(info, dict) or info.get("database") not in (None, "ok"):
            raise PushError(f"Grafana at {url} is not healthy: /api/health answered {info!r:.200}")
        build = api.health.check() or {}
    except GrafanaUnauthorizedError:
        raise PushError(f"Grafana at {url} refused the token (HTTP 401): check --token-env") from None
    except GrafanaException as exc:
        raise PushError(f"Grafana at {url} is not healthy: {exc.message}") from None
    except niquests.exceptions.RequestException as exc:
        raise PushError(f"cannot reach Grafana at {url}: {type(exc).__name__}: {exc}") from None
    return str(build.get("version") or info.get("version", ""))


def datasource_body(cfg: DashboardsConfig) -> dict[str, Any]:
    user = os.environ.get(cfg.influx_user_env, "")
    return {
        "name": cfg.datasource_name,
        "type": "influxdb",
        "uid": cfg.datasource_uid,
        "access": "proxy",
        "url": cfg.influx_url,
        "user": user,
        "isDefault": False,  # panels name the uid; a second default would break an existing setup
        "jsonData": {"dbName": cfg.influx_database, "httpMode": cfg.http_method, "version": "InfluxQL"},
    }


def push(
    api: GrafanaApi,
    url: str,
    cfg: DashboardsConfig,
    locale: str | None = None,
    dry_run: bool = False,
    inventory: Inventory | None = None,
) -> PushReport:
    """Health check, then folders, datasource, dashboards, alert rules (in that order: each
    depends on the one before)."""
    report = PushReport(url=url, dry_run=dry_run)
    report.grafana_version = health_check(api, url)
    loc = locale or cfg.locale
    try:
        _push_folders(api, loc, report, dry_run)
        _push_datasource(api, cfg, report, dry_run)
        _push_dashboards(api, build_all(loc, cfg.datasource_uid, cfg, inventory), loc, report, dry_run)
        _push_rules(api, alerting.rules(cfg, loc, inventory), report, dry_run)
    except GrafanaException as exc:
        raise PushError(
            f"Grafana at {url} refused {report.current} (HTTP {exc.status_code}): {exc.message}"
        ) from None
    except niquests.exceptions.RequestException as exc:
        raise PushError(f"lost Grafana at {url} at {report.current}: {type(exc).__name__}: {exc}") from None
    return report


def _push_folders(api: GrafanaApi, locale: str, report: PushReport, dry_run: bool) -> None:
    for folder in FOLDERS:
        title, uid = folder_title(folder, locale), folder_uid(folder, locale)
        report.current = f"folder {uid}"
        have = _get(partial(api.folder.get_folder, uid))
        if have is None:
            report.changes.append(Change("folder", uid, title, "create"))
            if not dry_run:
                api.folder.create_folder(title, uid=uid)
        elif have.get("title") != title:
            report.changes.append(Change("folder", uid, title, "update", f"title was {have.get('title')!r}"))
            if not dry_run:
                api.folder.update_folder(uid, title=title, overwrite=True)
        else:
            report.changes.append(Change("folder", uid, title, "unchanged"))


def _push_datasource(api: GrafanaApi, cfg: DashboardsConfig, report: PushReport, dry_run: bool) -> None:
    want = datasource_body(cfg)
    uid, title = cfg.datasource_uid, cfg.datasource_name
    report.current = f"datasource {uid}"
    have = _get(partial(api.datasource.get_datasource_by_uid, uid))
    if have is None:
        report.changes.append(Change("datasource", uid, title, "create"))
        if not dry_run:
            password = os.environ.get(cfg.influx_password_env)
            if password:
                register_secret(password)  # masked in any log line, like every resolved secret
            body = {**want, "secureJsonData": {"password": password}} if password else want
            api.datasource.create_datasource(body)
        return
    diff = _differs(want, have, DATASOURCE_KEYS)
    if diff:
        report.changes.append(Change("datasource", uid, title, "update", ", ".join(diff)))
        if not dry_run:
            api.datasource.update_datasource_by_uid(uid, {**want, "id": have.get("id")})
    else:
        report.changes.append(Change("datasource", uid, title, "unchanged"))


def _strip(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k not in DASHBOARD_VOLATILE}


def _push_dashboards(
    api: GrafanaApi, boards: Iterable[tuple[DashboardSpec, dict[str, Any]]], locale: str,
    report: PushReport, dry_run: bool,
) -> None:
    for spec, data in boards:
        dash_folder = folder_uid(spec.folder, locale)
        report.current = f"dashboard {data['uid']}"
        have = _get(partial(api.dashboard.get_dashboard, data["uid"]))
        if have is None:
            action: Action = "create"
            detail = ""
        else:
            diff = []
            if _strip(have.get("dashboard", {})) != _strip(data):
                diff.append("content")
            if have.get("meta", {}).get("folderUid") != dash_folder:
                diff.append("folder")
            action = "update" if diff else "unchanged"
            detail = ", ".join(diff)
        report.changes.append(Change("dashboard", data["uid"], data["title"], action, detail))
        if action != "unchanged" and not dry_run:
            api.dashboard.update_dashboard(
                {
                    "dashboard": {**data, "id": None},
                    "folderUid": dash_folder,
                    "overwrite": True,
                    "message": "nocsoc dashboards push",
                }
            )


def _push_rules(api: GrafanaApi, rules: Iterable[dict[str, Any]], report: PushReport, dry_run: bool) -> None:
    for rule in rules:
        uid = rule["uid"]
        report.current = f"alert rule {uid}"
        have = _get(partial(api.alertingprovisioning.get_alertrule, uid))
        if have is None:
            report.changes.append(Change("alert_rule", uid, rule["title"], "create"))
            if not dry_run:
                api.alertingprovisioning.create_alertrule(rule)
            continue
        diff = _differs(rule, have, alerting.RULE_API_KEYS)
        if diff:
            report.changes.append(Change("alert_rule", uid, rule["title"], "update", ", ".join(diff)))
            if not dry_run:
                api.alertingprovisioning.update_alertrule(uid, rule)
        else:
            report.changes.append(Change("alert_rule", uid, rule["title"], "unchanged"))
