"""Country/AS enrichment of top talkers from local MaxMind-format files (written here)."""

from __future__ import annotations

from pathlib import Path

import mmdb_writer  # dev extra: writes the test databases
import pytest

from nocsoc.collectors.flows.collector import FlowPipeline
from nocsoc.collectors.flows.config import FlowsConfig
from nocsoc.collectors.flows.geoip import GeoIp, GeoIpError
from tests.collectors.flows import craft


def write_dbs(tmp: Path) -> tuple[Path, Path]:
    from netaddr import IPSet

    country = mmdb_writer.MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-Country")
    country.insert_network(IPSet(["203.113.0.0/16"]), {"country": {"iso_code": "VN"}})
    country.insert_network(IPSet(["8.8.8.0/24"]), {"country": {"iso_code": "US"}})
    asn = mmdb_writer.MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-ASN")
    asn.insert_network(
        IPSet(["203.113.0.0/16"]),
        {"autonomous_system_number": 7552, "autonomous_system_organization": "Viettel"},
    )
    country.to_db_file(str(tmp / "country.mmdb"))
    asn.to_db_file(str(tmp / "asn.mmdb"))
    return tmp / "country.mmdb", tmp / "asn.mmdb"


def test_top_talkers_get_country_and_asn(tmp_path: Path) -> None:
    country, asn = write_dbs(tmp_path)
    config = FlowsConfig(interval_s=60, top_n=3, geoip_country_db="country.mmdb", geoip_asn_db=str(asn))
    pipe = FlowPipeline(config, base_dir=country.parent)
    recs = [
        {"src": "203.113.5.9", "dst": "8.8.8.8", "packets": 1, "bytes": 900, "sport": 5000, "dport": 53},
        {"src": "10.1.0.5", "dst": "203.113.5.9", "packets": 1, "bytes": 100, "sport": 5001, "dport": 443},
    ]
    pipe.process([(craft.v5(recs), "127.0.0.5", 10.0)])
    tops = {
        (p.tags["kind"], p.tags["key"]): (p.tags.get("country"), p.tags.get("asn"))
        for p in pipe.rollups.flush_all()
        if p.measurement == "flow_top" and p.tags["kind"] in ("src", "dst")
    }
    assert tops == {
        ("src", "203.113.5.9"): ("VN", "AS7552"),
        ("src", "10.1.0.5"): (None, None),  # private: in neither database
        ("dst", "8.8.8.8"): ("US", None),
        ("dst", "203.113.5.9"): ("VN", "AS7552"),
    }
    assert pipe.geoip is not None
    pipe.geoip.close()


def test_a_bad_database_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(GeoIpError, match=r"missing\.mmdb: GeoIP database not found"):
        GeoIp(country_db=tmp_path / "missing.mmdb")
    junk = tmp_path / "junk.mmdb"
    junk.write_bytes(b"not a database" * 10)
    with pytest.raises(GeoIpError, match=r"junk\.mmdb: not a MaxMind database"):
        GeoIp(asn_db=junk)
