"""Linux audit records (audit.log lines or audisp via syslog): every key=value kept, EXECVE
arguments hex-decoded and joined into CommandLine, the SYSCALL record's exe carried into the
EXECVE event (they share the audit serial) so process_creation rules see Image too."""

from __future__ import annotations

import re
from collections import OrderedDict

from nocsoc.collectors.logs.parsers.base import Parsed, kv_pairs

_HEADER = re.compile(r"type=(?P<type>\w+) msg=audit\((?P<ts>\d+(?:\.\d+)?):(?P<serial>\d+)\):\s*")
_HEX = re.compile(r"^(?:[0-9A-F]{2})+$")


def _unhex(v: str) -> str:
    if _HEX.match(v):
        try:
            return bytes.fromhex(v).decode("utf-8", "replace").replace("\x00", " ")
        except ValueError:
            return v
    return v


class AuditdParser:
    """Stateful: remembers recent SYSCALL records by serial (bounded) to enrich EXECVE."""

    def __init__(self, remember: int = 1024) -> None:
        self._syscalls: OrderedDict[str, dict[str, str]] = OrderedDict()
        self._remember = remember

    def parse(self, msg: str) -> Parsed | None:
        m = _HEADER.search(msg)
        if m is None:
            return None
        kind, serial = m["type"], m["serial"]
        raw_kv = msg[m.end():]
        if "\x1d" in raw_kv:  # enriched logs append translated fields after GS
            raw_kv = raw_kv.split("\x1d", 1)[0]
        kv = kv_pairs(raw_kv)
        fields: dict[str, object] = {"type": kind, "serial": serial, **kv}
        categories: tuple[str, ...] = ()
        if kind == "SYSCALL":
            self._syscalls[serial] = kv
            if len(self._syscalls) > self._remember:
                self._syscalls.popitem(last=False)
        elif kind == "EXECVE":
            try:
                argc = int(kv.get("argc", "0"))
            except ValueError:
                argc = 0
            args = []
            for i in range(argc):
                v = kv.get(f"a{i}")
                if v is None:
                    break
                v = _unhex(v) if f'a{i}="' not in raw_kv else v
                fields[f"a{i}"] = v
                args.append(v)
            fields["CommandLine"] = " ".join(args)
            sc = self._syscalls.get(serial)
            image = (sc or {}).get("exe") or (args[0] if args else "")
            fields["Image"] = image
            if sc:
                for k in ("pid", "ppid", "uid", "auid", "comm", "exe", "key"):
                    if k in sc:
                        fields.setdefault(k, sc[k])
                fields["User"] = sc.get("uid", "")
            categories = ("process_creation",)
        elif kind == "PROCTITLE" and "proctitle" in kv:
            fields["proctitle"] = _unhex(kv["proctitle"])
        elif kind == "PATH" and "name" in kv:
            fields["name"] = _unhex(kv["name"])
        return Parsed("auditd", fields, "linux", ("auditd",), categories, time=float(m["ts"]))
