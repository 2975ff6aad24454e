"""InfluxDB 1.x sink: line protocol over HTTP `/write` (db, retention policy, basic auth, gzip).

Deliberately plain `http.client` with one keep-alive connection instead of a client library:
`/write` is one POST, the worker thread is the only user of the connection, and it keeps this
sink free of the urllib3/urllib3-future swap that grafana-client brings along.

A `/write` answered "database not found" triggers one `CREATE DATABASE` (as Telegraf does), so a
fresh InfluxDB needs no manual step; with `create_database: false` the points wait in the spool.
"""

from __future__ import annotations

import base64
import gzip
import http.client
import logging
import urllib.parse

from nocsoc.sinks.base import SinkError
from nocsoc.sinks.batching import BatchingSink, BatchSettings, Unavailable, classify_status

log = logging.getLogger("nocsoc.sinks")


class InfluxDB1Sink(BatchingSink[str]):
    def __init__(self, name: str, url: str, database: str, settings: BatchSettings, *,
                 retention_policy: str | None = None, username: str | None = None,
                 password: str | None = None, use_gzip: bool = True, timeout_s: float = 10.0,
                 create_database: bool = True) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise SinkError(f"sink {name}: url {url!r} is not an http(s) URL")
        self.url = url
        self.database = database
        self._host = parsed.hostname
        self._port = parsed.port
        self._https = parsed.scheme == "https"
        self._timeout = timeout_s
        params = {"db": database, "precision": "ns"}
        if retention_policy:
            params["rp"] = retention_policy
        self._base = parsed.path.rstrip("/")
        self._path = self._base + "/write?" + urllib.parse.urlencode(params)
        self._create_database = create_database
        self._headers = {"Content-Type": "text/plain; charset=utf-8"}
        if use_gzip:
            self._headers["Content-Encoding"] = "gzip"
        if username:
            # a header, not u=/p= query parameters, so the password never sits in a URL or a log
            token = base64.b64encode(f"{username}:{password or ''}".encode()).decode()
            self._headers["Authorization"] = f"Basic {token}"
        self._gzip = use_gzip
        self._conn: http.client.HTTPConnection | None = None
        super().__init__(name, settings)

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = cls(self._host, self._port, timeout=self._timeout)
        return self._conn

    def _post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        conn = self._connection()
        try:
            conn.request("POST", path, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read().decode(errors="replace")
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            self._conn = None
            raise Unavailable(f"{self.url}: {type(exc).__name__}: {exc}") from None

    def _send(self, lines: list[str]) -> None:
        body = "\n".join(lines).encode()
        if self._gzip:
            body = gzip.compress(body, compresslevel=1)  # level 1: ~5x smaller, cheap on CPU
        status, text = self._post(self._path, body, self._headers)
        if status == 404 and "database not found" in text and self._create_database:
            # as Telegraf does: a fresh InfluxDB needs no manual step (needs admin rights with auth)
            headers = {k: v for k, v in self._headers.items() if k == "Authorization"}
            name = self.database.replace("\\", "\\\\").replace('"', '\\"')
            q = urllib.parse.urlencode({"q": f'CREATE DATABASE "{name}"'})
            created, answer = self._post(f"{self._base}/query?{q}", b"", headers)
            if created == 200 and '"error"' not in answer:
                log.warning("sink %s: created database %s on %s", self.name, self.database, self.url)
                status, text = self._post(self._path, body, self._headers)
        classify_status(status, text, f"{self.url} /write db={self.database}")

    def _release(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
