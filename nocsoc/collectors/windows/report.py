"""What one input (an EVTX file, a sender) gave: events, and every kind of bad input, counted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_EVENT_BYTES = 1 << 20  # a record's JSON larger than this is counted and skipped
_MAX_MESSAGES = 5  # error lines kept per file (the counts cover every one)


@dataclass
class InputReport:
    """What one file (or one sender) gave: events, and every kind of bad input, counted."""

    name: str
    events: int = 0
    bad_chunks: int = 0  # EVTX chunks (or a header) the parser could not read
    not_events: int = 0  # records / documents that are no Windows event
    oversized: int = 0
    unknown_channels: dict[str, int] = field(default_factory=dict)  # channel -> events
    unknown_event_ids: dict[str, int] = field(default_factory=dict)  # "channel EventID" -> events
    messages: list[str] = field(default_factory=list)

    def note(self, message: str) -> None:
        if len(self.messages) < _MAX_MESSAGES:
            self.messages.append(message)

    @property
    def bad(self) -> int:
        return self.bad_chunks + self.not_events + self.oversized

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "events": self.events, "bad_chunks": self.bad_chunks,
                "not_events": self.not_events, "oversized": self.oversized,
                "unknown_channels": dict(self.unknown_channels),
                "unknown_event_ids": dict(self.unknown_event_ids), "messages": list(self.messages)}
