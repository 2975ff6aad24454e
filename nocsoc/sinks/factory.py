"""Build sinks from their config (the `sinks:` section of nocsoc.yaml).

Relative paths (sqlite file, spool directory) are relative to `base_dir`, the directory of
nocsoc.yaml; secrets (tokens, passwords) are references resolved here, at the moment of use.
Each network sink spools under `<spool_dir>/<sink name>`, so two sinks never share a spool.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from nocsoc.secrets import resolve_secret
from nocsoc.sinks.base import Sink, SinkError
from nocsoc.sinks.batching import BatchSettings
from nocsoc.sinks.config import (
    InfluxDB1SinkConfig,
    InfluxDBSinkConfig,
    SinkConfig,
    SqliteSinkConfig,
    StdoutSinkConfig,
)
from nocsoc.sinks.fanout import FanoutSink

if TYPE_CHECKING:
    from nocsoc.config import Config


def _path(base_dir: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else base_dir / p


def sink_name(cfg: SinkConfig) -> str:
    return cfg.name or cfg.type


def build_sink(cfg: SinkConfig, base_dir: Path) -> Sink:
    """One sink from its config. Raises SinkError (or SecretError) naming the sink."""
    name = sink_name(cfg)
    spool = _path(base_dir, cfg.spool_dir) / name
    settings = BatchSettings.from_config(cfg, spool)
    if isinstance(cfg, SqliteSinkConfig):
        from nocsoc.sinks.sqlite import SqliteSink

        return SqliteSink(name, _path(base_dir, cfg.path), settings, retention_days=cfg.retention_days)
    if isinstance(cfg, StdoutSinkConfig):
        from nocsoc.sinks.stdout import StdoutSink

        return StdoutSink(name)
    if isinstance(cfg, InfluxDB1SinkConfig):
        from nocsoc.sinks.influxdb1 import InfluxDB1Sink

        password = (resolve_secret(cfg.password, base_dir, what=f"sinks.{name}.password")
                    if cfg.password else None)
        return InfluxDB1Sink(name, cfg.url, cfg.database, settings,
                             retention_policy=cfg.retention_policy, username=cfg.username,
                             password=password, use_gzip=cfg.gzip, timeout_s=cfg.timeout_s,
                             create_database=cfg.create_database)
    if isinstance(cfg, InfluxDBSinkConfig):
        from nocsoc.sinks.influxdb import InfluxDBSink

        token = resolve_secret(cfg.token, base_dir, what=f"sinks.{name}.token") if cfg.token else None
        return InfluxDBSink(name, cfg.url, cfg.bucket, settings, org=cfg.org, token=token,
                            timeout_s=cfg.timeout_s)
    raise SinkError(f"sink {name}: unknown sink type {getattr(cfg, 'type', cfg)!r}")


def build_sinks(config: Config, base_dir: Path) -> list[Sink]:
    """Every sink of nocsoc.yaml; names must be unique (they name spools and self-metrics).

    On an error, the sinks already built are closed before it propagates.
    """
    names = [sink_name(c) for c in config.sinks]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SinkError(f"sinks: duplicate sink name(s) {', '.join(dupes)}: give each a `name:`")
    built: list[Sink] = []
    try:
        for cfg in config.sinks:
            built.append(build_sink(cfg, base_dir))
    except BaseException:
        for sink in built:
            sink.close()
        raise
    return built


def build_fanout(config: Config, base_dir: Path) -> FanoutSink:
    """All configured sinks behind one."""
    return FanoutSink(build_sinks(config, base_dir))
