"""Configuration of the SNMP poller (section `snmp:` of nocsoc.yaml)."""

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from nocsoc.shard.config import ShardConfig


def _all_areas() -> list[str]:
    from nocsoc.collectors.snmp import areas

    return areas.names()


class SnmpConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    interval_s: float = Field(default=60.0, gt=0, description="default poll interval per device")
    max_concurrency: int = Field(default=64, ge=1, description="devices polled at once")
    deadline_fraction: float = Field(
        default=0.9,
        gt=0,
        le=1,
        description="a device's cycle is cancelled after this fraction of its interval (then "
        "reported as an overrun), so the next cycle always starts on time",
    )
    fit_timeouts: bool = Field(
        default=True,
        description="shorten a profile's timeout so that all tries of a request fit in half the "
        "deadline: a silent device is then reported unreachable within its cycle",
    )
    max_varbinds_per_request: int = Field(
        default=64,
        ge=1,
        le=1000,
        description="cap on columns x max-repetitions per GETBULK (snmpsim answers at most 64)",
    )
    areas: list[str] = Field(
        default_factory=_all_areas,
        description="MIB areas polled (the registry's names: interfaces, host, sensors, profiles, "
        "ups, ...); a table a device lacks is skipped quietly",
    )
    profiles_dir: Path | None = Field(
        default=None,
        description="a directory of your own device profiles (YAML, same format as the shipped "
        "ones); a profile there with the name of a shipped one replaces it",
    )
    absent_reprobe_cycles: int = Field(
        default=10, ge=1, description="a table found absent is asked for again only every N cycles"
    )
    v2c_client: Literal["lean", "pysnmp"] = Field(
        default="lean",
        description="SNMPv2c through nocsoc's lean BER client (~10x less CPU) or through pysnmp; "
        "v3 always uses pysnmp",
    )
    spread_start: bool = Field(default=True, description="spread first polls over the interval")
    once_gap_s: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="`nocsoc poll --once` reads counters twice, this far apart, to compute rates",
    )

    shard: ShardConfig = Field(
        default_factory=ShardConfig,
        description="several pollers sharing this inventory through the NATS bus (docs/scale-pollers.md)",
    )

    @field_validator("areas")
    @classmethod
    def _known_areas(cls, value: list[str]) -> list[str]:
        known = _all_areas()
        unknown = [a for a in value if a not in known]
        if unknown:
            raise ValueError(f"unknown SNMP area(s) {unknown}; known: {', '.join(known)}")
        return value
