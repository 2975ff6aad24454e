"""Rendezvous (highest random weight) hashing: which member owns a key.

Every member computes the owner of every key alone, from the same list of live members, with
no coordination: the owner of a key is the member with the highest weight
`blake2b(member + "\\x00" + key, 8 bytes, big-endian)`. When a member joins it takes from each
other member only the keys it now outweighs; when one leaves only its keys move, each to the
member that was second for it. So a change of membership moves about 1/N of the keys, never
reshuffles the rest (a modulo hash would move almost all of them).

The weight function is part of the protocol: pollers of different versions must agree on it
during a rolling upgrade, so it is pinned by a test with literal expected owners.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def weight(member: str, key: str) -> int:
    """The member's weight for the key (an unsigned 64-bit integer)."""
    digest = hashlib.blake2b(f"{member}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def owner(key: str, members: Iterable[str]) -> str | None:
    """The member that owns `key` (None when there is no member); ties (a 2^-64 chance) go to
    the greater member name so every member still agrees."""
    best: tuple[int, str] | None = None
    for m in members:
        w = (weight(m, key), m)
        if best is None or w > best:
            best = w
    return None if best is None else best[1]


def assign(keys: Iterable[str], members: Iterable[str]) -> dict[str, str]:
    """{key: owner} for every key (empty when there is no member)."""
    ms = sorted(set(members))
    if not ms:
        return {}
    return {k: owner(k, ms) or "" for k in keys}


def owned_by(member: str, keys: Iterable[str], members: Iterable[str]) -> set[str]:
    """The keys `member` owns among `members` (none when it is not one of them)."""
    ms = set(members)
    if member not in ms:
        return set()
    return {k for k, m in assign(keys, ms).items() if m == member}
