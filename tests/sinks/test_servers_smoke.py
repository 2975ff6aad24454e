"""The real-server fixtures themselves: influxd and VictoriaMetrics answer, store and read back."""

from __future__ import annotations

from tests.servers.influx import InfluxD, VictoriaMetrics


def test_influxd_write_query_roundtrip(influxd: InfluxD, influx_db: str) -> None:
    influxd.write(influx_db, "smoke,host=a value=1.5,n=3i 1700000000000000000\n"
                             "smoke,host=b value=2.25,n=4i 1700000001000000000")
    rows = influxd.rows('SELECT "value", "n", "host" FROM "smoke"', influx_db)
    assert rows == [
        {"time": 1700000000000000000, "value": 1.5, "n": 3, "host": "a"},
        {"time": 1700000001000000000, "value": 2.25, "n": 4, "host": "b"},
    ]


def test_influxd_binds_loopback_only(influxd: InfluxD) -> None:
    text = influxd.config_path.read_text()
    assert f'bind-address = "127.0.0.1:{influxd.port}"' in text
    assert f'bind-address = "127.0.0.1:{influxd.rpc_port}"' in text
    assert influxd.url == f"http://127.0.0.1:{influxd.port}"


def test_victoria_metrics_influx_write_export(victoria_metrics: VictoriaMetrics) -> None:
    import urllib.request

    body = b"vmsmoke,host=a value=1.5,n=3i 1700000000000000000"
    req = urllib.request.Request(f"{victoria_metrics.url}/write", data=body, method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 204
    series = victoria_metrics.wait_export('{__name__=~"vmsmoke_.*"}', lambda s: len(s) == 2)
    got = {s["metric"]["__name__"]: (s["metric"]["host"], s["values"], s["timestamps"]) for s in series}
    assert got == {
        "vmsmoke_value": ("a", [1.5], [1700000000000]),
        "vmsmoke_n": ("a", [3.0], [1700000000000]),
    }
