"""The least NATS permissions each role needs, and the nats-server `authorization` block that
grants them (docs/scale.md, "Permissions per role").

A user per role, so that a receiver host that is taken over can inject raw records but cannot
read, acknowledge or delete anything, nor move a partition's commit record; a detector cannot
publish as a receiver would; a poller touches its two buckets only. The subjects are what the
code sends (nats-py's JetStream and key-value requests; `nocsoc.bus.nats_driver`,
`nocsoc.shard.member`), proven on nats-server by tests/bus/test_permissions.py:

- **receiver**: publishes raw records to `<prefix>.{flows,logs,traps}.>` and reads the
  streams' and buckets' info (it checks the layout exists; it creates nothing: a decoder or
  detector does, at its start). JetStream acknowledges each publish to the client's inbox.
- **decoder / detector** (one set: both consume partitions): create and update the partition
  streams, the dead-letter stream and the two coordination buckets; create, read and delete
  their durable pull consumers, fetch and acknowledge; publish poison messages to the
  dead-letter subject; read and write the buckets (heartbeats, leases, commit records).
- **poller** (sharded SNMP polling): its members and leases buckets only.

Every role subscribes to `_INBOX.>` (replies to its requests). Wildcards: `*` is one token, `>`
the rest; stream names are upper case (`NOCSOC_LOGS_P003`), subjects lower case (`nocsoc.logs`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from nocsoc.bus.config import BusConfig


class ShardBuckets(Protocol):
    """What the poller's permissions need of `nocsoc.shard.config.ShardConfig` (named here, not
    imported: the shard package imports this one)."""

    @property
    def members_bucket(self) -> str: ...

    @property
    def leases_bucket(self) -> str: ...

ROLES = ("receiver", "decoder", "detector", "poller")
INBOX = "_INBOX.>"


@dataclass(frozen=True)
class RolePermissions:
    role: str
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]


def _kv_rw(bucket: str) -> tuple[str, ...]:
    """Read and write one key-value bucket (and create it when missing)."""
    stream = f"KV_{bucket}"
    return (f"$JS.API.STREAM.INFO.{stream}", f"$JS.API.STREAM.CREATE.{stream}",
            f"$JS.API.STREAM.MSG.GET.{stream}", f"$JS.API.DIRECT.GET.{stream}",
            f"$JS.API.DIRECT.GET.{stream}.>", f"$KV.{bucket}.>")


def _each(verbs: tuple[str, ...], streams: list[str]) -> tuple[str, ...]:
    return tuple(v.format(s=s) for s in streams for v in verbs)


def role_permissions(bus: BusConfig, shard: ShardBuckets | None = None) -> dict[str, RolePermissions]:
    """Each role's publish and subscribe allow lists for `bus.prefix` and its partition counts
    (and the shard's buckets). Stream names are listed one by one: a NATS wildcard is a whole
    token, so `NOCSOC_*` would match nothing, and `*` every stream of the account."""
    from nocsoc.bus.partition import KINDS, dead_stream, partitions_of, stream_name

    low = bus.prefix
    parts = [stream_name(low, k, p) for k in KINDS for p in range(partitions_of(bus, k))]
    streams = [*parts, dead_stream(low)]
    kv = [f"KV_{low.upper()}_LEASES", f"KV_{low.upper()}_STATE"]
    receiver = RolePermissions("receiver", (*(f"{low}.{k}.>" for k in KINDS),
                                            *_each(("$JS.API.STREAM.INFO.{s}",), [*streams, *kv])), (INBOX,))
    consumer = (
        *_each(("$JS.API.STREAM.INFO.{s}", "$JS.API.STREAM.CREATE.{s}", "$JS.API.STREAM.UPDATE.{s}"),
               streams),
        *_each(("$JS.API.CONSUMER.CREATE.{s}", "$JS.API.CONSUMER.CREATE.{s}.>",
                "$JS.API.CONSUMER.DURABLE.CREATE.{s}.>", "$JS.API.CONSUMER.DELETE.{s}.>",
                "$JS.API.CONSUMER.INFO.{s}.>", "$JS.API.CONSUMER.MSG.NEXT.{s}.>", "$JS.ACK.{s}.>"), parts),
        f"{low}.dead.>",
        # (the members are read from the leases bucket's stream info, which _kv_rw allows: no
        # consumer on the bucket)
        *(x for b in (f"{low.upper()}_LEASES", f"{low.upper()}_STATE") for x in _kv_rw(b)))
    out = {"receiver": receiver,
           "decoder": RolePermissions("decoder", consumer, (INBOX,)),
           "detector": RolePermissions("detector", consumer, (INBOX,))}
    if shard is not None:
        poller = (*_kv_rw(shard.members_bucket), *_kv_rw(shard.leases_bucket),
                  f"$JS.API.STREAM.PURGE.KV_{shard.members_bucket}")
        out["poller"] = RolePermissions("poller", poller, (INBOX,))
    return out


def denied(exc: BaseException, said: set[str]) -> bool:
    """Whether `exc` is the server's permission violation (nats-py hands it to the error
    callback; the request itself then times out), and not said yet (its kind added to `said`:
    an API call and stream, a bucket, or a kind of nocsoc subject, so that retries, which name
    a new consumer or inbox each time, are not said again)."""
    text = str(exc)
    m = _VIOLATION.search(text)
    if m is None:
        return False
    tokens = m.group(2).split(".")
    n = 2  # a kind of nocsoc subject, a bucket's keys
    if tokens[0].startswith("$"):  # an API call or acknowledgement: up to its stream (or bucket)
        n = next((i + 1 for i, t in enumerate(tokens) if i >= 1 and "_" in t), len(tokens))
    key = f"{m.group(1).lower()} {'.'.join(tokens[:n])}"
    if key in said:
        return False
    said.add(key)
    return True


# nats-py lower-cases the server's -ERR text: the tokens of the JetStream API and nocsoc's
# stream and bucket names are put back in their case (a NATS subject is case-sensitive)
_API_TOKENS = {"$js", "$kv", "api", "stream", "info", "create", "update", "delete", "consumer", "durable",
               "msg", "next", "get", "direct", "purge", "ack", "fc", "names", "list", "_inbox"}
_VIOLATION = re.compile(r"permissions violation for (publish|subscription) to \"([^\"]*)\"(.*)", re.I)


def subject_case(subject: str, prefix: str | None = None) -> str:
    """`subject` as the server named it, from nats-py's lower-cased copy: API tokens and (with
    the bus's `prefix`) the bus's stream and bucket names upper case again."""
    if not subject.startswith(("$", "_")):
        return subject  # nocsoc's own subjects are lower case
    up = f"{prefix.lower()}_" if prefix else None
    kv = subject.startswith("$kv.")
    out = []
    for i, tok in enumerate(subject.split(".")):
        if tok in _API_TOKENS:
            tok = tok.upper()
        elif up is not None and (i >= 2 or kv):
            body = tok[3:] if tok.startswith("kv_") else tok
            # a stream (NOCSOC_LOGS_P003, KV_NOCSOC_LEASES), or the bus's bucket in a $KV subject
            ours = body.startswith(up) if not kv else i == 1 and body in (f"{up}leases", f"{up}state")
            tok = ("KV_" if tok.startswith("kv_") else "") + (body.upper() if ours else body)
        elif tok.startswith("kv_"):
            tok = "KV_" + tok[3:]
        out.append(tok)
    return ".".join(out)


def permission_line(text: str, prefix: str | None = None) -> str:
    """One line for a permission violation, naming the subject and what to do."""
    what = text.removeprefix("nats: ").strip("'")
    m = _VIOLATION.search(what)
    if m is not None:
        what = (f"Permissions Violation for {m.group(1).capitalize()} to "
                f"\"{subject_case(m.group(2), prefix)}\"{m.group(3)}")
    hint = ("the stream does not exist yet and this user may not create it: a decoder or detector "
            "creates it when it starts (records are buffered meanwhile)"
            if "$JS.API.STREAM.CREATE." in what else
            "give the user of bus.auth this permission")
    return f"the server refused a permission: {what}; {hint} (docs/scale.md, \"Permissions per role\")"


def _quoted(subjects: tuple[str, ...], indent: str) -> str:
    return ",\n".join(f'{indent}"{s}"' for s in subjects)


def server_config(perms: dict[str, RolePermissions], passwords: dict[str, str]) -> str:
    """A nats-server `authorization` block: one user per role (named after it) with its
    permissions; `passwords`: role -> the password or bcrypt hash (`nats server passwd`) to
    write in the server's file. Roles without a password are left out."""
    users = []
    for role, p in perms.items():
        if role not in passwords:
            continue
        users.append(
            f'    {{\n      user: "{role}", password: "{passwords[role]}"\n'
            f"      permissions: {{\n"
            f"        publish: {{ allow: [\n{_quoted(p.publish, '          ')}\n        ] }}\n"
            f"        subscribe: {{ allow: [\n{_quoted(p.subscribe, '          ')}\n        ] }}\n"
            f"      }}\n    }}")
    return "authorization {\n  users: [\n" + ",\n".join(users) + "\n  ]\n}\n"
