"""Optional country and AS enrichment of top-N addresses from local MaxMind-format databases.

Only configured files are read (GeoLite2-Country/City or -ASN layouts, or any MMDB with the same
keys); nothing is ever downloaded. Lookups happen for the top-N keys of each interval only, so
their cost does not grow with the record rate.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any


class GeoIpError(ValueError):
    """A configured database that cannot be used, naming the file."""


def _open(path: Path) -> Any:
    try:
        import maxminddb
    except ImportError:  # pragma: no cover - a declared dependency
        raise GeoIpError(f"{path}: GeoIP enrichment needs the `maxminddb` package") from None
    try:
        return maxminddb.open_database(str(path))
    except FileNotFoundError:
        raise GeoIpError(f"{path}: GeoIP database not found") from None
    except (OSError, ValueError, RuntimeError) as exc:  # InvalidDatabaseError is a RuntimeError
        raise GeoIpError(f"{path}: not a MaxMind database ({exc})") from None


class GeoIp:
    """`lookup(address) -> (country ISO code, "AS<number>")`, either part None when unknown."""

    def __init__(self, country_db: Path | None = None, asn_db: Path | None = None) -> None:
        self._country = _open(country_db) if country_db else None
        self._asn = _open(asn_db) if asn_db else None
        self.lookup = functools.lru_cache(maxsize=65536)(self._lookup)

    def _lookup(self, address: str) -> tuple[str | None, str | None]:
        country = asn = None
        try:
            if self._country is not None:
                rec = self._country.get(address)
                if isinstance(rec, dict):
                    c = rec.get("country") or rec.get("registered_country") or {}
                    country = c.get("iso_code") if isinstance(c, dict) else None
            if self._asn is not None:
                rec = self._asn.get(address)
                if isinstance(rec, dict) and rec.get("autonomous_system_number"):
                    asn = f"AS{int(rec['autonomous_system_number'])}"
        except ValueError:  # not an address (e.g. the `other` row): no enrichment
            return None, None
        return country, asn

    def as_org(self, address: str) -> str | None:
        """The AS's organisation name (`autonomous_system_organization`), None when unknown."""
        try:
            rec = self._asn.get(address) if self._asn is not None else None
        except ValueError:
            return None
        org = rec.get("autonomous_system_organization") if isinstance(rec, dict) else None
        return str(org) if org else None

    def close(self) -> None:
        for reader in (self._country, self._asn):
            if reader is not None:
                reader.close()
