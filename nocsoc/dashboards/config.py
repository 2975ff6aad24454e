"""Configuration of dashboard generation (section `dashboards:`)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class DashboardsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    locale: Literal["vi", "en"] = "vi"
    out_dir: str = "./var/grafana"
    datasource_uid: str = "nocsoc-influxdb"
    grafana_url: str | None = None
    grafana_token: str | None = Field(default=None, description="secret reference: env:NAME or file:PATH")
