"""A loopback stand-in for the few Grafana HTTP API endpoints `nocsoc dashboards push` uses.

No Grafana server can be installed on these machines, so this implements, in memory and with
Grafana's status codes and response shapes, only: /api/health, /api/frontend/settings (what
grafana-client's health check reads), /api/folders, /api/datasources, /api/dashboards (uid, db)
and /api/v1/provisioning/alert-rules. It checks the bearer token, that a dashboard's folder and
an alert rule's folder and datasource exist (as Grafana does), adds the fields Grafana adds (id,
version, meta, provenance), and records every request for assertions.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    body: Any
    auth: str | None


@dataclass
class GrafanaState:
    token: str
    version: str = "12.3.0"
    database_ok: bool = True
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    datasources: dict[str, dict[str, Any]] = field(default_factory=dict)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    next_id: int = 1

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def writes(self) -> list[Request]:
        return [r for r in self.requests if r.method != "GET"]


class _Handler(BaseHTTPRequestHandler):
    state: GrafanaState  # set on the per-server subclass

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        path = self.path.split("?")[0]
        st = self.state
        st.requests.append(Request(method, path, body, self.headers.get("Authorization")))
        if path == "/api/health" and method == "GET":
            db = "ok" if st.database_ok else "failing"
            return self._send(
                200 if st.database_ok else 503, {"commit": "abc", "database": db, "version": st.version}
            )
        if self.headers.get("Authorization") != f"Bearer {st.token}":
            return self._send(401, {"message": "Unauthorized"})
        for pattern, fn in ROUTES:
            m = re.fullmatch(pattern, f"{method} {path}")
            if m:
                status, out = fn(st, body, *m.groups())
                return self._send(status, out)
        return self._send(404, {"message": "Not found"})

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")


Result = tuple[int, Any]


def get_folder(st: GrafanaState, body: Any, uid: str) -> Result:
    f = st.folders.get(uid)
    return (200, f) if f else (404, {"message": "folder not found", "status": "not-found"})


def create_folder(st: GrafanaState, body: Any) -> Result:
    uid = body["uid"]
    if uid in st.folders:
        return 409, {"message": "a folder with the same uid already exists"}
    st.folders[uid] = {"id": st.new_id(), "uid": uid, "title": body["title"], "version": 1}
    return 200, st.folders[uid]


def update_folder(st: GrafanaState, body: Any, uid: str) -> Result:
    f = st.folders[uid]
    f.update(title=body["title"], version=f["version"] + 1)
    return 200, f


def get_ds(st: GrafanaState, body: Any, uid: str) -> Result:
    ds = st.datasources.get(uid)
    if not ds:
        return 404, {"message": "Data source not found"}
    return 200, {k: v for k, v in ds.items() if k != "secureJsonData"}  # write-only, as in Grafana


def create_ds(st: GrafanaState, body: Any) -> Result:
    if any(d["name"] == body["name"] for d in st.datasources.values()):
        return 409, {"message": "data source with the same name already exists"}
    ds = {**body, "id": st.new_id(), "orgId": 1, "readOnly": False, "basicAuth": False}
    st.datasources[body["uid"]] = ds
    return 200, {"datasource": ds, "id": ds["id"], "message": "Datasource added", "name": ds["name"]}


def update_ds(st: GrafanaState, body: Any, uid: str) -> Result:
    old = st.datasources[uid]
    st.datasources[uid] = {**old, **body, "id": old["id"]}
    return 200, {"datasource": st.datasources[uid], "message": "Datasource updated"}


def get_dashboard(st: GrafanaState, body: Any, uid: str) -> Result:
    d = st.dashboards.get(uid)
    return (200, d) if d else (404, {"message": "Dashboard not found"})


def save_dashboard(st: GrafanaState, body: Any) -> Result:
    dash, folder_uid = dict(body["dashboard"]), body.get("folderUid", "")
    if folder_uid and folder_uid not in st.folders:
        return 400, {"message": "folder not found"}
    uid = dash["uid"]
    old = st.dashboards.get(uid)
    if old and old["meta"].get("provisioned"):
        return 400, {"message": "Cannot save provisioned dashboard"}
    if old and not body.get("overwrite"):
        return 412, {
            "message": "The dashboard has been changed by someone else",
            "status": "version-mismatch",
        }
    version = old["dashboard"]["version"] + 1 if old else 1
    dash.update(id=old["dashboard"]["id"] if old else st.new_id(), version=version)
    st.dashboards[uid] = {
        "dashboard": dash,
        "meta": {"folderUid": folder_uid, "version": version, "slug": uid, "provisioned": False},
    }
    return 200, {"id": dash["id"], "uid": uid, "status": "success", "version": version, "url": f"/d/{uid}"}


def get_rule(st: GrafanaState, body: Any, uid: str) -> Result:
    r = st.rules.get(uid)
    return (200, r) if r else (404, None)


def _check_rule(st: GrafanaState, body: Any) -> str | None:
    if body.get("folderUID") not in st.folders:
        return f"folder {body.get('folderUID')} not found"
    for node in body["data"]:
        if node["datasourceUid"] != "__expr__" and node["datasourceUid"] not in st.datasources:
            return f"data source {node['datasourceUid']} not found"
    return None


def create_rule(st: GrafanaState, body: Any) -> Result:
    problem = _check_rule(st, body)
    if problem:
        return 400, {"message": problem}
    st.rules[body["uid"]] = {
        **body,
        "id": st.new_id(),
        "provenance": "api",
        "updated": "2026-11-25T01:00:00Z",
    }
    return 201, st.rules[body["uid"]]


def update_rule(st: GrafanaState, body: Any, uid: str) -> Result:
    problem = _check_rule(st, body)
    if problem:
        return 400, {"message": problem}
    st.rules[uid] = {
        **body,
        "id": st.rules[uid]["id"],
        "provenance": "api",
        "updated": "2026-11-25T02:00:00Z",
    }
    return 200, st.rules[uid]


def frontend_settings(st: GrafanaState, body: Any) -> Result:
    return 200, {"buildInfo": {"version": st.version, "commit": "abc", "edition": "Open Source"}}


ROUTES = [
    (r"GET /api/frontend/settings", frontend_settings),
    (r"GET /api/folders/([\w-]+)", get_folder),
    (r"POST /api/folders", create_folder),
    (r"PUT /api/folders/([\w-]+)", update_folder),
    (r"GET /api/datasources/uid/([\w-]+)", get_ds),
    (r"POST /api/datasources", create_ds),
    (r"PUT /api/datasources/uid/([\w-]+)", update_ds),
    (r"GET /api/dashboards/uid/([\w-]+)", get_dashboard),
    (r"POST /api/dashboards/db", save_dashboard),
    (r"GET /api/v1/provisioning/alert-rules/([\w-]+)", get_rule),
    (r"POST /api/v1/provisioning/alert-rules", create_rule),
    (r"PUT /api/v1/provisioning/alert-rules/([\w-]+)", update_rule),
]


class FakeGrafana:
    def __init__(self, token: str) -> None:
        self.state = GrafanaState(token)
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> FakeGrafana:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)
