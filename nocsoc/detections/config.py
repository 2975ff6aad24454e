"""Configuration of the detection engine and alert store (section `detections:`)."""

from pydantic import BaseModel, ConfigDict, Field, field_validator


class AlertsPostgresConfig(BaseModel):
    """A PostgreSQL alert store shared by several detectors (instead of the SQLite file)."""

    model_config = ConfigDict(extra="forbid")

    dsn: str = Field(description="libpq connection string without the password, e.g. "
                                 "postgresql://nocsoc@db.example:5432/nocsoc")
    password: str | None = Field(default=None, description="secret reference: env:NAME or file:PATH")
    owner: str | None = Field(default=None, description="this detector's name in the shared store "
                                                        "(its correlation windows); default: the host name")
    connect_timeout_s: float = Field(default=10.0, gt=0)

    @field_validator("dsn")
    @classmethod
    def _no_password_inside(cls, value: str) -> str:
        from psycopg.conninfo import conninfo_to_dict

        try:
            parts = conninfo_to_dict(value)
        except Exception as exc:  # psycopg.ProgrammingError: an unparsable string
            raise ValueError("not a PostgreSQL connection string (write postgresql://USER@HOST:PORT/DB "
                             "or libpq key=value pairs)") from exc
        if "password" in parts:
            raise ValueError("a password inside the connection string is a literal secret: "
                             "give it as `password: env:NAME` (or file:PATH)")
        return value


class DetectionsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    rules: list[str] = Field(default_factory=list, description="extra Sigma rule files or directories")
    builtin_rules: bool = Field(default=True, description="load the built-in pack")
    alerts_db: str = Field(default="./var/alerts.db", description="SQLite alert store")
    alerts_postgres: AlertsPostgresConfig | None = Field(
        default=None, description="a PostgreSQL alert store shared by several detectors (replaces alerts_db)")
    dedup_window_s: float = Field(default=3600.0, gt=0)
    max_groups: int = Field(default=100_000, gt=0,
                            description="correlation groups kept per rule (oldest evicted beyond)")
    sweep_every_s: float = Field(default=30.0, gt=0,
                                 description="how often idle correlation windows are freed")
    correlation_snapshot_s: float = Field(
        default=60.0, gt=0,
        description="how often correlation windows are saved with the alerts (and at stop)")
    correlation_snapshot_groups: int = Field(
        default=10_000, gt=0,
        description="correlation groups saved per rule, the most recently active (the rest restart empty)")
    reorder_window_s: float = Field(
        default=2.0, ge=0,
        description="events feeding correlations are held up to this long (event and wall-clock time) "
                    "to be put back in event-time order; 0: off")
    reorder_max_events: int = Field(
        default=100_000, gt=0, description="events the reorder buffer holds (the oldest go early beyond)")
    flush_interval_s: float = Field(default=0.2, gt=0, description="longest a detection waits for the store")
    max_unstored: int = Field(default=100_000, gt=0,
                              description="detections held while the store refuses them (then back pressure)")
