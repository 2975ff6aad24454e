"""Configuration of the SNMP poller (section `snmp:` of nocsoc.yaml)."""

from pydantic import BaseModel, ConfigDict, Field


class SnmpConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    interval_s: float = Field(default=60.0, gt=0, description="default poll interval per device")
    max_concurrency: int = Field(default=64, ge=1, description="devices polled at once")
