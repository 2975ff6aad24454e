"""Security of the console: every route needs a session or token, roles and scopes hold, CSRF,
lockout, no secret in any page or log."""

from __future__ import annotations

import logging

import pytest
from starlette.routing import Mount

from tests.web.conftest import PASSWORDS, Console, client, csrf_of, login

PUBLIC = {"/login", "/lang/{lang}", "/static"}


def _routes(app, prefix: str = ""):  # type: ignore[no-untyped-def]
    for r in app.routes:
        if isinstance(r, Mount):
            if r.path == "/static":
                yield "/static", {"GET"}
                continue
            yield from _routes(r.app, prefix + r.path)
        else:
            yield prefix + r.path, set(getattr(r, "methods", None) or {"GET"})


def test_every_route_needs_a_session_or_token(console: Console) -> None:
    cl = client(console)
    walked = 0
    for path, methods in _routes(console.app):
        if path in PUBLIC:
            continue
        concrete = path.replace("{alert_id}", "1").replace("{incident_id}", "1").replace("{sid}", "1")
        for m in methods - {"HEAD"}:
            r = cl.request(m, concrete)
            assert r.status_code == 401, (m, path, r.status_code)
            r = cl.request(m, concrete, headers={"Authorization": "Bearer nst_forged"})
            assert r.status_code == 401, (m, path, "forged token")
            walked += 1
    assert walked >= 20
    # a browser is sent to the login page
    r = cl.get("/alerts", headers={"accept": "text/html"})
    assert (r.status_code, r.headers["location"]) == (303, "/login")


def test_viewer_cannot_triage(console: Console) -> None:
    cl = login(console, "vic")
    csrf = csrf_of(cl)
    aid = console.store.list_alerts(limit=1)[0].id
    assert cl.post("/alerts/bulk", data={"csrf": csrf, "action": "ack", "ids": [aid]}).status_code == 403
    assert cl.post(f"/alerts/{aid}/triage", data={"csrf": csrf, "action": "ack"}).status_code == 403
    assert (
        cl.post(
            "/suppressions", data={"csrf": csrf, "rule": "*", "conditions": "host=x", "expires": "1d"}
        ).status_code
        == 403
    )
    assert console.store.get(aid).state == "new"
    assert 'value="ack"' not in cl.get("/alerts").text  # no bulk buttons shown


def test_token_scope_cannot_be_exceeded(console: Console) -> None:
    auth = console.app.state.auth  # type: ignore[attr-defined]
    tok, kpi = auth.create_token("ioc", ["read:kpi"], "adm")
    _, tri = auth.create_token("soar", ["read:alerts", "write:triage"], "adm")
    cl = client(console)
    aid = console.store.list_alerts(limit=1)[0].id
    h = {"Authorization": f"Bearer {kpi}"}
    assert cl.get("/api/v1/kpi", headers=h).status_code == 200
    assert cl.get("/api/v1/alerts", headers=h).status_code == 403
    assert cl.get("/api/v1/inventory", headers=h).status_code == 403
    assert cl.post(f"/api/v1/alerts/{aid}/triage", json={"action": "ack"}, headers=h).status_code == 403
    assert cl.get("/alerts", headers=h).status_code == 403  # pages too
    r = cl.post(
        f"/api/v1/alerts/{aid}/triage",
        json={"action": "ack", "comment": "SOAR"},
        headers={"Authorization": f"Bearer {tri}"},
    )
    assert r.status_code == 200 and r.json()["state"] == "acknowledged"
    assert console.store.audit(alert_id=aid)[-1].who == "token:soar"
    auth.revoke_token(tok.id)
    assert cl.get("/api/v1/kpi", headers=h).status_code == 401


def test_csrf_less_post_refused(console: Console) -> None:
    cl = login(console, "ana")
    aid = console.store.list_alerts(limit=1)[0].id
    assert cl.post("/alerts/bulk", data={"action": "ack", "ids": [aid]}).status_code == 403
    assert cl.post("/alerts/bulk", data={"csrf": "guess", "action": "ack", "ids": [aid]}).status_code == 403
    assert cl.post(f"/api/v1/alerts/{aid}/triage", json={"action": "ack"}).status_code == 403
    assert cl.post("/logout").status_code == 403
    assert console.store.get(aid).state == "new"
    r = cl.post(f"/api/v1/alerts/{aid}/triage", json={"action": "ack"}, headers={"X-CSRF-Token": csrf_of(cl)})
    assert r.status_code == 200


def test_lockout_after_ten_failures(console: Console) -> None:
    cl = client(console)
    for i in range(9):
        assert cl.post("/login", data={"user": "ana", "password": f"wrong-{i}"}).status_code == 401
    assert cl.post("/login", data={"user": "ana", "password": "wrong-9"}).status_code == 423
    # locked: the right password is refused too
    r = cl.post("/login", data={"user": "ana", "password": PASSWORDS["ana"]})
    assert r.status_code == 423 and "tạm khóa" in r.text
    assert console.app.state.counters.get("lockouts") == 1  # type: ignore[attr-defined]
    # unknown users answer like wrong passwords
    assert cl.post("/login", data={"user": "nobody", "password": "x"}).status_code == 401


def test_login_rate_limited(console: Console) -> None:
    cl = client(console)
    codes = [cl.post("/login", data={"user": "nobody", "password": "x"}).status_code for _ in range(31)]
    assert codes[:30] == [401] * 30 and codes[30] == 429


def test_session_cookie_flags(console: Console) -> None:
    cl = client(console)
    r = cl.post("/login", data={"user": "ana", "password": PASSWORDS["ana"]})
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie
    tls = client(console)
    tls.base_url = "https://127.0.0.1"  # type: ignore[misc]
    r = tls.post("/login", data={"user": "ana", "password": PASSWORDS["ana"]})
    assert "secure" in r.headers["set-cookie"].lower()


def test_proxy_header_off_by_default(console: Console) -> None:
    cl = client(console)
    assert cl.get("/api/v1/kpi", headers={"X-Remote-User": "adm"}).status_code == 401


@pytest.mark.parametrize("user", ["ana"])
def test_no_secret_in_pages_or_logs(console: Console, user: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    auth = console.app.state.auth  # type: ignore[attr-defined]
    _, secret = auth.create_token("ioc", ["read:kpi", "read:alerts", "read:inventory"], "adm")
    cl = client(console)
    r = cl.post("/login", data={"user": user, "password": PASSWORDS[user]})
    sid = r.cookies.get("nocsoc_session") or r.headers["set-cookie"].split("=", 1)[1].split(";")[0]
    cl.cookies.set("nocsoc_session", sid)
    bodies = [cl.get(p).text for p in ("/alerts", "/incidents", "/suppressions", "/ioc")]
    bodies += [
        cl.get(p, headers={"Authorization": f"Bearer {secret}"}).text
        for p in ("/api/v1/kpi", "/api/v1/inventory", "/api/v1/alerts")
    ]
    for b in [*bodies, caplog.text]:
        assert PASSWORDS[user] not in b and secret not in b and sid not in b
    raw = (console.tmp / "web.db").read_bytes()
    assert secret.encode() not in raw and sid.encode() not in raw and PASSWORDS[user].encode() not in raw
    assert oct((console.tmp / "web.db").stat().st_mode & 0o777) == "0o600"


def test_token_rate_limited(console: Console) -> None:
    from nocsoc.web.app import create_app

    console.deps.web = console.deps.web.model_copy(update={"token_per_minute": 5})
    app = create_app(console.deps)
    _, secret = app.state.auth.create_token("ioc", ["read:kpi"], "adm")
    from fastapi.testclient import TestClient

    cl = TestClient(app, base_url="http://127.0.0.1")
    h = {"Authorization": f"Bearer {secret}"}
    assert [cl.get("/api/v1/kpi", headers=h).status_code for _ in range(6)] == [200] * 5 + [429]
    assert app.state.counters.get("rate_limited") == 1


def test_trusted_proxy_header_signs_in_only_from_the_proxy(console: Console) -> None:
    from fastapi.testclient import TestClient

    from nocsoc.web.app import create_app

    console.deps.web = console.deps.web.model_copy(
        update={"trusted_proxies": ["testclient"], "proxy_user_header": "X-Remote-User"}
    )
    app = create_app(console.deps)
    cl = TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)  # client host: "testclient"
    r = cl.get("/alerts", headers={"X-Remote-User": "vic"})
    assert r.status_code == 200 and "vic (viewer)" in r.text
    assert cl.get("/alerts", headers={"X-Remote-User": "nobody"}).status_code == 401
    # the same header from an address that is not the proxy is ignored
    console.deps.web = console.deps.web.model_copy(update={"trusted_proxies": ["10.9.9.9"]})
    other = TestClient(create_app(console.deps), base_url="http://127.0.0.1", follow_redirects=False)
    assert other.get("/alerts", headers={"X-Remote-User": "vic"}).status_code == 401
