"""The log event every input produces and every rule matches: fields plus where it came from.

Fields use Sigma taxonomy names so SigmaHQ rules match unchanged. The logsource (product,
services, categories) is what the engine routes on: an event is only tested against rules whose
logsource it satisfies, and the route of a (product, services, categories) triple is cached.
"""

from __future__ import annotations

from typing import Any

_MISSING = object()
RAW_KEY = "\x00raw"  # the key of the raw line's lowercase in the lowercase cache (`lowered()`)


def fill_lower(low: dict[str, str | None], fields: dict[str, Any], name: str) -> str | None:
    """Put field `name`'s lowercased string value (None: no such field) in the cache `low`."""
    v = fields.get(name)
    out = None if v is None else (v.lower() if isinstance(v, str) else str(v).lower())
    low[name] = out
    return out


class LogEvent:
    """One parsed log line. `raw` is kept verbatim (keywords match it, analysts read it)."""

    # `origin` is set by a bus detector only (the partition the event came through: its
    # correlation windows are kept per partition, nocsoc.bus.windows); unset elsewhere
    __slots__ = ("_low", "categories", "fields", "host", "origin", "parser", "product", "raw",
                 "route_key", "services", "source", "time")
    origin: str

    def __init__(self, raw: str, fields: dict[str, Any], *, host: str = "", time: float = 0.0,
                 product: str | None = None, services: tuple[str, ...] = (),
                 categories: tuple[str, ...] = (), parser: str = "unparsed", source: str = "") -> None:
        self.raw = raw
        self.fields = fields
        self.host = host
        self.time = time
        self.product = product
        self.services = services
        self.categories = categories
        self.parser = parser
        self.source = source
        # Windows events add their EventID (nocsoc.collectors.windows.event)
        self.route_key: tuple[Any, ...] = (product, services, categories)
        self._low: dict[str, str | None] | None = None

    @property
    def parsed(self) -> bool:
        return self.parser != "unparsed"

    def lowered(self) -> dict[str, str | None]:
        """The lowercase cache itself, for the engine's compiled rules (nocsoc.detections.codegen),
        which read `lo[name]` inline and call `fill_lower` on a miss. A plain dict on purpose:
        holding only strings and None, CPython leaves it untracked by the cyclic GC, where a dict
        subclass (with __missing__) was tracked and made the collector cost 0.5 us more an
        event on the bench's mix."""
        low = self._low
        if low is None:
            low = self._low = {}
        return low

    def lower(self, name: str) -> str | None:
        """The field as a lowercased string (cached per event: many rules test the same field)."""
        low = self._low
        if low is None:
            low = self._low = {}
        else:
            cached = low.get(name, _MISSING)
            if cached is not _MISSING:
                return cached  # type: ignore[return-value]
        v = self.fields.get(name)
        out = None if v is None else (v.lower() if isinstance(v, str) else str(v).lower())
        low[name] = out
        return out

    def raw_lower(self) -> str:
        low = self._low
        if low is None:
            low = self._low = {}
        out = low.get(RAW_KEY)
        if out is None:
            out = low[RAW_KEY] = self.raw.lower()
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (alert samples, `--json`). `fields` is a real dict: EVTX events
        carry a mapping equal to one (nocsoc/collectors/windows/_winfields.c), which JSON
        encoders do not take."""
        fields = self.fields
        return {
            "time": self.time, "host": self.host, "parser": self.parser, "source": self.source,
            "logsource": {"product": self.product, "services": list(self.services),
                          "categories": list(self.categories)},
            "fields": fields if type(fields) is dict else dict(fields), "raw": self.raw,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LogEvent:
        """The event `to_dict` gave (correlation state saved across a restart)."""
        src = d.get("logsource") or {}
        return cls(str(d.get("raw", "")), dict(d.get("fields") or {}), host=str(d.get("host", "")),
                   time=float(d.get("time", 0.0)), product=src.get("product"),
                   services=tuple(src.get("services") or ()), categories=tuple(src.get("categories") or ()),
                   parser=str(d.get("parser", "unparsed")), source=str(d.get("source", "")))

    def __repr__(self) -> str:
        return f"LogEvent({self.parser}, host={self.host!r}, fields={self.fields!r})"
