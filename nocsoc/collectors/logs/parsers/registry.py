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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ahocorasick_rs import AhoCorasick

from nocsoc import logsources
from nocsoc.collectors.logs.parsers.base import Parsed
from nocsoc.logsources import LogSource

try:  # the whole-line C twins' names (_logfast.c's syslog_line bodies)
    from nocsoc.collectors.logs._logfast import BODIES as C_BODIES
except ImportError:  # not built: no C twin
    C_BODIES = ()

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
    # the name of a C twin of this parser in _logfast.BODIES (header and body read in one call
    # where this spec is a program's first parser; see Dispatcher.c_programs). The twin claims
    # only lines it reads exactly as `parse` does, with this spec's name and one logsource.
    fast: str = ""
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


Entry = tuple[ParseFn, Any, ParserSpec]  # (parse, its per-input state, the spec)


class Dispatcher:
    """The compiled routing of a set of specs for one input: tables of (parse, state, spec)
    entries, so the hot path is a dict lookup and direct calls (specs are immutable)."""

    def __init__(self, parsers: Iterable[ParserSpec], state: dict[str, Any] | None = None) -> None:
        st = state or {}
        ordered = sorted(parsers, key=lambda s: (s.order, s.name))
        entry = {s.name: (s.parse, st.get(s.name), s) for s in ordered}
        self.by_program: dict[str, tuple[Entry, ...]] = {}
        self.by_line_start: dict[str, tuple[Entry, ...]] = {}
        for s in ordered:
            for prog in s.programs:
                self.by_program[prog] = (*self.by_program.get(prog, ()), entry[s.name])
            for ch in s.line_starts:
                self.by_line_start[ch] = (*self.by_line_start.get(ch, ()), entry[s.name])
        # one Aho-Corasick scan (overlapping: "%" inside "%ASA-" counts too) finds every marker
        # present, whatever their number; a regex alternation costs per marker per position
        markers = sorted({m for s in ordered for m in s.markers})
        self._scan = AhoCorasick(markers).find_matches_as_indexes if markers else None
        self._marker_specs = [frozenset(s.name for s in ordered if m in s.markers) for m in markers]
        # prefix tests by the body's first character: most bodies start with none of them
        self._prefixed: dict[str, tuple[tuple[tuple[str, ...], str], ...]] = {}
        for s in ordered:
            for ch in sorted({p[:1] for p in s.prefixes if p}):
                self._prefixed[ch] = (*self._prefixed.get(ch, ()),
                                      (tuple(p for p in s.prefixes if p.startswith(ch)), s.name))
        self._order = {s.name: i for i, s in enumerate(ordered)}
        # program -> index of the C twin of its first parser, and per index the event's parser
        # name and logsource: LineParser.events reads such lines in one C call
        self.c_programs: dict[str, int] = {}
        self.c_outputs: dict[int, tuple[str, LogSource]] = {}
        for prog, entries in self.by_program.items():
            first = entries[0][2]
            if first.fast and first.fast in C_BODIES and len(first.logsources) == 1:
                k = C_BODIES.index(first.fast)
                self.c_programs[prog] = k
                self.c_outputs[k] = (first.name, first.logsources[0])
        self._entry = entry
        self.by_name: dict[str, Entry] = entry
        self._cache: dict[tuple[frozenset[int], tuple[str, ...]], tuple[Entry, ...]] = {}
        # name -> (scan of the markers of the parsers ordered before it, their prefixes): `leads`
        self._ahead: dict[str, tuple[Callable[..., list[Any]] | None, tuple[str, ...]]] = {}

    def candidates(self, msg: str, skip: tuple[Entry, ...] = ()) -> tuple[Entry, ...]:
        """The entries whose shape test the body passes, in order (less those in `skip`)."""
        found = frozenset([h[0] for h in self._scan(msg, True)]) if self._scan is not None else frozenset()
        pre: tuple[str, ...] = ()
        tests = self._prefixed.get(msg[:1])
        if tests is not None:
            pre = tuple(name for prefixes, name in tests if msg.startswith(prefixes))
        if not found and not pre:
            return ()
        key = (found, pre)
        got = self._cache.get(key)
        if got is None:
            names: set[str] = set(pre)
            for m in found:
                names |= self._marker_specs[m]
            got = tuple(sorted((self._entry[n] for n in names), key=lambda e: self._order[e[2].name]))
            if len(self._cache) < 4096:
                self._cache[key] = got
        if skip:
            got = tuple(e for e in got if e not in skip)
        return got

    def leads(self, name: str, msg: str) -> bool:
        """Whether `name`'s entry is `candidates(msg)[0]` for a body holding one of its markers:
        no parser ordered before it has a marker in `msg` or a prefix starting it. Why: the
        Cisco fast path asks only this, and one scan for the ~10 markers ahead of it costs less
        than the full scan, the set and the cached lookup of `candidates`."""
        got = self._ahead.get(name)
        if got is None:
            markers, prefixes = self.ahead(name)
            scan = AhoCorasick(list(markers)).find_matches_as_indexes if markers else None
            got = self._ahead[name] = (scan, prefixes)
        scan, prefixes = got
        return not (scan is not None and scan(msg)) and not msg.startswith(prefixes)

    def ahead(self, name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The markers and the prefixes of the parsers ordered before `name`: what `leads` tests
        (the C reader tests the same for Cisco lines)."""
        rank = self._order[name]
        before = [e[2] for n, e in self._entry.items() if self._order[n] < rank]
        return (tuple(sorted({m for s in before for m in s.markers})),
                tuple(p for s in before for p in s.prefixes if p))

    def for_program(self, app: str) -> tuple[Entry, ...]:
        got = self.by_program.get(app)
        if got is None:
            got = self.by_program.get(app.lower(), ())
        return got


__all__ = ["Dispatcher", "Entry", "ParseFn", "ParserSpec", "discover", "get", "register", "specs"]
