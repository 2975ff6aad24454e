"""The pivot's one door to the history store (nocsoc.history): the flows of the alert's source
and target around the alert window, and the archived log lines around it.

Behind this adapter so the console works (showing "no history configured") where the history
store is absent or disabled, and so the page does not know how history is stored.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class Pivot:
    available: bool
    reason: str = ""  # why not, when not available: a key of the console's catalogues
    detail: str = ""  # what the reason is about (a path), shown as is
    flows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # ip -> peers
    logs: list[dict[str, Any]] = field(default_factory=list)
    since: float = 0.0
    until: float = 0.0
    errors: list[str] = field(default_factory=list)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


class HistoryPivot:
    """Pivot queries against the history store at `root` (None: not configured)."""

    def __init__(self, root: Path | None, flows: bool = True, logs: bool = True) -> None:
        self.root = root
        self.want_flows = flows
        self.want_logs = logs

    @classmethod
    def from_config(cls, config: Any, base_path: Any) -> HistoryPivot:
        hist = getattr(config, "history", None)
        if hist is None or not getattr(hist, "enabled", False):
            return cls(None)
        return cls(base_path(hist.dir), bool(getattr(hist, "flows", True)), bool(getattr(hist, "logs", True)))

    def around(
        self,
        src_ip: str,
        dst_ip: str,
        host: str,
        first_seen: float,
        last_seen: float,
        margin_s: float = 900.0,
        limit: int = 50,
    ) -> Pivot:
        if self.root is None:
            return Pivot(False, "no_history")
        try:
            from nocsoc.history.flows import query_flows
            from nocsoc.history.logs import lines_around
        except ImportError:
            return Pivot(False, "no_history")
        if not self.root.exists():
            return Pivot(False, "history_empty", str(self.root))
        p = Pivot(True, since=first_seen - margin_s, until=last_seen + margin_s)
        if self.want_flows:
            for ip in dict.fromkeys(x for x in (src_ip, dst_ip) if x and _is_ip(x)):
                try:
                    p.flows[ip] = [
                        f.to_dict()
                        for f in query_flows(self.root, ip, since=p.since, until=p.until, limit=limit)
                    ]
                except Exception as exc:  # a broken partition must not take the page down
                    log.warning("pivot: flows of %s: %s", ip, exc)
                    p.errors.append(f"flows of {ip}: {exc}")
        if self.want_logs:
            try:
                addr = src_ip if _is_ip(src_ip) else None
                lines = lines_around(
                    self.root,
                    (first_seen + last_seen) / 2,
                    host=None if addr else host or None,
                    ip=addr,
                    before_s=(last_seen - first_seen) / 2 + margin_s,
                    after_s=(last_seen - first_seen) / 2 + margin_s,
                    limit=limit,
                )
                p.logs = [ln.to_dict() for ln in lines]
            except Exception as exc:
                log.warning("pivot: log lines: %s", exc)
                p.errors.append(f"log lines: {exc}")
        return p
