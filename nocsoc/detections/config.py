"""Configuration of the detection engine and alert store (section `detections:`)."""

from pydantic import BaseModel, ConfigDict, Field


class DetectionsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    rules: list[str] = Field(default_factory=list, description="extra Sigma rule files or directories")
    builtin_rules: bool = Field(default=True, description="load the built-in pack")
    alerts_db: str = Field(default="./var/alerts.db", description="SQLite alert store")
    dedup_window_s: float = Field(default=3600.0, gt=0)
