"""Configuration of dashboard generation and push (section `dashboards:`).

Credentials never sit here as literals: the InfluxDB password is written into the datasource
provisioning file as a `${ENV}` reference Grafana expands at start, and the Grafana token is a
secret reference (`env:NAME`, `file:PATH`) resolved only when pushing.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from nocsoc.secrets import is_reference


class DashboardsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    locale: Literal["vi", "en"] = "vi"
    out_dir: str = "./var/grafana"
    datasource_uid: str = "nocsoc-influxdb"
    datasource_name: str = "nocsoc InfluxDB"
    influx_url: str = Field(default="http://127.0.0.1:8086", description="as Grafana reaches InfluxDB")
    influx_database: str = "nocsoc"
    influx_user_env: str = Field(
        default="NOCSOC_INFLUX_USER", description="env var Grafana expands into the datasource user"
    )
    influx_password_env: str = Field(
        default="NOCSOC_INFLUX_PASSWORD", description="env var Grafana expands into the datasource password"
    )
    http_method: Literal["GET", "POST"] = "POST"
    grafana_url: str | None = None
    grafana_token: str | None = Field(default=None, description="secret reference: env:NAME or file:PATH")
    contact_webhook_env: str = Field(
        default="NOCSOC_ALERT_WEBHOOK_URL", description="env var holding the alert webhook URL (placeholder)"
    )
    # Thresholds: the one place the dashboards, the alert rules, `nocsoc top`, the weathermap,
    # the topology picture and the demo's summary read them from.
    link_utilization_pct: float = Field(default=80.0, gt=0, le=100, description="link utilization alarm")
    link_utilization_warn_pct: float = Field(
        default=60.0, gt=0, le=100, description="link utilization warning"
    )
    utilization_for: str = "15m"
    optics_rx_min_dbm: float = Field(
        default=-20.0, description="optical receive power alarm (dBm); the simulated optics alarm there too"
    )
    usage_warn_pct: float = Field(default=70.0, gt=0, le=100, description="CPU, memory, storage warning")
    usage_crit_pct: float = Field(default=85.0, gt=0, le=100, description="CPU, memory, storage alarm")

    @model_validator(mode="after")
    def _ordered(self) -> "DashboardsConfig":
        if self.link_utilization_warn_pct >= self.link_utilization_pct:
            raise ValueError("link_utilization_warn_pct must be below link_utilization_pct")
        if self.usage_warn_pct >= self.usage_crit_pct:
            raise ValueError("usage_warn_pct must be below usage_crit_pct")
        return self

    @field_validator("grafana_token")
    @classmethod
    def _token_ref(cls, v: str | None) -> str | None:
        if v is not None and not is_reference(v):
            raise ValueError(
                "grafana_token must be a secret reference (env:NAME or file:PATH), not a literal token"
            )
        return v
