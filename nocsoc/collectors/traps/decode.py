"""Decoding and authenticating SNMP trap datagrams with pysnmp's engine, one datagram at a time.

Why pysnmp's engine and not a hand-written BER decoder: v3 USM (key localisation, HMAC,
AES/DES, time windows) is exactly the code a collector must not get subtly wrong. The engine is
driven without its own transport: the receiver reads the socket itself (to drop unknown sources
before any decoding, and to count every outcome per datagram) and hands each datagram to
`message_dispatcher.receive_message`. Why a datagram was refused is read from the engine's own
RFC counters (snmpInBadCommunityNames, usmStatsWrongDigests, ...): pysnmp drops refused messages
silently, and those counters are what it increments on each path.

Not thread-safe: one decoder per receiving thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyasn1.type import univ
from pysnmp.carrier.asyncio.dgram import udp
from pysnmp.entity import config as snmp_config
from pysnmp.entity import engine as snmp_engine
from pysnmp.entity.rfc3413 import ntfrcv
from pysnmp.proto import rfc1902
from pysnmp.proto.api import v2c

from nocsoc.collectors.traps.config import TrapsConfig, TrapUserConfig
from nocsoc.secrets import resolve_secret

log = logging.getLogger(__name__)

SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
SNMP_TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0"
SNMP_TRAP_ADDRESS = "1.3.6.1.6.3.18.1.3.0"
# RFC 3584 puts the v1 community into the converted varbinds: it is a secret, never kept
SNMP_TRAP_COMMUNITY = "1.3.6.1.6.3.18.1.4.0"

_AUTH = {
    "MD5": snmp_config.USM_AUTH_HMAC96_MD5, "SHA": snmp_config.USM_AUTH_HMAC96_SHA,
    "SHA-224": snmp_config.USM_AUTH_HMAC128_SHA224, "SHA-256": snmp_config.USM_AUTH_HMAC192_SHA256,
    "SHA-384": snmp_config.USM_AUTH_HMAC256_SHA384, "SHA-512": snmp_config.USM_AUTH_HMAC384_SHA512,
}
_PRIV = {
    "DES": snmp_config.USM_PRIV_CBC56_DES, "AES-128": snmp_config.USM_PRIV_CFB128_AES,
    "AES-192": snmp_config.USM_PRIV_CFB192_AES, "AES-256": snmp_config.USM_PRIV_CFB256_AES,
}

# outcome -> the engine counters whose increase means it (first match wins)
_REFUSALS: tuple[tuple[str, str, str], ...] = (
    ("malformed", "__SNMPv2-MIB", "snmpInASNParseErrs"),
    ("malformed", "__SNMPv2-MIB", "snmpInBadVersions"),
    ("bad_community", "__SNMPv2-MIB", "snmpInBadCommunityNames"),
    ("bad_community", "__SNMPv2-MIB", "snmpInBadCommunityUses"),
    ("unknown_engine_id", "__SNMP-USER-BASED-SM-MIB", "usmStatsUnknownEngineIDs"),
    ("unknown_user", "__SNMP-USER-BASED-SM-MIB", "usmStatsUnknownUserNames"),
    ("wrong_digest", "__SNMP-USER-BASED-SM-MIB", "usmStatsWrongDigests"),
    ("decrypt_errors", "__SNMP-USER-BASED-SM-MIB", "usmStatsDecryptionErrors"),
    ("not_in_time_window", "__SNMP-USER-BASED-SM-MIB", "usmStatsNotInTimeWindows"),
    ("unsupported_sec_level", "__SNMP-USER-BASED-SM-MIB", "usmStatsUnsupportedSecLevels"),
    ("malformed", "__SNMP-MPD-MIB", "snmpInvalidMsgs"),
    ("malformed", "__SNMP-MPD-MIB", "snmpUnknownSecurityModels"),
    ("refused_other", "__SNMP-MPD-MIB", "snmpUnknownPDUHandlers"),
)
OUTCOMES = ("trap", "malformed", "bad_community", "unknown_engine_id", "unknown_user",
            "wrong_digest", "decrypt_errors", "not_in_time_window", "unsupported_sec_level",
            "refused_other")

Varbind = tuple[str, str, Any]  # (oid, ASN.1 type name, JSON-friendly value)


@dataclass
class RawTrap:
    """An authenticated trap or inform as the engine delivered it (v1 already in v2 form)."""

    version: str  # "1" | "2c" | "3"
    security_name: str  # community entry name (never the community) or USM user
    varbinds: list[Varbind] = field(default_factory=list)
    inform: bool = False

    def value(self, oid: str) -> Any:
        for o, _t, v in self.varbinds:
            if o == oid:
                return v
        return None

    @property
    def trap_oid(self) -> str:
        v = self.value(SNMP_TRAP_OID)
        return str(v) if v is not None else ""

    @property
    def uptime_s(self) -> float | None:
        v = self.value(SYS_UPTIME)
        return v / 100.0 if isinstance(v, int) else None


@dataclass
class Decoded:
    outcome: str  # one of OUTCOMES
    trap: RawTrap | None = None
    detail: str = ""


def to_json_value(v: object) -> Any:
    """A varbind value in a form JSON and people can read: integers as int, OIDs dotted,
    IpAddress dotted quad, text as text, other octets as 0x-hex."""
    tag_set = getattr(v, "tagSet", None)
    if tag_set is not None and tag_set == rfc1902.IpAddress.tagSet and isinstance(v, univ.OctetString):
        return ".".join(str(b) for b in v.asOctets())  # v1's IpAddress class is another type
    if isinstance(v, univ.Integer):  # Integer32, Counter, Gauge, TimeTicks, Unsigned32
        return int(v)
    if isinstance(v, univ.ObjectIdentifier):
        return str(v)
    if isinstance(v, univ.OctetString):
        raw = v.asOctets()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return "0x" + raw.hex()
        # text when it is text (line breaks and tabs included); binary (MACs, engine ids) as hex
        return text if text.replace("\n", "").replace("\r", "").replace("\t", "").isprintable() \
            else "0x" + raw.hex()
    if isinstance(v, univ.Null):
        return None
    return v.prettyPrint() if hasattr(v, "prettyPrint") else str(v)


class _Transport:
    """What the engine asks of a transport dispatcher while processing one message: timer
    figures (USM time windows, cache expiry) and sending an inform's response."""

    RESOLUTION_S = 0.5

    def __init__(self, send: Callable[[bytes, tuple[str, int]], None]) -> None:
        self.send = send
        self.ticks = 0

    def get_timer_resolution(self) -> float:
        return self.RESOLUTION_S

    def get_timer_ticks(self) -> int:
        return self.ticks

    def send_message(self, message: bytes, _domain: object, address: tuple[str, int]) -> None:
        self.send(bytes(message), (str(address[0]), int(address[1])))


class TrapDecoder:
    def __init__(self, config: TrapsConfig, base_dir: Path | None = None,
                 send: Callable[[bytes, tuple[str, int]], None] | None = None) -> None:
        self.engine = snmp_engine.SnmpEngine()
        self._transport = _Transport(send or (lambda _m, _a: None))
        self.engine.transport_dispatcher = self._transport
        for i, ref in enumerate(config.communities):
            # the entry's name, not the community, is what events and logs show
            snmp_config.add_v1_system(self.engine, f"community-{i + 1}",
                                      resolve_secret(ref, base_dir, f"traps.communities[{i}]"))
        for user in config.users:
            self._add_user(user, base_dir)
        self._current: list[RawTrap] = []
        self._request: dict[str, Any] = {}
        ntfrcv.NotificationReceiver(self.engine, self._on_notification)
        self.engine.observer.register_observer(self._on_request, "rfc3412.receiveMessage:request")
        builder = self.engine.get_mib_builder()
        self._counters = [(name, builder.import_symbols(mib, sym)[0]) for name, mib, sym in _REFUSALS]
        self._last_tick = time.monotonic()

    def _add_user(self, user: TrapUserConfig, base_dir: Path | None) -> None:
        what = f"traps.users[{user.user}]"
        auth_key = (resolve_secret(user.auth_password, base_dir, f"{what}.auth_password")
                    if user.auth_password else None)
        priv_key = (resolve_secret(user.priv_password, base_dir, f"{what}.priv_password")
                    if user.priv_password else None)
        kwargs: dict[str, Any] = {}
        if user.auth_protocol:
            kwargs.update(authProtocol=_AUTH[user.auth_protocol], authKey=auth_key)
        if user.priv_protocol:
            kwargs.update(privProtocol=_PRIV[user.priv_protocol], privKey=priv_key)
        # one entry per sender engine (traps), plus the local engine's (informs)
        for engine_id in [*user.engine_ids, None]:
            extra = {} if engine_id is None else {
                "securityEngineId": v2c.OctetString(hexValue=engine_id)}
            snmp_config.add_v3_user(self.engine, user.user, **kwargs, **extra)

    def _on_request(self, _engine: object, _point: str, variables: dict[str, Any], _ctx: object) -> None:
        self._request = variables

    def _on_notification(self, _engine: object, _state: object, _ctx_engine: object, _ctx_name: object,
                         varbinds: Iterable[tuple[Any, Any]], _cb_ctx: object) -> None:
        req = self._request
        model = int(req.get("messageProcessingModel", 1))
        pdu = req.get("pdu")
        inform = pdu is not None and pdu.tagSet == v2c.InformRequestPDU.tagSet
        vbs = [(str(o), type(v).__name__, to_json_value(v)) for o, v in varbinds
               if str(o) != SNMP_TRAP_COMMUNITY]
        self._current.append(RawTrap({0: "1", 1: "2c", 3: "3"}.get(model, str(model)),
                                     str(req.get("securityName", "")), vbs, inform))

    def last_request_id(self) -> int | None:
        """The request-id of the PDU of the last message decoded, as the sender set it for v3 (an
        inform's copies share it); for v1/v2c pysnmp has replaced it with its own unique number."""
        pdu = self._request.get("pdu")
        if pdu is None:
            return None
        try:
            return int(v2c.apiPDU.get_request_id(pdu))
        except Exception:  # a PDU without one: no key
            return None

    def _tick(self) -> None:
        """The engine's periodic work (cache and USM timeline expiry), driven by the receiver."""
        now = time.monotonic()
        if now - self._last_tick < _Transport.RESOLUTION_S:
            return
        self._last_tick = now
        self._transport.ticks += 1
        e = self.engine
        e.message_dispatcher.receive_timer_tick(e, time.time())
        for mp in e.message_processing_subsystems.values():
            mp.receive_timer_tick(e, time.time())
        for sm in e.security_models.values():
            sm.receive_timer_tick(e, time.time())

    def decode(self, data: bytes, source: tuple[str, int]) -> Decoded:
        """One datagram -> a trap, or the reason it was refused. Never raises."""
        self._tick()
        before = [int(sym.syntax) for _n, sym in self._counters]
        self._current = []
        self._request = {}
        try:
            self.engine.message_dispatcher.receive_message(self.engine, udp.DOMAIN_NAME, source, data)
        except Exception as exc:  # pysnmp/pyasn1 raise many types on hostile input: all malformed
            return Decoded("malformed", detail=f"{type(exc).__name__}: {exc}"[:200])
        if self._current:
            return Decoded("trap", self._current[0])
        for (name, sym), old in zip(self._counters, before, strict=True):
            if int(sym.syntax) != old:
                return Decoded(name)
        return Decoded("refused_other", detail="the engine dropped the message")
