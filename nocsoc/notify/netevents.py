"""Network events for the notifier, read from what the collectors already wrote to the embedded
SQLite sink: the SNMP poller's `interface_event` points going down (link_down) and `optics`
receive power crossing below `dashboards.optics_rx_min_dbm` (optics_low; not on an interface
that is down: no light is what a link down looks like, and its link_down said so).

Why the sink and not a hook in the collectors: the poller runs in its own worker process under
`nocsoc run`; the sink is where its events already land, durably, so the collectors know nothing
of notifications and a notifier restart re-reads instead of missing what happened meanwhile.
Points reach the sink in batches a few seconds after their time: every pass re-reads a
`lookback_s` window and remembers what it already reported, so a late point is neither missed
nor reported twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nocsoc.schema import INTERFACE, INTERFACE_EVENT, OPTICS
from nocsoc.sinks.sqlite import QueryRow, SqliteReader


@dataclass(frozen=True)
class NetEvent:
    kind: str  # link_down | optics_low
    device: str
    ifname: str  # interface (or the sensor's name when the optic is not tied to one)
    at: float
    value: float | None = None  # optics_low: the receive power (dBm)
    message: str = ""


@dataclass
class NetEventReader:
    """What the sink says happened since the last pass (see the module doc)."""

    db: Path
    optics_min_dbm: float
    lookback_s: float = 300.0
    _start_ns: int | None = None  # interface events at or before this are history, not news
    _mark_ns: int = 0  # newest interface event seen
    _seen: dict[tuple[str, str, int], int] = field(default_factory=dict)  # event key -> time_ns
    _low: set[tuple[str, str, str]] = field(default_factory=set)  # optics below the threshold now

    def start_at(self, mark_ns: int) -> None:
        """Interface events at or before `mark_ns` are not news (a restart's saved mark; without
        one, the first pass starts at its own time)."""
        self._start_ns = self._mark_ns = mark_ns

    @property
    def mark_ns(self) -> int:
        return self._mark_ns

    def poll(self, now: float) -> list[NetEvent]:
        if not self.db.exists():
            return []
        now_ns = int(now * 1e9)
        if self._start_ns is None:
            self.start_at(now_ns)
        reader = SqliteReader(self.db)
        lookback_ns = int(self.lookback_s * 1e9)
        return self._links(reader, self._mark_ns - lookback_ns) + self._optics(reader, now_ns - lookback_ns)

    def _links(self, reader: SqliteReader, since_ns: int) -> list[NetEvent]:
        assert self._start_ns is not None
        out = []
        rows = reader.query(INTERFACE_EVENT.name, [INTERFACE_EVENT.f("message")], {"event": "down"}, since_ns)
        for row in rows:
            key = (row.tags.get("device", ""), row.tags.get("ifname", ""), row.time_ns)
            if key in self._seen:
                continue
            self._seen[key] = row.time_ns
            self._mark_ns = max(self._mark_ns, row.time_ns)
            if row.time_ns > self._start_ns:
                out.append(NetEvent("link_down", key[0], key[1], row.time_ns / 1e9,
                                    message=str(row.fields.get("message", ""))))
        cutoff = since_ns - int(self.lookback_s * 1e9)
        self._seen = {k: t for k, t in self._seen.items() if t >= cutoff}
        return out

    def _optics(self, reader: SqliteReader, since_ns: int) -> list[NetEvent]:
        latest: dict[tuple[str, str, str], tuple[int, float]] = {}
        for row in reader.query(OPTICS.name, [OPTICS.f("rx_dbm")], since_ns=since_ns):
            v = row.fields.get("rx_dbm")
            if not isinstance(v, int | float):
                continue
            t = row.tags
            key = (t.get("device", ""), t.get("ifname") or t.get("sensor", ""), t.get("lane", ""))
            latest[key] = (row.time_ns, float(v))  # rows come oldest first
        news = any(v < self.optics_min_dbm and k not in self._low for k, (_, v) in latest.items())
        down = {  # read only when an optic is newly low (the interfaces are most of the sink)
            (row.tags.get("device", ""), row.tags.get("ifname", ""))
            for row in (self._latest_oper(reader, since_ns) if news else [])
            if row.fields["oper_status"] != 1
        }
        out = []
        for key, (time_ns, v) in sorted(latest.items()):
            if (key[0], key[1]) in down:
                # a link down has no light at either end: its link_down says so; low light
                # still there once the link is back up is news then
                continue
            if v < self.optics_min_dbm:
                if key not in self._low:
                    self._low.add(key)
                    name = key[1] + (f" lane {key[2]}" if key[2] else "")
                    out.append(NetEvent("optics_low", key[0], name, time_ns / 1e9, v,
                                        f"rx {v:.2f} dBm < {self.optics_min_dbm:g} dBm"))
            else:
                self._low.discard(key)  # recovered: a later drop is news again
        return out


    @staticmethod
    def _latest_oper(reader: SqliteReader, since_ns: int) -> list[QueryRow]:
        """The latest `oper_status` of every interface written in the window."""
        latest: dict[tuple[str, str], QueryRow] = {}
        for row in reader.query(INTERFACE.name, [INTERFACE.f("oper_status")], since_ns=since_ns):
            if "oper_status" in row.fields:
                latest[(row.tags.get("device", ""), row.tags.get("ifname", ""))] = row
        return list(latest.values())
