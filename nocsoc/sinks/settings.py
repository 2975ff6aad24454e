"""What every sink's config shares, and the registry of sink types.

A sink type is one module in `nocsoc.sinks.plugins`: a config class (subclass of
`SinkConfigBase` with a `type: Literal[...]`) decorated with `@register_sink`, whose `build()`
makes the sink. nocsoc.yaml's `sinks:` list accepts every registered type (a discriminated union
built from the registry), so adding a sink touches only its own module(s) and its test.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from nocsoc.paths import Resolver

if TYPE_CHECKING:
    from nocsoc.sinks.base import Sink
    from nocsoc.sinks.batching import BatchSettings


class SinkConfigBase(BaseModel):
    """Batching, retry and spool settings every sink accepts (the unbuffered ones ignore them)."""

    model_config = ConfigDict(extra="forbid")
    summary: ClassVar[str] = ""

    type: str
    name: str | None = None
    batch_size: int = Field(default=5000, ge=1)
    flush_interval_s: float = Field(default=1.0, gt=0)
    max_retries: int = Field(default=5, ge=0)
    retry_backoff_s: float = Field(default=0.5, gt=0, description="first retry delay; doubles, with jitter")
    retry_backoff_max_s: float = Field(default=30.0, gt=0, description="longest retry / replay-probe delay")
    timeout_s: float = Field(default=10.0, gt=0)
    spool_dir: str = "./var/spool"
    spool_max_bytes: int = Field(default=256 * 1024 * 1024, ge=1024)

    @property
    def sink_name(self) -> str:
        return self.name or self.type

    def batch_settings(self, resolver: Resolver) -> BatchSettings:
        from nocsoc.sinks.batching import BatchSettings

        return BatchSettings.from_config(self, resolver.path(self.spool_dir) / self.sink_name)

    def build(self, resolver: Resolver) -> Sink:
        """The sink (no network I/O here: a batching sink connects from its worker thread)."""
        raise NotImplementedError

    def probe(self, resolver: Resolver) -> str | None:
        """`nocsoc check`: why this sink cannot be reached now, or None. Default: no probe."""
        return None


C = TypeVar("C", bound=type[SinkConfigBase])
SINK_TYPES: dict[str, type[SinkConfigBase]] = {}


def register_sink(cls: C) -> C:
    """Class decorator: make a sink config type known to nocsoc.yaml and the CLI's --sink."""
    kind = cls.model_fields["type"].default  # type: ignore[call-overload]
    if not isinstance(kind, str) or not kind:
        raise TypeError(f"{cls.__name__}: a sink config needs `type: Literal[...] = \"name\"`")
    SINK_TYPES[kind] = cls
    return cls


def sink_types() -> dict[str, type[SinkConfigBase]]:
    """Every sink type, importing each plugin module once (cheap: plugins import lazily)."""
    from nocsoc.sinks import plugins

    for mod in pkgutil.iter_modules(plugins.__path__):
        if not mod.name.startswith("_"):
            importlib.import_module(f"{plugins.__name__}.{mod.name}")
    return dict(sorted(SINK_TYPES.items()))


def sink_config_union() -> Any:
    """The pydantic type of one `sinks:` entry: a union discriminated by `type`."""
    from typing import Annotated, Union

    types = tuple(sink_types().values())
    return Annotated[Union[types], Field(discriminator="type")]  # noqa: UP007 - built at run time
