"""The console application: pages, their forms, and /api/v1.

Every route but /login, /lang/* and /static/* needs a session (pages) or a session or token
(API); a state change also needs the session's CSRF token (form field `csrf` or header
X-CSRF-Token; a bearer token, never sent by a browser on its own, needs none). Every action is
attributed to the signed-in user; `tests/web/test_security.py` walks every route to check.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel

from nocsoc import timespec
from nocsoc.component import Counters
from nocsoc.dashboards.config import DashboardsConfig
from nocsoc.detections.alerts.store import OPEN_STATES, STATES, TRANSITIONS, Alert, AlertStore, TriageError
from nocsoc.detections.alerts.validate import SuppressionInvalid, preview, validate_suppression
from nocsoc.inventory.model import Inventory
from nocsoc.schema.selfmetrics import WEB
from nocsoc.web.auth import AuthStore, RateLimiter, Session
from nocsoc.web.config import WebConfig
from nocsoc.web.enrich import Bandwidth, GeoLookup
from nocsoc.web.i18n import LOCALES, translator
from nocsoc.web.pivot import HistoryPivot
from nocsoc.web.queue import LEVELS, SORTS, Incident, QueueFilter, attack_key, incidents, reader_for

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
COOKIE = "nocsoc_session"
LANG_COOKIE = "nocsoc_lang"
PUBLIC_PREFIXES = ("/login", "/lang/", "/static/")
DASHBOARD_DEFAULTS = DashboardsConfig()


@dataclass
class ConsoleDeps:
    """What the console reads and writes, resolved once by the caller (service or CLI)."""

    web: WebConfig
    alerts_db: Path
    users_db: Path
    # now -> what the SQLite sink says of the backbone (nocsoc.service.summary.Summary: links,
    # unreachable, weak_optics); None: no SQLite sink. Passed in, so web does not import service.
    backbone: Callable[[float], Any] | None
    inventory: Inventory
    ruleset: Callable[[], Any]  # loads the rules (cached by the caller)
    pivot: HistoryPivot
    dedup_window_s: float = 3600.0
    clock: Callable[[], float] = time.time
    # called with the alert after every triage change (the service writes its `alert` point)
    on_change: Callable[[Alert], None] | None = None
    # the alert detail's GeoIP/ASN (None: no database configured) and the SQLite sink whose
    # interface rates give the target's bandwidth (None: no SQLite sink)
    geo: GeoLookup | None = None
    sink_db: Path | None = None
    # link utilization warning and alarm (%), nocsoc.yaml's dashboards: the same as the dashboards'
    util_warn_pct: float = DASHBOARD_DEFAULTS.link_utilization_warn_pct
    util_alarm_pct: float = DASHBOARD_DEFAULTS.link_utilization_pct
    # opens the alert store when it is not the SQLite file `alerts_db` (detections.alerts_postgres:
    # nocsoc.detections.alerts.factory); the queue then reads the same database
    open_store: Callable[[], AlertStore] | None = None


class Actor(BaseModel):
    name: str
    role: str
    scopes: list[str]
    via: str  # session | token | proxy
    csrf: str = ""


class AlertOut(BaseModel):
    id: int
    rule_id: str
    rule_title: str
    level: str
    tactic: str
    host: str
    src_ip: str
    dst_ip: str
    user: str
    first_seen: float
    last_seen: float
    count: int
    state: str
    assignee: str

    @classmethod
    def of(cls, a: Alert) -> AlertOut:
        return cls(**{k: getattr(a, k) for k in cls.model_fields})


class TriageIn(BaseModel):
    action: str
    comment: str = ""
    assignee: str | None = None


def _ts(t: float | None) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S") if t else ""


def _bps(v: float) -> str:
    for unit, scale in (("Gb/s", 1e9), ("Mb/s", 1e6), ("kb/s", 1e3)):
        if v >= scale:
            return f"{v / scale:.1f} {unit}"
    return f"{v:.0f} b/s"


def _dur(s: float | None) -> str:
    if s is None:
        return "-"
    return f"{s / 3600:.1f} h" if s >= 3600 else f"{s / 60:.0f} min" if s >= 60 else f"{s:.0f} s"


def create_app(deps: ConsoleDeps) -> FastAPI:
    if deps.open_store is not None:
        store = deps.open_store()
    else:
        AlertStore(deps.alerts_db, deps.dedup_window_s).close()  # the file exists for the read-only reader
        store = AlertStore(deps.alerts_db, deps.dedup_window_s)
    store.optimize()
    auth = AuthStore(
        deps.users_db,
        lockout_failures=deps.web.lockout_failures,
        lockout_s=deps.web.lockout_s,
        session_ttl_s=deps.web.session_ttl_s,
        idle_timeout_s=deps.web.idle_timeout_s,
        clock=deps.clock,
    )
    site_hosts: dict[str, set[str]] = {}
    for d in deps.inventory.devices:
        site_hosts.setdefault(d.site, set()).update({d.name, d.address})
    reader = reader_for(store, site_hosts)
    counters = Counters(WEB)
    login_limit = RateLimiter(deps.web.login_per_minute, deps.clock)
    token_limit = RateLimiter(deps.web.token_per_minute, deps.clock)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters.update(ts=_ts, bps=_bps, dur=_dur)
    templates.env.globals.update(LEVELS=LEVELS, STATES=STATES, SORTS=tuple(SORTS), LOCALES=LOCALES)
    devices = {d.name: d for d in deps.inventory.devices}
    by_addr = {d.address: d for d in deps.inventory.devices}
    sites = {s.id: s for s in deps.inventory.sites}
    geo = deps.geo or GeoLookup(None, None)
    bandwidth = Bandwidth(deps.inventory, deps.sink_db)

    def _enrich(a: Alert) -> tuple[list[Any], Any]:
        """GeoIP/ASN of the source and target, the target's interface bandwidth."""
        addrs = [geo.info(x) for x in dict.fromkeys(v for v in (a.src_ip, a.dst_ip) if v)]
        return addrs, bandwidth.of([a.dst_ip] if a.dst_ip else [a.host], a.first_seen, a.last_seen)

    app = FastAPI(title="nocsoc console", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.counters = counters
    app.state.auth = auth
    app.state.store = store
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    api = FastAPI(
        title="nocsoc API",
        version="1",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        description="Alerts, incidents, triage, KPIs and inventory for the IOC platform. "
        "Send `Authorization: Bearer <token>` (nocsoc tokens create).",
    )

    # --- who is asking ------------------------------------------------------------------------

    def _from_proxy(request: Request) -> bool:
        return bool(request.client and request.client.host in deps.web.trusted_proxies)

    def _https(request: Request) -> bool:
        if deps.web.secure_cookies != "auto":
            return deps.web.secure_cookies == "always"
        if request.url.scheme == "https":
            return True
        return _from_proxy(request) and request.headers.get("x-forwarded-proto", "") == "https"

    def _session(request: Request) -> Session | None:
        if deps.web.proxy_user_header and _from_proxy(request):
            name = request.headers.get(deps.web.proxy_user_header)
            if name:
                return auth.session_for_user(name)
        return auth.session(request.cookies.get(COOKIE, ""))

    def _client(request: Request) -> str:
        return request.client.host if request.client else "?"

    def actor(request: Request) -> Actor:
        """Session or bearer token, or 401 (pages redirect to /login instead)."""
        authz = request.headers.get("authorization", "")
        if authz.lower().startswith("bearer "):
            secret = authz[7:].strip()
            if not token_limit.allow(secret[:16] or _client(request)):
                counters.add("rate_limited")
                raise HTTPException(429, "rate limit")
            tok = auth.check_token(secret)
            if tok is None:
                counters.add("denied")
                raise HTTPException(401, "invalid or revoked token")
            return Actor(name=f"token:{tok.name}", role="token", scopes=list(tok.scopes), via="token")
        s = _session(request)
        if s is None:
            counters.add("denied")
            raise HTTPException(401, "login required")
        return Actor(
            name=s.user.name, role=s.user.role, scopes=sorted(s.user.scopes), via="session", csrf=s.csrf
        )

    def need(scope: str) -> Callable[..., Any]:
        async def dep(request: Request) -> Actor:
            a = actor(request)
            if scope not in a.scopes:
                counters.add("denied")
                raise HTTPException(403, f"needs {scope}")
            if request.method not in ("GET", "HEAD") and a.via == "session":
                form_token = ""
                if request.headers.get("content-type", "").startswith(
                    ("application/x-www-form", "multipart/")
                ):
                    form_token = str((await request.form()).get("csrf", ""))
                sent = request.headers.get("x-csrf-token") or form_token
                if not sent or sent != a.csrf:
                    counters.add("csrf_refused")
                    raise HTTPException(403, "CSRF token missing or wrong")
            return a

        return dep

    def locale(request: Request) -> str:
        lang = request.cookies.get(LANG_COOKIE, deps.web.locale)
        return lang if lang in LOCALES else deps.web.locale

    def render(request: Request, name: str, who: Actor | None, status: int = 200, **ctx: Any) -> HTMLResponse:
        lang = locale(request)
        return templates.TemplateResponse(
            request,
            name,
            {"t": translator(lang), "lang": lang, "who": who, "path": request.url.path, **ctx},
            status_code=status,
        )

    @app.middleware("http")
    async def count_and_guard(request: Request, call_next: Callable[..., Any]) -> Response:
        counters.add("requests")
        if request.url.path.startswith("/api/"):
            counters.add("api_requests")
        try:
            resp: Response = await call_next(request)
        except Exception:
            counters.add("errors")
            log.exception("console: %s %s failed", request.method, request.url.path)
            return JSONResponse({"detail": "server error"}, status_code=500)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'",
        )
        return resp

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        wants_html = "text/html" in request.headers.get("accept", "") and not request.url.path.startswith(
            "/api/"
        )
        if exc.status_code == 401 and wants_html:
            return RedirectResponse("/login", status_code=303)
        if wants_html:
            t = translator(locale(request))
            msg = (
                t("forbidden")
                if exc.status_code == 403
                else t("not_found")
                if exc.status_code == 404
                else str(exc.detail)
            )
            return HTMLResponse(
                f"<!doctype html><title>{exc.status_code}</title><p>{exc.status_code}: "
                f"{_esc(msg)}</p><p><a href='/alerts'>&larr;</a></p>",
                status_code=exc.status_code,
            )
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    # --- login --------------------------------------------------------------------------------

    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request) -> HTMLResponse:
        return render(request, "login.html", None, error="")

    @app.post("/login", response_class=HTMLResponse)
    async def login(request: Request) -> Response:
        form = await request.form()
        name, password = str(form.get("user", "")), str(form.get("password", ""))
        t = translator(locale(request))
        if not login_limit.allow(_client(request)):
            counters.add("rate_limited")
            return render(request, "login.html", None, 429, error=t("login_rate"))
        res = auth.login(name, password)
        if not res.ok:
            counters.add("login_failures")
            if res.locked_now:
                counters.add("lockouts")
                log.warning(
                    "console: account %r locked after %d failed logins (from %s)",
                    name,
                    deps.web.lockout_failures,
                    _client(request),
                )
            return render(
                request,
                "login.html",
                None,
                401 if res.reason == "bad" else 423,
                error=t("login_locked") if res.reason == "locked" else t("login_bad"),
            )
        counters.add("logins")
        log.info("console: %s logged in from %s", name, _client(request))
        resp = RedirectResponse("/alerts", status_code=303)
        resp.set_cookie(
            COOKIE,
            res.session_id,
            httponly=True,
            samesite="strict",
            secure=_https(request),
            max_age=int(deps.web.session_ttl_s),
            path="/",
        )
        return resp

    @app.post("/logout")
    def logout(request: Request, who: Actor = Depends(need("read:alerts"))) -> Response:
        auth.logout(request.cookies.get(COOKIE, ""))
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(COOKIE, path="/")
        return resp

    @app.get("/lang/{lang}")
    def set_lang(request: Request, lang: str, next: str = "/alerts") -> Response:
        target = next if next.startswith("/") and not next.startswith("//") else "/alerts"
        resp = RedirectResponse(target, status_code=303)
        if lang in LOCALES:
            resp.set_cookie(
                LANG_COOKIE, lang, samesite="strict", secure=_https(request), path="/", max_age=365 * 86400
            )
        return resp

    @app.get("/")
    def home(who: Actor = Depends(need("read:alerts"))) -> Response:
        return RedirectResponse("/alerts", status_code=303)

    # --- queue --------------------------------------------------------------------------------

    def _filter(request: Request) -> QueueFilter:
        q = request.query_params
        f = QueueFilter(
            state=q.get("state", "open"),
            level=q.get("level", ""),
            rule=q.get("rule", "").strip(),
            host=q.get("host", "").strip(),
            site=q.get("site", ""),
            src=q.get("src", "").strip(),
            user=q.get("user", "").strip(),
            q=q.get("q", "").strip(),
            sort=q.get("sort", "last_seen"),
            desc=q.get("dir", "desc") != "asc",
        )
        try:
            f.page = int(q.get("page", "1"))
            f.per_page = int(q.get("per_page", "50"))
            f.since = _parse_time(q.get("since", ""), deps.clock())
            f.until = _parse_time(q.get("until", ""), deps.clock())
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None
        if f.rule:  # a rule named exactly (id, name or title): its id, which is indexed
            known = deps.ruleset().by_id(f.rule)
            if known is not None:
                f.rule, f.rule_exact = str(known.id), True
        bad = f.problems()
        if bad:
            raise HTTPException(400, "bad filter: " + ", ".join(bad))
        return f

    @app.get("/alerts", response_class=HTMLResponse)
    def queue(request: Request, who: Actor = Depends(need("read:alerts"))) -> HTMLResponse:
        f = _filter(request)
        page = reader.page(f)
        partial = request.headers.get("hx-request") == "true" and request.headers.get("hx-target") == "queue"
        return render(
            request,
            "_queue.html" if partial else "alerts.html",
            who,
            f=f,
            page=page,
            sites=sorted(sites),
            query=request.url.query,
        )

    def _triage(who: Actor, ids: list[int], action: str, comment: str, assignee: str | None) -> list[str]:
        errors = []
        for aid in ids:
            try:
                if action == "assign":
                    store.assign(aid, assignee if assignee is not None else who.name, who.name, comment)
                elif action == "comment":
                    store.comment(aid, who.name, comment)
                elif action in TRANSITIONS:
                    changed = store.transition(aid, action, who.name, comment)
                    if deps.on_change is not None:
                        deps.on_change(changed)
                else:
                    raise TriageError(f"unknown action {action!r}")
                counters.add("triage_actions")
                with ioc_lock:
                    ioc_cache.clear()  # the IOC shows it at once (see _ioc)
            except TriageError as exc:
                errors.append(str(exc))
        return errors

    @app.post("/alerts/bulk", response_class=HTMLResponse)
    async def bulk(request: Request, who: Actor = Depends(need("write:triage"))) -> Response:
        form = await request.form()
        try:
            ids = [int(str(x)) for x in form.getlist("ids")]
        except ValueError:
            raise HTTPException(400, "ids must be numbers") from None
        errors = _triage(
            who,
            ids,
            str(form.get("action", "")),
            str(form.get("comment", "")),
            str(form.get("assignee", "")).strip() or None,
        )
        f = _filter(request)
        if request.headers.get("hx-request") == "true":
            return render(
                request,
                "_queue.html",
                who,
                f=f,
                page=reader.page(f),
                sites=sorted(sites),
                query=request.url.query,
                errors=errors,
            )
        return RedirectResponse("/alerts?" + request.url.query, status_code=303)

    @app.get("/alerts/{alert_id}", response_class=HTMLResponse)
    def detail(request: Request, alert_id: int, who: Actor = Depends(need("read:alerts"))) -> HTMLResponse:
        a = reader.get(alert_id)
        if a is None:
            raise HTTPException(404, f"no alert {alert_id}")
        rule = deps.ruleset().by_id(a.rule_id)
        sigma = getattr(rule, "rule", None)
        info = {
            "description": str(getattr(sigma or rule, "description", "") or ""),
            "falsepositives": list(getattr(sigma or rule, "falsepositives", None) or []),
            "references": list(getattr(sigma or rule, "references", None) or []),
        }
        dev = devices.get(a.host) or by_addr.get(a.dst_ip) or by_addr.get(a.host)
        site = sites.get(dev.site) if dev else None
        pivot = deps.pivot.around(a.src_ip, a.dst_ip, a.host, a.first_seen, a.last_seen)
        addrs, bw = _enrich(a)
        return render(
            request,
            "alert.html",
            who,
            a=a,
            addrs=addrs,
            bw=bw,
            info=info,
            dev=dev,
            site=site,
            related=reader.related(a, deps.web.incident_window_s),
            pivot=pivot,
            trail=store.audit(alert_id=a.id),
            actions=[x for x, (frm, _) in TRANSITIONS.items() if a.state in frm],
            errors=[],
        )

    @app.post("/alerts/{alert_id}/triage", response_class=HTMLResponse)
    async def triage(request: Request, alert_id: int, who: Actor = Depends(need("write:triage"))) -> Response:
        form = await request.form()
        errors = _triage(
            who,
            [alert_id],
            str(form.get("action", "")),
            str(form.get("comment", "")),
            str(form.get("assignee", "")).strip() or None,
        )
        if errors:
            raise HTTPException(400, "; ".join(errors))
        return RedirectResponse(f"/alerts/{alert_id}", status_code=303)

    # --- incidents ----------------------------------------------------------------------------

    def _incidents(days: float = 7.0, open_only: bool = False) -> list[Incident]:
        """Incidents of the last `days`; `open_only` groups only open alerts (the IOC's count)."""
        return incidents(
            reader.briefs(since=deps.clock() - days * 86400, open_only=open_only), deps.web.incident_window_s
        )

    @app.get("/incidents", response_class=HTMLResponse)
    def incidents_page(request: Request, who: Actor = Depends(need("read:alerts"))) -> HTMLResponse:
        show_all = request.query_params.get("all") == "1"
        items = reader.recent_incidents(
            deps.clock() - 7 * 86400, deps.web.incident_window_s, open_only=not show_all, limit=500
        )
        return render(request, "incidents.html", who, items=items, show_all=show_all)

    @app.get("/incidents/{incident_id}", response_class=HTMLResponse)
    def incident_page(
        request: Request, incident_id: int, who: Actor = Depends(need("read:alerts"))
    ) -> HTMLResponse:
        first = reader.get(incident_id)
        found = (
            []
            if first is None
            else incidents(reader.briefs(key=attack_key(first)), deps.web.incident_window_s)
        )
        inc = next((i for i in found if incident_id in [a.id for a in i.alerts]), None)
        if inc is None:
            raise HTTPException(404, f"no incident {incident_id}")
        return render(request, "incident.html", who, inc=inc)

    # --- suppressions -------------------------------------------------------------------------

    def _validated(form: Any) -> Any:
        where = [ln.strip() for ln in str(form.get("conditions", "")).splitlines() if ln.strip()]
        rule = str(form.get("rule", "")).strip()
        ev = reader.alerts(since=deps.clock() - 7 * 86400, limit=20_000)
        return validate_suppression(deps.ruleset(), rule, where, str(form.get("expires", "")).strip(), ev), ev

    @app.get("/suppressions", response_class=HTMLResponse)
    def suppressions_page(request: Request, who: Actor = Depends(need("read:alerts"))) -> HTMLResponse:
        q = request.query_params
        return render(
            request,
            "suppressions.html",
            who,
            supps=store.suppressions(include_inactive=True),
            now=deps.clock(),
            form={
                "rule": q.get("rule", ""),
                "conditions": q.get("conditions", ""),
                "expires": "7d",
                "comment": "",
            },
            problems=[],
            hidden=None,
        )

    @app.post("/suppressions/preview", response_class=HTMLResponse)
    async def suppression_preview(
        request: Request, who: Actor = Depends(need("write:triage"))
    ) -> HTMLResponse:
        form = await request.form()
        try:
            v, ev = _validated(form)
        except SuppressionInvalid as exc:
            return render(request, "_preview.html", who, problems=exc.problems, hidden=None, valid=None)
        return render(request, "_preview.html", who, problems=[], hidden=preview(v, ev), valid=v)

    @app.post("/suppressions", response_class=HTMLResponse)
    async def suppression_add(request: Request, who: Actor = Depends(need("write:triage"))) -> Response:
        form = await request.form()
        try:
            v, _ev = _validated(form)
        except SuppressionInvalid as exc:
            return render(
                request,
                "suppressions.html",
                who,
                400,
                supps=store.suppressions(include_inactive=True),
                now=deps.clock(),
                form=dict(form),
                problems=exc.problems,
                hidden=None,
            )
        store.suppress(
            v.rule_id,
            v.conditions[0][0],
            v.conditions[0][1],
            v.duration_s,
            who.name,
            str(form.get("comment", "")),
            conditions=v.conditions,
        )
        counters.add("triage_actions")
        return RedirectResponse("/suppressions", status_code=303)

    @app.post("/suppressions/{sid}/remove")
    async def suppression_remove(
        request: Request, sid: int, who: Actor = Depends(need("write:triage"))
    ) -> Response:
        try:
            store.unsuppress(sid, who.name, "removed in the console")
        except TriageError as exc:
            raise HTTPException(400, str(exc)) from None
        counters.add("triage_actions")
        return RedirectResponse("/suppressions", status_code=303)

    # --- IOC ----------------------------------------------------------------------------------

    # The IOC figures are aggregates over every open alert (top sources and targets, incidents
    # by level: 0.1-0.3 s at 100k open alerts, most of it grouping 24k alerts into incidents and
    # GROUP BY over 100k sources), shown on wall screens that refresh every `refresh_s`. So they
    # are computed at most once per interval whatever the number of screens and API pulls; when
    # an interval ends on a screen that is being watched (figures less than two intervals old),
    # the last figures are served while new ones are computed in the background, so a wall
    # screen never waits; after a triage made here they are computed again at once.
    ioc_cache: dict[str, Any] = {}
    ioc_lock = threading.Lock()
    app.state.ioc_cache = ioc_cache

    def _ioc_refresh(now: float) -> None:
        try:
            data = _ioc_now(now)
        except Exception:  # the next view tries again; the page keeps the last figures
            log.exception("console: IOC figures")
            with ioc_lock:
                ioc_cache.pop("refreshing", None)
            return
        with ioc_lock:
            if ioc_cache.pop("refreshing", None):  # not cleared by a triage meanwhile
                ioc_cache.update(at=now, data=data)

    def _ioc() -> dict[str, Any]:
        now = deps.clock()
        refresh = deps.web.refresh_s
        with ioc_lock:
            hit = ioc_cache.get("data")
            age = now - ioc_cache.get("at", now)
            if hit is not None and 0 <= age < 2 * refresh:
                counters.add("ioc_cached")
                if age >= refresh and not ioc_cache.get("refreshing"):
                    ioc_cache["refreshing"] = True
                    threading.Thread(target=_ioc_refresh, args=(now,), name="ioc", daemon=True).start()
                return hit
        data = _ioc_now(now)  # the first view, or after a triage or a long time unwatched
        with ioc_lock:
            ioc_cache.update(at=now, data=data)
            ioc_cache.pop("refreshing", None)
        return data

    def _ioc_now(now: float) -> dict[str, Any]:
        summary = deps.backbone(now) if deps.backbone is not None else None
        n_dev = len(deps.inventory.devices)
        down = summary.unreachable if summary else []
        by_level = reader.open_incident_levels(now - 7 * 86400, deps.web.incident_window_s)
        alerts_by_level = reader.open_by_level()
        return {
            "now": now,
            "summary": summary,
            "devices": n_dev,
            "down": down,
            "availability": None if not n_dev or summary is None else 100.0 * (n_dev - len(down)) / n_dev,
            "incidents_by_level": by_level,
            "alerts_by_level": alerts_by_level,
            "targets": reader.top_targets(),
            "sources": reader.top_sources(),
            # every alert has one level: the open ones are counted already
            "kpis": reader.triage_kpis(now - 86400, open_alerts=sum(alerts_by_level.values())),
        }

    @app.get("/ioc", response_class=HTMLResponse)
    def ioc(request: Request, who: Actor = Depends(need("read:kpi"))) -> HTMLResponse:
        partial = request.headers.get("hx-request") == "true"
        return render(
            request,
            "_ioc.html" if partial else "ioc.html",
            who,
            d=_ioc(),
            refresh=deps.web.refresh_s,
            warn_pct=deps.util_warn_pct,
            alarm_pct=deps.util_alarm_pct,
        )

    # --- API ----------------------------------------------------------------------------------

    @api.get("/alerts", response_model=list[AlertOut], summary="Alerts, filtered and sorted as in the queue")
    def api_alerts(request: Request, who: Actor = Depends(need("read:alerts"))) -> list[AlertOut]:
        return [AlertOut.of(a) for a in reader.page(_filter(request)).alerts]

    @api.get(
        "/alerts/{alert_id}",
        summary="One alert with its evidence, audit trail, GeoIP/ASN and the target's bandwidth",
    )
    def api_alert(alert_id: int, who: Actor = Depends(need("read:alerts"))) -> dict[str, Any]:
        a = reader.get(alert_id)
        if a is None:
            raise HTTPException(404, f"no alert {alert_id}")
        addrs, bw = _enrich(a)
        return {
            **a.to_dict(),
            "audit": [e.to_dict() for e in store.audit(alert_id=alert_id)],
            # unknown values are null with the reason (a catalogue key, e.g. geo_no_db)
            "addresses": [asdict(x) for x in addrs],
            "bandwidth": {
                "target": bw.target,
                "device": bw.device.name if bw.device else None,
                "since": bw.since,
                "until": bw.until,
                "reason": bw.reason or None,
                "interfaces": [asdict(p) for p in bw.ports],
            },
        }

    @api.post(
        "/alerts/{alert_id}/triage",
        response_model=AlertOut,
        summary="ack, close, false_positive, reopen, assign or comment (attributed to the token or user)",
    )
    def api_triage(alert_id: int, body: TriageIn, who: Actor = Depends(need("write:triage"))) -> AlertOut:
        if body.action in ("close", "false_positive", "reopen", "ack", "assign", "comment"):
            errors = _triage(who, [alert_id], body.action, body.comment, body.assignee)
            if errors:
                raise HTTPException(400, "; ".join(errors))
        else:
            raise HTTPException(400, f"unknown action {body.action!r}")
        a = reader.get(alert_id)
        assert a is not None
        return AlertOut.of(a)

    @api.get("/incidents", summary="Incidents of the last `days` days (alerts of one attack grouped)")
    def api_incidents(
        days: float = 7.0, open_only: bool = True, who: Actor = Depends(need("read:alerts"))
    ) -> list[dict[str, Any]]:
        return [i.to_dict() for i in _incidents(min(days, 90)) if i.open or not open_only]

    @api.get("/kpi", summary="Availability, utilization, open incidents by level, top threats, triage times")
    def api_kpi(who: Actor = Depends(need("read:kpi"))) -> dict[str, Any]:
        d = _ioc()
        s = d["summary"]
        return {
            "time": d["now"],
            "availability_pct": d["availability"],
            "devices": d["devices"],
            # null: no SQLite sink, or nothing polled (not "none down")
            "devices_down": d["down"] if s else None,
            "links": [
                {
                    "device": ll.device,
                    "ifname": ll.ifname,
                    "link": ll.link,
                    "in_bps": ll.in_bps,
                    "out_bps": ll.out_bps,
                    "util_pct": ll.util_pct,
                }
                for ll in s.links
            ]
            if s
            else None,
            "optics_alarms": s.weak_optics if s else None,
            "open_incidents_by_level": d["incidents_by_level"],
            "open_alerts_by_level": d["alerts_by_level"],
            "top_targets": [{"target": k, "alerts": n} for k, n in d["targets"]],
            "top_threats": [{"source": k, "alerts": n} for k, n in d["sources"]],
            "triage": d["kpis"],
        }

    @api.get("/inventory", summary="Sites, devices and links (no SNMP profiles: they hold credentials)")
    def api_inventory(who: Actor = Depends(need("read:inventory"))) -> dict[str, Any]:
        inv = deps.inventory
        return {
            "sites": [s.model_dump() for s in inv.sites],
            "devices": [
                d.model_dump(include={"name", "address", "role", "site", "vendor", "model", "tags"})
                for d in inv.devices
            ],
            "links": [lk.model_dump() for lk in inv.links],
        }

    @api.get("/openapi.json", include_in_schema=False)
    def api_openapi(who: Actor = Depends(actor)) -> dict[str, Any]:
        return api.openapi()

    api.add_exception_handler(HTTPException, http_error)  # type: ignore[arg-type]
    app.mount("/api/v1", api)
    return app


def _esc(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


def _parse_time(text: str, now: float) -> float | None:
    """'' -> None; 30m / 24h / 7d -> now minus that; an ISO time (UTC when no zone)."""
    text = text.strip()
    if not text:
        return None
    try:
        return timespec.parse_time(text, now)
    except ValueError:
        raise ValueError(f"time {text!r}: a duration (30m, 24h, 7d) or an ISO time") from None


__all__ = ["OPEN_STATES", "ConsoleDeps", "create_app"]
