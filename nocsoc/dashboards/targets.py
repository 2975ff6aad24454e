"""An InfluxQL query target for grafana-foundation-sdk panels.

The SDK (0.0.21) ships query types for Prometheus, Loki, Elasticsearch and others but none for
InfluxDB, so this is the small piece it lacks: the JSON Grafana's InfluxDB datasource reads in
raw-query (InfluxQL text) mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Self

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants

ResultFormat = Literal["time_series", "table", "logs"]
DATASOURCE_TYPE = "influxdb"


@dataclass
class InfluxQLTarget(cogvariants.Dataquery):
    ref_id: str
    datasource_uid: str
    query: str
    result_format: ResultFormat = "time_series"
    alias: str = ""
    hide: bool = False

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "refId": self.ref_id,
            "datasource": {"type": DATASOURCE_TYPE, "uid": self.datasource_uid},
            "query": self.query,
            "rawQuery": True,
            "resultFormat": self.result_format,
        }
        if self.alias:
            out["alias"] = self.alias
        if self.hide:
            out["hide"] = True
        return out


class InfluxQL(cogbuilder.Builder[InfluxQLTarget]):
    """Builder in the SDK's style: `InfluxQL(ds_uid, query).ref_id("B").table()`."""

    def __init__(self, datasource_uid: str, query: str) -> None:
        self._t = InfluxQLTarget(ref_id="A", datasource_uid=datasource_uid, query=query)

    def ref_id(self, ref_id: str) -> Self:
        self._t.ref_id = ref_id
        return self

    def table(self) -> Self:
        self._t.result_format = "table"
        return self

    def alias(self, alias: str) -> Self:
        """Series alias pattern, e.g. `$tag_device $col`."""
        self._t.alias = alias
        return self

    def build(self) -> InfluxQLTarget:
        return InfluxQLTarget(**vars(self._t))
