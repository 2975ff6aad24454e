"""The log event every input produces and every rule matches: fields plus where it came from.

Fields use Sigma taxonomy names so SigmaHQ rules match unchanged. The logsource (product,
services, categories) is what the engine routes on: an event is only tested against rules whose
logsource it satisfies, and the route of a (product, services, categories) triple is cached.
"""

from __future__ import annotations

from typing import Any

RAW_KEY = "\x00raw"  # the key of the raw line's lowercase in LogEvent.lowered()


class Lowered(dict[str, str | None]):
    """Field name -> the field's value as a lowercased string (None where the event has no such
    field), filled on first access and then a plain dict lookup. Why a dict with `__missing__`:
    the engine's compiled rules (nocsoc.detections.codegen) read `lo[name]` inline, ~30 ns,
    where a method call with its own cache lookup cost ~130 ns, and a Windows event met ~36 of
    them. It holds the fields dict and raw line, not the event: no reference cycle for the GC."""

    __slots__ = ("_fields", "_raw")
    _fields: dict[str, Any]
    _raw: str

    def __missing__(self, name: str) -> str | None:
        if name == RAW_KEY:
            out: str | None = self._raw.lower()
        else:
            v = self._fields.get(name)
            out = None if v is None else (v.lower() if isinstance(v, str) else str(v).lower())
        self[name] = out
        return out

    def __reduce__(self) -> tuple[Any, ...]:
        return _lowered, (self._fields, self._raw), None, None, iter(self.items())


def _lowered(fields: dict[str, Any], raw: str) -> Lowered:
    # no __init__ of its own: dict's C one and two slot stores, 0.14 us where one in Python cost 0.5
    low = Lowered()
    low._fields = fields
    low._raw = raw
    return low


class LogEvent:
    """One parsed log line. `raw` is kept verbatim (keywords match it, analysts read it)."""

    __slots__ = ("_low", "categories", "fields", "host", "parser", "product", "raw", "route_key",
                 "services", "source", "time")

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
        self._low: Lowered | None = None

    @property
    def parsed(self) -> bool:
        return self.parser != "unparsed"

    def lowered(self) -> Lowered:
        """The event's lowercase cache: `lowered()[name]` is `lower(name)`, RAW_KEY the raw line's."""
        low = self._low
        if low is None:
            low = self._low = _lowered(self.fields, self.raw)
        return low

    def lower(self, name: str) -> str | None:
        """The field as a lowercased string (cached per event: many rules test the same field)."""
        low = self._low
        if low is None:
            low = self._low = _lowered(self.fields, self.raw)
        return low[name]

    def raw_lower(self) -> str:
        low = self._low
        if low is None:
            low = self._low = _lowered(self.fields, self.raw)
        return low[RAW_KEY]  # type: ignore[return-value]  # never None

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (alert samples, `--json`)."""
        return {
            "time": self.time, "host": self.host, "parser": self.parser, "source": self.source,
            "logsource": {"product": self.product, "services": list(self.services),
                          "categories": list(self.categories)},
            "fields": self.fields, "raw": self.raw,
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
