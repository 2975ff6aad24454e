"""The NATS JetStream driver (nats-py against nats-server >= 2.9).

Layout: one stream per partition (`NOCSOC_FLOWS_P003`, subjects `nocsoc.flows.p003.>`), so a
partition's stream sequence is contiguous and "everything up to N is counted" is one number.
Each partition has one durable pull consumer (`flows-p003`, acknowledge-all), recreated from
the committed sequence by whoever takes the partition over: a successor never waits for the
dead owner's messages to time out. A dead-letter stream keeps poison messages. Two key-value
buckets coordinate: `<PREFIX>_LEASES` (members' heartbeats and partition leases; the bucket's
max age is the lease time to live) and `<PREFIX>_STATE` (commit records, compare-and-set).
Publishes carry a message id, so a retry after a lost acknowledgement, or a disk-buffer replay,
is dropped by the stream's duplicate window instead of counted twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

import nats
import nats.aio.client
import nats.errors
import nats.js.errors
from nats.js import api

from nocsoc.bus import natsio
from nocsoc.bus import partition as names
from nocsoc.bus.config import BusConfig
from nocsoc.bus.permissions import denied, permission_line
from nocsoc.bus.security import connect_options
from nocsoc.bus.transport import BusError, BusMessage, LeaseLost, PublishFailed, PublishRefused
from nocsoc.bus.urls import BusUrl

log = logging.getLogger(__name__)

DUPLICATE_WINDOW_S = 600.0

# nats-py reads its socket 32 kB at a time through an asyncio StreamReader of that limit (which
# pauses the socket every 64 kB): a bus message is hundreds of kB, so a fetch of 64 of them was
# ~700 loop iterations per 22 MB. nats-py has no setting for it; its module constant is read at
# each connect and read, so raising it here takes effect for every client of this process (the
# pollers' too: only larger reads). Fetching the bench's messages, best of 4: 51 -> 41 ns a record.
READ_BUFFER_BYTES = 1 << 20
if getattr(nats.aio.client, "DEFAULT_BUFFER_SIZE", READ_BUFFER_BYTES) < READ_BUFFER_BYTES:
    nats.aio.client.DEFAULT_BUFFER_SIZE = READ_BUFFER_BYTES
natsio.install_commands()  # each published payload copied once less (see natsio)
_LIMIT_CODES = {10077, 10078, 10047}  # maximum messages / bytes exceeded, insufficient resources


def connect_failure(exc: BaseException, tls_set: bool = True) -> str:
    """Why a connect failed, in words that point at the setting to fix."""
    text = str(exc).strip() or type(exc).__name__
    low = text.lower()
    if isinstance(exc, TimeoutError):
        return "timed out"
    if "authorization violation" in low or "authentication" in low or "user authentication" in low:
        return f"the server refused the credentials (bus.auth): {text}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        why = exc.verify_message
        if not tls_set:  # nats-py upgrades to TLS with the system's CAs when the server asks
            return f"the server requires TLS, its certificate does not verify: set bus.tls ({why})"
        return f"the server's certificate does not verify (bus.tls.ca_file, server_name): {why}"
    if isinstance(exc, ssl.SSLError):
        if exc.reason in ("SSLV3_ALERT_BAD_CERTIFICATE", "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
                          "TLSV13_ALERT_CERTIFICATE_REQUIRED", "SSLV3_ALERT_HANDSHAKE_FAILURE"):
            return (f"the server refused this client's certificate or its absence "
                    f"(bus.tls.cert_file, key_file): {exc.reason}")
        return f"TLS failed (bus.tls): {exc.reason or text}"
    if "tls" in low or "secure connection" in low:
        return f"TLS (bus.tls): {text}"
    return f"{type(exc).__name__}: {text}"


def _publish_error(subject: str, exc: BaseException) -> PublishFailed:
    """A failed JetStream publish as the publisher counts it: refused at a stream limit, or failed."""
    if isinstance(exc, nats.js.errors.APIError):
        if exc.err_code in _LIMIT_CODES:
            return PublishRefused(f"{subject}: {exc.description}")
        return PublishFailed(f"{subject}: {exc.description}")
    return PublishFailed(f"{subject}: {type(exc).__name__}")


def _ack_failure(subject: str, msg: Any) -> PublishFailed | None:
    """What a JetStream publish acknowledgement says: None (stored), or the failure."""
    if msg.headers and msg.headers.get(api.Header.STATUS) == "503":  # nothing listens: no stream
        return PublishFailed(f"{subject}: NoStreamResponseError")
    try:
        err = json.loads(msg.data).get("error")
    except (ValueError, AttributeError):
        return PublishFailed(f"{subject}: unreadable acknowledgement {bytes(msg.data[:80])!r}")
    if not err:
        return None
    if err.get("err_code") in _LIMIT_CODES:
        return PublishRefused(f"{subject}: {err.get('description', '')}")
    return PublishFailed(f"{subject}: {err.get('description', err)}")


def laid_out(info: Any, sc: api.StreamConfig) -> bool:
    """Whether an existing stream has the configuration `ensure` would give it."""
    have = info.config

    def num(v: Any) -> float:
        return float(v or 0)
    def name(v: Any) -> str:
        return str(getattr(v, "value", v))
    return (sorted(have.subjects or []) == sorted(sc.subjects or [])
            and num(have.max_bytes) == num(sc.max_bytes) and num(have.max_age) == num(sc.max_age)
            and name(have.discard) == name(sc.discard)
            and num(have.num_replicas or 1) == num(sc.num_replicas or 1)
            # 0: the server's default window
            and (not sc.duplicate_window or num(have.duplicate_window) == num(sc.duplicate_window)))


def _telling(exc: BaseException) -> bool:
    """A failure that names a setting to fix (credentials, TLS), not just a socket's fate."""
    return not isinstance(exc, TimeoutError) and not connect_failure(exc).startswith(f"{type(exc).__name__}:")


def _acker(msg: Any) -> Callable[[], Awaitable[None]]:
    """`msg.ack` (an empty publish to its reply subject) holding the client and the subject
    only: the runner keeps a message's acknowledgement until its commit, and a bound `msg.ack`
    kept its payload (hundreds of kB) alive with it: a second of messages held, and memory grown
    and returned to the kernel again at each commit (page faults)."""
    client, reply = msg._client, msg.reply
    if not reply or client is None:
        return cast(Callable[[], Awaitable[None]], msg.ack)  # (raises as nats-py does)

    async def ack() -> None:
        await client.publish(reply)

    return ack


class NatsReader:
    def __init__(self, js: Any, stream: str, durable: str, sub: Any) -> None:
        self.js, self.stream, self.durable, self.sub = js, stream, durable, sub

    async def fetch(self, n: int, timeout: float) -> list[BusMessage]:
        try:
            msgs = await self.sub.fetch(n, timeout=timeout)
        except (nats.errors.TimeoutError, TimeoutError):  # nats-py 2.16 raises either when nothing came
            return []
        out = []
        for m in msgs:
            md = m.metadata
            out.append(BusMessage(md.sequence.stream, m.data, md.num_delivered, _acker(m)))
        return out

    async def pending(self) -> int:
        info = await self.js.consumer_info(self.stream, self.durable)
        return int(info.num_pending or 0) + int(info.num_ack_pending or 0)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.sub.unsubscribe()


class NatsTransport:
    def __init__(self, config: BusConfig, url: BusUrl, client_name: str) -> None:
        self.config = config
        self.url = url
        self.client_name = client_name
        self.nc: Any = None
        self.js: Any = None
        self._leases: Any = None
        self._state: Any = None
        self._closing = False
        self._unjoined = False  # its publishes may hand over Unjoined commands (natsio)
        self._last_error: BaseException | None = None
        self._denied: set[str] = set()  # permission violations said (once each)
        # publish_many's acknowledgements: one reply subscription per connection
        self._ack_nc: Any = None
        self._ack_prefix = ""
        self._ack_waiting: dict[str, asyncio.Future[Any]] = {}
        self._ack_n = 0
        # credentials and TLS resolved once, here: a missing file or unset secret is one line
        # (BusSecurityError) when the role starts, not a failure per reconnect
        self._options = connect_options(config)

    # --- connection and layout -----------------------------------------------------------------

    async def connect(self) -> None:
        self._closing = False
        self._last_error = None
        servers = self.url.servers()
        # reconnects forever once connected; the first connect gets a bounded time (nats-py would
        # retry it forever too), so a caller can buffer and say once that the bus is unreachable
        try:
            self.nc = await asyncio.wait_for(nats.connect(
                servers=servers, name=self.client_name, connect_timeout=2, max_reconnect_attempts=-1,
                reconnect_time_wait=0.5, allow_reconnect=True, error_cb=self._error,
                disconnected_cb=self._disconnected, reconnected_cb=self._reconnected, **self._options),
                timeout=2.5 * len(servers) + 1)
        except Exception as exc:  # nats-py raises several types for "nobody there"
            # nats-py retries the first connect forever and reports each failure to error_cb:
            # the last one says why (refused credentials, a certificate), not just "timed out"
            last = self._last_error
            cause = last if last is not None and (isinstance(exc, TimeoutError) or _telling(last)) else exc
            why = connect_failure(cause, self.config.tls is not None)
            raise BusError(f"bus {', '.join(servers)}: cannot connect ({why})") from None
        natsio.install(self.nc)  # each payload copied once (see natsio)
        natsio.install_reader(self.nc)
        natsio.install_receiver(self.nc)  # a large payload read into a buffer of its own
        self._unjoined = natsio.install_writer(self.nc)
        self.js = self.nc.jetstream(timeout=self.config.publish_timeout_s)

    async def _error(self, exc: Exception) -> None:
        if denied(exc, self._denied):  # the request times out: say why, once per subject
            log.error("bus %s: %s", self.client_name, permission_line(str(exc), self.config.prefix))
            return
        # while (re)connecting, nats-py reports every failed attempt: the callers say it once.
        # A refusal that names its cause stays: the server sends -ERR 'Authorization Violation'
        # and closes, and under load the next attempt may only see the connection reset
        if self._last_error is None or _telling(exc) or not _telling(self._last_error):
            self._last_error = exc
        log.debug("bus: %s", exc)

    async def _reconnected(self) -> None:
        natsio.install_reader(self.nc)  # nats-py's new connection has a new reader and writer
        natsio.install_receiver(self.nc)
        natsio.install_writer(self.nc)

    async def _disconnected(self) -> None:
        if not self._closing:
            log.warning("bus: disconnected from %s; reconnecting", ", ".join(self.url.servers()))

    @property
    def connected(self) -> bool:
        return bool(self.nc is not None and self.nc.is_connected)

    @property
    def max_payload(self) -> int | None:
        """The largest message the connected server takes (its `max_payload`, 1 MB by default)."""
        value = getattr(self.nc, "max_payload", None) if self.nc is not None else None
        return int(value) if value else None

    async def close(self) -> None:
        self._closing = True
        # the buckets are bound to this connection: a connect after this makes them again (kept,
        # a reconnect after a first connect that timed out half way used a closed connection's
        # buckets forever: "membership: nats: connection closed", seen under load 6-8)
        self._leases = self._state = None
        if self.nc is not None:
            with contextlib.suppress(Exception):
                await self.nc.drain()
            with contextlib.suppress(Exception):
                await self.nc.close()

    @property
    def _leases_bucket(self) -> str:
        return f"{self.config.prefix.upper()}_LEASES"

    def _r(self) -> int:
        return self.config.replicas

    async def ensure(self, kind: str, partitions: int) -> None:
        cfg = self.config
        for p in range(partitions):
            await self._stream(api.StreamConfig(
                name=names.stream_name(cfg.prefix, kind, p),
                subjects=[names.partition_filter(cfg.prefix, kind, p)],
                retention=api.RetentionPolicy.LIMITS, storage=api.StorageType.FILE,
                max_bytes=cfg.stream_max_bytes, max_age=cfg.stream_max_age_s,
                discard=api.DiscardPolicy.OLD if cfg.discard == "old" else api.DiscardPolicy.NEW,
                num_replicas=self._r(), duplicate_window=DUPLICATE_WINDOW_S))
        await self._stream(api.StreamConfig(
            name=names.dead_stream(cfg.prefix), subjects=[f"{cfg.prefix}.dead.>"],
            retention=api.RetentionPolicy.LIMITS, storage=api.StorageType.FILE,
            max_bytes=min(cfg.stream_max_bytes, 256 << 20), discard=api.DiscardPolicy.OLD,
            num_replicas=self._r()))
        await self._buckets()

    async def _stream(self, sc: api.StreamConfig) -> None:
        # a stream laid out as wanted is left alone: a receiver's user needs no permission to
        # create or update streams (docs/scale.md, "Permissions per role")
        with contextlib.suppress(nats.js.errors.NotFoundError):
            if laid_out(await self.js.stream_info(sc.name), sc):
                return
        try:
            await self.js.add_stream(sc)
        except nats.js.errors.BadRequestError as exc:
            if exc.err_code == 10058:  # exists with another config: apply ours (limits, discard)
                await self.js.update_stream(sc)
            else:
                raise BusError(f"bus: stream {sc.name}: {exc.description}") from None

    async def _buckets(self) -> None:
        if self._leases is not None:
            return
        prefix = self.config.prefix.upper()
        self._leases = await self._bucket(api.KeyValueConfig(
            bucket=self._leases_bucket, ttl=self.config.lease_ttl_s, replicas=self._r(), history=1))
        self._state = await self._bucket(api.KeyValueConfig(
            bucket=f"{prefix}_STATE", replicas=self._r(), history=1))

    async def _bucket(self, kvc: api.KeyValueConfig) -> Any:
        try:
            return await self.js.key_value(kvc.bucket)
        except nats.js.errors.BucketNotFoundError:
            return await self.js.create_key_value(kvc)

    # --- publishing ------------------------------------------------------------------------------

    async def publish(self, kind: str, partition: int, source: str, payload: bytes, msg_id: str) -> None:
        subject = names.subject(self.config.prefix, kind, partition, source)
        await self.publish_subject(subject, payload, msg_id)

    async def publish_subject(self, subject: str, payload: bytes, msg_id: str) -> None:
        if not self.connected:
            raise PublishFailed("not connected")
        token = natsio.unjoined.set(self._unjoined)  # (this task's publish only)
        try:
            await self.js.publish(subject, payload, headers={api.Header.MSG_ID: msg_id})
        except (nats.js.errors.APIError, TimeoutError, nats.errors.Error, OSError) as exc:
            raise _publish_error(subject, exc) from None
        finally:
            natsio.unjoined.reset(token)

    async def publish_many(self, jobs: Sequence[tuple[str, str, bytes]]) -> list[PublishFailed | None]:
        """Publish (subject, message id, payload) jobs; per job None (stored) or the
        PublishFailed/PublishRefused `publish_subject` would have raised.

        All are sent before any acknowledgement is awaited, each with a reply subject under one
        subscription of this connection (`_on_ack`), instead of a request per message (a task,
        an inbox future and a timeout handle each): a window's acknowledgements then come back
        in few reads and wake the loop a few times, not once per message. nats-py's
        `publish_async` does the same but leaves its future unresolved when JetStream answers
        with an error (2.16: the reply handler raises), so a stream at its limit would look
        like a timeout. Each message is yielded after, so nats-py's flusher writes it alone (a
        window queued up would be joined into one buffer: a copy of every message)."""
        out: list[PublishFailed | None] = [None] * len(jobs)
        waiting: dict[int, asyncio.Future[Any]] = {}
        for i, (subject, msg_id, payload) in enumerate(jobs):
            if not self.connected:
                out[i] = PublishFailed(f"{subject}: not connected")
                continue
            token = natsio.unjoined.set(self._unjoined)  # (this task's publishes only)
            try:
                reply, waiting[i] = await self._ack_slot()
                await self.nc.publish(subject, payload, reply=reply, headers={api.Header.MSG_ID: msg_id})
            except (nats.errors.Error, OSError) as exc:
                out[i] = _publish_error(subject, exc)
                if i in waiting:
                    waiting.pop(i).cancel()
            finally:
                natsio.unjoined.reset(token)
            await asyncio.sleep(0)
        if waiting:
            await asyncio.wait(waiting.values(), timeout=self.config.publish_timeout_s)
        for i, fut in waiting.items():
            subject = jobs[i][0]
            if not fut.done():
                fut.cancel()
                out[i] = PublishFailed(f"{subject}: TimeoutError")
            else:
                out[i] = _ack_failure(subject, fut.result())
        return out

    async def _ack_slot(self) -> tuple[str, asyncio.Future[Any]]:
        """A reply subject for one publish and the future its acknowledgement resolves."""
        if self._ack_nc is not self.nc:  # a new connection: its own reply subscription
            inbox = self.nc.new_inbox()
            self._ack_prefix = inbox + "."
            self._ack_waiting = {}
            self._ack_nc = self.nc
            await self.nc.subscribe(inbox + ".*", cb=self._on_ack)
        self._ack_n += 1
        token = str(self._ack_n)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._ack_waiting[token] = fut
        fut.add_done_callback(lambda _f: self._ack_waiting.pop(token, None))
        return self._ack_prefix + token, fut

    async def _on_ack(self, msg: Any) -> None:
        fut = self._ack_waiting.get(msg.subject[len(self._ack_prefix):])
        if fut is not None and not fut.done():
            fut.set_result(msg)

    async def publish_dead(self, kind: str, payload: bytes, reason: str) -> None:
        await self.js.publish(names.dead_subject(self.config.prefix, kind), payload,
                              headers={"Nocsoc-Reason": reason[:200].replace("\r", " ").replace("\n", " ")})

    # --- consuming -------------------------------------------------------------------------------

    async def open_partition(self, kind: str, partition: int, start_seq: int) -> NatsReader:
        stream = names.stream_name(self.config.prefix, kind, partition)
        durable = names.consumer_name(kind, partition)
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await self.js.delete_consumer(stream, durable)
        cc = api.ConsumerConfig(
            durable_name=durable, name=durable, deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=max(1, start_seq), ack_policy=api.AckPolicy.ALL,
            ack_wait=self.config.ack_wait_s, max_deliver=self.config.max_deliver,
            max_ack_pending=-1, num_replicas=self._r())
        await self.js.add_consumer(stream, config=cc)
        sub = await self.js.pull_subscribe_bind(durable=durable, stream=stream)
        return NatsReader(self.js, stream, durable, sub)

    # --- coordination ----------------------------------------------------------------------------

    async def get_state(self, key: str) -> tuple[bytes, int] | None:
        try:
            e = await self._state.get(key)
        except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
            return None
        return (e.value or b""), int(e.revision or 0)

    async def put_state(self, key: str, value: bytes, revision: int | None) -> int:
        try:
            if revision is None:
                return int(await self._state.create(key, value))
            return int(await self._state.update(key, value, last=revision))
        except (nats.js.errors.KeyWrongLastSequenceError, nats.js.errors.KeyDeletedError) as exc:
            raise LeaseLost(f"{key}: {exc}") from None

    async def heartbeat(self, group: str, member: str) -> None:
        await self._leases.put(f"m.{group}.{member}", b"1")

    async def members(self, group: str) -> list[str]:
        # the heartbeat keys present in the bucket's stream (expired ones are gone with their
        # messages; heartbeats are never deleted), from one stream-info request to the stream's
        # leader. nats-py's `keys()` creates a consumer for each listing, which waits on the
        # JetStream meta leader: seconds after a node's death, while it is elected again
        head = f"$KV.{self._leases_bucket}."
        info = await self.js.stream_info(f"KV_{self._leases_bucket}", subjects_filter=f"{head}m.{group}.>")
        prefix = f"{head}m.{group}."
        return sorted(k[len(prefix):] for k in (info.state.subjects or {}) if k.startswith(prefix))

    async def acquire(self, lease: str, owner: str) -> int | None:
        try:
            return int(await self._leases.create(f"l.{lease}", owner.encode()))
        except (nats.js.errors.KeyWrongLastSequenceError, nats.js.errors.APIError):
            return None

    async def renew(self, lease: str, owner: str, revision: int) -> int:
        key = f"l.{lease}"
        try:
            return int(await self._leases.update(key, owner.encode(), last=revision))
        except (nats.js.errors.KeyWrongLastSequenceError, nats.js.errors.KeyDeletedError) as exc:
            lost = LeaseLost(f"lease {lease}: {exc}")
        # a renewal whose reply was lost (timed out, a node failing over) went through all the
        # same: the key is at a later revision, still holding `owner` (unique to its holder)
        try:
            entry = await self._leases.get(key)
        except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
            raise lost from None
        if entry.value != owner.encode() or not entry.revision or entry.revision <= revision:
            raise lost from None
        try:
            return int(await self._leases.update(key, owner.encode(), last=entry.revision))
        except (nats.js.errors.KeyWrongLastSequenceError, nats.js.errors.KeyDeletedError) as exc:
            raise LeaseLost(f"lease {lease}: {exc}") from None

    async def release(self, lease: str, revision: int) -> None:
        with contextlib.suppress(Exception):
            await self._leases.delete(f"l.{lease}", last=revision)
