"""Configuration of `nocsoc run` (section `run:` of nocsoc.yaml)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class RunConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state_dir: str = Field(default="./var", description="status files, spool, templates, offsets")
    mode: Literal["processes", "single"] = Field(
        default="processes",
        description="processes: one worker process per service (uses every core); single: one process",
    )
    status_interval_s: float = Field(default=5.0, gt=0, description="how often workers report status")
    self_metrics_interval_s: float = Field(default=10.0, gt=0, description="self-metrics to the sinks")
    stop_timeout_s: float = Field(default=15.0, gt=0, description="graceful stop budget per worker")
    restart_backoff_s: float = Field(default=2.0, gt=0, description="first delay before restarting a worker")
