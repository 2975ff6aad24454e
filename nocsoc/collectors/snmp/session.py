"""One SNMP conversation with one device: credentials from its profile, GET and multi-column GETBULK.

pysnmp's `bulk_walk_cmd` walks one subtree per request and yields RequestTimedOut forever when a
device stops answering, so the table walk here is our own GETBULK loop: every request carries
the next OID of each still-open column (several columns per request), the reply is split by
position, and a column closes when it leaves its subtree. Replies are capped at
`max_varbinds` (agents such as snmpsim send at most 64), so max-repetitions shrinks as columns
are added instead of letting the agent truncate.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, InitVar, dataclass, field
from pathlib import Path
from typing import Any

from pyasn1.error import PyAsn1Error
from pyasn1.type import univ
from pysnmp.entity.rfc3413 import cmdgen
from pysnmp.error import PySnmpError
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
)
from pysnmp.hlapi.v3arch.asyncio import auth as _auth
from pysnmp.hlapi.v3arch.asyncio.cmdgen import LCD
from pysnmp.proto import errind
from pysnmp.proto.rfc1902 import IpAddress
from pysnmp.proto.rfc1905 import EndOfMibView, NoSuchInstance, NoSuchObject

from nocsoc.collectors.snmp import v2c
from nocsoc.collectors.snmp.v2c import VarBind
from nocsoc.inventory.model import SnmpProfile

Index = tuple[int, ...]
Value = int | bytes | str
Column = dict[Index, Value]
RowTime = tuple[float, float | None]  # (local wall clock, agent sysUpTime in seconds)

_UPTIME_PREFIX = (1, 3, 6, 1, 2, 1, 1, 3)  # GETNEXT of this is sysUpTime.0
_UPTIME_INSTANCE = (*_UPTIME_PREFIX, 0)

AUTH_PROTOCOLS = {
    "SHA": _auth.USM_AUTH_HMAC96_SHA,
    "SHA-256": _auth.USM_AUTH_HMAC192_SHA256,
    "SHA-512": _auth.USM_AUTH_HMAC384_SHA512,
}
PRIV_PROTOCOLS = {
    "AES-128": _auth.USM_PRIV_CFB128_AES,
    "AES-256": _auth.USM_PRIV_CFB256_AES,
}

# Error indications that mean "the credentials are wrong", not "the device is down".
_AUTH_ERRORS = (
    errind.WrongDigest,
    errind.UnknownUserName,
    errind.DecryptionError,
    errind.AuthenticationError,
    errind.UnknownSecurityName,
)


class SnmpError(Exception):
    """An SNMP request that failed, naming the device and what to check."""

    kind = "error"


class SnmpTimeout(SnmpError):
    kind = "timeout"


class SnmpAuthError(SnmpError):
    kind = "auth"


class SnmpTooBig(SnmpError):
    """The agent answered tooBig(1): the reply would not fit its message size."""


class SnmpMalformed(SnmpError):
    """Replies that are not valid SNMP (garbage, truncated, unknown value types)."""

    kind = "malformed"


class SnmpConfigError(SnmpError):
    """The device cannot be polled as configured (unknown profile, unresolvable secret): a
    configuration problem to fix, never evidence that the device is down."""

    kind = "config"


@dataclass
class SessionStats:
    requests: int = 0
    varbinds: int = 0
    timeouts: int = 0
    truncated: int = 0  # columns stopped at MAX_ROWS
    too_big: int = 0  # GETBULKs answered tooBig, asked again for fewer rows


# A column longer than this is an agent looping (no real table has a million rows per column;
# the largest here, a 1,000-ONU OLT's, has tens of thousands): stop it, count it.
MAX_ROWS = 200_000


@dataclass
class Credentials:
    """Resolved secrets of a profile. Never logged, never in a repr.

    `engine_key` picks the SnmpEngine: pysnmp keeps one USM user table per engine keyed by user
    name, so two v3 profiles with the same user and different passwords on one engine overwrite
    each other (every request then fails with WrongDigest). Each v3 profile gets its own engine;
    all v2c communities share one.
    """

    auth: CommunityData | UsmUserData = field(repr=False)
    engine_key: str = "v2c"
    community: str | None = field(default=None, repr=False)


class EnginePool:
    """The SnmpEngines of one event loop, by `Credentials.engine_key`.

    `received[(address, port)]` is the wall-clock time the last response from that agent was
    decoded, taken inside pysnmp's receive path (an observer): the time after `await` would also
    count the event loop's queue, which under load adds tens of ms that differ between the two
    readings of a rate and skew it by percents.
    """

    def __init__(self) -> None:
        self._engines: dict[str, SnmpEngine] = {}
        self.received: dict[tuple[str, int], float] = {}

    def _on_response(self, _engine: Any, _point: str, variables: dict[str, Any], _ctx: Any) -> None:
        addr = variables.get("transportAddress")
        if addr is not None:
            self.received[(str(addr[0]), int(addr[1]))] = time.time()

    def get(self, key: str) -> SnmpEngine:
        engine = self._engines.get(key)
        if engine is None:
            engine = self._engines[key] = SnmpEngine()
            engine.observer.register_observer(self._on_response, "rfc3412.receiveMessage:response")
        return engine

    def close(self) -> None:
        for engine in self._engines.values():
            engine.close_dispatcher()
        self._engines.clear()


def build_credentials(profile: SnmpProfile, resolve: Callable[[str], str] | None = None,
                      base_dir: Path | None = None) -> Credentials:
    """pysnmp auth data for a profile, with its `env:`/`file:` secret references resolved
    (relative `file:` paths from `base_dir`, the directory of nocsoc.yaml, like every relative
    path of the config; else the working directory)."""
    if resolve is None:
        from nocsoc.secrets import resolve_secret

        resolve = functools.partial(resolve_secret, base_dir=base_dir)
    if profile.version == "2c":
        assert profile.community is not None  # the model guarantees it
        community = resolve(profile.community)
        return Credentials(CommunityData(community, mpModel=1), community=community)
    assert profile.user is not None
    kwargs: dict[str, Any] = {}
    if profile.auth_protocol and profile.auth_password:
        kwargs["authKey"] = resolve(profile.auth_password)
        kwargs["authProtocol"] = AUTH_PROTOCOLS[profile.auth_protocol]
    if profile.priv_protocol and profile.priv_password:
        kwargs["privKey"] = resolve(profile.priv_password)
        kwargs["privProtocol"] = PRIV_PROTOCOLS[profile.priv_protocol]
    return Credentials(UsmUserData(profile.user, **kwargs), engine_key=f"v3:{profile.name}")


def to_python(value: Any) -> Value | None:
    """A pysnmp value as int, bytes or str (OIDs, IP addresses); None for noSuch*/endOfMibView."""
    if isinstance(value, univ.Integer):  # Integer32, Counter32/64, Gauge32, TimeTicks, Unsigned32
        return int(value)
    if isinstance(value, IpAddress):
        return ".".join(str(b) for b in value.asOctets())
    if isinstance(value, univ.OctetString):
        return bytes(value.asOctets())
    if isinstance(value, univ.ObjectIdentifier):
        return ".".join(str(x) for x in value.asTuple())
    return None  # NoSuchObject, NoSuchInstance, EndOfMibView, Null


# Why not pysnmp's get_cmd/bulk_cmd: they pass every request OID through the MIB view
# (`make_varbinds` -> `resolve_with_mib`, even with lookupMib=False), and with pysmi installed
# each new SnmpEngine first builds pysmi's MIB parser (~2.5 s of CPU). Measured on this machine,
# that was half of the poller's CPU. `_request` is those helpers minus the MIB step: the same
# LCD configuration and command generators, raw (OID, Null) varbinds in and out.
_GET = cmdgen.GetCommandGenerator()
_BULK = cmdgen.BulkCommandGenerator()
_NULL = univ.Null("")


def _callback(
    _engine: Any,
    _handle: Any,
    error_indication: Any,
    error_status: Any,
    error_index: Any,
    var_binds: Any,
    future: asyncio.Future[Any],
) -> None:
    if not future.cancelled():
        future.set_result((error_indication, error_status, error_index, var_binds))


async def _request(
    engine: SnmpEngine,
    auth: CommunityData | UsmUserData,
    target: UdpTransportTarget,
    context: ContextData,
    oids: Sequence[univ.ObjectIdentifier],
    bulk: tuple[int, int] | None,
) -> tuple[Any, Any, Any, Sequence[tuple[Any, Any]]]:
    """One GET (bulk=None) or GETBULK (bulk=(non-repeaters, max-repetitions)); raw varbinds back."""
    addr_name, _params = LCD.configure(engine, auth, target, context.contextName)
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    var_binds = [(oid, _NULL) for oid in oids]
    if bulk is None:
        _GET.send_varbinds(
            engine, addr_name, context.contextEngineId, context.contextName, var_binds, _callback, future
        )
    else:
        _BULK.send_varbinds(
            engine,
            addr_name,
            context.contextEngineId,
            context.contextName,
            bulk[0],
            bulk[1],
            var_binds,
            _callback,
            future,
        )
    result: tuple[Any, Any, Any, Sequence[tuple[Any, Any]]] = await future
    return result


def _oid_tuple(oid: str) -> tuple[int, ...]:
    return tuple(int(x) for x in oid.split("."))


@dataclass(eq=False, repr=False)  # repr=False: the credentials hold keys
class SnmpSession:
    """Requests to one device. `engine` is shared by all devices of a poller (one per event loop);
    `received` (address, port) -> time of the last reply, shared by the poller's sessions."""

    engine: SnmpEngine | None
    device: str
    address: str
    port: int
    profile: SnmpProfile
    credentials: Credentials
    _: KW_ONLY
    max_varbinds: int = 64
    received: InitVar[dict[tuple[str, int], float] | None] = None
    lean_v2c: InitVar[bool] = True
    stats: SessionStats = field(default_factory=SessionStats, init=False)

    def __post_init__(self, received: dict[tuple[str, int], float] | None, lean_v2c: bool) -> None:
        self._received = received if received is not None else {}
        self._key = (self.address, self.port)
        self._target: UdpTransportTarget | None = None
        self._context = ContextData()
        # v2c goes through the lean client (see v2c.py); v3 through pysnmp's USM.
        self.v2c: v2c.V2cClient | None = None
        if self.credentials.community is not None and lean_v2c:
            self.v2c = v2c.V2cClient(self.address, self.port, self.credentials.community,
                                     self.profile.timeout_s, self.profile.retries)

    @property
    def where(self) -> str:
        return f"{self.device} ({self.address}:{self.port}, profile {self.profile.name})"

    async def _transport(self) -> UdpTransportTarget:
        if self._target is None:
            self._target = await UdpTransportTarget.create(
                (self.address, self.port), timeout=self.profile.timeout_s, retries=self.profile.retries
            )
        return self._target

    def _check(self, error_indication: Any, error_status: Any, error_index: Any, what: str) -> None:
        if error_indication:
            if isinstance(error_indication, errind.RequestTimedOut):
                self.stats.timeouts += 1
                raise SnmpTimeout(
                    f"{self.where}: no answer to {what} after {self.profile.retries + 1} tries of "
                    f"{self.profile.timeout_s:g}s"
                )
            if isinstance(error_indication, _AUTH_ERRORS):
                raise SnmpAuthError(
                    f"{self.where}: SNMPv3 authentication failed ({error_indication}): check the user "
                    f"and the auth/priv passwords of profile {self.profile.name}"
                )
            raise SnmpError(f"{self.where}: {what} failed: {error_indication}")
        if error_status and int(error_status) != 0:
            raise (SnmpTooBig if int(error_status) == 1 else SnmpError)(
                f"{self.where}: {what} answered {error_status.prettyPrint()} at varbind {int(error_index)}"
            )

    async def _exchange(
        self, oids: Sequence[tuple[int, ...]], bulk: tuple[int, int] | None, what: str
    ) -> tuple[float, list[VarBind]]:
        """One request; (reply time, [(OID tuple, python value or NO_SUCH_*/END_OF_MIB_VIEW)])."""
        self.stats.requests += 1
        if self.v2c is not None:
            try:
                reply = await self.v2c.request(oids, bulk)
            except v2c.BerError as exc:
                raise SnmpMalformed(f"{self.where}: malformed {what} reply: {exc}") from None
            if reply is None:
                if self.v2c.malformed:
                    raise SnmpMalformed(
                        f"{self.where}: {what}: {self.v2c.malformed} malformed replies (not valid SNMP "
                        f"BER) and no valid answer"
                    )
                self._check(errind.RequestTimedOut(), 0, 0, what)
                raise AssertionError("unreachable")
            t, status, index, vbs = reply
            if status:
                raise (SnmpTooBig if status == 1 else SnmpError)(
                    f"{self.where}: {what} answered {v2c.ERROR_STATUS.get(status, status)} at varbind {index}"
                )
            self.stats.varbinds += len(vbs)
            return t, vbs
        target = await self._transport()
        if self.engine is None:
            raise SnmpError(f"{self.where}: no SNMP engine for this profile (internal error)")
        try:
            ei, es, ex, raw = await _request(
                self.engine,
                self.credentials.auth,
                target,
                self._context,
                [univ.ObjectIdentifier(o) for o in oids],
                bulk,
            )
        except (PyAsn1Error, PySnmpError) as exc:
            # e.g. a v3 password shorter than 8 characters: pysnmp refuses to derive a key.
            raise SnmpError(
                f"{self.where}: pysnmp refused the request or the credentials of profile "
                f"{self.profile.name} ({type(exc).__name__}; SNMPv3 passwords need at least 8 characters)"
            ) from None
        t = self._received.pop(self._key, 0.0) or time.time()
        self._check(ei, es, ex, what)
        self.stats.varbinds += len(raw)
        return t, [(name.asTuple(), _from_pysnmp(value)) for name, value in raw]

    async def get(self, oids: Sequence[str]) -> dict[str, Value]:
        """Values of scalar OIDs; objects the device lacks (noSuchObject/noSuchInstance) are left out."""
        out: dict[str, Value] = {}
        step = max(1, self.max_varbinds)
        for start in range(0, len(oids), step):
            chunk = oids[start : start + step]
            _t, vbs = await self._exchange([_oid_tuple(o) for o in chunk], None, "GET")
            for oid, (_name, value) in zip(chunk, vbs, strict=False):
                if value is not None and value not in _NO_VALUE:
                    out[oid] = value
        return out

    async def bulk_columns(
        self,
        columns: Sequence[str],
        max_repetitions: int | None = None,
        times: dict[str, dict[Index, RowTime]] | None = None,
        clock: bool = False,
    ) -> dict[str, Column]:
        """Walk table columns together: {column OID: {row index: value}}; absent columns are empty.

        `times`, when given as {column: {}}, receives for those columns the time of the reply
        that carried each row: (local wall clock, agent clock or None). With `clock`, every
        request also asks for sysUpTime as a non-repeater, so each reply carries the agent's own
        clock at the moment it read the counters: rates divided by that are immune to the
        poller's own delays (event-loop queueing, GC pauses, CPU contention), which on a busy
        2-core machine reach ~90 ms.
        """
        result: dict[str, Column] = {c: {} for c in columns}
        prefixes = {c: _oid_tuple(c) for c in columns}
        position: dict[str, tuple[int, ...]] = dict(prefixes)
        active = list(dict.fromkeys(columns))
        max_rep = max_repetitions or self.profile.max_repetitions
        rows = dict.fromkeys(columns, 0)
        nonrep = 1 if clock else 0
        clock_req = [_UPTIME_PREFIX] if clock else []
        while active:
            n = len(active)
            reps = max(1, min(max_rep, (self.max_varbinds - nonrep) // n))
            try:
                local, vbs = await self._exchange(
                    clock_req + [position[c] for c in active], (nonrep, reps), "GETBULK"
                )
            except SnmpTooBig:
                # Large values (VLAN port bitmaps, long descriptions) overflow the agent's message
                # size: ask for fewer rows at a time, down to one, for the rest of this walk.
                if reps == 1 and n == 1:
                    raise
                self.stats.too_big += 1
                if reps > 1:
                    max_rep = max(1, reps // 2)
                else:  # one row of each of n columns is still too big: walk the columns one by one
                    for c in list(active):
                        part = await self.bulk_columns([c], 1)
                        result[c].update(part[c])
                    break
                continue
            agent: float | None = None
            if nonrep and vbs:
                name, value = vbs[0]
                if name == _UPTIME_INSTANCE and isinstance(value, int):
                    agent = value / 100
                vbs = vbs[1:]
            now = (local, agent)
            if not vbs:
                break
            closed: set[str] = set()
            progressed = False
            for i, (oid, value) in enumerate(vbs):
                col = active[i % n]
                if col in closed:
                    continue
                prefix = prefixes[col]
                plen = len(prefix)
                if (
                    value is v2c.END_OF_MIB_VIEW
                    or oid[:plen] != prefix
                    or len(oid) == plen
                    or oid <= position[col]
                ):
                    closed.add(col)  # left the column (or a non-increasing OID: never loop)
                    continue
                index = oid[plen:]
                position[col] = oid
                progressed = True
                rows[col] += 1
                if rows[col] > MAX_ROWS:  # an agent inventing rows forever: stop the column
                    closed.add(col)
                    self.stats.truncated += 1
                    continue
                if value is None or value in _NO_VALUE:
                    continue
                result[col][index] = value
                if times is not None and col in times:
                    times[col][index] = now
            active = [c for c in active if c not in closed]
            if not progressed:
                break
        return result

    def close(self) -> None:
        if self.v2c is not None:
            self.v2c.close()


_NO_VALUE = (v2c.NO_SUCH_OBJECT, v2c.NO_SUCH_INSTANCE, v2c.END_OF_MIB_VIEW)


def _from_pysnmp(value: Any) -> Any:
    """A pysnmp value in the v2c module's terms (python value or its no-value markers)."""
    if isinstance(value, EndOfMibView):
        return v2c.END_OF_MIB_VIEW
    if isinstance(value, NoSuchInstance):
        return v2c.NO_SUCH_INSTANCE
    if isinstance(value, NoSuchObject):
        return v2c.NO_SUCH_OBJECT
    return to_python(value)
