"""The C reader of one LineParser: a line to its finished LogEvent in one call (_logfast.Reader).

Why: the formats' C twins read a line in ~0.5-1.5 us, and the Python around them (the checks of
LineParser.events, the receive time, the event's keyword construction, its route key tuple, the
list) cost as much again. The reader does that part in C for the lines the twins read; every
other line, and every line a twin declines, takes LineParser's Python path, the reference.

This module says what the reader may do, from the dispatcher's own tables, so a registry change
turns a C path off rather than making it wrong:
- an RFC 3164 line goes to a body twin only for a program whose first parser names it (the
  dispatcher's `c_programs`, as before); any other printable one with the common header (and one
  a twin declines) has its body read by the LineParser's own dispatch (`_body`, called from C as
  _fast_syslog calls it) and its event built in C, while `_fast_syslog` is LineParser's;
- a Cisco line is read in C only while cisco_ios's parse function is the registered `cisco`
  parser and its patterns are the texts the C walks (`_logfast.CISCO_PATTERNS`); a file line
  without `<PRI>` whose first character some parsers claim (`012345: Dec 23 ...`, NX-OS's
  `2023 Jan 11 ...`) only when each of them is one whose refusal the C repeats (`_REFUSALS`);
- a file line is read in C only when the parsers its first character is tried with begin with
  the access-log parser (or Palo Alto's, whose refusal of a line starting with a digit the C
  repeats, then it) or with auditd's (its per-input state is the one the Python path uses);
- a file line whose first parser is fortigate's (or auditd's, which refuses a line without
  `msg=audit(`, then fortigate's) is read by fortigate's C twin (at its own time, else received
  now); one whose first parser is Palo Alto's, then the access log's, by Palo Alto's CSV twin
  when Palo Alto's first refusal does not apply;
- a file line whose first character's parsers are Palo Alto's, FortiGate's and Check Point's, in
  this order (`CEF:0|...`), by their CEF twins, the header and extension split in C;
- a file line whose first character's parsers begin with FortiGate's then Check Point's (`0|...`,
  CEF without its label) as a CEF line after Palo Alto's refusal; one whose first parser is Check
  Point's (`syslog[action:"Drop"; ...]`) by its key:"value" twin;
- a file line whose first parser is Sophos' (`id="2002" ...`), or whose parser after FortiGate's
  refusal is (`device="SFW" ...`, `timestamp=...`: fortigate_line's False), by Sophos' twin;
- a `{` file line whose first parser is Palo Alto's (its JSON twin on) by `json_event`, given the
  object the caller decoded, when Palo Alto's tests before the decoding pass (LineParser.events);
- a printable line without the common header, starting with a letter no parser claims, whose body
  parse_syslog keeps whole and whose first candidate is web's (`rdp.acme.com 1.2.3.4 - - [...]`:
  its marker `" ` there, none of the parsers ordered before it claiming it) by parse_access's C
  twin, while web's parse is parse_access and LineParser's dispatch is its own (_set_web);
- a file line whose first parser is parse_apache_error (`[...] [core:error] ...`), or whose parsers
  begin with parse_access, which refuses it for sure, then parse_nginx_error (`2019/08/25 ...
  [error] ...`), by their C twins, while each is on (_set_web_errors);
- a line without the common header whose body is cisco_asa's (a tag starting the line,
  `%ASA-6-302013: ...`, or a bare AnyConnect body, `Group <G> User <U> IP <A> ...`, both of which
  parse_syslog keeps whole; a tag after a stamp it reads, `Jun 07 2025 17:31:57: %ASA-...`) is
  read in C only while cisco_asa's parse is parse_asa with its C twin on, and only when no
  parser ordered before it has a marker or prefix in the body;
- a header line whose body no body twin reads, under a program whose parsers are only sshd's and
  Junos' (or none), by _logfast_lx.c: Junos' twin where Junos' parser reads it, else PAM's twin
  where pam is the first parser the shape dispatch tries (none ordered before it has a marker or
  prefix in the body), else the generic fallback where no parser's marker or prefix is in the
  body; only while the walks' patterns are the modules' (`_lx`);
- a Cisco stamp's zone name that zones.zone does not read (`CST`: ambiguous) is read as
  parse_syslog reads it: in the input's zone, counted through LineParser._unknown_zone;
- LogEvent's slots must be the ones the C fills (it builds events as `__init__` does).
"""

from __future__ import annotations

import datetime
import functools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nocsoc.collectors.logs import syslog, zones
from nocsoc.collectors.logs.parsers import (
    auditd,
    base,
    checkpoint,
    cisco_asa,
    cisco_ios,
    fortigate,
    generic,
    juniper,
    linux_auth,
    paloalto,
    sophos,
    sshd,
    web,
)
from nocsoc.collectors.logs.parsers.registry import ParserSpec
from nocsoc.events import LogEvent
from nocsoc.logsources import LogSource

if TYPE_CHECKING:
    from nocsoc.collectors.logs.parsers import LineParser

try:
    from nocsoc.collectors.logs import _logfast
except ImportError:  # not built: LineParser reads every line in Python
    _logfast = None  # type: ignore[assignment]

# the slots the C fills, as LogEvent.__init__ does (`origin` is left unset there too)
_SLOTS = {"raw", "fields", "host", "time", "product", "services", "categories", "parser", "source",
          "route_key", "_low", "origin"}
# _logfast_reader.c's file-line plans
_PLAN_ACCESS, _PLAN_ACCESS_AFTER_PALOALTO, _PLAN_AUDIT = 1, 2, 3
_PLAN_FORTIGATE, _PLAN_AUDIT_THEN_FORTIGATE, _PLAN_CEF = 4, 5, 6
_PLAN_SOPHOS, _PLAN_FG_CP, _PLAN_CP_KV = 7, 8, 9
# the parsers of a first character whose CEF lines _PLAN_CEF reads (each one's CEF twin on)
_CEF_PARSERS = (paloalto.parse_paloalto, fortigate.parse_fortigate, checkpoint.parse_checkpoint)


def _cef_twins() -> bool:
    return paloalto._c_paloalto_cef is not None and _fg_cp_twins()


def _fg_cp_twins() -> bool:
    return None not in (fortigate._c_fortigate, fortigate._c_fortigate_cef, checkpoint._c_checkpoint_cef,
                        base._c_cef_extension)

Output = tuple[str, str | None, tuple[str, ...], tuple[str, ...], tuple[Any, ...]]

# the parsers whose refusal of a Cisco line _logfast_reader.c's rd_refused repeats (its RF_ bits):
# a file line starting with a character only these claim goes on to parse_syslog when they refuse
_REFUSALS: dict[Any, int] = {paloalto.parse_paloalto: 1, fortigate.parse_fortigate: 2,
                             checkpoint.parse_checkpoint: 4, web.parse_access: 8, web.parse_iis: 16,
                             web.parse_nginx_error: 32}


def _cisco_starts(d: Any) -> dict[str, int]:
    """First character -> the refusals to repeat, for the characters whose parsers are all in
    `_REFUSALS` (any other parser there: the C leaves such Cisco lines to Python)."""
    out: dict[str, int] = {}
    for ch, entries in d.by_line_start.items():
        bits = [_REFUSALS.get(e[0], 0) for e in entries]
        if all(bits):
            out[ch] = functools.reduce(int.__or__, bits)
    return out


def _output(name: str, ls: LogSource) -> Output:
    """(parser, product, services, categories, route key) of the events of one logsource."""
    return name, ls.product, ls.services, ls.categories, (ls.product, ls.services, ls.categories)


def _cisco_patterns() -> tuple[str, ...]:
    """cisco_ios's pattern texts in the order _logfast.CISCO_PATTERNS lists them."""
    out = [cisco_ios._BRACKETS.pattern, cisco_ios._IFACE.pattern]
    for guard, rx in cisco_ios._EXTRACT:
        out += [guard, rx.pattern]
    return tuple(out)


_GROUPS = {"user": "user", "port": "src_port", "dip": "dst_ip", "dport": "dst_port", "url": "c-uri",
           "cmd": "command", "proto": "network_protocol", "via": "via", "line": "line", "acl": "acl"}


def _cisco_ok() -> bool:
    """cisco_ios reads a text as _logfast_cisco.c does: the same patterns and group fields."""
    if _logfast is None or _cisco_patterns() != tuple(_logfast.CISCO_PATTERNS):
        return False
    if {k: v[0] for k, v in cisco_ios._GROUP_FIELDS.items()} != _GROUPS:
        return False
    conv = {k: v[1] for k, v in cisco_ios._GROUP_FIELDS.items()}
    return conv["port"] is base.digits and conv["cmd"] is str.strip and conv["proto"] is base.transport


def _cisco_routes() -> dict[str, tuple[Output, Output]]:
    """service -> the outputs of cisco_parsed's events (without and with the firewall category)."""
    out: dict[str, tuple[Output, Output]] = {}
    for svc in {*cisco_ios._CISCO_SVC.values(), "syslog"}:
        services = (svc, "syslog") if svc != "syslog" else ("syslog",)
        out[svc] = (_output("cisco", LogSource("cisco", services)),
                    _output("cisco", LogSource("cisco", services, ("firewall",))))
    return out


def _logsource(spec: ParserSpec, services: tuple[str, ...], categories: tuple[str, ...]) -> LogSource | None:
    for ls in spec.logsources:
        if ls.services == services and ls.categories == categories:
            return ls
    return None


AsaPlan = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[Output, ...], tuple[str, ...],
                tuple[str, ...]]


def _asa(d: Any) -> AsaPlan | None:
    """What the reader needs to read cisco_asa's lines without the common header (`%ASA-6-302013:
    ...`, `Jun 07 2025 17:31:57: %ASA-...`, bare `Group <G> User <U> IP <A> ...`): the spec's `%`
    tags (a body starting with one holds its marker), the markers and prefixes of the parsers
    ordered before it, its outputs, and its own ASCII markers and prefixes (a bare body holding
    one has cisco_asa among its candidates); None while its parse is not parse_asa with the C
    twin on."""
    entry = d.by_name.get("cisco_asa")
    if entry is None or entry[0] is not cisco_asa.parse_asa or cisco_asa._c_asa is None:
        return None
    spec = entry[2]
    tags = tuple(m for m in spec.markers if m.startswith("%") and m.isascii())
    markers, prefixes = d.ahead("cisco_asa")
    # (a non-ASCII marker or prefix can never be in an ASCII line)
    outputs = tuple(_output(spec.name, ls) for ls in spec.logsources)
    ascii_markers = tuple(w for w in markers if w and w.isascii())
    own = tuple(w for w in spec.markers if w and w.isascii())
    own_prefixes = tuple(w for w in spec.prefixes if w and w.isascii())
    return tags, ascii_markers, tuple(w for w in prefixes if w and w.isascii()), outputs, own, own_prefixes


def _fast_syslog_is_lineparsers(lp: LineParser) -> bool:
    """The header path the reader's rd_body repeats is LineParser's own (not a subclass's)."""
    from nocsoc.collectors.logs.parsers import LineParser

    t = type(lp)
    return all(getattr(t, k) is getattr(LineParser, k) for k in ("_fast_syslog", "_body", "events"))


# _logfast_lx.c's entry codes: the program parsers whose refusal lx_read repeats
_LX_SSHD, _LX_JUNOS = 1, 2


def _lx_patterns() -> tuple[str, ...]:
    """The regex texts _logfast_lx.c's walks repeat, in its LX_PATTERNS order, from the modules."""
    la, j = linux_auth, juniper
    return tuple(rx.pattern for rx in (
        la._PAM, la._PAM_KV, la._SESSION, la._FOR_USER, la._IS_IP, j._TAGGED, j._IS_TAG, j._USER, j._HOST,
        j._SSH_CONN, j._FLOW, j._FLOW_TAIL, j._CLOSE_REASON, j._FW, j._RSHD, sshd._JUNOS_TAG, base._IS_IP))


def _ascii(words: Any) -> tuple[str, ...]:
    """The non-empty ASCII words (one that is not ASCII is never in a line the C reads)."""
    return tuple(w for w in words if w and w.isascii())


def _lx(d: Any, fallback: Any) -> tuple[Any, ...] | None:
    """_logfast_lx.c's plan for the header lines no body twin reads: per program (every name the
    dispatcher routes) the codes of its parsers when each is parse_sshd or parse_junos (None: any
    other, Python reads such lines); pam's markers and prefixes and those of the parsers ordered
    before it (its twin reads a body where pam is the first candidate); every parser's markers and
    prefixes (the generic fallback where none is in the body); whether Junos' twin is on. None
    while the C walks' patterns, Junos' structured names or the protocol names differ from the
    modules' (the generic part: None while `fallback` is not parse_generic)."""
    if _logfast is None or tuple(getattr(_logfast, "LX_PATTERNS", ())) != _lx_patterns():
        return None
    if dict(_logfast.JUNOS_SD_FIELDS) != juniper._SD_FIELDS or dict(_logfast.LX_PROTOS) != base.IANA_PROTO:
        return None
    codes = {sshd._spec_parse: _LX_SSHD, juniper.parse_junos: _LX_JUNOS}
    programs: dict[str, tuple[int, ...] | None] = {}
    for prog, entries in d.by_program.items():
        got = tuple(codes.get(e[0], 0) for e in entries)
        programs[prog] = got if all(got) else None
    pam = d.by_name.get("pam")
    pam_plan = None
    if pam is not None and pam[0] is linux_auth.parse_pam:
        markers, prefixes = d.ahead("pam")
        pam_plan = (_ascii(markers), _ascii(prefixes), _ascii(pam[2].markers), _ascii(pam[2].prefixes))
    gen = None
    if fallback is generic.parse_generic:  # (LineParser._fallback)
        specs = [e[2] for e in d.by_name.values()]
        gen = (_ascii(sorted({w for s in specs for w in s.markers})),
               _ascii(sorted({w for s in specs for w in s.prefixes})))
    return programs, pam_plan, gen, True


def make(lp: LineParser) -> Any:
    """The C reader of `lp`, or None when the extension is not built or the registry, the
    parsers or LogEvent are not what the C was written for."""
    if _logfast is None or not hasattr(_logfast, "Reader") or set(LogEvent.__slots__) != _SLOTS:
        return None
    d = lp.dispatch
    outputs: list[Output | None] = [None] * len(_logfast.BODIES)
    for k, (name, ls) in d.c_outputs.items():
        outputs[k] = _output(name, ls)
    plans: dict[str, int] = {}
    audit_state: Any = None
    access_out: Output | None = None
    audit_outs: tuple[Output | None, Output | None] = (None, None)
    fg_spec: ParserSpec | None = None
    pa_spec: ParserSpec | None = None
    cp_spec: ParserSpec | None = None
    pa_json = False
    so_on = sophos._c_sophos is not None
    so_spec: ParserSpec | None = None
    so_after = ""  # first characters whose parser after FortiGate's is Sophos'
    for ch, entries in d.by_line_start.items():
        first, spec0, plan = entries[0][0], entries[0][2], 0
        if first is web.parse_access:
            plan = _PLAN_ACCESS
        elif first is paloalto.parse_paloalto and len(entries) > 1 and entries[1][0] is web.parse_access:
            plan = _PLAN_ACCESS_AFTER_PALOALTO
            if paloalto._c_paloalto is not None:  # (paloalto_line is what the C reader calls)
                pa_spec = spec0
        elif (first is auditd.parse_audit and type(entries[0][1]) is auditd.AuditdState
              and audit_state in (None, entries[0][1])):
            plan = _PLAN_AUDIT
            audit_state = entries[0][1]
            plain = _logsource(spec0, ("auditd",), ())
            proc = _logsource(spec0, ("auditd",), ("process_creation",))
            audit_outs = (_output(spec0.name, plain) if plain else None,
                          _output(spec0.name, proc) if proc else None)
        fg = fortigate._c_fortigate is not None  # (fortigate_line is what the C reader calls)
        if fg and first is fortigate.parse_fortigate:
            plan, fg_spec = _PLAN_FORTIGATE, spec0
        elif fg and plan == _PLAN_AUDIT and len(entries) > 1 and entries[1][0] is fortigate.parse_fortigate:
            plan, fg_spec = _PLAN_AUDIT_THEN_FORTIGATE, entries[1][2]
        if plan in (_PLAN_ACCESS, _PLAN_ACCESS_AFTER_PALOALTO):  # (parse_access's file lines: no app)
            spec = entries[0 if plan == _PLAN_ACCESS else 1][2]
            web_ls = _logsource(spec, (), ("webserver",))
            if web_ls is None:
                plan = 0
            else:
                access_out = _output(spec.name, web_ls)
        firsts = tuple(e[0] for e in entries[:2])
        if plan == _PLAN_FORTIGATE and firsts == _CEF_PARSERS[1:] and _fg_cp_twins():
            plan, cp_spec = _PLAN_FG_CP, entries[1][2]
        if (plan == 0 and first is checkpoint.parse_checkpoint and checkpoint._c_checkpoint_kv is not None
                and checkpoint._c_checkpoint_cef is not None and checkpoint._c_checkpoint_fw1 is not None):
            plan, cp_spec = _PLAN_CP_KV, spec0
        if so_on and plan in (_PLAN_FORTIGATE, _PLAN_AUDIT_THEN_FORTIGATE):
            k = 1 if plan == _PLAN_FORTIGATE else 2
            if len(entries) > k and entries[k][0] is sophos.parse_sophos:
                so_after, so_spec = so_after + ch, entries[k][2]
        if so_on and plan == 0 and first is sophos.parse_sophos:
            plan, so_spec = _PLAN_SOPHOS, spec0
        if ch == "{" and entries[0][0] is paloalto.parse_paloalto and paloalto._c_paloalto_json is not None:
            pa_json, pa_spec = True, spec0  # (json_event: a `{` line is never the plans' own)
        if plan == 0 and tuple(e[0] for e in entries) == _CEF_PARSERS and _cef_twins():
            plan = _PLAN_CEF
            pa_spec, fg_spec, cp_spec = (e[2] for e in entries)
        plans[ch] = plan
    fg_outputs = None if fg_spec is None else tuple(_output(fg_spec.name, ls) for ls in fg_spec.logsources)
    pa_outputs = None if pa_spec is None else tuple(_output(pa_spec.name, ls) for ls in pa_spec.logsources)
    cp_outputs = None if cp_spec is None else tuple(_output(cp_spec.name, ls) for ls in cp_spec.logsources)
    so_outputs = None if so_spec is None else tuple(_output(so_spec.name, ls) for ls in so_spec.logsources)
    cisco = d.by_name.get("cisco")
    cisco_on = cisco is not None and cisco[0] is cisco_ios.parse_cisco and _cisco_ok()
    markers, prefixes = d.ahead("cisco") if cisco_on else ((), ())
    if not all(w.isascii() for w in (*markers, *prefixes)):
        # a non-ASCII marker can never be in an ASCII line; drop them (the C reads ASCII lines only)
        markers = tuple(w for w in markers if w.isascii())
        prefixes = tuple(w for w in prefixes if w.isascii())
    rd = _logfast.Reader(
        event_type=LogEvent, default_host=lp.default_host, tz=lp.tz, programs=d.c_programs,
        outputs=tuple(outputs), file_plans=plans, file_outputs=(access_out, *audit_outs),
        audit_state=audit_state, time_module=time, minute_epochs=syslog._minute_epochs,
        year_span=syslog.year_span, cisco=cisco_on,
        zone_of=functools.partial(zones.zone, names=lp.zone_names), protos=dict(base.IANA_PROTO),
        cisco_svc=dict(cisco_ios._CISCO_SVC), sys_aaa=tuple(cisco_ios._SYS_AAA), cisco_routes=_cisco_routes(),
        ahead=tuple(w for w in markers if w), prefixes=tuple(w for w in prefixes if w), asa=_asa(d),
        fortigate=fg_outputs, cisco_starts=_cisco_starts(d) if cisco_on else {},
        fixed_tz=isinstance(lp.tz, datetime.timezone), paloalto=pa_outputs, checkpoint=cp_outputs,
        paloalto_json=pa_json, sophos=so_outputs, sophos_after=so_after,
        body=lp._body if _fast_syslog_is_lineparsers(lp) else None, zone_unknown=lp._unknown_zone,
        lx=_lx(d, lp._fallback),
        unparsed=("unparsed", None, (), (), (None, (), ())))
    if cisco_on:
        rd.cisco_refusals(_refused_ahead(d, "cisco"))
    _set_web(rd, lp)
    _set_web_errors(rd, lp, plans)
    return rd


def _refused_ahead(d: Any, name: str) -> Callable[[str], bool]:
    """refused(body): whether every parser ordered before `name` among the body's candidates
    refuses it (parse gives None), `name` being a candidate: what LineParser._body goes through
    before `name`'s parser reads it. Why: a Cisco body holding another parser's marker (an NX-OS
    `pam_aaa:` text, PAM's `pam_`) went the whole Python path, ~17 us a line; the reader asks
    this and reads the line itself when they all refuse."""

    def refused(body: str) -> bool:
        for parse, state, spec in d.candidates(body):
            if spec.name == name:
                return True
            try:
                if parse(body, "", state) is not None:
                    return False
            except Exception:  # (the Python path keeps such a line unparsed: leave it there)
                return False
        return False

    return refused


def _set_web_errors(reader: Any, lp: LineParser, plans: dict[str, int]) -> None:
    """The reader's error-log file lines (rd_web_error): a first character whose first parser is
    parse_apache_error (and no plan), or whose parsers begin with parse_access (_PLAN_ACCESS) then
    parse_nginx_error, each while its C twin is on; the outputs of their (app-less) Parsed."""
    if not hasattr(reader, "set_web_errors"):
        return
    ap_chars, ng_chars = "", ""
    ap_out: Output | None = None
    ng_out: Output | None = None
    for ch, entries in lp.dispatch.by_line_start.items():
        first = entries[0]
        if first[0] is web.parse_apache_error and web._c_apache_error is not None and plans.get(ch, 0) == 0:
            ls = _logsource(first[2], ("apache",), ("webserver",))
            if ls is not None:
                ap_chars, ap_out = ap_chars + ch, _output(first[2].name, ls)
        if (plans.get(ch) == _PLAN_ACCESS and len(entries) > 1 and entries[1][0] is web.parse_nginx_error
                and web._c_nginx_error is not None):
            ls = _logsource(entries[1][2], ("nginx",), ("webserver",))
            if ls is not None:
                # (its Parsed names the parser "web_error", as Apache's does)
                ng_chars, ng_out = ng_chars + ch, _output("web_error", ls)
    reader.set_web_errors(ap_chars, ap_out, ng_chars, ng_out)


def _set_web(reader: Any, lp: LineParser) -> None:
    """The reader's header-less web lines (`rdp.acme.com 1.2.3.4 - - [...]`, rd_web_bare): while
    web's parse is parse_access with its C twin on, its marker `" ` and LineParser's dispatch its
    own; the markers and prefixes of the parsers ordered before it (ASCII ones: the C reads ASCII
    lines), less cisco's `%` when it is parse_cisco's only marker (a percent-encoded URL holds one:
    the C repeats parse_cisco's refusal)."""
    d = lp.dispatch
    entry = d.by_name.get("web")
    if (entry is None or entry[0] is not web.parse_access or web._c_access_line is None
            or '" ' not in entry[2].markers or not hasattr(reader, "set_web")
            or not _fast_syslog_is_lineparsers(lp)):
        return
    ls = _logsource(entry[2], (), ("webserver",))
    if ls is None:
        return
    rank = (entry[2].order, entry[2].name)
    before = [e for e in d.by_name.values() if (e[2].order, e[2].name) < rank]
    pct = any(e[0] is cisco_ios.parse_cisco and e[2].markers == ("%",) and not e[2].prefixes for e in before)
    markers = {m for e in before if not (pct and e[0] is cisco_ios.parse_cisco) for m in e[2].markers}
    prefixes = tuple(p for e in before for p in e[2].prefixes if p and p.isascii())
    ascii_markers = tuple(sorted(m for m in markers if m and m.isascii()))
    reader.set_web(ascii_markers, prefixes, _output(entry[2].name, ls), pct)
