"""Turn one log line into a LogEvent: syslog header first, then the body by its program/shape.

Dispatch is by program name where syslog gives one, else by the shape of the line. A line no
parser recognises still becomes an event (parser `unparsed`, its message in `message`) so it
is stored, counted and reachable by keyword rules with an empty logsource.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Any, Literal

import orjson

from nocsoc.collectors.logs import zones
from nocsoc.collectors.logs.parsers import registry
from nocsoc.collectors.logs.parsers.base import Parsed, hand_on_json, iso_epoch, take_json
from nocsoc.collectors.logs.parsers.cisco_ios import cisco_parsed, parse_cisco
from nocsoc.collectors.logs.parsers.registry import Dispatcher, Entry, ParserSpec
from nocsoc.collectors.logs.syslog import bsd_time, header_3164, parse_syslog, recv_time
from nocsoc.events import LogEvent

registry.discover(__name__)

# a whole RFC 3164 line whose program's first parser has a C twin, read in one call (header,
# body fields, `program`/`pid`); None: not built, or (tests) forced off to compare with Python
_c_line: Callable[[str, dict[str, int]], tuple[Any, ...] | Literal[False] | None] | None
try:
    from nocsoc.collectors.logs._logfast import syslog_line as _c_line
except ImportError:
    _c_line = None
# a Cisco IOS line (`<PRI>seq: host: Mmm dd hh:mm:ss.fff ZONE: %FAC-S-MN: text`): its header and
# `%FAC-S-MN:` read in one call, the text by cisco_ios; None: not built, or (tests) forced off
_c_cisco: Callable[[str], tuple[Any, ...] | None] | None
try:
    from nocsoc.collectors.logs._logfast import cisco_line as _c_cisco
except ImportError:
    _c_cisco = None

# the whole-line reader (_logfast.Reader: a line to its finished event, for the lines the C twins
# read; built per LineParser by nocsoc.collectors.logs.reader); None: not built, or (tests) forced off
_c_reader: type | None
try:
    from nocsoc.collectors.logs._logfast import Reader as _c_reader_type
    _c_reader = _c_reader_type
except ImportError:
    _c_reader = None

_REPEATED = re.compile(r"message repeated (\d{1,9}) times: \[ ?(.*?)\]?$", re.S)
_MAX_REPEAT = 10_000  # a lying count must not turn one line into millions of events


class LineParser:
    """Parses lines from one input through the registry's dispatch. Per-input state lives here
    (auditd pairs SYSCALL with EXECVE by serial), so keep one LineParser per input/sender."""

    def __init__(self, tz: tzinfo = UTC, default_host: str | None = None,
                 parsers: list[ParserSpec] | None = None,
                 zone_names: zones.ZoneNames | None = None) -> None:
        self.tz = tz
        self.zone_names = zone_names  # the operator's readings of zone names (zones.parse_zone_names)
        self.unknown_zones = 0  # timestamps whose zone name was not read (so read in `tz`)
        self.default_host = default_host or socket.gethostname()
        specs = parsers if parsers is not None else registry.specs()
        self.state: dict[str, Any] = {s.name: s.state() for s in specs if s.state is not None}
        self.dispatch = Dispatcher(specs, self.state)
        self._by_program = self.dispatch.by_program
        self._by_line_start = self.dispatch.by_line_start
        self._fallback = registry.get("syslog").parse
        self._c_programs = self.dispatch.c_programs
        # per C twin: (parser name, product, services, categories) of its events
        self._c_outputs = {k: (name, ls.product, ls.services, ls.categories)
                           for k, (name, ls) in self.dispatch.c_outputs.items()}
        self.repeat = 1  # how many events the last parsed message stands for
        # the cisco parser is this input's, as cisco_ios wrote it (the C path builds its events)
        cisco = self.dispatch.by_name.get("cisco")
        self._cisco = cisco is not None and cisco[0] is parse_cisco
        self._read: Callable[[str, str, str, bool], LogEvent | None] | None = None
        self._read_json: Callable[[str, Any, str], LogEvent | None] | None = None
        if _c_reader is not None:
            from nocsoc.collectors.logs import reader

            made = reader.make(self)
            self._read = made.event if made is not None else None
            self._read_json = made.json_event if made is not None else None

    def fast(self) -> Callable[[str, str, str, bool], LogEvent | None] | None:
        """The C reader's `event(text, sender, source, network)`: the event `events` gives for a
        line received now (None: a line it leaves to `events`); None when there is no reader."""
        return self._read if _c_reader is not None else None

    def json_fast(self) -> Callable[[str, Any, str], LogEvent | None] | None:
        """The C reader's `json_event(text, obj, source)`: `events`' event for a `{` file line
        received now, `obj` being orjson.loads(text) (None: a line it leaves to `events`), for a
        caller that decoded the line and whose `fast()` call declined this very text (then
        `events` would call it next); None when there is no reader. Why: for a Palo Alto JSON
        line, the Python between the decoding and this call (events, _json_fast, the object
        handed on and taken back) was ~1/8 of the line."""
        return self._read_json if _c_reader is not None else None

    def _json_fast(self, text: str, source: str) -> LogEvent | None:
        """The C reader's event of a `{` file line received now that Palo Alto's JSON twin reads
        (Reader.json_event); None for any other. The text is decoded once: by the caller that
        handed its object on (ruletest.parse_lines), else here where Palo Alto's parser would
        decode it (`"LogType"` in its first 4000 characters); a line C leaves gets the object
        handed on to that parser (base.take_json). Why: the Python around the one C call of
        such a line (parse_line, parse_paloalto, _json, Parsed, the event) was ~3 us of ~12."""
        if self._read_json is None or '"LogType"' not in text[:4000]:
            return None
        obj = take_json(text)
        if obj is None:
            try:
                obj = orjson.loads(text)
            except orjson.JSONDecodeError:  # (what orjson refuses, json may read: the parser decides)
                return None
        ev = self._read_json(text, obj, source)
        if ev is None:
            hand_on_json(text, obj)
        return ev

    def _body(self, msg: str, app: str) -> Parsed | None:
        """The body's fields by its program, else by its shape (the registry's dispatch)."""
        if msg.startswith("message repeated "):
            return self._repeated(msg, app)
        tried: tuple[Entry, ...] = ()
        if app:
            tried = self._by_program.get(app) or self.dispatch.for_program(app)
            for parse, state, _ in tried:
                p = parse(msg, app, state)
                if p is not None:
                    return p
        for parse, state, _ in self.dispatch.candidates(msg, tried):
            p = parse(msg, app, state)
            if p is not None:
                return p
        if app:
            return self._fallback(msg, app, None)
        return None

    def _repeated(self, msg: str, app: str) -> Parsed | None:
        """rsyslog's `message repeated N times: [ msg]`: the inner message, standing for N."""
        m = _REPEATED.match(msg)
        if m is None:
            return self._fallback(msg, app, None) if app else None
        p = self._body(m[2], app)
        if p is not None:
            p.repeat = max(1, min(int(m[1]), _MAX_REPEAT))
            if "message" in p.fields and p.fields["message"] == m[2]:
                p.fields["message"] = m[2]
        return p

    def _event(self, raw: str, p: Parsed | None, host: str, t: float, source: str,
               extra: dict[str, Any] | None = None) -> LogEvent:
        if p is None:
            self.repeat = 1
            fields: dict[str, Any] = {"message": raw}
            if extra:
                fields.update(extra)
            return LogEvent(raw, fields, host=host, time=t, source=source)
        self.repeat = p.repeat
        if extra:
            for k, v in extra.items():
                p.fields.setdefault(k, v)
        return LogEvent(raw, p.fields, host=p.host or host, time=p.time if p.time is not None else t,
                        product=p.product, services=p.services, categories=p.categories,
                        parser=p.parser, source=source)

    def _unknown_zone(self, name: str, where: str) -> None:
        """A timestamp's zone name not read (so read in `tz`): counted, and logged once (the C
        reader calls this for the Cisco lines it reads, as parse_syslog below does)."""
        self.unknown_zones += 1
        zones.note_unknown(name, where)

    def parse_syslog(self, data: str, *, sender: str = "", source: str = "syslog",
                     now: datetime | None = None) -> LogEvent:
        """A message received over the network (or a line of a syslog-format file)."""
        sm = parse_syslog(data, sender=sender, now=now, tz=self.tz, zone_names=self.zone_names)
        if sm.zone_unknown is not None:
            self._unknown_zone(sm.zone_unknown, sender or self.default_host)
        try:
            p = self._body(sm.msg, sm.app)
        except Exception:  # a parser bug must never stop ingestion: the line stays, unparsed
            p = None
        extra: dict[str, Any] = {"program": sm.app} if sm.app else {}
        if sm.pid:
            extra["pid"] = sm.pid
        if sm.structured:
            for sd_id, params in sm.structured.items():
                for k, v in params.items():
                    extra[f"{sd_id}.{k}"] = v
        return self._event(data.rstrip("\r\n"), p, sm.host or sender or self.default_host, sm.time,
                           source, extra)

    def _fast_syslog(self, text: str, sender: str, source: str) -> LogEvent | None:
        """`parse_syslog(text, sender=sender, source=source)` for a message whose header is the
        common `[<PRI>]Mmm dd hh:mm:ss host app[pid]: ` received now (the same event, without the
        SyslogMessage and the calls between); None for any other message (the general path).
        Why: the glue between header, body and event cost ~2 us a line, a third of an sshd one."""
        raw = text.rstrip("\r\n")
        line = text.rstrip("\r\n\x00")
        pos = 0
        if line[:1] == "<":
            k = line.find(">", 1, 5)
            pri_text = line[1:k]
            if k < 2 or not (pri_text.isascii() and pri_text.isdigit()):
                return None  # no `<PRI>` (or an odd one): the general path decides
            pos = k + 1  # (facility and severity: not in the event)
            if line.startswith("1 ", pos) or line.startswith("\ufeff", pos):
                return None
        h = header_3164(line, pos)
        if h is None:
            return None
        mon, day, hh, mi, sec, host, app, pid, end = h
        t = recv_time(mon, day, hh, mi, sec, time.time(), self.tz)
        msg = line[end:]
        try:
            p = self._body(msg, app)
        except Exception:  # a parser bug must never stop ingestion: the line stays, unparsed
            p = None
        if p is None:
            self.repeat = 1
            fields: dict[str, Any] = {"message": raw, "program": app}
            if pid:
                fields["pid"] = pid
            return LogEvent(raw, fields, host=host, time=t, source=source)
        self.repeat = p.repeat
        f = p.fields
        if "program" not in f:
            f["program"] = app
        if pid and "pid" not in f:
            f["pid"] = pid
        return LogEvent(raw, f, host=p.host or host, time=p.time if p.time is not None else t,
                        product=p.product, services=p.services, categories=p.categories,
                        parser=p.parser, source=source)

    def _cisco_syslog(self, text: str, sender: str, source: str) -> LogEvent | None:
        """`parse_syslog(text, sender=sender, source=source)` for a Cisco IOS line of the one
        shape _logfast.cisco_line reads, received now, whose body cisco_ios's parser is the
        first to claim; None for any other line (the general path). Why: the header's regexes
        and the Python between them were ~6 us of a ~13.5 us Cisco line."""
        got = _c_cisco(text) if _c_cisco is not None else None
        if got is None:
            return None
        host, mon, day, hh, mi, sec, frac, name, msg, fac, sev, mn, body = got
        tz = self.tz
        if name is not None:
            tz = zones.zone(name, self.zone_names)  # type: ignore[assignment]
            if tz is None:  # unknown or ambiguous: the general path reads and counts it
                return None
        if not self._cisco or not self.dispatch.leads("cisco", msg):  # another parser reads it first
            return None
        try:
            p = cisco_parsed(fac, sev, mn, body)
        except Exception:  # the general path meets it too, and keeps the line unparsed
            return None
        self.repeat = 1
        return LogEvent(text, p.fields, host=host or sender,
                        time=bsd_time(mon, day, hh, mi, sec, frac, None, time.time(), tz),
                        product=p.product, services=p.services, categories=p.categories,
                        parser=p.parser, source=source)

    def parse_line(self, line: str, *, source: str = "file", now: datetime | None = None) -> LogEvent:
        """A line of a file: audit.log, access.log, FortiGate kv, JSON, or syslog-format (auth.log...).
        Formats that claim the line's first character are tried before the syslog header."""
        line = line.rstrip("\r\n")
        entries = self._by_line_start.get(line[:1])
        if entries:
            p = None
            try:
                for parse, state, _ in entries:
                    p = parse(line, "", state)
                    if p is not None:
                        break
            except Exception:
                p = None
            if p is not None:
                # (the receive time: time.time(), as parse_syslog reads it and the C reader too)
                t = (time.time() if now is None else now.timestamp()) if p.time is None else p.time
                return self._event(line, p, self.default_host, t, source)
        return self.parse_syslog(line, sender=self.default_host, source=source, now=now)

    def events(self, text: str, *, sender: str = "", source: str = "file", network: bool = False,
               now: datetime | None = None) -> list[LogEvent]:
        """Every event of one message or file line: the one entry point of the pipeline, `detect`
        and rule tests. A network message, or a file line starting with `<PRI>`, is syslog; a
        `message repeated N times` line gives N events (brute-force counts stay exact)."""
        ev = None
        if now is None:  # live lines: the common RFC 3164 header in one step (the rest: below)
            if self._read is not None and _c_reader is not None:  # the whole line in C?
                ev = self._read(text, sender, source, network)
                if ev is None and not network and text[:1] == "{":
                    ev = self._json_fast(text, source)
                if ev is not None:
                    self.repeat = 1
                    return [ev]
            c = text[:1]
            if network or c == "<" or c not in self._by_line_start:
                header = True  # the common header may be there (False: C found it is not)
                if _c_line is not None and self._c_programs:
                    # a program whose parser has a C twin: the whole line in one call (why: the
                    # glue between header, dispatch, parser and dict was half an sshd line's cost)
                    got = _c_line(text, self._c_programs)
                    if got is False:  # no common header (what _fast_syslog would find too)
                        header = False
                    elif got is not None:
                        k, host, mon, day, hh, mi, sec, fields = got
                        name, product, services, categories = self._c_outputs[k]
                        self.repeat = 1
                        return [LogEvent(text, fields, host=host,
                                         time=recv_time(mon, day, hh, mi, sec, time.time(), self.tz),
                                         product=product, services=services, categories=categories,
                                         parser=name, source=source)]
                if header:
                    ev = self._fast_syslog(text, sender or self.default_host, source)
        if ev is None and now is None and _c_cisco is not None and text[:1] == "<":
            ev = self._cisco_syslog(text, sender or self.default_host, source)
        if ev is None:
            if network or text[:1] == "<":
                ev = self.parse_syslog(text, sender=sender or self.default_host, source=source, now=now)
            else:
                ev = self.parse_line(text, source=source, now=now)
        n = self.repeat
        if n == 1:
            return [ev]
        return [ev] + [LogEvent(ev.raw, dict(ev.fields), host=ev.host, time=ev.time, product=ev.product,
                                services=ev.services, categories=ev.categories, parser=ev.parser,
                                source=ev.source) for _ in range(n - 1)]


def json_event(line: str, *, source: str = "json", product: str | None = None,
               services: tuple[str, ...] = (), categories: tuple[str, ...] = (),
               default_host: str = "", now: float = 0.0) -> LogEvent:
    """One JSON object per line: its keys are the fields; logsource from the input's config
    (or a `logsource` object in the line). Raises ValueError on a line that is not an object."""
    obj = json.loads(line)
    if not isinstance(obj, dict):
        raise ValueError("JSON line is not an object")
    ls = obj.pop("logsource", None)
    if isinstance(ls, dict):
        product = ls.get("product", product)
        svc, cat = ls.get("service"), ls.get("category")
        services = (svc,) if svc else services
        categories = (cat,) if cat else categories
    host = str(obj.get("host") or obj.get("hostname") or obj.get("Hostname") or default_host)
    t = now
    for key in ("@timestamp", "timestamp", "time"):
        v = obj.get(key)
        if isinstance(v, int | float):
            t = float(v)
            break
        if isinstance(v, str) and (iso := iso_epoch(v)) is not None:
            t = iso
            break
    return LogEvent(line.rstrip("\r\n"), obj, host=host, time=t, product=product, services=services,
                    categories=categories, parser="json", source=source)


ParseFn = Callable[[str], LogEvent]

__all__ = ["LineParser", "ParseFn", "json_event", "registry"]
