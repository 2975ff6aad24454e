"""What `nocsoc flows query` and `nocsoc logs search` share: time options, the history
directory of nocsoc.yaml, and the tables (attacker-controlled text shown inert)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from nocsoc import timespec
from nocsoc.cli import common
from nocsoc.cli.lang import t, word

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def parse_time(text: str, option: str, now: float | None = None) -> float:
    """`24h` (that long ago), an ISO time (UTC unless it says), or epoch seconds; exits 2 with
    one line naming the option otherwise."""
    try:
        return timespec.parse_time(text, now if now is not None else time.time(), epoch=True)
    except ValueError:
        common.fail(f"{option} {text!r}: use a duration (30m, 24h, 7d), an ISO time or epoch seconds",
                    common.EXIT_USAGE)


def window(since: str | None, until: str | None, default_since: str) -> tuple[float, float | None]:
    now = time.time()
    start = parse_time(since or default_since, "--since", now)
    end = parse_time(until, "--until", now) if until else None
    if end is not None and end <= start:
        common.fail(f"--until {until!r} is not after --since {since or default_since!r}", common.EXIT_USAGE)
    return start, end


def history_dir() -> tuple[Any, Path]:
    """(history config, its directory) of nocsoc.yaml (or of the defaults)."""
    ctx = common.context_or_defaults()
    return ctx.config.history, ctx.path(ctx.config.history.dir)


def note_if_empty(root: Path, dataset: str, cfg: Any) -> None:
    """Say so on stderr when there is no store at all (an empty answer would read as "no
    traffic"): history off, or nothing written yet."""
    if (root / dataset).is_dir():
        return
    off = not cfg.enabled or not getattr(cfg, dataset)
    why = t("hist.off") if off else t("hist.empty")
    common.err_console.print(t(f"hist.no_{dataset}", path=root / dataset, why=why), highlight=False,
                             soft_wrap=True, markup=False)


def ts(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S")


def window_text(start: float, end: float | None) -> str:
    """The searched window as a table title shows it (an open end is `now`)."""
    return f"{ts(start)} - {ts(end) if end else t('hist.now')} UTC"


@contextmanager
def query_errors() -> Iterator[None]:
    """A history query's failures as one line: a bad filter (ValueError) is a usage error, a store
    that cannot answer (StoreError, a RuntimeError) exits 1."""
    try:
        yield
    except ValueError as exc:
        common.fail(str(exc), common.EXIT_USAGE)
    except RuntimeError as exc:
        common.fail(str(exc))


def inert(text: str | None) -> Text:
    """Text as shown, never interpreted: no rich markup, control characters as \\xNN."""
    if text is None:
        return Text("")
    return Text(_CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}", text))


PROTOCOLS = {1: "icmp", 6: "tcp", 17: "udp", 47: "gre", 50: "esp", 58: "ipv6-icmp", 132: "sctp"}


def flows_table(peers: list[Any], title: str) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD)
    for col in ("peer", "dir", "proto", "port", "peer_port", "bytes", "packets", "flows", "first_seen",
                "last_seen", "exporters"):
        numeric = col in ("bytes", "packets", "flows", "port", "peer_port")
        table.add_column(t(f"hist.col.{col}"), justify="right" if numeric else "left")
    for p in peers:
        table.add_row(p.peer, word("hist.dir", p.direction), PROTOCOLS.get(p.proto, str(p.proto)),
                      str(p.ip_port), str(p.peer_port), f"{p.bytes:,}", f"{p.packets:,}", f"{p.flows:,}",
                      ts(p.first_seen), ts(p.last_seen), ", ".join(p.exporters))
    return table


def logs_table(lines: list[Any], title: str) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD)
    for col in ("time", "host", "program", "source", "destination", "user", "line"):
        table.add_column(t(f"hist.lcol.{col}"), overflow="fold")
    for ln in lines:
        table.add_row(ts(ln.time), inert(ln.host), inert(ln.program), inert(ln.src_ip), inert(ln.dst_ip),
                      inert(ln.user), inert(ln.raw))
    return table
