"""Linux audit records (audit.log lines or audisp via syslog) -> every key=value kept, plus the
Sigma process_creation fields on EXECVE.

What real audit logs carry, all handled here:
- a `node=HOST ` prefix (name_format in auditd.conf; remote logging): the event's host;
- ENRICHED format (log_format=ENRICHED): after a GS byte (\\x1d) the interpreted values,
  `UID="root" AUID="jdoe" SYSCALL=mknod ...`, kept under their own upper-case names;
- a nested `msg='op=PAM:authentication acct="root" exe=... addr=1.2.3.4 res=failed'` (USER_* and
  other user-space records): its pairs become fields (`msg` keeps the text);
- hex-encoded values (any value with a space, quote or control character, unquoted): decoded
  for the keys that hold text (exe, comm, cmd, proctitle, name, cwd, acct, data, EXECVE args,
  split args `aN[i]`);
- `User`: the name the line gives (ENRICHED `UID`, else `acct`), uid 0 as root, else the number;
- EXECVE joined with its SYSCALL (same serial: exe, pid, ppid, uids), and with its parent's
  earlier EXECVE by ppid: ParentImage / ParentCommandLine (bounded memory of recent processes).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nocsoc.collectors.logs.parsers.base import Parsed, digits, kv_pairs
from nocsoc.collectors.logs.parsers.base import c_split_pairs as _c_split_pairs
from nocsoc.collectors.logs.parsers.registry import ParserSpec
from nocsoc.logsources import LogSource

# parse_audit's reading of a plain record up to the state, in C (None: not built, or forced off)
_c_audit_record: Callable[[str], tuple[Any, ...] | None] | None
try:
    from nocsoc.collectors.logs._logfast import audit_record as _c_audit_record
except ImportError:
    _c_audit_record = None

_HEADER = re.compile(
    r"(?:node=(?P<node>\S+) )?type=(?P<type>\w+) msg=audit\((?P<ts>\d+(?:\.\d+)?):"
    r"(?P<serial>\d+)\):\s*"
)
_HEX = re.compile(r"^(?:[0-9A-F]{2})+$")
_NESTED = re.compile(r"\bmsg='([^']*)'")
_SPLIT_ARG = re.compile(r"\ba(\d+)\[(\d+)\]=(\"[^\"]*\"|\S+)")
_TEXT_KEYS = (
    "exe",
    "comm",
    "cmd",
    "proctitle",
    "name",
    "cwd",
    "acct",
    "data",
    "old-data",
    "path",
    "hostname",
    "terminal",
)
_TEXT_KEYS_SET = frozenset(_TEXT_KEYS)


def _unhex(v: str) -> str:
    if len(v) >= 2 and _HEX.match(v):
        try:
            return bytes.fromhex(v).decode("utf-8", "replace").replace("\x00", " ").strip()
        except ValueError:
            return v
    return v


def _audit_pairs(text: str) -> dict[str, str]:
    """audit's `k=v k2="v2"` pairs by splitting on spaces: what kv_pairs' regex gives when no
    quoted value holds a space (the kernel hex-encodes those), at a fraction of its cost; any
    other token leaves the text to the regex."""
    if _c_split_pairs is not None and (got := _c_split_pairs(text, 1)) is not None:
        return got  # the same split in C (None: a token for the regex, or non-ASCII text)
    out: dict[str, str] = {}
    for tok in text.split():
        k, eq, v = tok.partition("=")
        if not eq or not k:
            return kv_pairs(text)
        if v[:1] == '"':
            if len(v) < 2 or v[-1] != '"':
                return kv_pairs(text)
            v = v[1:-1]
        out[k] = v
    return out


def _quoted(raw: str, key: str) -> bool:
    return f'{key}="' in raw


@dataclass
class AuditdState:
    """SYSCALL records by serial (to enrich EXECVE) and recent processes by pid (parents)."""

    remember: int = 4096
    syscalls: OrderedDict[str, dict[str, str]] = field(default_factory=OrderedDict)
    procs: OrderedDict[str, tuple[str, str]] = field(default_factory=OrderedDict)

    def keep(self, table: OrderedDict[str, Any], key: str, value: Any) -> None:
        table[key] = value
        table.move_to_end(key)
        if len(table) > self.remember:
            table.popitem(last=False)


def _user(kv: dict[str, str], enriched: dict[str, str], uid_key: str = "uid") -> str | None:
    name = enriched.get(uid_key.upper())
    if name:
        return name
    acct = kv.get("acct")
    if acct:
        return acct
    uid = kv.get(uid_key)
    if uid is None:
        return None
    return "root" if uid == "0" else uid


def parse_audit(msg: str, app: str = "", state: AuditdState | None = None) -> Parsed | None:
    # the header's one fixed text, tested first: every file line starting with `t`/`n` (FortiGate's
    # and Sophos's `time=...`) comes here, and the unanchored search over a long line is ~15 us
    if "msg=audit(" not in msg:
        return None
    st = state if state is not None else AuditdState()
    if _c_audit_record is not None and (got := _c_audit_record(msg)) is not None:
        # a plain record read in C up to the state (the same fields as below); why: the reading
        # was ~6 of a ~9 us record
        return _with_state(st, *got)
    m = _HEADER.search(msg)
    if m is None:
        return None
    kind, serial = m["type"], m["serial"]
    raw_kv = msg[m.end() :]
    enriched: dict[str, str] = {}
    if "\x1d" in raw_kv:  # ENRICHED: interpreted values after GS
        raw_kv, _, extra = raw_kv.partition("\x1d")
        enriched = kv_pairs(extra)
    nested = None
    mn = _NESTED.search(raw_kv) if "msg='" in raw_kv else None
    if mn is not None:
        nested = mn[1]
        raw_kv = raw_kv[: mn.start()] + raw_kv[mn.end() :]
    kv = _audit_pairs(raw_kv) if "'" not in raw_kv and "\\" not in raw_kv else kv_pairs(raw_kv)
    fields: dict[str, object] = {"type": kind, "serial": serial, **kv}
    if nested is not None:
        fields["msg"] = nested
        inner = kv_pairs(nested)
        for k, iv in inner.items():
            fields.setdefault(k, _unhex(iv) if k in _TEXT_KEYS and not _quoted(nested, k) else iv)
            kv.setdefault(k, iv)
    fields.update(enriched)
    for k in _TEXT_KEYS_SET.intersection(kv):
        tv = kv[k]
        if not _quoted(raw_kv, k) and (nested is None or not _quoted(nested, k)):
            fields[k] = _unhex(tv)
    user = _user(kv, enriched)
    if user is not None:
        fields["User"] = user
    res = kv.get("res") or kv.get("success")
    if res is not None:
        fields["outcome"] = "success" if res in ("success", "yes", "1") else "failure"
    addr = kv.get("addr")
    if addr and addr not in ("?", "(none)"):
        fields["src_ip"] = addr
    args: list[str] | None = None
    if kind == "EXECVE":
        try:
            argc = int(kv.get("argc", "0"))
        except ValueError:
            argc = 0
        split: dict[int, dict[int, str]] = {}
        if "[" in raw_kv:
            for a, i, v in _SPLIT_ARG.findall(raw_kv):
                na, ni = digits(a), digits(i)
                if na is not None and ni is not None:
                    split.setdefault(na, {})[ni] = v[1:-1] if v.startswith('"') else _unhex(v)
        args = []
        for i in range(min(argc, 4096)):
            v = kv.get(f"a{i}")
            if v is None:
                parts = split.get(i)
                if parts is None:
                    break
                v = "".join(parts[j] for j in sorted(parts))
            elif not _quoted(raw_kv, f"a{i}"):
                v = _unhex(v)
            fields[f"a{i}"] = v
            args.append(v)
    return _with_state(st, kind, serial, float(m["ts"]), m["node"], fields, kv, user, args)


def _with_state(st: AuditdState, kind: str, serial: str, ts: float, node: str | None,
                fields: dict[str, object], kv: dict[str, str], user: str | None,
                args: list[str] | None) -> Parsed:
    """The record's fields joined with the input's state: a SYSCALL is remembered by serial, an
    EXECVE (its arguments read) gets its SYSCALL's process and its parent's image and command."""
    categories: tuple[str, ...] = ()
    if kind == "SYSCALL":
        for k in ("exe", "comm"):  # kv is this record's own dict: keep it, decoded, for the EXECVE
            if k in fields:
                kv[k] = str(fields[k])
        if user is not None:
            kv["User"] = user
        st.keep(st.syscalls, serial, kv)
    elif kind == "EXECVE" and args is not None:
        cmdline = " ".join(args)
        fields["CommandLine"] = cmdline
        sc = st.syscalls.get(serial)
        image: str = (sc or {}).get("exe") or (args[0] if args else "")
        fields["Image"] = image
        if sc:
            for k in ("pid", "ppid", "uid", "auid", "euid", "comm", "exe", "key", "tty", "ses"):
                if k in sc:
                    fields.setdefault(k, sc[k])
            if "User" in sc:
                fields["User"] = sc["User"]
            pid, ppid = sc.get("pid"), sc.get("ppid")
            if ppid is not None:
                fields["ParentProcessId"] = ppid
                parent = st.procs.get(ppid)
                if parent is not None:
                    fields["ParentImage"], fields["ParentCommandLine"] = parent
            if pid is not None:
                fields["ProcessId"] = pid
                st.keep(st.procs, pid, (image, cmdline))
        categories = ("process_creation",)
    return Parsed("auditd", fields, "linux", ("auditd",), categories, time=ts, host=node)


_AUDIT_APPS = ("audispd", "audisp-syslog", "auditd", "audit", "audisp-remote")

PARSERS = [
    ParserSpec(
        "auditd",
        parse_audit,
        (LogSource("linux", ("auditd",)), LogSource("linux", ("auditd",), ("process_creation",))),
        programs=_AUDIT_APPS,
        prefixes=("type=", "node="),
        line_starts="tn",
        order=15,
        state=AuditdState,
        description="Linux audit records: raw, node=, ENRICHED, nested msg, hex, parent process",
    ),
]
