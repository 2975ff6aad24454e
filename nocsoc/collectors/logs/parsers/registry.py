"""The log parser registry: every format is one `ParserSpec` in its own module of this package.

A spec says how it recognises a message and what it produces, so nothing else needs editing
when a format is added:

- `programs`: syslog program names (the tag, `sshd` in `sshd[12]: ...`) routed to it first;
- `markers` / `prefixes`: a cheap test on the message body (any marker a substring, or the body
  starts with a prefix) before the parser is tried by shape, in `order`;
- `line_starts`: first characters of a whole file line (no syslog header) it may parse, e.g.
  `t` and `n` for audit.log's `type=`/`node=`: such lines are tried before the syslog header;
- `logsources`: every Sigma (product, services, categories) its events carry; pushed to
  `nocsoc.logsources` so the rule loader knows which rules can fire;
- `state`: a factory for per-input state (auditd pairs a SYSCALL with its EXECVE).

Modules are discovered: any module of this package with a module-level `PARSERS` list of specs
is registered when the package is imported (see docs/architecture.md, "Adding a parser").
`Dispatcher` compiles the specs once into a dict by program name, a dict by first character of
a line, and an ordered list of shape tests: one dict lookup on the common path.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from nocsoc import logsources
from nocsoc.collectors.logs.parsers.base import Parsed
from nocsoc.logsources import LogSource

# (message body, program name or "", per-input state or None) -> fields, or None: not this format
ParseFn = Callable[[str, str, Any], Parsed | None]


@dataclass(frozen=True)
class ParserSpec:
    name: str
    parse: ParseFn
    logsources: tuple[LogSource, ...]
    programs: tuple[str, ...] = ()
    markers: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    line_starts: str = ""
    order: int = 100
    # a shape test is tried on every body no program claimed: a spec without markers/prefixes
    # is only reached by its programs (or line_starts)
    state: Callable[[], Any] | None = None
    description: str = ""
    examples: tuple[str, ...] = field(default=())

    def claims(self, msg: str) -> bool:
        """The cheap shape test: a marker in the body, or the body starts with a prefix."""
        if self.prefixes and msg.startswith(self.prefixes):
            return True
        return any(m in msg for m in self.markers)


_REGISTRY: dict[str, ParserSpec] = {}
_SKIP = {"base", "registry", "common"}


def register(spec: ParserSpec) -> ParserSpec:
    """Add (or replace, by name) a parser and declare its logsources."""
    _REGISTRY[spec.name] = spec
    logsources.declare(f"log-parser:{spec.name}", spec.logsources)
    return spec


def discover(package: str = "nocsoc.collectors.logs.parsers") -> None:
    """Import every module of `package` and register the specs in its `PARSERS` list."""
    pkg = importlib.import_module(package)
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith("_") or info.name in _SKIP:
            continue
        mod = importlib.import_module(f"{package}.{info.name}")
        for spec in getattr(mod, "PARSERS", ()):
            register(spec)


def specs() -> list[ParserSpec]:
    return sorted(_REGISTRY.values(), key=lambda s: (s.order, s.name))


def get(name: str) -> ParserSpec:
    return _REGISTRY[name]


class Dispatcher:
    """The compiled routing of a set of specs (built once per LineParser; specs are immutable)."""

    def __init__(self, parsers: Iterable[ParserSpec]) -> None:
        ordered = sorted(parsers, key=lambda s: (s.order, s.name))
        self.by_program: dict[str, tuple[ParserSpec, ...]] = {}
        self.by_line_start: dict[str, tuple[ParserSpec, ...]] = {}
        for s in ordered:
            for prog in s.programs:
                self.by_program[prog] = (*self.by_program.get(prog, ()), s)
            for ch in s.line_starts:
                self.by_line_start[ch] = (*self.by_line_start.get(ch, ()), s)
        self.shapes: tuple[ParserSpec, ...] = tuple(s for s in ordered if s.markers or s.prefixes)
        # one regex scan finds every marker present; a found marker stands for each spec with a
        # marker inside it (alternation takes the longest at a position: "%ASA-" hides "%")
        markers = sorted({m for s in ordered for m in s.markers}, key=lambda m: (-len(m), m))
        self._marker_re = re.compile("|".join(map(re.escape, markers))) if markers else None
        self._marker_specs = {m: frozenset(s.name for s in ordered if any(k in m for k in s.markers))
                              for m in markers}
        self._prefixed = tuple(s for s in ordered if s.prefixes)
        self._order = {s.name: i for i, s in enumerate(ordered)}
        self._by_name = {s.name: s for s in ordered}
        self._cache: dict[frozenset[str], tuple[ParserSpec, ...]] = {}

    def candidates(self, msg: str) -> tuple[ParserSpec, ...]:
        """The specs whose shape test the body passes, in order."""
        names: set[str] = set()
        if self._marker_re is not None:
            for m in set(self._marker_re.findall(msg)):
                names |= self._marker_specs[m]
        for s in self._prefixed:
            if msg.startswith(s.prefixes):
                names.add(s.name)
        if not names:
            return ()
        key = frozenset(names)
        got = self._cache.get(key)
        if got is None:
            got = self._cache[key] = tuple(sorted((self._by_name[n] for n in key),
                                                  key=lambda s: self._order[s.name]))
        return got

    def for_program(self, app: str) -> tuple[ParserSpec, ...]:
        got = self.by_program.get(app)
        if got is None and app:
            got = self.by_program.get(app.lower(), ())
        return got or ()


__all__ = ["Dispatcher", "ParseFn", "ParserSpec", "discover", "get", "register", "specs"]
