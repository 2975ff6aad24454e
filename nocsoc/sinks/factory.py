"""Build sinks from their config (the `sinks:` section of nocsoc.yaml): the one builder.

Relative paths (sqlite file, spool directory) and secret references are resolved by the
runtime context (`Resolver`), at the moment the sink is built. Each network sink spools under
`<spool_dir>/<sink name>`, so two sinks never share a spool.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from nocsoc.paths import Resolver
from nocsoc.secrets import DirResolver
from nocsoc.sinks.base import Sink, SinkError
from nocsoc.sinks.fanout import FanoutSink
from nocsoc.sinks.settings import SinkConfigBase, sink_types


def _resolver(r: Resolver | Path) -> Resolver:
    return DirResolver(r) if isinstance(r, Path) else r


def sink_name(cfg: SinkConfigBase) -> str:
    return cfg.sink_name


def build_sink(cfg: SinkConfigBase, resolver: Resolver | Path) -> Sink:
    """One sink from its config. Raises SinkError (or SecretError) naming the sink."""
    return cfg.build(_resolver(resolver))


def select_sinks(configs: Sequence[SinkConfigBase], only: str | None) -> list[SinkConfigBase]:
    """The configured sinks, or those of type `only` (stdout/sqlite also when not configured)."""
    if only is None:
        return list(configs)
    types = sink_types()
    if only not in types:
        raise SinkError(f"--sink: unknown sink type {only!r} (known: {', '.join(types)})")
    chosen = [c for c in configs if c.type == only]
    if chosen:
        return chosen
    try:
        return [types[only].model_validate({"type": only})]
    except ValueError:
        raise SinkError(f"--sink {only}: no sink of type {only} in nocsoc.yaml "
                        "(add one under `sinks:`)") from None


def build_sinks(configs: Sequence[SinkConfigBase], resolver: Resolver | Path,
                only: str | None = None) -> list[Sink]:
    """Every sink (or those of type `only`); names must be unique (they name spools and
    self-metrics). On an error, the sinks already built are closed before it propagates."""
    chosen = select_sinks(configs, only)
    names = [c.sink_name for c in chosen]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SinkError(f"sinks: duplicate sink name(s) {', '.join(dupes)}: give each a `name:`")
    built: list[Sink] = []
    try:
        for cfg in chosen:
            built.append(build_sink(cfg, resolver))
    except BaseException:
        for sink in built:
            sink.close()
        raise
    return built


def build_one(configs: Sequence[SinkConfigBase], resolver: Resolver | Path,
              only: str | None = None) -> Sink:
    """All chosen sinks behind one (a fanout when there are several)."""
    sinks = build_sinks(configs, resolver, only)
    return sinks[0] if len(sinks) == 1 else FanoutSink(sinks)


def build_fanout(configs: Sequence[SinkConfigBase], resolver: Resolver | Path) -> FanoutSink:
    """All configured sinks behind one."""
    return FanoutSink(build_sinks(configs, resolver))
