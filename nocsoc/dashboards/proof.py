"""Run every dashboard and alert query against a real InfluxDB 1.x, as Grafana would send it.

A dashboard whose query returns nothing is a broken product, and Grafana will not say so. This
renders each panel target and alert query with Grafana's macro and variable substitution
(`macros.py`) and runs it on InfluxDB's `/query`, reporting series and rows per query. Used by
the tests on a real influxd and by `nocsoc dashboards check` on the user's database.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from nocsoc.dashboards import alerting
from nocsoc.dashboards.config import DashboardsConfig
from nocsoc.dashboards.macros import ALL, TimeRange, Variable, render_query
from nocsoc.dashboards.registry import build_all
from nocsoc.dashboards.validate import panels_of


@dataclass(frozen=True)
class QueryRef:
    """Where a query lives: dashboard uid (or `alert:<rule uid>`), panel title, refId."""

    owner: str
    panel: str
    ref_id: str
    query: str
    result_format: str = "time_series"
    range_s: int | None = None  # alert queries carry their own relative range

    def __str__(self) -> str:
        return f"{self.owner} / {self.panel} / {self.ref_id}"


@dataclass
class QueryResult:
    ref: QueryRef
    influxql: str
    series: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""

    @property
    def rows(self) -> int:
        return sum(len(s.get("values", [])) for s in self.series)

    @property
    def ok(self) -> bool:
        return not self.error and self.rows > 0


def dashboard_queries(dashboards: list[dict[str, Any]]) -> Iterator[QueryRef]:
    for d in dashboards:
        for p in panels_of(d):
            for t in p.get("targets", []):
                yield QueryRef(
                    d["uid"], p.get("title", ""), t["refId"], t["query"], t.get("resultFormat", "time_series")
                )


def variable_queries(dashboards: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for d in dashboards:
        for v in d.get("templating", {}).get("list", []):
            if v.get("type") == "query":
                yield d["uid"], v


def alert_queries(cfg: DashboardsConfig, locale: str) -> Iterator[QueryRef]:
    for r in alerting.rules(cfg, locale):
        for node in r["data"]:
            model = node["model"]
            if "query" in model:
                yield QueryRef(
                    f"alert:{r['uid']}",
                    r["title"],
                    node["refId"],
                    model["query"],
                    range_s=node["relativeTimeRange"]["from"],
                )


class InfluxQuery:
    """A minimal `/query` client for InfluxDB 1.x (GET/POST, db, epoch=ms as Grafana asks)."""

    def __init__(self, url: str, database: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.database = database
        self.timeout = timeout

    def run(self, influxql: str) -> tuple[list[dict[str, Any]], str]:
        params = urllib.parse.urlencode({"q": influxql, "db": self.database, "epoch": "ms"})
        req = urllib.request.Request(
            f"{self.url}/query",
            data=params.encode(),
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                body = json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return [], f"HTTP {exc.code}: {exc.read()[:300]!r}"
        except (urllib.error.URLError, OSError) as exc:
            return [], f"cannot reach InfluxDB at {self.url}: {exc}"
        series: list[dict[str, Any]] = []
        for stmt in body.get("results", []):
            if "error" in stmt:
                return [], str(stmt["error"])
            series += stmt.get("series", [])
        return series, ""


def all_selected(dashboards: list[dict[str, Any]]) -> dict[str, Variable]:
    """Every variable at All (what a fresh dashboard shows), as each variable declares it."""
    out = {}
    for _, v in variable_queries(dashboards):
        out[v["name"]] = Variable(
            v["name"],
            ALL,
            multi=bool(v.get("multi")),
            include_all=bool(v.get("includeAll")),
            all_value=v.get("allValue"),
        )
    return out


def prove(
    client: InfluxQuery,
    queries: list[QueryRef],
    tr: TimeRange,
    variables: Mapping[str, Variable],
    max_data_points: int = 1000,
    style: str = "backend",
) -> list[QueryResult]:
    results = []
    for ref in queries:
        qtr = tr
        if ref.range_s is not None:  # alert rules evaluate over their own relative range
            qtr = TimeRange(tr.to_ms - ref.range_s * 1000, tr.to_ms, f"now-{ref.range_s}s", "now")
        text = render_query(ref.query, qtr, variables, max_data_points, style)
        series, error = client.run(text)
        results.append(QueryResult(ref, text, series, error))
    return results


def prove_all(
    url: str,
    database: str,
    cfg: DashboardsConfig,
    locale: str = "en",
    range_s: int = 3600,
    now_ms: int | None = None,
) -> list[QueryResult]:
    """Every panel and alert query over the last `range_s` seconds, variables at All."""
    dashboards = [d for _, d in build_all(locale, cfg.datasource_uid)]
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    tr = TimeRange(now - range_s * 1000, now, f"now-{range_s}s", "now")
    queries = [*dashboard_queries(dashboards), *alert_queries(cfg, locale)]
    return prove(InfluxQuery(url, database), queries, tr, all_selected(dashboards))
