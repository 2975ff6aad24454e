"""The ClickHouse table and query of docs/history.md, run on chdb (ClickHouse's engine
in-process; no ClickHouse server is installed here): the same aggregates inserted as the
writer would insert them give exactly the answer the Parquet store gives.

The clickhouse-connect client path itself (HTTP to a server) is not exercised here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nocsoc.history.aggregate import aggregate
from nocsoc.history.clickhouse import ddl, peers_from_rows, peers_params, peers_query, rows_of
from nocsoc.history.config import HistoryConfig
from nocsoc.history.flows import query_flows
from tests.history.test_flow_history import ATTACKER, T0, feed, write_all

chdb = pytest.importorskip("chdb", reason="chdb (the in-process ClickHouse engine) is not installed")


def test_the_documented_table_and_query_answer_as_the_parquet_store(tmp_path: Path) -> None:
    from chdb import session

    s = session.Session(str(tmp_path / "chdb"))
    try:
        s.query(ddl("nocsoc_flows_1m", 3650))  # T0 is months ago: no TTL on it
        rows, names = rows_of(aggregate(feed()))
        body = "\n".join(json.dumps({k: (str(v) if k in ("src", "dst") else v)
                                     for k, v in zip(names, r, strict=True)}) for r in rows)
        s.query(f"INSERT INTO nocsoc_flows_1m FORMAT JSONEachRow {body}")
        assert int(str(s.query("SELECT count() FROM nocsoc_flows_1m", "CSV")).strip()) == 6
        write_all(tmp_path / "parquet", feed())
        for ip, since, until in ((ATTACKER, T0, T0 + 3600), (ATTACKER, T0 + 120, T0 + 180),
                                 ("10.0.0.8", None, None), ("2001:db8::1", None, None)):
            res = s.query(peers_query("nocsoc_flows_1m"), "JSONCompact",
                          params={k: str(v) for k, v in peers_params(ip, since, until, 1000).items()})
            got = peers_from_rows(ip, json.loads(str(res))["data"])
            assert got == query_flows(tmp_path / "parquet", ip, since=since, until=until), ip
            assert got  # each case has rows
        # the retention is the table's TTL
        create = str(s.query("SHOW CREATE TABLE nocsoc_flows_1m", "TSVRaw"))
        assert "TTL minute + toIntervalDay(3650)" in create and "bloom_filter" in create
        # with a 1-day retention the same (months old) rows are gone once the table merges
        s.query(ddl("short_lived", 1))
        s.query(f"INSERT INTO short_lived FORMAT JSONEachRow {body}")
        s.query("OPTIMIZE TABLE short_lived FINAL")
        assert int(str(s.query("SELECT count() FROM short_lived", "CSV")).strip()) == 0
    finally:
        s.close()


def test_the_password_must_be_a_reference() -> None:
    with pytest.raises(ValueError, match="password must be a reference"):
        HistoryConfig.model_validate({"backend": "clickhouse", "clickhouse": {"password": "hunter2"}})
    cfg = HistoryConfig.model_validate({"backend": "clickhouse", "clickhouse": {"password": "env:CH_PASS"}})
    assert cfg.clickhouse.password == "env:CH_PASS"


def test_an_unset_password_stops_the_start_naming_the_key(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from nocsoc.errors import SecretError
    from nocsoc.history.clickhouse import ClickHouseFlowWriter
    from nocsoc.secrets import resolve_secret

    monkeypatch.delenv("NOCSOC_TEST_UNSET_CH", raising=False)
    cfg = HistoryConfig.model_validate({"backend": "clickhouse",
                                        "clickhouse": {"password": "env:NOCSOC_TEST_UNSET_CH"}})
    w = ClickHouseFlowWriter(cfg, tmp_path, lambda ref, what: resolve_secret(ref, tmp_path, what=what))
    with pytest.raises(SecretError, match=r"history\.clickhouse\.password"):
        w.start()
    assert w._thread is None  # nothing started
