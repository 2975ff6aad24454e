"""`--role receiver`: SNMP informs answered once the bus has stored them.

An inform's sender resends it until it is answered; the answer means "the receiver has it". A
receiver that only forwards to the bus answers once JetStream has acknowledged the publish (the
stream has stored it, on as many replicas as the stream keeps), exactly as Winlogbeat's batches
are acknowledged (`BusPublisher.submit_acked`). Never from the disk buffer: it is one host's
files, written without fsync and not replicated, and while it holds anything the sender's own
retries are the better copy (the sender knows it was not answered, logs it, can fail over).
While the bus is away an inform waits in memory, unanswered; its copies are not queued again
(below), and it is published and answered (if the sender still listens) once the bus is back.

Which datagrams are informs is read from the clear part of the message (a few BER headers, no
decoding of the variable bindings), so traps stay unread and cost what they did:
- v1: no informs;
- v2c: the PDU tag (InformRequest-PDU, [6]);
- v3: the reportable flag of msgFlags (RFC 3412 section 6.4): set on informs and on engine-id
  discovery probes, never on traps (the PDU itself may be encrypted).

Those go to the same pysnmp engine the one-machine receiver uses (`TrapDecoder`), with the
communities and USM users of `traps:`, so the community and the v3 authentication are checked
and the Response-PDU (or, for a discovery probe, the Report) is pysnmp's, built for the copy
received. For v3 informs this receiver is the authoritative engine (RFC 3414 section 1.5.1):
pysnmp answers the sender's discovery with this engine's id, boots and time, and the sender
localises its keys with that id. A decoder cannot authenticate that message again (another
engine id and clock, and a replay may come hours later, outside the time window), so a v3
inform is published decoded: its variable bindings as JSON with source `v3inform/<sender>`,
which the decoder maps exactly as a trap it decoded itself (`TrapReceiver.handle_trap`). Text
that was encrypted on the wire is then clear on the bus: use the bus's TLS (docs/scale.md).
A v3 message that is not an authenticated inform (a discovery probe, a wrong password) is
answered as pysnmp does (a Report, or nothing), counted here by reason, and not published.
v2c informs are published as the datagram they came as: the decoder decodes them as it does
traps (a bad community is refused and counted there, unanswered here).

Copies: a sender whose answer was lost, or not sent while the bus was away, resends the same
inform (same request-id). Stream-sequence idempotency does not cover that: each copy is a new
datagram. The receiver keeps, for `DEDUP_WINDOW_S` after an inform was stored, its key (sender,
version, security name, request-id, variable bindings): a copy of one still waiting is not
published again (its answer goes out when the first is stored), a copy of a stored one is
answered at once and not published. Why here and not in the decoder: every copy reaches the
receiver the sender addresses, and a decoder would have to keep the same memory across
redeliveries and partition moves. What is not covered: a receiver restarted between an inform
and its copy (the memory is in the process), and copies sent to two receivers.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nocsoc.bus.envelope import Record
from nocsoc.collectors.snmp.v2c import ber_header, request_id_element
from nocsoc.collectors.traps.config import TrapsConfig
from nocsoc.collectors.traps.decode import OUTCOMES, RawTrap, TrapDecoder
from nocsoc.component import Counters

log = logging.getLogger(__name__)

V3_INFORM_SOURCE = "v3inform/"  # the source prefix of a v3 inform published decoded
DEDUP_WINDOW_S = 300.0  # net-snmp's default is 5 retries 1 s apart; devices may retry for minutes
MAX_KEYS = 100_000  # the copies' memory is bounded; beyond it the oldest stored keys are forgotten
MAX_ANSWERS = 8  # answers kept for the copies of one inform still waiting
# what a v3 message the receiver does not take as an inform is counted as (TrapDecoder's outcomes)
V3_REFUSALS = tuple(o for o in OUTCOMES if o != "trap")
_INFORM_TAG = 0xA6
_REPORTABLE = 0x04


def answerable(data: bytes) -> bool:
    """Whether a datagram may need an answer: a v2c InformRequest, or a v3 message whose
    reportable flag is set (an inform or a discovery probe). Anything unreadable: False (it is
    published unread, and the decoder counts it as malformed)."""
    try:
        tag, pos, end = ber_header(data, 0)
        if tag != 0x30:
            return False
        tag, vs, ve = ber_header(data, pos)
        if tag != 0x02 or ve - vs != 1:
            return False
        version = data[vs]
        if version == 1:  # v2c: community, then the PDU
            tag, _s, ce = ber_header(data, ve)
            return tag == 0x04 and ce < end and data[ce] == _INFORM_TAG
        if version == 3:  # msgGlobalData: msgID, msgMaxSize, msgFlags
            tag, gs, _ge = ber_header(data, ve)
            if tag != 0x30:
                return False
            _t, _s, e = ber_header(data, gs)
            _t, _s, e = ber_header(data, e)
            tag, fs, fe = ber_header(data, e)
            return tag == 0x04 and fe - fs == 1 and bool(data[fs] & _REPORTABLE)
    except ValueError:
        return False
    return False


def v2c_request_id(data: bytes) -> int | None:
    """The request-id of a v2c PDU as sent (pysnmp's v1/v2c processing replaces it by its own
    unique number before the application sees it; v3's keeps it)."""
    try:
        tag, rs, re_ = request_id_element(data)
    except ValueError:
        return None
    return int.from_bytes(data[rs:re_], "big", signed=True) if tag == 0x02 and 0 < re_ - rs <= 5 else None


def encode_v3(trap: RawTrap) -> bytes:
    """A v3 inform authenticated here, as the decoder reads it back (`decode_v3`)."""
    return json.dumps({"version": trap.version, "security_name": trap.security_name,
                       "varbinds": trap.varbinds, "inform": trap.inform},
                      separators=(",", ":"), ensure_ascii=False).encode()


def decode_v3(payload: bytes) -> RawTrap:
    """ValueError (or a KeyError/TypeError, all of them bad input) naming what is wrong."""
    d = json.loads(payload)
    vbs = [(str(o), str(t), v) for o, t, v in d["varbinds"]]
    return RawTrap(str(d["version"]), str(d["security_name"]), vbs, bool(d["inform"]))


@dataclass
class _Inform:
    stored: float | None = None  # when the bus acknowledged it
    answers: list[tuple[bytes, tuple[str, int]]] = field(default_factory=list)


Submit = Callable[[Record, Callable[[], None]], bool]


class InformAnswerer:
    """The informs of one receiver's trap port. `handle` runs on the socket thread, the
    publisher's acknowledgement (`_stored`) on its loop thread."""

    def __init__(self, config: TrapsConfig, base_dir: Path | None, submit: Submit,
                 publish: Callable[[bytes, str, float], bool], send: Callable[[bytes, tuple[str, int]], None],
                 counters: Counters, clock: Callable[[], float] = time.monotonic) -> None:
        """`submit`: hand a record to the bus, calling back once stored (False: no room, the
        inform is dropped unanswered and its sender resends it); `publish`: a record as traps
        are (unread); `send`: a datagram out of the trap port."""
        self._out: list[tuple[bytes, tuple[str, int]]] = []
        # the secrets are resolved here: a bad reference is a start error, as on one machine
        self.decoder = TrapDecoder(config, base_dir, send=lambda m, a: self._out.append((m, a)))
        self.submit = submit
        self.publish = publish
        self.send = send
        self.counters = counters
        self.clock = clock
        self._seen: dict[tuple[object, ...], _Inform] = {}
        # the stored ones, oldest first: only they are forgotten (waiting ones are bounded by the
        # publisher's queue), so forgetting never walks what waits while the bus is away
        self._stored_at: OrderedDict[tuple[object, ...], float] = OrderedDict()
        self._lock = threading.Lock()
        self._logged: set[tuple[str, str]] = set()

    def handle(self, data: bytes, addr: tuple[str, int], received: float) -> bool:
        """One datagram `answerable` said may be an inform; False when dropped (no room)."""
        self._out = []
        decoded = self.decoder.decode(data, (addr[0], addr[1]))
        answers, self._out = self._out, []
        trap = decoded.trap
        if trap is None or not trap.inform:
            if _version(data) != 3:  # v2c: the decoder counts the refusal, as one machine does
                return self.publish(data, addr[0], received)
            for m, a in answers:  # a discovery probe's Report (or a refusal's)
                self.send(m, a)
            self._refused(decoded.outcome if trap is None else "refused_other", addr[0], bool(answers))
            return True
        request_id = self.decoder.last_request_id() if trap.version == "3" else v2c_request_id(data)
        key = (addr[0], trap.version, trap.security_name, request_id,
               json.dumps(trap.varbinds, sort_keys=True, default=str))
        now = self.clock()
        with self._lock:
            self._forget(now)
            known = self._seen.get(key)
            if known is not None:
                self.counters.add("inform_copies")
                if known.stored is not None:
                    stored_answers = answers
                else:
                    known.answers = (known.answers + answers)[-MAX_ANSWERS:]
                    stored_answers = []
            else:
                entry = self._seen[key] = _Inform(answers=answers)
        if known is not None:
            self._answer(stored_answers)
            return True
        v3 = trap.version == "3"
        payload, source = (encode_v3(trap), V3_INFORM_SOURCE + addr[0]) if v3 else (data, addr[0])
        if not self.submit((payload, source, received), lambda: self._stored(key, entry)):
            with self._lock:
                self._seen.pop(key, None)
            return False
        return True

    def _stored(self, key: tuple[object, ...], entry: _Inform) -> None:
        with self._lock:
            entry.stored = self.clock()
            answers, entry.answers = entry.answers, []
            if self._seen.get(key) is entry:
                self._stored_at[key] = entry.stored
        self._answer(answers)

    def _answer(self, answers: list[tuple[bytes, tuple[str, int]]]) -> None:
        for m, a in answers:
            self.counters.add("informs_answered")  # first: counted by the time the sender has it
            self.send(m, a)

    def _forget(self, now: float) -> None:
        """Drop stored keys past the window, or the oldest beyond `MAX_KEYS`."""
        stored = self._stored_at
        while stored:
            k, at = next(iter(stored.items()))
            if now - at <= DEDUP_WINDOW_S and len(self._seen) <= MAX_KEYS:
                break
            del stored[k]
            self._seen.pop(k, None)

    def _refused(self, reason: str, source: str, reported: bool) -> None:
        """Counted by the name one machine counts it by (an engine-id discovery is
        usmStatsUnknownEngineIDs: `unknown_engine_id`), logged once per source and reason."""
        self.counters.add(reason)
        if (reason, source) in self._logged or len(self._logged) >= 10_000:
            return
        self._logged.add((reason, source))
        if reason == "unknown_engine_id" and reported:  # the normal first step of a v3 inform
            log.info("traps: engine-id discovery from %s answered with this receiver's engine id", source)
            return
        log.warning("traps: v3 message from %s not taken as an inform: %s (counted as %s; further ones "
                    "from this address are only counted)", source, reason, reason)


def _version(data: bytes) -> int | None:
    try:
        _t, pos, _e = ber_header(data, 0)
        tag, vs, ve = ber_header(data, pos)
    except ValueError:
        return None
    return data[vs] if tag == 0x02 and ve - vs == 1 else None
