"""Configuration of the flow collector (section `flows:` of nocsoc.yaml)."""

from pydantic import BaseModel, ConfigDict, Field


class FlowsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    bind: str = Field(default="127.0.0.1:2055", description="NetFlow v5/v9 and IPFIX listen address")
    sflow_bind: str | None = Field(default="127.0.0.1:6343", description="sFlow v5 listen address; null: off")
    interval_s: float = Field(default=60.0, gt=0, description="rollup interval")
    top_n: int = Field(default=20, ge=1, le=1000, description="top-N per rollup kind; the rest is `other`")
    state_dir: str = Field(default="./var/flows", description="persisted templates and sampling rates")
    receive_buffer_bytes: int = Field(default=32 << 20, ge=65536, description="socket SO_RCVBUF")
    queue_datagrams: int = Field(default=100_000, ge=100,
                                 description="datagrams between receiver and decoder; beyond: app_drops")
    early_data_sets: int = Field(default=2048, ge=0,
                                 description="data sets held while their template is unknown")
    early_data_max_age_s: float = Field(default=600.0, gt=0,
                                        description="held data older than this is dropped")
    vxlan_decap: bool = Field(default=False,
                              description="report the inner packet of VXLAN (UDP 4789) in sampled headers "
                                          "(sFlow, IPFIX IE 315), the outer addresses kept as tunnel")
    geoip_country_db: str | None = Field(default=None,
                                         description="MaxMind-format country database (local file)")
    geoip_asn_db: str | None = Field(default=None, description="MaxMind-format ASN database (local file)")
