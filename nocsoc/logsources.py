"""Which Sigma logsources nocsoc's inputs produce: the detection loader asks here whether a rule
can ever see an event.

Neutral on purpose: the parsers (nocsoc.collectors.logs) *push* what they produce with
`declare()`; the loader (nocsoc.detections) only reads `produced()`. Neither package imports the
other. `PROVIDERS` names the modules that declare logsources; `produced()` imports them by name
the first time it is asked (a plug-in load, like an entry point), so the loader also knows what
is produced when no parser was used yet (`nocsoc rules list`).
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass

ANY = "*"  # a service of ANY: the event's service is its program name (generic Linux syslog)

# modules whose import declares logsources (the log parser registry; a Windows/EVTX input adds its own)
PROVIDERS: list[str] = ["nocsoc.collectors.logs.parsers"]


@dataclass(frozen=True, slots=True)
class LogSource:
    """One combination a parser emits: an event has one product, and all of these services and
    categories at once (as `LogEvent` carries them)."""

    product: str | None
    services: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    def admits(self, product: str | None, category: str | None, service: str | None) -> bool:
        """True when a rule with this logsource would be tested on such an event."""
        return ((product is None or product == self.product)
                and (category is None or category in self.categories)
                and (service is None or service in self.services
                     or (ANY in self.services and product is not None)))


_declared: dict[str, tuple[LogSource, ...]] = {}
_loaded = False
_lock = threading.Lock()


def declare(owner: str, sources: tuple[LogSource, ...]) -> None:
    """Record what `owner` (a parser's name) produces; declaring again replaces it."""
    _declared[owner] = tuple(sources)


def produced() -> tuple[LogSource, ...]:
    """Every logsource some input produces (providers imported on first use)."""
    global _loaded
    if not _loaded:
        with _lock:
            if not _loaded:
                for name in PROVIDERS:
                    importlib.import_module(name)
                _loaded = True
    return tuple(s for group in _declared.values() for s in group)


def reason(product: str | None, category: str | None, service: str | None) -> str | None:
    """None when some input produces events a rule with this logsource matches, else why not."""
    sources = produced()
    if any(s.admits(product, category, service) for s in sources):
        return None
    if product is not None and not any(s.product == product for s in sources):
        return f"product {product!r} is not ingested"
    if category is not None:
        if not any(category in s.categories for s in sources):
            return f"category {category!r} is not ingested"
        if product is not None:
            return f"category {category!r} is not ingested for product {product!r}"
    if service is not None:
        return f"service {service!r} is not ingested" + (f" for product {product!r}" if product else "")
    return f"logsource {product}/{category}/{service} is not ingested"


__all__ = ["ANY", "PROVIDERS", "LogSource", "declare", "produced", "reason"]
