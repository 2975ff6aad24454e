"""Configuration of the flow collector (section `flows:` of nocsoc.yaml)."""

from pydantic import BaseModel, ConfigDict, Field


class FlowsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    bind: str = Field(default="127.0.0.1:2055", description="NetFlow v5/v9 and IPFIX listen address")
    sflow_bind: str = Field(default="127.0.0.1:6343", description="sFlow v5 listen address")
    interval_s: float = Field(default=60.0, gt=0, description="rollup interval")
    top_n: int = Field(default=20, ge=1, le=1000, description="top-N per rollup kind; the rest is `other`")
    state_dir: str = Field(default="./var/flows", description="persisted templates")
