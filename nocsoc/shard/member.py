"""One poller's membership in a shared inventory: heartbeats, the live members, device leases.

Two JetStream key-value buckets (nats-py's KV API; nats-server 2.9 has no per-key TTL, so each
bucket's TTL is its stream's max age):

- **members** (TTL `member_ttl_s`): each poller puts its own key every `heartbeat_s`. A key
  not rewritten within the TTL is removed by the server, so the keys of the bucket are the live
  pollers. A poller that stops cleanly purges its key: the others see it gone at their next
  read, not a TTL later. Every poller reads the keys every heartbeat and computes, alone, which
  devices it owns (rendezvous hashing over the live members: nocsoc.shard.rendezvous).
  The keys are read as the bucket stream's subjects (one stream-info request answered by the
  stream's leader), not with the KV API's `keys()`: that creates an ephemeral consumer per call,
  and with one node of a 3-node cluster dead, 1 call in 4 timed out for minutes (measured on
  nats-server 2.9.10), and during the leader election one call answered "no keys".
- **leases** (TTL `lease_ttl_s`, longer than any interval): one key per device whose value names
  the poller and the cycle (its start on the wall-clock grid, nocsoc.shard.slots) that poller
  polled last. Before polling a cycle the owner compares-and-sets the key from the revision it
  read to its own cycle (JetStream's expected-last-subject-sequence): of two pollers that both
  believe they own a device (their views of the membership differ for a heartbeat, or one has
  just taken over) exactly one write succeeds, and a lease that already names this cycle is
  never taken again. So a device is polled at most once per cycle whatever the membership
  views; the membership only decides who tries.

Fail closed: a poller that cannot reach the bus owns nothing it can lease and polls nothing; its
heartbeat lapses and the pollers that still reach the bus take its devices over.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import socket
import time
from collections.abc import Callable, Iterable
from typing import Any

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.js import api
from nats.js.kv import KeyValue

from nocsoc.aio import cancel_and_wait
from nocsoc.bus.permissions import denied, permission_line
from nocsoc.component import Counters
from nocsoc.schema import SNMP_SHARD
from nocsoc.shard import rendezvous
from nocsoc.shard.config import ShardConfig
from nocsoc.shard.slots import slot_id

log = logging.getLogger(__name__)

_KEY_OK = re.compile(r"^[-/_=a-zA-Z0-9]+(\.[-/_=a-zA-Z0-9]+)*$")  # what a KV key may be
# Errors of a bus that is down, electing a leader or slow: retried within the cycle's budget.
TRANSIENT: tuple[type[BaseException], ...] = (nats.errors.Error, asyncio.TimeoutError, OSError)


def default_member_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def member_key(member_id: str) -> str:
    """A member's key: its id with what a KV key cannot hold replaced."""
    key = re.sub(r"[^-_=a-zA-Z0-9]", "_", member_id)
    return key or "_"


def lease_key(device: str) -> str:
    """A device's lease key: `n.<name>` when the name is a valid key, else `h.<hex of UTF-8>`
    (the two prefixes keep the two forms from ever colliding)."""
    return f"n.{device}" if _KEY_OK.match(device) else f"h.{device.encode().hex()}"


class ShardMember:
    """This poller's membership and leases (see the module docstring). Lives in the poller's
    event loop: `start()`/`stop()` there; `owns()` is a lookup, `claim()` a bus round trip."""

    def __init__(self, config: ShardConfig, servers: list[str], member_id: str | None = None,
                 clock: Callable[[], float] = time.time,
                 connect_options: dict[str, Any] | None = None) -> None:
        """`connect_options`: credentials and TLS for nats-py (`nocsoc.bus.security`, from
        bus.auth/bus.tls: the pollers share the bus's NATS)."""
        if not servers:
            raise ValueError("sharded polling needs the NATS servers (bus.url or snmp.shard.url)")
        self.config = config
        self.servers = servers
        self.connect_options = connect_options or {}
        self.id = member_key(member_id or config.poller_id or default_member_id())
        self.clock = clock
        self.counters = Counters(SNMP_SHARD, {"poller": self.id})
        self.members: tuple[str, ...] = ()
        self._keys: frozenset[str] = frozenset()
        self._mine: frozenset[str] = frozenset()
        self._taken: frozenset[str] = frozenset()
        # lease key -> (revision, cycle) this poller wrote last
        self._revisions: dict[str, tuple[int, int]] = {}
        self._denied: set[str] = set()  # permission violations said (once each)
        self._nc: Client | None = None
        self._connecting: asyncio.Task[Client] | None = None
        self._js: Any = None
        self._members_kv: KeyValue | None = None
        self._leases_kv: KeyValue | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._changed: asyncio.Event | None = None
        self._outage_logged = False
        self._lease_outage = False
        self._conflict_logged = False
        self._member_rev: int | None = None
        self.started = self.clock()

    # ---- what the poller asks ------------------------------------------------------------
    def owns(self, key: str) -> bool:
        """True when this poller owns the device in its current view of the membership."""
        return key in self._mine

    @property
    def assigned(self) -> frozenset[str]:
        return self._mine

    def taken_over(self, key: str) -> bool:
        """True when the last membership change gave this poller the device because its owner
        left or died (not this poller's own start, not a reload)."""
        return key in self._taken

    @property
    def changed(self) -> asyncio.Event:
        """Set when the membership (and so the assignment) changes; a fresh event after each."""
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed

    def set_keys(self, keys: Iterable[str]) -> None:
        """The devices of the inventory (at start and on reload)."""
        self._keys = frozenset(keys)
        self._reassign(self.members)

    # ---- lifecycle -------------------------------------------------------------------------
    async def start(self, keys: Iterable[str] = ()) -> None:
        """Begin heartbeating in the background; never raises for an unreachable bus (the
        first heartbeats are retried, and until one succeeds this poller owns nothing)."""
        self.set_keys(keys)
        self._stopping = False
        _ = self.changed
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"shard:{self.id}")

    async def stop(self, leave: bool = True) -> None:
        """Stop heartbeating; with `leave`, purge this poller's key so that the others take its
        devices over at their next read instead of a TTL later."""
        self._stopping = True
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None
        if leave and self._js is not None:
            # a purge, not a KV delete: a delete marker would still be a subject of the stream
            with contextlib.suppress(*TRANSIENT):
                await asyncio.wait_for(self._js.purge_stream(
                    f"KV_{self.config.members_bucket}", subject=self._member_subject(self.id)),
                    self.config.request_timeout_s)
        if self._connecting is not None:
            await cancel_and_wait(self._connecting)
        self._connecting = None
        if self._nc is not None:
            with contextlib.suppress(*TRANSIENT):
                await asyncio.wait_for(self._nc.close(), self.config.request_timeout_s)
            self._nc = None
        self._members_kv = self._leases_kv = self._js = None
        self._reassign(())

    # ---- heartbeat and membership ------------------------------------------------------------
    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self.beat()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the bus is down or electing: say it once per outage, retry
                self.counters.add("heartbeat_failures")
                if not self._outage_logged:
                    log.warning("snmp shard %s: heartbeat failed, the last membership stays (the "
                                "leases still decide every poll): %s", self.id, _describe(exc))
                    self._outage_logged = True
            await asyncio.sleep(self.config.heartbeat_s)

    async def beat(self) -> None:
        """One heartbeat: connect if need be, write this poller's key, read the live members."""
        if self._members_kv is None or self._leases_kv is None:
            await self._connect()
        assert self._members_kv is not None
        timeout = self.config.request_timeout_s
        kv = self._members_kv
        me = {"host": socket.gethostname(), "pid": os.getpid(), "started": self.started}
        value = json.dumps({**me, "devices": len(self._mine)}).encode()
        # compare-and-set on our own key: a failure means someone else wrote it (or it expired)
        if self._member_rev is not None:
            try:
                self._member_rev = await asyncio.wait_for(kv.update(self.id, value, last=self._member_rev),
                                                          timeout)
            except nats.js.errors.KeyWrongLastSequenceError:
                self._member_rev = None
                await self._check_own_key(kv, me)
        if self._member_rev is None:
            self._member_rev = await asyncio.wait_for(kv.put(self.id, value), timeout)
        self.counters.add("heartbeats")
        bucket = self.config.members_bucket
        info = await asyncio.wait_for(
            self._js.stream_info(f"KV_{bucket}", subjects_filter=self._member_subject(">")), timeout)
        keys = [s.removeprefix(self._member_subject("")) for s in (info.state.subjects or {})]
        if self.id not in keys:  # our own put just landed: a read without it is not the truth
            raise nats.errors.Error(f"membership read without this poller's own heartbeat: {keys}")
        if self._outage_logged:
            log.warning("snmp shard %s: bus answers again", self.id)
            self._outage_logged = False
        self._reassign(tuple(sorted(set(keys))))

    async def _check_own_key(self, kv: KeyValue, me: dict[str, Any]) -> None:
        """Our key was rewritten since our last heartbeat: by another process with the same
        poller id (two pollers would then share one share of the devices), or it expired."""
        try:
            entry = await asyncio.wait_for(kv.get(self.id), self.config.request_timeout_s)
        except nats.js.errors.KeyNotFoundError:
            return  # expired during an outage: the next put recreates it
        try:
            other = json.loads(entry.value or b"")
            theirs = {k: other.get(k) for k in me}
        except (ValueError, AttributeError):
            theirs = {}
        if theirs == me:
            return  # our own write whose answer was lost
        self.counters.add("id_conflicts")
        if not self._conflict_logged:
            log.error("snmp shard: poller id %r is used by another poller too (%s): give each poller "
                      "its own snmp.shard.poller_id, or leave it unset", self.id,
                      json.dumps(theirs, ensure_ascii=True))
            self._conflict_logged = True

    def _reassign(self, members: tuple[str, ...]) -> None:
        before_members, before = self.members, self._mine
        mine = frozenset(rendezvous.owned_by(self.id, self._keys, members))
        if members != before_members:
            if before_members:
                self.counters.add("membership_changes")
            left = set(before_members) - set(members)
            self._taken = frozenset()
            if left and self.id in members:
                # devices gained from a poller that left (a join only ever takes devices away)
                was = rendezvous.assign(mine - before, before_members)
                self._taken = frozenset(k for k in mine - before if was.get(k) in left)
                self.counters.add("takeovers", len(self._taken))
            log.info("snmp shard %s: %d live poller(s) %s; this one owns %d of %d devices", self.id,
                     len(members), ", ".join(members), len(mine), len(self._keys))
        self.members, self._mine = members, mine
        self.counters.set("members", len(members))
        self.counters.set("assigned_devices", len(mine))
        if (members != before_members or mine != before) and self._changed is not None:
            self._changed.set()
            self._changed = asyncio.Event()

    def _member_subject(self, key: str) -> str:
        return f"$KV.{self.config.members_bucket}.{key}"

    async def _connect(self) -> None:
        if self._nc is None:
            # nats-py retries a first connection forever when reconnects are unlimited: let it
            # retry in the background and report "not connected" to each heartbeat meanwhile
            if self._connecting is None:
                self._connecting = asyncio.get_running_loop().create_task(self._open())
            done, _ = await asyncio.wait({self._connecting}, timeout=self.config.request_timeout_s)
            if not done:
                raise nats.errors.NoServersError
            self._nc = self._connecting.result()
        js = self._js = self._nc.jetstream(timeout=self.config.request_timeout_s)
        self._members_kv = await self._bucket(js, self.config.members_bucket, self.config.member_ttl_s,
                                              "nocsoc SNMP pollers: one key per live poller")
        self._leases_kv = await self._bucket(js, self.config.leases_bucket, self.config.lease_ttl_s,
                                             "nocsoc SNMP leases: the poller and cycle of each device")

    async def _open(self) -> Client:
        return await nats.connect(
                servers=self.servers,
                name=f"nocsoc-snmp-{self.id}",
                connect_timeout=self.config.request_timeout_s,
                allow_reconnect=True,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,
                error_cb=self._on_error,
                disconnected_cb=self._on_event,
                reconnected_cb=self._on_event,
                **self.connect_options,
            )

    async def _bucket(self, js: Any, name: str, ttl: float, description: str) -> KeyValue:
        """Open the bucket, creating it when it does not exist. An existing bucket is used as
        it is: its TTL is the one it was created with (said when it differs from the config)."""
        try:
            kv: KeyValue = await js.key_value(name)
        except nats.js.errors.BucketNotFoundError:
            storage = api.StorageType.FILE if self.config.storage == "file" else api.StorageType.MEMORY
            try:
                kv = await js.create_key_value(api.KeyValueConfig(
                    bucket=name, description=description, history=1, ttl=ttl,
                    replicas=self.config.replicas, storage=storage))
                return kv
            except nats.js.errors.BadRequestError:  # created meanwhile by another poller
                kv = await js.key_value(name)
        status = await kv.status()
        if status.ttl is not None and abs(status.ttl - ttl) > 0.001:
            log.warning("snmp shard: bucket %s exists with a TTL of %gs, not the configured %gs; "
                        "delete it (`nats kv del %s`) to apply the new TTL", name, status.ttl, ttl, name)
        return kv

    async def _on_error(self, exc: Exception) -> None:
        if denied(exc, self._denied):  # the request times out: say why, once per subject
            log.error("snmp shard %s: %s", self.id, permission_line(str(exc)))
            return
        log.debug("snmp shard %s: nats: %s", self.id, _describe(exc))

    async def _on_event(self) -> None:
        log.debug("snmp shard %s: nats connection %s", self.id,
                  "up" if self._nc is not None and self._nc.is_connected else "down")

    # ---- leases ------------------------------------------------------------------------------
    async def claim(self, device: str, slot_start: float, until: float) -> bool:
        """Lease the device's cycle that starts at `slot_start` for this poller.

        True: this poller holds it and polls it. False: another poller holds this cycle (or a
        later one), or the bus did not answer before `until` (wall clock). A write that times
        out but did land is found on the retry (the lease names this poller and this cycle)."""
        key = lease_key(device)
        cycle = slot_id(slot_start)
        value = json.dumps({"poller": self.id, "cycle": cycle}).encode()
        delay = 0.05
        wrote = [False]  # a write was sent in this claim (its answer may have been lost)
        while True:
            try:
                won = await self._claim_once(key, cycle, value, wrote)
            except TRANSIENT as exc:
                remaining = until - self.clock()
                if remaining <= 0:
                    self.counters.add("lease_errors")
                    # once per outage: a bus down for an hour must not log a line per device cycle
                    (log.debug if self._lease_outage else log.warning)(
                        "snmp shard %s: cycle of %s not polled: the leases bucket did not answer in "
                        "time (%s)", self.id, device, _describe(exc))
                    self._lease_outage = True
                    return False
                await asyncio.sleep(min(delay, remaining))
                delay = min(delay * 2, 1.0)
                continue
            self.counters.add("leases_won" if won else "leases_lost")
            if self._lease_outage:
                log.warning("snmp shard %s: the leases bucket answers again", self.id)
                self._lease_outage = False
            return won

    async def _claim_once(self, key: str, cycle: int, value: bytes, wrote: list[bool]) -> bool:
        kv = self._leases_kv
        if kv is None:
            raise nats.errors.ConnectionClosedError
        timeout = self.config.request_timeout_s
        mine = self._revisions.get(key)
        if mine is not None and not wrote[0]:
            rev, held_cycle = mine
            if held_cycle >= cycle:
                return False  # this poller has this cycle (or a later one) already
            # the common case, this poller held the previous cycle: one round trip
            try:
                wrote[0] = True
                self._revisions[key] = (await asyncio.wait_for(kv.update(key, value, last=rev), timeout),
                                        cycle)
                return True
            except nats.js.errors.KeyWrongLastSequenceError:
                self._revisions.pop(key, None)
        try:
            entry = await asyncio.wait_for(kv.get(key), timeout)
        except nats.js.errors.KeyNotFoundError:
            try:
                wrote[0] = True
                self._revisions[key] = (await asyncio.wait_for(kv.create(key, value), timeout), cycle)
                return True
            except nats.js.errors.KeyWrongLastSequenceError:
                return False  # another poller created it for this cycle a moment ago
        held = _lease(entry.value)
        if held is None:
            log.warning("snmp shard %s: lease %s holds %r, not a nocsoc lease: taken over", self.id, key,
                        (entry.value or b"")[:80])
        if held is not None and held[1] >= cycle:
            if held == (self.id, cycle) and wrote[0]:  # our own write, whose answer was lost
                self._revisions[key] = (entry.revision or 0, cycle)
                return True
            return False
        try:
            wrote[0] = True
            rev = await asyncio.wait_for(kv.update(key, value, last=entry.revision), timeout)
            self._revisions[key] = (rev, cycle)
            return True
        except nats.js.errors.KeyWrongLastSequenceError:
            return False


def _lease(value: bytes | None) -> tuple[str, int] | None:
    """(poller, cycle) of a lease value; None for a value this version cannot read (taken over)."""
    try:
        data = json.loads(value or b"")
        return str(data["poller"]), int(data["cycle"])
    except (ValueError, KeyError, TypeError):
        return None


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
